//! The independent plan checker: verifies every hard rule of a plan and recomputes its penalty.
//!
//! Written without good_lp and without the solver's model, straight from the rules, so that a
//! modelling mistake in the solver shows up as a violation here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::{Compiled, Plan, Problem, ProblemError};

/// A broken hard rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Violation {
    /// The problem itself does not validate; nothing else was checked.
    InvalidProblem {
        error: String,
    },
    UnknownStaff {
        staff: String,
    },
    UnknownShiftType {
        shift_type: String,
    },
    DayOutOfRange {
        staff: String,
        day: usize,
    },
    /// More than one shift for one staff member on one day.
    DoubleBooked {
        staff: String,
        day: usize,
    },
    /// Not qualified for the shift type, a day off, leave, or a type with a limit of zero.
    NotAllowed {
        staff: String,
        day: usize,
        shift_type: String,
    },
    /// A pinned assignment was not kept.
    PinnedNotKept {
        staff: String,
        day: usize,
    },
    ForbiddenSuccession {
        staff: String,
        day: usize,
        shift_type: String,
        next: String,
    },
    ShiftTypeLimit {
        staff: String,
        shift_type: String,
        count: u32,
        limit: u32,
    },
    MinutesBelowMinimum {
        staff: String,
        minutes: i64,
        minimum: i64,
    },
    MinutesAboveMaximum {
        staff: String,
        minutes: i64,
        maximum: i64,
    },
    WorkRunTooLong {
        staff: String,
        first_day: usize,
        length: usize,
        maximum: usize,
    },
    WorkRunTooShort {
        staff: String,
        first_day: usize,
        length: usize,
        minimum: usize,
    },
    DaysOffRunTooShort {
        staff: String,
        first_day: usize,
        length: usize,
        minimum: usize,
    },
    TooManyWeekends {
        staff: String,
        worked: usize,
        maximum: usize,
    },
}

/// What a penalty is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PenaltyKind {
    ShiftOnRequest,
    ShiftOffRequest,
    /// Fewer staff than required.
    UnderCover,
    /// Fewer staff than preferred.
    BelowPreferred,
    /// More staff than preferred.
    OverCover,
    WeekendFairness,
    NightFairness,
}

/// One penalised fact of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    pub kind: PenaltyKind,
    /// The staff member it is attributed to (requests), if any.
    pub staff: Option<String>,
    pub day: Option<usize>,
    pub shift_type: Option<String>,
    pub amount: i64,
}

/// Demand left uncovered by a plan, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uncovered {
    pub day: usize,
    pub shift_type: String,
    pub skill: Option<String>,
    pub required: u32,
    pub assigned: u32,
    pub missing: u32,
    pub reason: UncoveredReason,
}

/// Why demand was left uncovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UncoveredReason {
    /// Fewer staff may work this slot at all (skill, qualification, day off, leave, pin) than required.
    NotEnoughEligibleStaff { eligible: u32 },
    /// Enough staff could work the slot in principle, but contract rules or cheaper penalties elsewhere
    /// kept them off it.
    ContractRulesOrCost,
}

/// The recomputed penalty of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub objective: i64,
    pub penalties: Vec<Penalty>,
    pub uncovered: Vec<Uncovered>,
}

impl Evaluation {
    /// Total penalty per kind, in a stable order.
    pub fn by_kind(&self) -> BTreeMap<PenaltyKind, i64> {
        let mut totals = BTreeMap::new();
        for p in &self.penalties {
            *totals.entry(p.kind).or_insert(0) += p.amount;
        }
        totals
    }

    /// Total penalty per staff member (only penalties attributed to one).
    pub fn by_staff(&self) -> BTreeMap<String, i64> {
        let mut totals = BTreeMap::new();
        for p in &self.penalties {
            if let Some(staff) = &p.staff {
                *totals.entry(staff.clone()).or_insert(0) += p.amount;
            }
        }
        totals
    }
}

/// Every hard rule the plan breaks; empty means the plan is feasible.
pub fn check(problem: &Problem, plan: &Plan) -> Vec<Violation> {
    let compiled = match Compiled::new(problem) {
        Ok(c) => c,
        Err(error) => {
            return vec![Violation::InvalidProblem {
                error: error.to_string(),
            }]
        }
    };
    let mut violations = Vec::new();
    let staff_ids: HashMap<&str, usize> = problem
        .staff
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let shift_ids: HashMap<&str, usize> = problem
        .shift_types
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let days = problem.days;
    let mut roster: Vec<Vec<Option<usize>>> = vec![vec![None; days]; problem.staff.len()];
    for a in &plan.assignments {
        let Some(&e) = staff_ids.get(a.staff.as_str()) else {
            violations.push(Violation::UnknownStaff {
                staff: a.staff.clone(),
            });
            continue;
        };
        let Some(&s) = shift_ids.get(a.shift_type.as_str()) else {
            violations.push(Violation::UnknownShiftType {
                shift_type: a.shift_type.clone(),
            });
            continue;
        };
        if a.day >= days {
            violations.push(Violation::DayOutOfRange {
                staff: a.staff.clone(),
                day: a.day,
            });
            continue;
        }
        if roster[e][a.day].is_some() {
            violations.push(Violation::DoubleBooked {
                staff: a.staff.clone(),
                day: a.day,
            });
        }
        roster[e][a.day] = Some(s);
    }

    for (e, member) in problem.staff.iter().enumerate() {
        let row = &roster[e];
        let staff = || member.id.clone();
        let contract = &member.contract;
        let unavailable: BTreeSet<usize> = member
            .days_off
            .iter()
            .copied()
            .chain(member.leave.iter().flat_map(|l| l.first_day..=l.last_day))
            .collect();
        let qualified: BTreeSet<&str> = member
            .shift_types
            .iter()
            .map(String::as_str)
            .filter(|id| contract.max_shifts_per_type.get(*id) != Some(&0))
            .collect();
        for fixed in &member.fixed {
            let kept = row[fixed.day].map(|s| problem.shift_types[s].id.as_str())
                == fixed.shift_type.as_deref();
            if !kept {
                violations.push(Violation::PinnedNotKept {
                    staff: staff(),
                    day: fixed.day,
                });
            }
        }
        let mut per_type: BTreeMap<&str, u32> = BTreeMap::new();
        let mut minutes = 0i64;
        for (d, choice) in row.iter().enumerate() {
            let Some(s) = *choice else { continue };
            let shift = &problem.shift_types[s];
            if unavailable.contains(&d) || !qualified.contains(shift.id.as_str()) {
                violations.push(Violation::NotAllowed {
                    staff: staff(),
                    day: d,
                    shift_type: shift.id.clone(),
                });
            }
            *per_type.entry(shift.id.as_str()).or_insert(0) += 1;
            minutes += i64::from(shift.length_minutes);
            if let Some(Some(t)) = row.get(d + 1) {
                if compiled.staff[e].forbidden[s][*t] {
                    violations.push(Violation::ForbiddenSuccession {
                        staff: staff(),
                        day: d,
                        shift_type: shift.id.clone(),
                        next: problem.shift_types[*t].id.clone(),
                    });
                }
            }
        }
        for (id, &limit) in &contract.max_shifts_per_type {
            let count = per_type.get(id.as_str()).copied().unwrap_or(0);
            if count > limit {
                violations.push(Violation::ShiftTypeLimit {
                    staff: staff(),
                    shift_type: id.clone(),
                    count,
                    limit,
                });
            }
        }
        if minutes < i64::from(contract.min_total_minutes) {
            violations.push(Violation::MinutesBelowMinimum {
                staff: staff(),
                minutes,
                minimum: i64::from(contract.min_total_minutes),
            });
        }
        if minutes > i64::from(contract.max_total_minutes) {
            violations.push(Violation::MinutesAboveMaximum {
                staff: staff(),
                minutes,
                maximum: i64::from(contract.max_total_minutes),
            });
        }
        // Runs of equal working state.
        let mut d = 0;
        while d < days {
            let working = row[d].is_some();
            let first = d;
            while d < days && row[d].is_some() == working {
                d += 1;
            }
            let length = d - first;
            let inner = first > 0 && d < days;
            if working {
                let max = contract.max_consecutive_working_days as usize;
                if length > max {
                    violations.push(Violation::WorkRunTooLong {
                        staff: staff(),
                        first_day: first,
                        length,
                        maximum: max,
                    });
                }
                let min = contract.min_consecutive_working_days as usize;
                if inner && length < min {
                    violations.push(Violation::WorkRunTooShort {
                        staff: staff(),
                        first_day: first,
                        length,
                        minimum: min,
                    });
                }
            } else {
                let min = contract.min_consecutive_days_off as usize;
                if inner && length < min {
                    violations.push(Violation::DaysOffRunTooShort {
                        staff: staff(),
                        first_day: first,
                        length,
                        minimum: min,
                    });
                }
            }
        }
        let worked = worked_weekend_count(&compiled, row);
        if worked > contract.max_working_weekends as usize {
            violations.push(Violation::TooManyWeekends {
                staff: staff(),
                worked,
                maximum: contract.max_working_weekends as usize,
            });
        }
    }
    violations
}

pub(crate) fn worked_weekend_count(compiled: &Compiled, row: &[Option<usize>]) -> usize {
    row.iter()
        .zip(&compiled.weekend_of_day)
        .filter_map(|(choice, weekend)| choice.and(*weekend))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Recomputes the penalty of a plan (requests, cover, fairness) and lists uncovered demand.
pub fn evaluate(problem: &Problem, plan: &Plan) -> Result<Evaluation, ProblemError> {
    let compiled = Compiled::new(problem)?;
    let roster = compiled.roster_of(problem, plan);
    Ok(evaluate_roster(problem, &compiled, &roster))
}

pub(crate) fn evaluate_roster(
    problem: &Problem,
    compiled: &Compiled,
    roster: &[Vec<Option<usize>>],
) -> Evaluation {
    let staff_ids: HashMap<&str, usize> = problem
        .staff
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let works = |staff: &str, day: usize, shift_type: &str| -> bool {
        staff_ids
            .get(staff)
            .and_then(|&e| roster[e].get(day).copied().flatten())
            .is_some_and(|s| problem.shift_types[s].id == shift_type)
    };
    let mut penalties = Vec::new();
    for (requests, kind) in [
        (&problem.shift_on_requests, PenaltyKind::ShiftOnRequest),
        (&problem.shift_off_requests, PenaltyKind::ShiftOffRequest),
    ] {
        for r in requests {
            let worked = works(&r.staff, r.day, &r.shift_type);
            let broken = match kind {
                PenaltyKind::ShiftOnRequest => !worked,
                _ => worked,
            };
            if broken && r.weight > 0 {
                penalties.push(Penalty {
                    kind,
                    staff: Some(r.staff.clone()),
                    day: Some(r.day),
                    shift_type: Some(r.shift_type.clone()),
                    amount: i64::from(r.weight),
                });
            }
        }
    }
    let mut uncovered = Vec::new();
    for (demand, cover) in problem.demand.iter().zip(&compiled.cover) {
        let assigned = roster
            .iter()
            .zip(&cover.eligible)
            .filter(|(row, &eligible)| eligible && row[cover.day] == Some(cover.shift))
            .count() as i64;
        let mut push = |kind, amount: i64| {
            if amount > 0 {
                penalties.push(Penalty {
                    kind,
                    staff: None,
                    day: Some(demand.day),
                    shift_type: Some(demand.shift_type.clone()),
                    amount,
                });
            }
        };
        push(
            PenaltyKind::UnderCover,
            cover.under_weight * (cover.required - assigned).max(0),
        );
        push(
            PenaltyKind::BelowPreferred,
            cover.preferred_weight * (cover.preferred - assigned).max(0),
        );
        push(
            PenaltyKind::OverCover,
            cover.over_weight * (assigned - cover.preferred).max(0),
        );
        if assigned < cover.required {
            let eligible = cover.eligible.iter().filter(|&&e| e).count() as u32;
            uncovered.push(Uncovered {
                day: demand.day,
                shift_type: demand.shift_type.clone(),
                skill: demand.skill.clone(),
                required: demand.required,
                assigned: assigned as u32,
                missing: (cover.required - assigned) as u32,
                reason: if i64::from(eligible) < cover.required {
                    UncoveredReason::NotEnoughEligibleStaff { eligible }
                } else {
                    UncoveredReason::ContractRulesOrCost
                },
            });
        }
    }
    let (weekend_spread, night_spread) = fairness_spreads(compiled, roster);
    let fairness = [
        (
            PenaltyKind::WeekendFairness,
            i64::from(compiled.fairness.weekend_weight) * weekend_spread,
        ),
        (
            PenaltyKind::NightFairness,
            i64::from(compiled.fairness.night_weight) * night_spread,
        ),
    ];
    for (kind, amount) in fairness {
        if amount > 0 {
            penalties.push(Penalty {
                kind,
                staff: None,
                day: None,
                shift_type: None,
                amount,
            });
        }
    }
    Evaluation {
        objective: penalties.iter().map(|p| p.amount).sum(),
        penalties,
        uncovered,
    }
}

/// Spread (max − min) of worked weekends over all staff and of night shifts over night-capable staff.
pub(crate) fn fairness_spreads(compiled: &Compiled, roster: &[Vec<Option<usize>>]) -> (i64, i64) {
    let spread = |values: Vec<i64>| -> i64 {
        match (values.iter().max(), values.iter().min()) {
            (Some(max), Some(min)) => max - min,
            _ => 0,
        }
    };
    let weekends = roster
        .iter()
        .map(|row| worked_weekend_count(compiled, row) as i64)
        .collect();
    let nights = roster
        .iter()
        .zip(&compiled.staff)
        .filter(|(_, staff)| staff.may_work_night)
        .map(|(row, _)| row.iter().flatten().filter(|&&s| compiled.night[s]).count() as i64)
        .collect();
    (spread(weekends), spread(nights))
}
