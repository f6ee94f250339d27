//! Behaviour of the roster engine through its public API: the benchmark reader, validation, the
//! independent checker, and the solver (every returned plan passes the checker).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use proptest::prelude::*;
use tend_scheduling::{
    check, curtois, evaluate, solve, validate, Assignment, CancelFlag, Contract, Contradiction,
    Demand, Fairness, FixedAssignment, Leave, PenaltyKind, Plan, Problem, ProblemError,
    ProgressSink, ShiftRequest, ShiftType, SolveOptions, StaffMember, UncoveredReason, Violation,
};

const SMALL: &str = "# comment\r
SECTION_HORIZON\r
7\r
\r
SECTION_SHIFTS\r
D,480,\r
L,480,D\r
\r
SECTION_STAFF\r
A,D=7|L=7,2880,960,5,2,2,1\r
B,D=7|L=0,2880,960,5,2,1,1\r
\r
SECTION_DAYS_OFF\r
A,0\r
B,6\r
\r
SECTION_SHIFT_ON_REQUESTS\r
A,2,D,2\r
\r
SECTION_SHIFT_OFF_REQUESTS\r
B,3,D,1\r
\r
SECTION_COVER\r
0,D,1,100,1\r
1,D,1,100,1\r
2,L,1,100,1\r
";

fn options(seconds: f64) -> SolveOptions {
    SolveOptions {
        time_limit: Duration::from_secs_f64(seconds),
        ..SolveOptions::default()
    }
}

fn contract() -> Contract {
    Contract {
        min_total_minutes: 0,
        max_total_minutes: 10_000,
        max_shifts_per_type: BTreeMap::new(),
        min_consecutive_working_days: 1,
        max_consecutive_working_days: 7,
        min_consecutive_days_off: 1,
        max_working_weekends: 4,
        minimum_rest_minutes: None,
    }
}

fn staff(id: &str, shift_types: &[&str]) -> StaffMember {
    StaffMember {
        id: id.to_owned(),
        skills: Vec::new(),
        shift_types: shift_types.iter().map(|s| (*s).to_owned()).collect(),
        contract: contract(),
        days_off: Vec::new(),
        leave: Vec::new(),
        fixed: Vec::new(),
    }
}

fn shift(id: &str, start_minute: u32, forbidden_next: &[&str]) -> ShiftType {
    ShiftType {
        id: id.to_owned(),
        start_minute,
        length_minutes: 480,
        forbidden_next: forbidden_next.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn demand(day: usize, shift_type: &str, required: u32) -> Demand {
    Demand {
        day,
        shift_type: shift_type.to_owned(),
        skill: None,
        required,
        preferred: required,
        under_weight: 100,
        preferred_weight: 0,
        over_weight: 1,
    }
}

fn problem(days: usize, staff: Vec<StaffMember>, demand: Vec<Demand>) -> Problem {
    Problem {
        // A Monday.
        start_date: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        days,
        shift_types: vec![shift("D", 7 * 60, &[]), shift("N", 22 * 60, &["D"])],
        minimum_rest_minutes: None,
        staff,
        demand,
        shift_on_requests: Vec::new(),
        shift_off_requests: Vec::new(),
        fairness: None,
    }
}

fn plan(assignments: &[(&str, usize, &str)]) -> Plan {
    Plan {
        assignments: assignments
            .iter()
            .map(|(staff, day, shift_type)| Assignment {
                staff: (*staff).to_owned(),
                day: *day,
                shift_type: (*shift_type).to_owned(),
            })
            .collect(),
    }
}

/// Solves, asserts the plan passes the checker and the report's objective is the recomputed one.
fn solve_checked(problem: &Problem, seconds: f64) -> tend_scheduling::Solution {
    let solution = solve(problem, &options(seconds)).unwrap();
    assert_eq!(check(problem, &solution.plan), vec![]);
    let evaluation = evaluate(problem, &solution.plan).unwrap();
    assert_eq!(evaluation.objective, solution.report.objective);
    assert!(solution.report.best_bound <= solution.report.objective);
    solution
}

// ---------------------------------------------------------------- the benchmark reader

#[test]
fn reads_the_benchmark_format() {
    let problem = curtois::parse(SMALL).unwrap();
    assert_eq!(problem.days, 7);
    assert_eq!(problem.shift_types.len(), 2);
    assert_eq!(problem.shift_types[1].forbidden_next, vec!["D".to_owned()]);
    let b = &problem.staff[1];
    // A limit of 0 is a missing qualification.
    assert_eq!(b.shift_types, vec!["D".to_owned()]);
    // Max before min in the file.
    assert_eq!(b.contract.max_total_minutes, 2880);
    assert_eq!(b.contract.min_total_minutes, 960);
    assert_eq!(b.days_off, vec![6]);
    assert_eq!(problem.shift_on_requests[0].weight, 2);
    assert_eq!(problem.demand.len(), 3);
    assert_eq!(problem.demand[2].shift_type, "L");
    validate(&problem).unwrap();
}

fn parse_error(text: &str) -> String {
    curtois::parse(text).unwrap_err().to_string()
}

#[test]
fn malformed_files_name_the_line_and_the_problem() {
    let cases = [
        (
            SMALL.replace("A,D=7|L=7,2880", "A,D=7|L=x,2880"),
            "line 10: shift limit is not a non-negative integer: \"x\"",
        ),
        (
            SMALL.replace("A,D=7|L=7,2880", "A,D=7|Q=7,2880"),
            "line 10: unknown shift type \"Q\"",
        ),
        (
            SMALL.replace("A,D=7|L=7,2880", "A,D7,2880"),
            "line 10: shift limit \"D7\" is not of the form ShiftID=limit",
        ),
        (
            SMALL.replace("B,6\r", "B,9\r"),
            "line 15: day 9 is outside the horizon of 7 days",
        ),
        (
            SMALL.replace("A,2,D,2", "Z,2,D,2"),
            "line 18: unknown employee \"Z\"",
        ),
        (
            SMALL.replace("0,D,1,100,1", "0,D,1,100"),
            "line 24: section SECTION_COVER expects 5 fields, found 4",
        ),
        (
            SMALL.replace("L,480,D", "L,480,Q"),
            "line 7: unknown shift type \"Q\"",
        ),
        (
            SMALL.replace("SECTION_SHIFTS", "SECTION_STAFF"),
            "line 5: expected section SECTION_SHIFTS, found \"SECTION_STAFF\"",
        ),
        (
            SMALL.replace("SECTION_HORIZON\r\n", ""),
            "line 2: data before the first section",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_error(&text), expected);
    }
    let truncated = SMALL.split("SECTION_COVER").next().unwrap();
    assert_eq!(
        parse_error(truncated),
        "the file ends before section SECTION_COVER"
    );
}

// ---------------------------------------------------------------- validation

fn contradiction(problem: &Problem) -> Contradiction {
    match validate(problem) {
        Err(ProblemError::Contradiction { rule, .. }) => rule,
        other => panic!("expected a contradiction, got {other:?}"),
    }
}

#[test]
fn validation_reports_contradictory_hard_rules() {
    let mut p = problem(14, vec![staff("A", &["D"])], Vec::new());
    p.staff[0].contract.min_consecutive_working_days = 4;
    p.staff[0].contract.max_consecutive_working_days = 3;
    assert_eq!(
        contradiction(&p),
        Contradiction::ConsecutiveMaxBelowMin { min: 4, max: 3 }
    );

    let mut p = problem(14, vec![staff("A", &["D"])], Vec::new());
    p.staff[0].days_off = (0..12).collect();
    p.staff[0].contract.min_total_minutes = 3 * 480;
    assert_eq!(
        contradiction(&p),
        Contradiction::MinutesUnreachable {
            min: 1440,
            reachable: 960
        }
    );

    let mut p = problem(14, vec![staff("A", &["D"])], Vec::new());
    p.staff[0].leave = vec![Leave {
        first_day: 3,
        last_day: 5,
    }];
    p.staff[0].fixed = vec![FixedAssignment {
        day: 4,
        shift_type: Some("D".to_owned()),
    }];
    assert_eq!(contradiction(&p), Contradiction::PinnedOnDayOff { day: 4 });

    let mut p = problem(14, vec![staff("A", &["D", "N"])], Vec::new());
    p.staff[0].fixed = vec![
        FixedAssignment {
            day: 4,
            shift_type: Some("N".to_owned()),
        },
        FixedAssignment {
            day: 5,
            shift_type: Some("D".to_owned()),
        },
    ];
    assert_eq!(
        contradiction(&p),
        Contradiction::PinnedForbiddenSuccession { day: 4, next: 5 }
    );

    let mut p = problem(14, vec![staff("A", &["D"])], Vec::new());
    p.staff[0].contract.min_total_minutes = 900;
    p.staff[0].contract.max_total_minutes = 800;
    assert_eq!(
        contradiction(&p),
        Contradiction::MinutesMinAboveMax { min: 900, max: 800 }
    );

    let p = problem(14, vec![staff("A", &["X"])], Vec::new());
    assert!(matches!(
        validate(&p),
        Err(ProblemError::UnknownId {
            what: "shift type",
            ..
        })
    ));

    let p = problem(14, vec![staff("A", &["D"])], vec![demand(14, "D", 1)]);
    assert!(matches!(
        validate(&p),
        Err(ProblemError::DayOutOfRange { day: 14, .. })
    ));

    // Solving reports the same, before any solver runs.
    let mut p = problem(14, vec![staff("A", &["D"])], Vec::new());
    p.staff[0].contract.max_consecutive_working_days = 0;
    p.staff[0].contract.min_consecutive_working_days = 0;
    p.staff[0].contract.min_total_minutes = 480;
    assert!(matches!(
        solve(&p, &options(5.0)),
        Err(tend_scheduling::SolveError::Problem(
            ProblemError::Contradiction { .. }
        ))
    ));
}

// ---------------------------------------------------------------- the checker

#[test]
fn checker_finds_each_broken_rule() {
    let mut a = staff("A", &["D", "N"]);
    a.contract.max_consecutive_working_days = 3;
    a.contract.min_consecutive_working_days = 2;
    a.contract.min_consecutive_days_off = 2;
    a.contract.max_working_weekends = 1;
    a.contract.max_shifts_per_type.insert("N".to_owned(), 1);
    a.contract.min_total_minutes = 480;
    a.contract.max_total_minutes = 480 * 8;
    a.days_off = vec![13];
    let p = problem(14, vec![a], Vec::new());

    let broken = |assignments: &[(&str, usize, &str)]| check(&p, &plan(assignments));
    assert_eq!(
        broken(&[]),
        vec![Violation::MinutesBelowMinimum {
            staff: "A".into(),
            minutes: 0,
            minimum: 480
        }]
    );
    assert!(
        broken(&[("A", 0, "N"), ("A", 1, "D")]).contains(&Violation::ForbiddenSuccession {
            staff: "A".into(),
            day: 0,
            shift_type: "N".into(),
            next: "D".into()
        })
    );
    assert!(
        broken(&[("A", 0, "D"), ("A", 1, "D"), ("A", 2, "D"), ("A", 3, "D")]).contains(
            &Violation::WorkRunTooLong {
                staff: "A".into(),
                first_day: 0,
                length: 4,
                maximum: 3
            }
        )
    );
    // A one-day run inside the horizon is too short; at the edge it is not.
    assert_eq!(
        broken(&[("A", 3, "D")]),
        vec![Violation::WorkRunTooShort {
            staff: "A".into(),
            first_day: 3,
            length: 1,
            minimum: 2
        }]
    );
    assert_eq!(broken(&[("A", 0, "D")]), vec![]);
    assert_eq!(
        broken(&[("A", 1, "D"), ("A", 2, "D"), ("A", 4, "D"), ("A", 5, "D")]),
        vec![Violation::DaysOffRunTooShort {
            staff: "A".into(),
            first_day: 3,
            length: 1,
            minimum: 2
        }]
    );
    assert!(
        broken(&[("A", 5, "D"), ("A", 6, "D"), ("A", 12, "D")]).contains(
            &Violation::TooManyWeekends {
                staff: "A".into(),
                worked: 2,
                maximum: 1
            }
        )
    );
    assert!(
        broken(&[("A", 0, "N"), ("A", 3, "N"), ("A", 4, "N")]).contains(
            &Violation::ShiftTypeLimit {
                staff: "A".into(),
                shift_type: "N".into(),
                count: 3,
                limit: 1
            }
        )
    );
    assert!(
        broken(&[("A", 12, "D"), ("A", 13, "D")]).contains(&Violation::NotAllowed {
            staff: "A".into(),
            day: 13,
            shift_type: "D".into()
        })
    );
    assert!(
        broken(&[("A", 0, "D"), ("A", 0, "N")]).contains(&Violation::DoubleBooked {
            staff: "A".into(),
            day: 0
        })
    );
    assert!(broken(&[("Z", 0, "D")]).contains(&Violation::UnknownStaff { staff: "Z".into() }));
}

#[test]
fn evaluation_recomputes_requests_cover_and_fairness() {
    let mut p = problem(
        7,
        vec![staff("A", &["D"]), staff("B", &["D", "N"])],
        vec![demand(0, "D", 2)],
    );
    p.shift_on_requests.push(ShiftRequest {
        staff: "A".into(),
        day: 1,
        shift_type: "D".into(),
        weight: 3,
    });
    p.shift_off_requests.push(ShiftRequest {
        staff: "B".into(),
        day: 0,
        shift_type: "D".into(),
        weight: 5,
    });
    p.fairness = Some(Fairness {
        weekend_weight: 7,
        night_weight: 0,
    });
    let e = evaluate(&p, &plan(&[("B", 0, "D"), ("B", 5, "D")])).unwrap();
    // A misses their request (3), B works an unwanted shift (5), one of two heads missing (100),
    // B works one weekend and A none (7).
    assert_eq!(e.objective, 3 + 5 + 100 + 7);
    assert_eq!(e.by_kind()[&PenaltyKind::UnderCover], 100);
    assert_eq!(e.by_staff()["A"], 3);
    assert_eq!(e.uncovered.len(), 1);
    assert_eq!(e.uncovered[0].missing, 1);
}

// ---------------------------------------------------------------- the solver

#[test]
fn solves_the_small_benchmark_file_to_optimality() {
    let p = curtois::parse(SMALL).unwrap();
    let solution = solve_checked(&p, 10.0);
    assert_eq!(
        solution.report.status,
        tend_scheduling::SolveStatus::Optimal
    );
    assert_eq!(solution.report.best_bound, solution.report.objective);
}

#[test]
fn demand_above_the_staff_available_is_reported_as_uncovered() {
    // Two staff, three required every day: one head is always missing, and no rule is broken.
    let staff_list = vec![staff("A", &["D"]), staff("B", &["D"])];
    let demand_list = (0..7).map(|d| demand(d, "D", 3)).collect();
    let p = problem(7, staff_list, demand_list);
    let solution = solve_checked(&p, 10.0);
    let uncovered = &solution.report.uncovered;
    assert_eq!(uncovered.len(), 7);
    for u in uncovered {
        assert_eq!((u.required, u.assigned, u.missing), (3, 2, 1));
        assert_eq!(
            u.reason,
            UncoveredReason::NotEnoughEligibleStaff { eligible: 2 }
        );
    }
    assert_eq!(solution.report.objective, 7 * 100);
}

#[test]
fn skills_pins_leave_and_rest_are_respected() {
    let mut nurse = staff("nurse", &["D", "N"]);
    nurse.skills = vec!["midwife".into()];
    nurse.fixed = vec![FixedAssignment {
        day: 2,
        shift_type: Some("N".into()),
    }];
    let mut helper = staff("helper", &["D", "N"]);
    helper.leave = vec![Leave {
        first_day: 0,
        last_day: 2,
    }];
    let mut p = problem(7, vec![nurse, helper], Vec::new());
    // N ends at 06:00 the next morning; 12 hours of rest forbid N → D anyway and D → D is fine.
    p.minimum_rest_minutes = Some(12 * 60);
    for d in 0..7 {
        let mut wanted = demand(d, "D", 1);
        wanted.skill = Some("midwife".into());
        p.demand.push(wanted);
        p.demand.push(demand(d, "N", 1));
    }
    let solution = solve_checked(&p, 10.0);
    let assignments = &solution.plan.assignments;
    assert!(assignments.contains(&Assignment {
        staff: "nurse".into(),
        day: 2,
        shift_type: "N".into()
    }));
    assert!(!assignments
        .iter()
        .any(|a| a.staff == "helper" && a.day <= 2));
    assert!(!assignments
        .iter()
        .any(|a| a.staff == "nurse" && a.day == 3 && a.shift_type == "D"));
}

#[test]
fn each_staff_member_gets_the_rest_their_own_contract_asks_for() {
    // Late 14:00–22:00, then Early 06:00 the next day: 8 hours of rest.
    let shift_types = vec![shift("E", 6 * 60, &[]), shift("L", 14 * 60, &[])];
    let mut strict = staff("strict", &["E", "L"]);
    strict.contract.minimum_rest_minutes = Some(11 * 60);
    let relaxed = staff("relaxed", &["E", "L"]);
    let mut p = problem(
        2,
        vec![strict, relaxed],
        vec![demand(0, "L", 1), demand(1, "E", 1)],
    );
    p.shift_types = shift_types;

    // The checker holds each to their own rule.
    let strict_plan = plan(&[("strict", 0, "L"), ("strict", 1, "E")]);
    assert!(matches!(
        check(&p, &strict_plan)[..],
        [Violation::ForbiddenSuccession { ref staff, day: 0, .. }] if staff == "strict"
    ));
    assert_eq!(
        check(&p, &plan(&[("relaxed", 0, "L"), ("relaxed", 1, "E")])),
        vec![]
    );

    // Alone, the strict one leaves one of the two shifts uncovered; the relaxed one covers both.
    let alone = |who: usize| {
        let mut q = p.clone();
        q.staff = vec![p.staff[who].clone()];
        let solution = solve_checked(&q, 10.0);
        solution.plan.assignments.len()
    };
    assert_eq!(alone(0), 1);
    assert_eq!(alone(1), 2);
}

#[test]
fn a_pinned_shift_is_worked_even_when_everything_else_argues_against_it() {
    // No demand, a heavy request to be off that day, and over-cover penalties: only the pin says
    // "work". A day off would be cheaper, so the solver must be held to the pin.
    let mut nurse = staff("nurse", &["D", "N"]);
    nurse.fixed = vec![FixedAssignment {
        day: 3,
        shift_type: Some("D".into()),
    }];
    let mut p = problem(7, vec![nurse], (0..7).map(|d| demand(d, "D", 0)).collect());
    p.shift_off_requests.push(ShiftRequest {
        staff: "nurse".into(),
        day: 3,
        shift_type: "D".into(),
        weight: 1000,
    });
    let solution = solve_checked(&p, 10.0);
    assert_eq!(
        solution.plan.assignments,
        vec![Assignment {
            staff: "nurse".into(),
            day: 3,
            shift_type: "D".into()
        }]
    );
    assert_eq!(solution.report.objective, 1000 + 1);
}

#[test]
fn a_year_long_roster_respects_a_short_time_limit() {
    // Tight year-long contracts: the construction cannot finish with its full objective in the
    // time given, so most staff get the fall-back schedule; the roster must still be on time and
    // pass the checker.
    let days = 364;
    let staff_list: Vec<StaffMember> = (0..12)
        .map(|i| {
            let mut member = staff(&format!("S{i}"), &["D", "N"]);
            member.contract = Contract {
                min_total_minutes: 230 * 480,
                max_total_minutes: 240 * 480,
                max_shifts_per_type: BTreeMap::new(),
                min_consecutive_working_days: 2,
                max_consecutive_working_days: 5,
                min_consecutive_days_off: 2,
                max_working_weekends: 52,
                minimum_rest_minutes: None,
            };
            member.days_off = vec![(i * 29) % days];
            member
        })
        .collect();
    let demand_list = (0..days)
        .flat_map(|d| [demand(d, "D", 5), demand(d, "N", 2)])
        .collect();
    let p = problem(days, staff_list, demand_list);
    let limit = 2.0;
    let started = Instant::now();
    solve_checked(&p, limit);
    let elapsed = started.elapsed().as_secs_f64();
    assert!(elapsed < limit + 3.0, "took {elapsed:.1} s");
}

#[test]
fn a_cancelled_solve_stops_early_with_a_valid_roster_and_reports_progress() {
    let p = curtois::parse(SMALL).unwrap();
    let cancel = CancelFlag::new();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let seen = seen.clone();
        let cancel = cancel.clone();
        // The first complete roster cancels the solve, as a manager pressing "stop" would.
        ProgressSink::new(move |progress| {
            seen.lock().unwrap().push(progress.clone());
            if progress.objective.is_some() {
                cancel.cancel();
            }
        })
    };
    let options = SolveOptions {
        cancel: Some(cancel.clone()),
        progress: Some(sink),
        ..options(30.0)
    };
    let started = Instant::now();
    let solution = solve(&p, &options).unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(cancel.is_cancelled());
    assert!(check(&p, &solution.plan).is_empty());
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].phase, "construction");
    assert_eq!(seen[0].objective, None);
    let with_roster = seen.iter().find(|p| p.objective.is_some()).unwrap();
    assert!(with_roster.objective.unwrap() >= solution.report.objective);
}

#[test]
fn same_seed_gives_the_same_roster() {
    let p = curtois::parse(SMALL).unwrap();
    let run = || {
        let options = SolveOptions {
            iteration_limit: Some(20),
            ..options(10.0)
        };
        solve(&p, &options).unwrap().plan
    };
    assert_eq!(run(), run());
}

// ---------------------------------------------------------------- properties

fn arbitrary_problem() -> impl Strategy<Value = Problem> {
    let staff_member = (
        1u32..=3,
        3u32..=6,
        1u32..=2,
        0u32..=2,
        any::<bool>(),
        0usize..14,
    );
    (
        7usize..=14,
        prop::collection::vec(staff_member, 1..=4),
        prop::collection::vec(
            (0usize..14, any::<bool>(), 0u32..=3, 1u32..=20, 0u32..=5),
            0..20,
        ),
        prop::collection::vec((0usize..14, 0usize..4, any::<bool>(), 1u32..=5), 0..6),
        0u32..=3,
    )
        .prop_map(
            |(days, staff_specs, demand_specs, request_specs, fairness)| {
                let staff_list: Vec<StaffMember> = staff_specs
                    .iter()
                    .enumerate()
                    .map(
                        |(i, &(min_work, max_work, min_off, weekends, nights, day_off))| {
                            let mut member =
                                staff(&format!("S{i}"), if nights { &["D", "N"] } else { &["D"] });
                            member.contract.min_consecutive_working_days = min_work.min(max_work);
                            member.contract.max_consecutive_working_days = max_work;
                            member.contract.min_consecutive_days_off = min_off;
                            member.contract.max_working_weekends = weekends;
                            member.contract.min_total_minutes = 480;
                            member.contract.max_total_minutes = 480 * 6;
                            member.days_off = vec![day_off % days];
                            member
                        },
                    )
                    .collect();
                let demand_list = demand_specs
                    .iter()
                    .map(|&(day, night, required, under, over)| Demand {
                        over_weight: over,
                        under_weight: under,
                        ..demand(day % days, if night { "N" } else { "D" }, required)
                    })
                    .collect();
                let mut p = problem(days, staff_list, demand_list);
                let staff_count = p.staff.len();
                for &(day, who, off, weight) in &request_specs {
                    let request = ShiftRequest {
                        staff: format!("S{}", who % staff_count),
                        day: day % days,
                        shift_type: "D".into(),
                        weight,
                    };
                    if off {
                        p.shift_off_requests.push(request);
                    } else {
                        p.shift_on_requests.push(request);
                    }
                }
                p.fairness = (fairness > 0).then_some(Fairness {
                    weekend_weight: fairness,
                    night_weight: fairness,
                });
                p
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_solved_plan_passes_the_checker(p in arbitrary_problem()) {
        prop_assume!(validate(&p).is_ok());
        let solution = solve(&p, &options(5.0)).unwrap();
        prop_assert_eq!(check(&p, &solution.plan), vec![]);
        prop_assert_eq!(evaluate(&p, &solution.plan).unwrap().objective, solution.report.objective);
        prop_assert!(solution.report.best_bound <= solution.report.objective);
    }

    #[test]
    fn demand_beyond_the_staff_is_uncovered_by_the_difference(
        staff_count in 1usize..=3,
        extra in 1u32..=3,
        days in 3usize..=7,
    ) {
        let staff_list: Vec<StaffMember> = (0..staff_count)
            .map(|i| staff(&format!("S{i}"), &["D"]))
            .collect();
        let required = staff_count as u32 + extra;
        let p = problem(days, staff_list, (0..days).map(|d| demand(d, "D", required)).collect());
        let solution = solve(&p, &options(5.0)).unwrap();
        prop_assert_eq!(check(&p, &solution.plan), vec![]);
        prop_assert_eq!(solution.report.uncovered.len(), days);
        for u in &solution.report.uncovered {
            prop_assert_eq!(u.missing, extra);
            prop_assert_eq!(u.reason, UncoveredReason::NotEnoughEligibleStaff { eligible: staff_count as u32 });
        }
    }
}
