//! Staff and rostering use cases against real databases: SQLite always, PostgreSQL when
//! `TEND_TEST_POSTGRES_URL` is set. The clock is fixed on Monday 2026-11-30, 08:00 in Madrid;
//! rosters cover the two weeks from Monday 2026-12-07.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::json;
use tend_clients::ClientInput;
use tend_core::{Actor, Role, StaffId};
use tend_staff::{RosterStatus, Severity};
use tend_store::testing::{test_databases, TestClock};
use tend_store::{
    AssignmentEdit, AuditQuery, ErrorKind, LeaveDecision, NewUser, RepairInput, RosteringError,
    Site, SolveRequest, Store, StoreError,
};

const ADMIN_PASSWORD: &str = "correct horse battery";

struct Fixture {
    store: Store,
    admin: Actor,
    main: Site,
    #[allow(dead_code)]
    clock: Arc<TestClock>,
}

fn madrid(date: &str, time: &str) -> DateTime<Utc> {
    let local =
        chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M").unwrap();
    tend_core::SiteTimeZone::parse("Europe/Madrid")
        .unwrap()
        .tz()
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn on_each_backend(test: impl Fn(&Fixture)) {
    for database in test_databases() {
        let clock = TestClock::new(madrid("2026-11-30", "08:00"));
        let store = database.open(clock.clone());
        let bootstrap = store
            .bootstrap("Europe/Madrid", Some(ADMIN_PASSWORD.into()))
            .unwrap()
            .unwrap();
        let admin = store
            .login("admin@tend.local", ADMIN_PASSWORD)
            .unwrap()
            .actor;
        test(&Fixture {
            store,
            admin,
            main: bootstrap.site,
            clock,
        });
    }
}

fn code(error: &StoreError) -> &'static str {
    error.code()
}

/// The codes of the violations a refused edit lists.
fn violation_codes(error: &StoreError) -> Vec<String> {
    error.details().unwrap()["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect()
}

impl Fixture {
    fn site(&self, name: &str) -> Site {
        self.store
            .create_site(&self.admin, name, "Europe/Madrid")
            .unwrap()
    }

    fn shift_types(&self, site: &Site) {
        for (key, start, end) in [
            ("early", "07:00", "15:00"),
            ("late", "15:00", "23:00"),
            ("night", "23:00", "07:00"),
        ] {
            self.store
                .create_shift_type(
                    &self.admin,
                    serde_json::from_value(json!({
                        "site_id": site.id, "key": key, "start": format!("{start}:00"), "end": format!("{end}:00"),
                    }))
                    .unwrap(),
                )
                .unwrap();
        }
    }

    fn staff(&self, site: &Site, name: &str, skills: &[&str]) -> StaffId {
        let id = self
            .store
            .create_staff_member(
                &self.admin,
                serde_json::from_value(json!({
                    "site_id": site.id, "full_name": name, "role": "operator",
                }))
                .unwrap(),
            )
            .unwrap()
            .id;
        self.store
            .set_staff_rostering(
                &self.admin,
                id,
                serde_json::from_value(json!({
                    "skills": skills.iter().map(|s| json!({"skill": s, "level": 3})).collect::<Vec<_>>(),
                    "contract": {
                        "min_minutes_per_week": 16 * 60,
                        "max_minutes_per_week": 40 * 60,
                        "max_consecutive_days": 5,
                        "min_consecutive_days_off": 1,
                        "min_rest_minutes": 11 * 60,
                        "max_weekends_per_four_weeks": 4,
                    },
                }))
                .unwrap(),
            )
            .unwrap();
        id
    }

    /// Three shift types, eight staff, demand for 5 people a day.
    fn rostered_site(&self, site: &Site) -> Vec<StaffId> {
        self.shift_types(site);
        let mut staff = Vec::new();
        for (i, name) in [
            "Ana Ruiz",
            "Bea Gil",
            "Carla Sanz",
            "Dora Vidal",
            "Eva Moreno",
            "Flor Ortega",
            "Gema Ramos",
            "Hugo Diaz",
        ]
        .iter()
        .enumerate()
        {
            let skills: &[&str] = if i < 5 {
                &["nursing", "newborn_care"]
            } else {
                &["newborn_care"]
            };
            staff.push(self.staff(site, name, skills));
        }
        self.store
            .set_demand(
                &self.admin,
                serde_json::from_value(json!({
                    "site_id": site.id,
                    "rules": [
                        {"shift_type": "early", "skill": "nursing", "required": 1},
                        {"shift_type": "early", "required": 2},
                        {"shift_type": "late", "required": 1, "preferred": 2},
                        {"shift_type": "night", "skill": "nursing", "required": 1},
                    ],
                }))
                .unwrap(),
            )
            .unwrap();
        staff
    }

    fn period(&self, site: &Site, first: &str, last: &str) -> String {
        self.store
            .create_roster_period(
                &self.admin,
                serde_json::from_value(
                    json!({"site_id": site.id, "first_day": first, "last_day": last}),
                )
                .unwrap(),
            )
            .unwrap()
            .id
    }

    fn solve(&self, period: &str) {
        let job = self
            .store
            .solve_roster_period(
                &self.admin,
                period,
                SolveRequest {
                    time_limit_seconds: Some(3),
                },
            )
            .unwrap();
        assert_eq!(job.status, "succeeded", "{job:?}");
    }

    fn shift_of(&self, period: &str, staff: StaffId, date: &str) -> Option<String> {
        self.store
            .get_roster(&self.admin, period)
            .unwrap()
            .assignments
            .into_iter()
            .find(|a| a.staff_id == staff.to_string() && a.date == day(date))
            .map(|a| a.shift_type)
    }

    fn edit(
        &self,
        period: &str,
        staff: StaffId,
        date: &str,
        shift: Option<&str>,
        pinned: bool,
    ) -> Result<tend_store::EditOutcome, StoreError> {
        self.store.edit_assignment(
            &self.admin,
            period,
            AssignmentEdit {
                staff_id: staff,
                date: day(date),
                shift_type: shift.map(str::to_owned),
                pinned,
            },
        )
    }
}

#[test]
fn a_solved_proposal_explains_itself_and_breaks_no_hard_rule() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        let period = f.period(&f.main, "2026-12-07", "2026-12-20");
        f.solve(&period);
        let roster = f.store.get_roster(&f.admin, &period).unwrap();
        assert_eq!(roster.period.status, RosterStatus::Proposed);
        assert!(!roster.assignments.is_empty());
        let explanation = roster.explanation.unwrap();
        assert!(
            explanation.uncovered.is_empty(),
            "{:?}",
            explanation.uncovered
        );
        assert_eq!(explanation.staff.len(), staff.len());
        for summary in &explanation.staff {
            assert!(
                summary.minutes <= summary.contract_max_minutes,
                "{summary:?}"
            );
        }
        assert!(explanation.best_bound.is_some());
        // Nobody works two shifts a day, and every night is followed by a rest day or a night.
        let mut seen = std::collections::BTreeSet::new();
        for a in &roster.assignments {
            assert!(seen.insert((a.staff_id.clone(), a.date)));
        }
        let audit = f
            .store
            .list_audit(
                &f.admin,
                AuditQuery {
                    entity_id: Some(period.clone()),
                    ..AuditQuery::default()
                },
            )
            .unwrap();
        let actions: Vec<&str> = audit
            .items
            .iter()
            .map(|e| e.record.action.as_str())
            .collect();
        assert!(actions.contains(&"roster.proposed"), "{actions:?}");
        assert!(actions.contains(&"roster.solve_started"));
    });
}

#[test]
fn manual_edits_are_checked_live_and_hard_conflicts_are_refused() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        let period = f.period(&f.main, "2026-12-07", "2026-12-13");
        let ana = staff[0];
        // A late shift then an early shift the next morning leaves 8 hours of rest.
        f.edit(&period, ana, "2026-12-07", Some("late"), false)
            .unwrap();
        let error = f
            .edit(&period, ana, "2026-12-08", Some("early"), false)
            .unwrap_err();
        assert_eq!(code(&error), "roster.edit_conflict");
        assert_eq!(error.kind(), ErrorKind::Conflict);
        let details = error.details().unwrap();
        assert_eq!(details["violations"][0]["code"], "roster.rest");
        assert_eq!(f.shift_of(&period, ana, "2026-12-08"), None);
        // A nurse-only night for someone without nursing.
        let hugo = staff[7];
        let error = f
            .edit(&period, hugo, "2026-12-09", Some("night"), false)
            .unwrap_err();
        assert_eq!(
            error.details().unwrap()["violations"][0]["code"],
            "roster.skill_mismatch"
        );
        // Soft: taking away a shift leaves cover short, accepted with a warning.
        let outcome = f.edit(&period, ana, "2026-12-07", None, false).unwrap();
        assert!(outcome.assignment.is_none());
        assert!(outcome
            .warnings
            .iter()
            .all(|w| w.severity == Severity::Soft));
        // Six days in a row is above the contract's five.
        for d in 7..=11 {
            f.edit(
                &period,
                ana,
                &format!("2026-12-{d:02}"),
                Some("early"),
                false,
            )
            .unwrap();
        }
        let error = f
            .edit(&period, ana, "2026-12-12", Some("early"), false)
            .unwrap_err();
        let codes: Vec<String> = error.details().unwrap()["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["code"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            codes.contains(&"roster.too_many_consecutive_days".to_owned()),
            "{codes:?}"
        );
        // Carla never works on Wednesdays: a hard conflict, and the solver keeps her off them.
        let carla = staff[2];
        f.store
            .set_staff_rostering(
                &f.admin,
                carla,
                serde_json::from_value(json!({
                    "skills": [{"skill": "nursing", "level": 2}],
                    "contract": {
                        "min_minutes_per_week": 0, "max_minutes_per_week": 2400,
                        "max_consecutive_days": 5, "min_consecutive_days_off": 1,
                        "min_rest_minutes": 660, "max_weekends_per_four_weeks": 4,
                    },
                    "availability": {"unavailable_weekdays": ["wed"]},
                }))
                .unwrap(),
            )
            .unwrap();
        let error = f
            .edit(&period, carla, "2026-12-09", Some("early"), false)
            .unwrap_err();
        assert_eq!(
            violation_codes(&error),
            vec!["roster.unavailable".to_owned()]
        );
        f.solve(&period);
        assert_eq!(f.shift_of(&period, carla, "2026-12-09"), None);
        // Unknown shift types, dates outside the period and unrostered staff are 4xx.
        let error = f
            .edit(&period, ana, "2026-12-12", Some("brunch"), false)
            .unwrap_err();
        assert_eq!(code(&error), "roster.unknown_shift_type");
        let error = f
            .edit(&period, ana, "2026-12-25", Some("early"), false)
            .unwrap_err();
        assert_eq!(code(&error), "roster.date_outside_period");
        let error = f
            .edit(&period, StaffId::new(), "2026-12-12", Some("early"), false)
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn publish_leave_and_repair_change_few_published_shifts() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        let period = f.period(&f.main, "2026-12-07", "2026-12-20");
        f.solve(&period);
        // Pin one shift of the second nurse, then publish.
        let roster = f.store.get_roster(&f.admin, &period).unwrap();
        let bea = staff[1];
        let pinned = roster
            .assignments
            .iter()
            .find(|a| a.staff_id == bea.to_string())
            .unwrap()
            .clone();
        f.edit(
            &period,
            bea,
            &pinned.date.to_string(),
            Some(&pinned.shift_type),
            true,
        )
        .unwrap();
        // A draft overlapping it, made before it was published.
        let overlapping = f.period(&f.main, "2026-12-14", "2026-12-27");
        let published = f.store.publish_roster(&f.admin, &period).unwrap();
        assert_eq!(published.period.status, RosterStatus::Published);
        assert!(published.assignments.iter().all(|a| a.published));
        // Periods overlapping the published one can be neither created nor published.
        let error = f
            .store
            .create_roster_period(
                &f.admin,
                serde_json::from_value(
                    json!({"site_id": f.main.id, "first_day": "2026-12-20", "last_day": "2026-12-31"}),
                )
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(code(&error), "roster.overlaps_published");
        let error = f.store.publish_roster(&f.admin, &overlapping).unwrap_err();
        assert_eq!(code(&error), "roster.overlaps_published");

        // Leave over a pinned shift is refused.
        let leave = f
            .store
            .request_leave(
                &f.admin,
                bea,
                serde_json::from_value(json!({
                    "first_day": pinned.date, "last_day": pinned.date, "reason": "dentist"
                }))
                .unwrap(),
            )
            .unwrap();
        let error = f
            .store
            .decide_leave(
                &f.admin,
                &leave.id,
                LeaveDecision::without_repair(tend_staff::LeaveStatus::Approved),
            )
            .unwrap_err();
        assert_eq!(code(&error), "leave.contradicts_pinned");

        // Ana is sick for three days with published shifts.
        let ana = staff[0];
        let sick = f
            .store
            .request_leave(
                &f.admin,
                ana,
                serde_json::from_value(json!({
                    "first_day": "2026-12-09", "last_day": "2026-12-11", "reason": "sick"
                }))
                .unwrap(),
            )
            .unwrap();
        let decided = f
            .store
            .decide_leave(
                &f.admin,
                &sick.id,
                LeaveDecision::without_repair(tend_staff::LeaveStatus::Approved),
            )
            .unwrap();
        let ana_shifts_on_leave = decided.affected_shifts.len();

        // A manual edit putting her back on a leave day is a hard conflict.
        let error = f
            .edit(&period, ana, "2026-12-10", Some("early"), false)
            .unwrap_err();
        assert!(
            violation_codes(&error).contains(&"roster.on_leave".to_owned()),
            "{:?}",
            violation_codes(&error)
        );

        // An impossible bound is refused and nothing changes.
        let before = f.store.get_roster(&f.admin, &period).unwrap().assignments;
        if ana_shifts_on_leave > 0 {
            let error = f
                .store
                .repair_roster(
                    &f.admin,
                    &period,
                    RepairInput {
                        from: Some(day("2026-12-08")),
                        max_changes: Some(0),
                        time_limit_seconds: Some(2),
                        change_weight: None,
                    },
                )
                .unwrap_err();
            assert_eq!(code(&error), "roster.repair_too_many_changes");
            assert_eq!(
                f.store.get_roster(&f.admin, &period).unwrap().assignments,
                before
            );
        }

        let outcome = f
            .store
            .repair_roster(
                &f.admin,
                &period,
                RepairInput {
                    from: Some(day("2026-12-08")),
                    max_changes: Some(ana_shifts_on_leave + 8),
                    time_limit_seconds: Some(3),
                    change_weight: None,
                },
            )
            .unwrap();
        assert!(
            outcome.hard_violations.is_empty(),
            "{:?}",
            outcome.hard_violations
        );
        for d in ["2026-12-09", "2026-12-10", "2026-12-11"] {
            assert_eq!(f.shift_of(&period, ana, d), None);
        }
        // Nothing before the repair window changed, and the pin held.
        assert!(outcome.changes.iter().all(|c| c.date >= day("2026-12-08")));
        assert_eq!(
            f.shift_of(&period, bea, &pinned.date.to_string()),
            Some(pinned.shift_type.clone())
        );
        let others: std::collections::BTreeSet<&str> = outcome
            .changes
            .iter()
            .filter(|c| c.staff_id != ana.to_string())
            .map(|c| c.staff_id.as_str())
            .collect();
        assert!(
            others.len() <= 4 + ana_shifts_on_leave,
            "{:?}",
            outcome.changes
        );
        for uncovered in &outcome.uncovered {
            for candidate in &uncovered.candidates {
                assert!(candidate
                    .warnings
                    .iter()
                    .all(|w| w.severity == Severity::Soft));
            }
        }
        let audit = f
            .store
            .list_audit(
                &f.admin,
                AuditQuery {
                    action: Some("roster.repaired".into()),
                    ..AuditQuery::default()
                },
            )
            .unwrap();
        assert_eq!(audit.items.len(), 1);
    });
}

#[test]
fn one_solve_runs_per_site_and_edits_wait_for_it() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        let first = f.period(&f.main, "2026-12-07", "2026-12-20");
        let second = f.period(&f.main, "2026-12-21", "2027-01-03");
        // Keep the solve from finishing while the test probes it.
        let hold = tend_store::hold_solves(f.main.id);
        let running = f
            .store
            .start_solve_job(
                &f.admin,
                &first,
                SolveRequest {
                    time_limit_seconds: Some(2),
                },
            )
            .unwrap();
        assert_eq!(running.job.status, "running");
        let error = f
            .store
            .start_solve_job(&f.admin, &second, SolveRequest::default())
            .unwrap_err();
        assert_eq!(code(&error), "roster.solve_running");
        let error = f
            .edit(&first, staff[0], "2026-12-07", Some("early"), false)
            .unwrap_err();
        assert_eq!(code(&error), "roster.period_being_solved");
        let error = f
            .store
            .start_solve_job(&f.admin, &first, SolveRequest::default())
            .unwrap_err();
        assert_eq!(code(&error), "roster.period_being_solved");
        // Cancelling returns the period to draft at once; the late result is discarded.
        let cancelled = f.store.cancel_solve_job(&f.admin, &running.job.id).unwrap();
        assert_eq!(cancelled.status, "cancelled");
        assert_eq!(
            f.store.get_roster(&f.admin, &first).unwrap().period.status,
            RosterStatus::Draft
        );
        drop(hold);
        let ended = running.wait().unwrap();
        assert_eq!(ended.status, "cancelled");
        let roster = f.store.get_roster(&f.admin, &first).unwrap();
        assert_eq!(roster.period.status, RosterStatus::Draft);
        assert!(roster.assignments.is_empty());
        let error = f.store.cancel_solve_job(&f.admin, &ended.id).unwrap_err();
        assert_eq!(code(&error), "roster.job_ended");
        // Now the site is free again.
        f.solve(&second);
    });
}

#[test]
fn bad_staff_and_demand_input_is_refused() {
    on_each_backend(|f| {
        f.shift_types(&f.main);
        let id = f.staff(&f.main, "Ana Ruiz", &["nursing"]);
        let bad_skill = serde_json::from_value(json!({
            "skills": [{"skill": "juggling", "level": 2}],
            "contract": {"min_minutes_per_week": 0, "max_minutes_per_week": 2400,
                "max_consecutive_days": 5, "min_consecutive_days_off": 1,
                "min_rest_minutes": 660, "max_weekends_per_four_weeks": 2},
        }))
        .unwrap();
        let error = f
            .store
            .set_staff_rostering(&f.admin, id, bad_skill)
            .unwrap_err();
        assert_eq!(code(&error), "staff.unknown_skill");
        assert_eq!(error.kind(), ErrorKind::Invalid);
        let bad_contract = serde_json::from_value(json!({
            "skills": [{"skill": "nursing", "level": 2}],
            "contract": {"min_minutes_per_week": 3000, "max_minutes_per_week": 2400,
                "max_consecutive_days": 5, "min_consecutive_days_off": 1,
                "min_rest_minutes": 660, "max_weekends_per_four_weeks": 2},
        }))
        .unwrap();
        let error = f
            .store
            .set_staff_rostering(&f.admin, id, bad_contract)
            .unwrap_err();
        assert_eq!(code(&error), "staff.contract_contradiction");
        let error = f
            .store
            .set_demand(
                &f.admin,
                serde_json::from_value(json!({
                    "site_id": f.main.id,
                    "rules": [{"shift_type": "brunch", "required": 1}],
                }))
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(code(&error), "roster.unknown_shift_type");
        let error = f
            .store
            .create_shift_type(
                &f.admin,
                serde_json::from_value(json!({
                    "site_id": f.main.id, "key": "early", "start": "06:00:00", "end": "14:00:00",
                }))
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(code(&error), "roster.shift_type_taken");
        let error = f
            .store
            .create_roster_period(
                &f.admin,
                serde_json::from_value(json!({
                    "site_id": f.main.id, "first_day": "2026-12-10", "last_day": "2026-12-01",
                }))
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(code(&error), "roster.invalid_period");
        // Another site's staff member does not exist for a site-scoped manager.
        let other = f.site("North");
        let stranger = f.staff_member_only(&other, "Zoe Lee");
        let manager = f.manager(&f.main);
        let error = f.store.get_staff_rostering(&manager, stranger).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        // Operators may not change rosters.
        let operator = f.user("op@tend.local", Role::Operator, &f.main);
        let error = f
            .store
            .create_roster_period(
                &operator,
                serde_json::from_value(
                    json!({"first_day": "2026-12-07", "last_day": "2026-12-13"}),
                )
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Forbidden);
        let _ = RosteringError::NotPublished;
    });
}

#[test]
fn occupancy_raises_demand_and_swaps_are_checked() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        f.store
            .set_demand(
                &f.admin,
                serde_json::from_value(json!({
                    "site_id": f.main.id,
                    "rules": [{"shift_type": "early", "required": 1}],
                    "care_ratios": [{"shift_type": "early", "skill": "newborn_care", "clients_per_staff": 3}],
                }))
                .unwrap(),
            )
            .unwrap();
        // Four babies on the 8th and 9th need two newborn-care staff on the early shift.
        for i in 0..4 {
            let input: ClientInput =
                serde_json::from_value(json!({ "full_name": format!("Client {i} Test") })).unwrap();
            let client = f
                .store
                .create_client(&f.admin, f.main.id, input)
                .unwrap()
                .client
                .client
                .id;
            f.store
                .transition_client(&f.admin, client, "contracted", None, None)
                .unwrap();
            f.store
                .set_client_stay(
                    &f.admin,
                    client,
                    serde_json::from_value(
                        json!({"check_in": "2026-12-08", "check_out": "2026-12-09"}),
                    )
                    .unwrap(),
                )
                .unwrap();
        }
        let period = f.period(&f.main, "2026-12-07", "2026-12-13");
        f.solve(&period);
        let roster = f.store.get_roster(&f.admin, &period).unwrap();
        let early_on = |date: &str| {
            roster
                .assignments
                .iter()
                .filter(|a| a.date == day(date) && a.shift_type == "early")
                .count()
        };
        assert!(early_on("2026-12-08") >= 2);
        assert!(early_on("2026-12-09") >= 2);

        // Swap: two people exchange a day; a swap onto leave is refused.
        let a = roster
            .assignments
            .iter()
            .find(|a| a.date == day("2026-12-10"))
            .unwrap()
            .clone();
        let taker = staff.iter().copied().find(|s| {
            s.to_string() != a.staff_id
                && !roster.assignments.iter().any(|x| {
                    x.staff_id == s.to_string()
                        && x.date.to_string().as_str() >= "2026-12-09"
                        && x.date.to_string().as_str() <= "2026-12-11"
                })
        });
        if let Some(taker) = taker {
            let owner: StaffId = StaffId::parse(&a.staff_id).unwrap();
            let requested = f.store.request_swap(
                &f.admin,
                &period,
                tend_store::SwapInput {
                    staff_id: owner,
                    date: a.date,
                    other_staff_id: taker,
                    other_date: None,
                },
            );
            if let Ok(requested) = requested {
                let approved = f
                    .store
                    .decide_swap(
                        &f.admin,
                        &requested.id,
                        tend_store::SwapDecision {
                            status: tend_staff::SwapStatus::Approved,
                        },
                    )
                    .unwrap();
                assert_eq!(approved.status, tend_staff::SwapStatus::Approved);
                assert_eq!(
                    f.shift_of(&period, taker, "2026-12-10"),
                    Some(a.shift_type.clone())
                );
                assert_eq!(f.shift_of(&period, owner, "2026-12-10"), None);
                let error = f
                    .store
                    .decide_swap(
                        &f.admin,
                        &requested.id,
                        tend_store::SwapDecision {
                            status: tend_staff::SwapStatus::Rejected,
                        },
                    )
                    .unwrap_err();
                assert_eq!(code(&error), "swap.illegal_decision");
            } else {
                let error = requested.unwrap_err();
                assert_eq!(code(&error), "roster.edit_conflict");
            }
        }
    });
}

#[test]
fn exports_give_a_staff_by_day_grid_and_a_parseable_calendar() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        let period = f.period(&f.main, "2026-12-07", "2026-12-13");
        f.edit(&period, staff[0], "2026-12-07", Some("night"), false)
            .unwrap();
        f.edit(&period, staff[0], "2026-12-09", Some("early"), false)
            .unwrap();
        let csv = f.store.roster_csv(&f.admin, &period).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1 + staff.len());
        assert!(lines[0].starts_with("staff_id,full_name,2026-12-07,"));
        let ana = lines
            .iter()
            .find(|l| l.starts_with(&staff[0].to_string()))
            .unwrap();
        let cells: Vec<&str> = ana.split(',').collect();
        assert_eq!(cells[2], "night");
        assert_eq!(cells[3], "");
        assert_eq!(cells[4], "early");

        let ics = f
            .store
            .staff_roster_ics(&f.admin, &period, staff[0])
            .unwrap();
        let events = parse_ics(&ics);
        assert_eq!(events.len(), 2);
        // 23:00 in Madrid (UTC+1 in December) is 22:00 UTC; the night ends at 07:00 next day.
        assert_eq!(events[0].0, "20261207T220000Z");
        assert_eq!(events[0].1, "20261208T060000Z");
        assert_eq!(events[1].0, "20261209T060000Z");
    });
}

/// (DTSTART, DTEND) of each VEVENT, after unfolding lines; checks the calendar's framing.
fn parse_ics(text: &str) -> Vec<(String, String)> {
    assert!(text.ends_with("\r\n"));
    let unfolded = text.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"));
    assert_eq!(lines.last(), Some(&"END:VCALENDAR"));
    assert!(lines.contains(&"VERSION:2.0"));
    let mut events = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in lines {
        match line.split_once(':') {
            Some(("BEGIN", "VEVENT")) => current = Some((String::new(), String::new())),
            Some(("DTSTART", value)) => current.as_mut().unwrap().0 = value.to_owned(),
            Some(("DTEND", value)) => current.as_mut().unwrap().1 = value.to_owned(),
            Some(("END", "VEVENT")) => events.push(current.take().unwrap()),
            Some((name, _)) => assert!(!name.is_empty()),
            None => panic!("not a content line: {line}"),
        }
    }
    events.sort();
    events
}

impl Fixture {
    fn user(&self, email: &str, role: Role, site: &Site) -> Actor {
        let password = "a long enough password";
        self.store
            .create_user(
                Some(&self.admin),
                NewUser {
                    email: email.into(),
                    role: role.as_str().into(),
                    site_id: Some(site.id.to_string()),
                    password: password.into(),
                },
            )
            .unwrap();
        self.store.login(email, password).unwrap().actor
    }

    fn manager(&self, site: &Site) -> Actor {
        self.user("manager@tend.local", Role::StoreManager, site)
    }

    fn staff_member_only(&self, site: &Site, name: &str) -> StaffId {
        self.store
            .create_staff_member(
                &self.admin,
                serde_json::from_value(json!({
                    "site_id": site.id, "full_name": name, "role": "operator",
                }))
                .unwrap(),
            )
            .unwrap()
            .id
    }
}

#[test]
fn demand_can_ask_for_a_skill_level() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        // Everyone is at level 3; nights now need a level-4 nurse.
        f.store
            .set_demand(
                &f.admin,
                serde_json::from_value(json!({
                    "site_id": f.main.id,
                    "rules": [
                        {"shift_type": "early", "required": 2},
                        {"shift_type": "night", "skill": "nursing", "min_level": 4, "required": 1},
                    ],
                }))
                .unwrap(),
            )
            .unwrap();
        let period = f.period(&f.main, "2026-12-07", "2026-12-13");
        let error = f
            .edit(&period, staff[0], "2026-12-08", Some("night"), false)
            .unwrap_err();
        assert_eq!(
            violation_codes(&error),
            vec!["roster.skill_mismatch".to_owned()]
        );
        f.solve(&period);
        let roster = f.store.get_roster(&f.admin, &period).unwrap();
        assert!(roster.assignments.iter().all(|a| a.shift_type != "night"));
        let uncovered = roster.explanation.unwrap().uncovered;
        assert_eq!(uncovered.len(), 7);
        assert_eq!(uncovered[0].skill.as_deref(), Some("nursing@4"));
        let error = f
            .store
            .set_demand(
                &f.admin,
                serde_json::from_value(json!({
                    "site_id": f.main.id,
                    "rules": [{"shift_type": "night", "skill": "nursing", "min_level": 6, "required": 1}],
                }))
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Invalid);
    });
}

#[test]
fn hours_agreed_per_period_replace_the_weekly_figures() {
    on_each_backend(|f| {
        let staff = f.rostered_site(&f.main);
        let hugo = staff[7];
        f.store
            .set_staff_rostering(
                &f.admin,
                hugo,
                serde_json::from_value(json!({
                    "skills": [{"skill": "newborn_care", "level": 3}],
                    "contract": {
                        "min_minutes_per_week": 0, "max_minutes_per_week": 2400,
                        "max_consecutive_days": 5, "min_consecutive_days_off": 1,
                        "min_rest_minutes": 660, "max_weekends_per_four_weeks": 4,
                        "max_minutes_per_period": 480,
                    },
                }))
                .unwrap(),
            )
            .unwrap();
        let period = f.period(&f.main, "2026-12-07", "2026-12-13");
        f.edit(&period, hugo, "2026-12-07", Some("early"), false)
            .unwrap();
        let error = f
            .edit(&period, hugo, "2026-12-09", Some("early"), false)
            .unwrap_err();
        assert_eq!(
            violation_codes(&error),
            vec!["roster.above_contract_hours".to_owned()]
        );
        f.solve(&period);
        let roster = f.store.get_roster(&f.admin, &period).unwrap();
        let hugo_summary = roster
            .explanation
            .unwrap()
            .staff
            .into_iter()
            .find(|s| s.staff_id == hugo.to_string())
            .unwrap();
        assert_eq!(hugo_summary.contract_max_minutes, 480);
        assert!(hugo_summary.minutes <= 480);
    });
}
