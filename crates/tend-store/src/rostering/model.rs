//! From stored facts to the roster engine's `Problem`, from the engine's findings back to
//! rostering vocabulary: broken rules with their severity, and the explanation of a proposal.
//!
//! Mapping choices (ADR 0006): the weekly contract is scaled to the period by the days the staff
//! member is available (leave excluded), weekends per four weeks to the period's length; the
//! minimum rest is each staff member's own (the engine forbids their too-close successions);
//! preferences become shift-off requests; demand is the weekday rules, replaced per date by
//! overrides, raised to the occupancy-derived figure of each care ratio.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;
use tend_scheduling::{
    Assignment, Demand, FixedAssignment, Leave, Plan, Problem, ShiftRequest, StaffMember, Violation,
};
use tend_staff::{RosterRule, Severity};

use super::setup::{DemandSettings, LeaveRecord, ShiftTypeRecord, StaffRostering};
use super::RuleViolation;

/// Penalty weights of the model. Uncovered required demand dominates everything else.
pub(super) const UNDER_WEIGHT: u32 = 1000;
pub(super) const PREFERRED_WEIGHT: u32 = 20;
pub(super) const OVER_WEIGHT: u32 = 1;
pub(super) const PREFERENCE_WEIGHT: u32 = 5;
/// Penalty for not keeping a pinned or past shift (see `Context::problem`).
pub(super) const PIN_GUARD_WEIGHT: u32 = 100_000;

/// Everything a roster period is planned from, loaded in one go.
#[derive(Debug, Clone)]
pub(super) struct Context {
    pub first_day: NaiveDate,
    pub days: usize,
    pub shift_types: Vec<ShiftTypeRecord>,
    pub staff: Vec<StaffRostering>,
    pub leave: Vec<LeaveRecord>,
    pub demand: DemandSettings,
    pub stays: Vec<(NaiveDate, NaiveDate)>,
}

/// How to build the problem.
#[derive(Debug, Clone, Default)]
pub(super) struct Build {
    /// Pinned assignments (staff id, day index, shift type).
    pub pinned: Vec<(String, usize, String)>,
    /// Days before this index are fixed to `fixed_roster` (repair keeps the past).
    pub keep_before: usize,
    /// The roster kept before `keep_before`, and the reference for change penalties.
    pub reference: Vec<(String, usize, String)>,
    /// Penalty per change against `reference` from `keep_before` on (repair).
    pub change_weight: Option<u32>,
    /// Leave out hard minimum hours (checking edits of partial rosters).
    pub no_minimum_hours: bool,
}

impl Context {
    pub fn date(&self, day: usize) -> NaiveDate {
        self.first_day + chrono::Days::new(day as u64)
    }

    pub fn day_of(&self, date: NaiveDate) -> Option<usize> {
        let day = (date - self.first_day).num_days();
        (day >= 0 && (day as usize) < self.days).then_some(day as usize)
    }

    fn leave_days(&self, staff_id: &str, from: usize) -> BTreeSet<usize> {
        let mut days = BTreeSet::new();
        for leave in &self.leave {
            if leave.staff_id.to_string() != staff_id {
                continue;
            }
            for day in from..self.days {
                let date = self.date(day);
                if leave.first_day <= date && date <= leave.last_day {
                    days.insert(day);
                }
            }
        }
        days
    }

    /// Days neither on leave nor ruled out by availability.
    fn available_days(&self, profile: &StaffRostering) -> usize {
        let id = profile.staff_id.to_string();
        let leave = self.leave_days(&id, 0);
        let unavailable = self.unavailable_days(profile);
        self.days - leave.union(&unavailable).count()
    }

    /// Days the person's availability rules out.
    fn unavailable_days(&self, profile: &StaffRostering) -> BTreeSet<usize> {
        (0..self.days)
            .filter(|&day| profile.availability.blocks(self.date(day)))
            .collect()
    }

    fn unavailable(&self, staff_id: &str, day: usize) -> bool {
        self.staff
            .iter()
            .any(|p| p.staff_id.to_string() == staff_id && p.availability.blocks(self.date(day)))
    }

    pub fn on_leave(&self, staff_id: &str, day: usize) -> bool {
        self.leave_days(staff_id, day).contains(&day)
    }

    /// Shift types the profile lists (all when it lists none).
    fn listed_shifts(&self, profile: &StaffRostering) -> Vec<String> {
        if profile.shift_types.is_empty() {
            self.shift_types.iter().map(|s| s.key.clone()).collect()
        } else {
            profile.shift_types.clone()
        }
    }

    /// Whether `profile` lacks every skill the demand of `shift` asks for in this period, where
    /// all of that demand is for a skill (a nurse-only night is no place for a cook).
    fn skill_mismatch(&self, profile: &StaffRostering, shift: &str) -> bool {
        let mut skills = BTreeSet::new();
        for day in 0..self.days {
            for (shift_type, skill) in self.demand_of(day).keys() {
                if shift_type == shift {
                    match skill {
                        Some(skill) => {
                            skills.insert(skill.clone());
                        }
                        None => return false,
                    }
                }
            }
        }
        !skills.is_empty()
            && !tend_staff::skill_keys(&profile.skills)
                .iter()
                .any(|key| skills.contains(key))
    }

    /// Shift types this person may be rostered on: listed in their profile, and not a skill
    /// mismatch.
    pub fn allowed_shifts(&self, profile: &StaffRostering) -> Vec<String> {
        self.listed_shifts(profile)
            .into_iter()
            .filter(|shift| !self.skill_mismatch(profile, shift))
            .collect()
    }

    fn length_of(&self, key: &str) -> u32 {
        self.shift_types
            .iter()
            .find(|s| s.key == key)
            .map_or(0, |s| s.length_minutes)
    }

    /// Demand of day `day`: (shift type, skill) → (required, preferred).
    pub fn demand_of(&self, day: usize) -> BTreeMap<(String, Option<String>), (u32, u32)> {
        let date = self.date(day);
        let weekday = date.weekday();
        let mut demand = BTreeMap::new();
        for rule in &self.demand.rules {
            if rule.weekdays.is_empty() || rule.weekdays.contains(&weekday) {
                let key = (
                    rule.shift_type.clone(),
                    rule.skill
                        .as_ref()
                        .map(|s| tend_staff::skill_requirement_key(s, rule.min_level)),
                );
                demand.insert(
                    key,
                    (rule.required, rule.preferred.unwrap_or(rule.required)),
                );
            }
        }
        for rule in self.demand.overrides.iter().filter(|o| o.date == date) {
            let key = (
                rule.shift_type.clone(),
                rule.skill
                    .as_ref()
                    .map(|s| tend_staff::skill_requirement_key(s, rule.min_level)),
            );
            demand.insert(
                key,
                (rule.required, rule.preferred.unwrap_or(rule.required)),
            );
        }
        if !self.demand.care_ratios.is_empty() {
            let clients = self
                .stays
                .iter()
                .filter(|(check_in, check_out)| *check_in <= date && date <= *check_out)
                .count() as u32;
            for ratio in &self.demand.care_ratios {
                let needed = ratio.staff_for(clients);
                let entry = demand
                    .entry((ratio.shift_type.clone(), Some(ratio.skill.to_string())))
                    .or_insert((0, 0));
                entry.0 = entry.0.max(needed);
                entry.1 = entry.1.max(needed);
            }
        }
        demand.retain(|_, (required, preferred)| *required > 0 || *preferred > 0);
        demand
    }

    /// Fair-share caps on night shifts, per night shift type and staff member: for every night
    /// demand the person counts towards, the required total over the period divided by the staff
    /// who may cover it, rounded up, plus one of slack; the largest such share. A hard cap is
    /// what the LP sees well, unlike a max–min spread: with the engine's weekend and night spread
    /// penalties a 30-staff month stayed 40% from its bound after 30 s, with caps it is optimal
    /// in about 20 s. Weekends are capped by the contracts.
    fn night_caps(&self) -> BTreeMap<String, BTreeMap<String, u32>> {
        let mut caps = BTreeMap::new();
        for shift in self.shift_types.iter().filter(|s| s.end <= s.start) {
            let mut totals: BTreeMap<Option<String>, u32> = BTreeMap::new();
            for day in 0..self.days {
                for ((key, skill), (required, _)) in self.demand_of(day) {
                    if key == shift.key {
                        *totals.entry(skill).or_insert(0) += required;
                    }
                }
            }
            let may_work: Vec<&StaffRostering> = self
                .staff
                .iter()
                .filter(|p| self.allowed_shifts(p).contains(&shift.key))
                .collect();
            let counts_for = |p: &StaffRostering, skill: &Option<String>| {
                skill
                    .as_ref()
                    .is_none_or(|skill| tend_staff::skill_keys(&p.skills).contains(skill))
            };
            let mut per_staff = BTreeMap::new();
            for profile in &may_work {
                let share = totals
                    .iter()
                    .filter(|(skill, _)| counts_for(profile, skill))
                    .map(|(skill, total)| {
                        let eligible = may_work
                            .iter()
                            .filter(|p| counts_for(p, skill))
                            .count()
                            .max(1) as u32;
                        total.div_ceil(eligible) + 1
                    })
                    .max();
                if let Some(share) = share {
                    per_staff.insert(profile.staff_id.to_string(), share);
                }
            }
            caps.insert(shift.key.clone(), per_staff);
        }
        caps
    }

    /// The engine's problem for this period.
    pub fn problem(&self, build: &Build) -> Problem {
        let shift_types = self
            .shift_types
            .iter()
            .map(|s| tend_scheduling::ShiftType {
                id: s.key.clone(),
                start_minute: s.start.num_seconds_from_midnight_minutes(),
                length_minutes: s.length_minutes,
                forbidden_next: Vec::new(),
            })
            .collect();
        let night_caps = self.night_caps();
        let mut staff = Vec::new();
        let mut on_requests = Vec::new();
        let mut off_requests = Vec::new();
        for profile in &self.staff {
            let id = profile.staff_id.to_string();
            let allowed = self.allowed_shifts(profile);
            let leave_days = self.leave_days(&id, build.keep_before);
            let unavailable: BTreeSet<usize> = self
                .unavailable_days(profile)
                .into_iter()
                .filter(|day| *day >= build.keep_before && !leave_days.contains(day))
                .collect();
            let available = self.days - leave_days.len() - unavailable.len();
            let contract = &profile.contract;
            let min_total = if build.no_minimum_hours {
                0
            } else {
                minimum_minutes(contract, available, self.days)
            };
            let max_total = maximum_minutes(contract, self.days);
            let max_weekends = (u64::from(contract.max_weekends_per_four_weeks) * self.days as u64)
                .div_ceil(28) as u32;
            let mut fixed = Vec::new();
            let mut fixed_days = BTreeSet::new();
            for day in 0..build.keep_before.min(self.days) {
                let shift = build
                    .reference
                    .iter()
                    .find(|(s, d, _)| *s == id && *d == day)
                    .map(|(_, _, shift)| shift.clone());
                fixed.push(FixedAssignment {
                    day,
                    shift_type: shift,
                });
                fixed_days.insert(day);
            }
            for (s, day, shift) in &build.pinned {
                if *s == id && fixed_days.insert(*day) {
                    fixed.push(FixedAssignment {
                        day: *day,
                        shift_type: Some(shift.clone()),
                    });
                }
            }
            // Belt and braces: the engine's search was seen returning a day off on a day pinned
            // to a shift (reported to the roster engine); a prohibitive request keeps the pin,
            // and the checker run on every result refuses a roster that still breaks one.
            for fixed_assignment in &fixed {
                if let Some(shift) = &fixed_assignment.shift_type {
                    on_requests.push(ShiftRequest {
                        staff: id.clone(),
                        day: fixed_assignment.day,
                        shift_type: shift.clone(),
                        weight: PIN_GUARD_WEIGHT,
                    });
                }
            }
            let leave = leave_days
                .iter()
                .map(|&day| Leave {
                    first_day: day,
                    last_day: day,
                })
                .collect();
            staff.push(StaffMember {
                id: id.clone(),
                skills: tend_staff::skill_keys(&profile.skills),
                shift_types: allowed.clone(),
                contract: tend_scheduling::Contract {
                    min_total_minutes: min_total,
                    max_total_minutes: max_total.max(min_total),
                    max_shifts_per_type: night_caps
                        .iter()
                        .filter_map(|(key, caps)| {
                            let cap = caps.get(&id)?;
                            let fixed_here = fixed
                                .iter()
                                .filter(|f| f.shift_type.as_deref() == Some(key.as_str()))
                                .count() as u32;
                            Some((key.clone(), (*cap).max(fixed_here)))
                        })
                        .collect(),
                    min_consecutive_working_days: 1,
                    max_consecutive_working_days: u32::from(contract.max_consecutive_days),
                    min_consecutive_days_off: u32::from(contract.min_consecutive_days_off.max(1)),
                    max_working_weekends: max_weekends,
                    minimum_rest_minutes: Some(contract.min_rest_minutes).filter(|rest| *rest > 0),
                },
                days_off: unavailable.into_iter().collect(),
                leave,
                fixed,
            });
            let preferences = &profile.preferences;
            for day in build.keep_before..self.days {
                let date = self.date(day);
                for shift in &allowed {
                    let unwanted = preferences.unwanted_weekdays.contains(&date.weekday())
                        || preferences.unwanted_dates.contains(&date)
                        || preferences.unwanted_shift_types.contains(shift)
                        || (!preferences.wanted_shift_types.is_empty()
                            && !preferences.wanted_shift_types.contains(shift));
                    if unwanted {
                        off_requests.push(ShiftRequest {
                            staff: id.clone(),
                            day,
                            shift_type: shift.clone(),
                            weight: PREFERENCE_WEIGHT,
                        });
                    }
                }
                if let Some(weight) = build.change_weight {
                    let published = build
                        .reference
                        .iter()
                        .find(|(s, d, _)| *s == id && *d == day)
                        .map(|(_, _, shift)| shift);
                    match published {
                        Some(shift) => on_requests.push(ShiftRequest {
                            staff: id.clone(),
                            day,
                            shift_type: shift.clone(),
                            weight,
                        }),
                        None => {
                            for shift in &allowed {
                                off_requests.push(ShiftRequest {
                                    staff: id.clone(),
                                    day,
                                    shift_type: shift.clone(),
                                    weight,
                                });
                            }
                        }
                    }
                }
            }
        }
        let mut demand = Vec::new();
        for day in 0..self.days {
            for ((shift_type, skill), (required, preferred)) in self.demand_of(day) {
                demand.push(Demand {
                    day,
                    shift_type,
                    skill,
                    required,
                    preferred: preferred.max(required),
                    under_weight: UNDER_WEIGHT,
                    preferred_weight: PREFERRED_WEIGHT,
                    over_weight: OVER_WEIGHT,
                });
            }
        }
        Problem {
            start_date: self.first_day,
            days: self.days,
            shift_types,
            minimum_rest_minutes: None,
            staff,
            demand,
            shift_on_requests: on_requests,
            shift_off_requests: off_requests,
            // No spread penalties: see `night_caps`.
            fairness: None,
        }
    }

    /// A problem that validates: staff whose minimum hours cannot be reached in this period get
    /// no minimum (reported in the explanation as below contract hours).
    pub fn valid_problem(&self, build: &Build) -> Result<Problem, tend_scheduling::ProblemError> {
        let mut problem = self.problem(build);
        for _ in 0..=problem.staff.len() {
            match tend_scheduling::validate(&problem) {
                Ok(()) => return Ok(problem),
                Err(tend_scheduling::ProblemError::Contradiction {
                    staff,
                    rule: tend_scheduling::Contradiction::MinutesUnreachable { .. },
                }) => {
                    for member in problem.staff.iter_mut().filter(|m| m.id == staff) {
                        member.contract.min_total_minutes = 0;
                    }
                }
                Err(error) => return Err(error),
            }
        }
        tend_scheduling::validate(&problem).map(|()| problem)
    }

    pub fn plan_of(&self, assignments: &[(String, usize, String)]) -> Plan {
        Plan {
            assignments: assignments
                .iter()
                .map(|(staff, day, shift)| Assignment {
                    staff: staff.clone(),
                    day: *day,
                    shift_type: shift.clone(),
                })
                .collect(),
        }
    }

    /// The hard and soft rules a roster breaks, in rostering vocabulary.
    pub fn violations(
        &self,
        problem: &Problem,
        assignments: &[(String, usize, String)],
    ) -> Vec<RuleViolation> {
        let plan = self.plan_of(assignments);
        let mut out = Vec::new();
        for violation in tend_scheduling::check(problem, &plan) {
            if let Some(v) = self.translate(&violation) {
                out.push(v);
            }
        }
        // Minimum hours are checked here (the checking problem leaves them out so that partial
        // rosters validate).
        for profile in &self.staff {
            let id = profile.staff_id.to_string();
            let minutes: u64 = assignments
                .iter()
                .filter(|(s, _, _)| *s == id)
                .map(|(_, _, shift)| u64::from(self.length_of(shift)))
                .sum();
            let available = self.available_days(profile);
            let minimum = u64::from(minimum_minutes(&profile.contract, available, self.days));
            if minutes < minimum {
                out.push(rule(
                    RosterRule::BelowContractHours,
                    Some(id),
                    None,
                    format!("{minutes} minutes rostered, the contract asks for at least {minimum}"),
                ));
            }
        }
        if let Ok(evaluation) = tend_scheduling::evaluate(problem, &plan) {
            for uncovered in evaluation.uncovered {
                out.push(rule(
                    RosterRule::UnderCover,
                    None,
                    Some(self.date(uncovered.day)),
                    format!(
                        "{} {} short on {}{}",
                        uncovered.missing,
                        if uncovered.missing == 1 {
                            "person"
                        } else {
                            "people"
                        },
                        uncovered.shift_type,
                        uncovered
                            .skill
                            .map(|s| format!(" ({s})"))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        out
    }

    fn translate(&self, violation: &Violation) -> Option<RuleViolation> {
        let date = |day: usize| Some(self.date(day));
        Some(match violation {
            Violation::DoubleBooked { staff, day } => rule(
                RosterRule::DoubleAssignment,
                Some(staff.clone()),
                date(*day),
                "more than one shift on one day".into(),
            ),
            Violation::NotAllowed {
                staff,
                day,
                shift_type,
            } => {
                if self.on_leave(staff, *day) {
                    rule(
                        RosterRule::OnLeave,
                        Some(staff.clone()),
                        date(*day),
                        format!("on approved leave, cannot work {shift_type}"),
                    )
                } else if self.unavailable(staff, *day) {
                    rule(
                        RosterRule::Unavailable,
                        Some(staff.clone()),
                        date(*day),
                        format!("not available on this day, cannot work {shift_type}"),
                    )
                } else if self.staff.iter().any(|p| {
                    p.staff_id.to_string() == *staff
                        && self.listed_shifts(p).contains(shift_type)
                        && self.skill_mismatch(p, shift_type)
                }) {
                    rule(
                        RosterRule::SkillMismatch,
                        Some(staff.clone()),
                        date(*day),
                        format!("lacks the skills the {shift_type} shift's demand asks for"),
                    )
                } else {
                    rule(
                        RosterRule::ShiftTypeNotAllowed,
                        Some(staff.clone()),
                        date(*day),
                        format!("may not work shift type {shift_type}"),
                    )
                }
            }
            Violation::PinnedNotKept { staff, day } => rule(
                RosterRule::PinnedChanged,
                Some(staff.clone()),
                date(*day),
                "a pinned assignment was changed".into(),
            ),
            Violation::ForbiddenSuccession {
                staff,
                day,
                shift_type,
                next,
            } => rule(
                RosterRule::Rest,
                Some(staff.clone()),
                date(*day),
                format!("{next} the day after {shift_type} leaves too little rest"),
            ),
            Violation::ShiftTypeLimit {
                staff,
                shift_type,
                count,
                limit,
            } => rule(
                RosterRule::ShiftTypeLimit,
                Some(staff.clone()),
                None,
                format!("{count} {shift_type} shifts, at most {limit}"),
            ),
            Violation::MinutesAboveMaximum {
                staff,
                minutes,
                maximum,
            } => rule(
                RosterRule::AboveContractHours,
                Some(staff.clone()),
                None,
                format!("{minutes} minutes rostered, the contract allows {maximum}"),
            ),
            Violation::WorkRunTooLong {
                staff,
                first_day,
                length,
                maximum,
            } => rule(
                RosterRule::TooManyConsecutiveDays,
                Some(staff.clone()),
                date(*first_day),
                format!("{length} working days in a row, at most {maximum}"),
            ),
            Violation::WorkRunTooShort {
                staff,
                first_day,
                length,
                minimum,
            } => rule(
                RosterRule::TooFewConsecutiveDays,
                Some(staff.clone()),
                date(*first_day),
                format!("{length} working days in a row, at least {minimum}"),
            ),
            Violation::DaysOffRunTooShort {
                staff,
                first_day,
                length,
                minimum,
            } => rule(
                RosterRule::TooFewConsecutiveDaysOff,
                Some(staff.clone()),
                date(*first_day),
                format!("{length} days off in a row, at least {minimum}"),
            ),
            Violation::TooManyWeekends {
                staff,
                worked,
                maximum,
            } => rule(
                RosterRule::TooManyWeekends,
                Some(staff.clone()),
                None,
                format!("{worked} weekends worked, at most {maximum}"),
            ),
            // Minimum hours are checked in `violations`; the rest cannot come from stored rows.
            Violation::MinutesBelowMinimum { .. }
            | Violation::InvalidProblem { .. }
            | Violation::UnknownStaff { .. }
            | Violation::UnknownShiftType { .. }
            | Violation::DayOutOfRange { .. } => return None,
        })
    }

    /// The explanation of a roster: objective, uncovered demand, hours against contract,
    /// preferences, fairness.
    pub fn explain(
        &self,
        assignments: &[(String, usize, String)],
        report: Option<&tend_scheduling::Report>,
    ) -> Explanation {
        let build = Build {
            no_minimum_hours: true,
            ..Build::default()
        };
        let problem = self.problem(&build);
        let plan = self.plan_of(assignments);
        let evaluation = tend_scheduling::evaluate(&problem, &plan).ok();
        let uncovered = evaluation
            .as_ref()
            .map(|e| {
                e.uncovered
                    .iter()
                    .map(|u| UncoveredShift {
                        date: self.date(u.day),
                        shift_type: u.shift_type.clone(),
                        skill: u.skill.clone(),
                        required: u.required,
                        assigned: u.assigned,
                        missing: u.missing,
                        reason: match u.reason {
                            tend_scheduling::UncoveredReason::NotEnoughEligibleStaff {
                                eligible,
                            } => format!("only {eligible} eligible staff"),
                            tend_scheduling::UncoveredReason::ContractRulesOrCost => {
                                "contract rules or cheaper penalties elsewhere".into()
                            }
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut missed: HashMap<String, u32> = HashMap::new();
        if let Some(evaluation) = &evaluation {
            for penalty in &evaluation.penalties {
                if penalty.kind == tend_scheduling::PenaltyKind::ShiftOffRequest {
                    if let Some(staff) = &penalty.staff {
                        *missed.entry(staff.clone()).or_insert(0) += 1;
                    }
                }
            }
        }
        let mut staff = Vec::new();
        for profile in &self.staff {
            let id = profile.staff_id.to_string();
            let mine: Vec<&(String, usize, String)> =
                assignments.iter().filter(|(s, _, _)| *s == id).collect();
            let minutes: u32 = mine.iter().map(|(_, _, shift)| self.length_of(shift)).sum();
            let weekends: BTreeSet<i64> = mine
                .iter()
                .filter(|(_, day, _)| {
                    matches!(self.date(*day).weekday(), Weekday::Sat | Weekday::Sun)
                })
                .map(|(_, day, _)| {
                    let date = self.date(*day);
                    (date - chrono::Days::new(u64::from(date.weekday().num_days_from_monday())))
                        .num_days_from_ce()
                        .into()
                })
                .collect();
            let nights = mine
                .iter()
                .filter(|(_, _, shift)| {
                    self.shift_types
                        .iter()
                        .any(|s| s.key == *shift && s.end <= s.start)
                })
                .count() as u32;
            let available = self.available_days(profile);
            let preference_days = problem
                .shift_off_requests
                .iter()
                .filter(|r| r.staff == id)
                .map(|r| r.day)
                .collect::<BTreeSet<_>>()
                .len() as u32;
            let preferences_missed = missed.get(&id).copied().unwrap_or(0);
            staff.push(StaffSummary {
                staff_id: id,
                full_name: profile.full_name.clone(),
                shifts: mine.len() as u32,
                minutes,
                contract_min_minutes: minimum_minutes(&profile.contract, available, self.days),
                contract_max_minutes: maximum_minutes(&profile.contract, self.days),
                weekends_worked: weekends.len() as u32,
                nights,
                preferences_met: preference_days.saturating_sub(preferences_missed),
                preferences_missed,
            });
        }
        let spread = |values: Vec<u32>| {
            (
                values.iter().copied().min().unwrap_or(0),
                values.iter().copied().max().unwrap_or(0),
            )
        };
        let (weekends_min, weekends_max) =
            spread(staff.iter().map(|s| s.weekends_worked).collect());
        let (nights_min, nights_max) = spread(staff.iter().map(|s| s.nights).collect());
        let (minutes_min, minutes_max) = spread(staff.iter().map(|s| s.minutes).collect());
        Explanation {
            status: report.map(|r| format!("{:?}", r.status).to_lowercase()),
            objective: evaluation.as_ref().map_or(0, |e| e.objective),
            solver_objective: report.map(|r| r.objective),
            best_bound: report.map(|r| r.best_bound),
            gap: report.map(|r| r.gap),
            seconds: report.map(|r| r.seconds),
            penalties: evaluation
                .as_ref()
                .map(|e| {
                    e.by_kind()
                        .into_iter()
                        .map(|(kind, amount)| (format!("{kind:?}"), amount))
                        .collect()
                })
                .unwrap_or_default(),
            uncovered,
            staff,
            fairness: FairnessSummary {
                weekends_min,
                weekends_max,
                nights_min,
                nights_max,
                minutes_min,
                minutes_max,
            },
        }
    }
}

/// A contract's minimum for a period of `days` of which `available` can be worked: the period
/// figure if agreed, else the weekly one scaled; both shrink with leave and unavailability.
fn minimum_minutes(contract: &tend_staff::Contract, available: usize, days: usize) -> u32 {
    match contract.min_minutes_per_period {
        Some(minutes) => (u64::from(minutes) * available as u64 / days.max(1) as u64) as u32,
        None => (u64::from(contract.min_minutes_per_week) * available as u64 / 7) as u32,
    }
}

fn maximum_minutes(contract: &tend_staff::Contract, days: usize) -> u32 {
    contract.max_minutes_per_period.unwrap_or_else(|| {
        (u64::from(contract.max_minutes_per_week) * days as u64).div_ceil(7) as u32
    })
}

fn rule(
    rule: RosterRule,
    staff_id: Option<String>,
    date: Option<NaiveDate>,
    message: String,
) -> RuleViolation {
    RuleViolation {
        rule,
        code: rule.code(),
        severity: rule.severity(),
        staff_id,
        date,
        message,
    }
}

/// Identity of a violation for "did this edit introduce it": rule, staff and (for day rules)
/// date; per-period rules (hours, weekends) are one fact per staff member.
pub(super) fn violation_key(v: &RuleViolation) -> (RosterRule, Option<String>, Option<NaiveDate>) {
    let date = match v.rule {
        RosterRule::AboveContractHours
        | RosterRule::BelowContractHours
        | RosterRule::TooManyWeekends
        | RosterRule::ShiftTypeLimit
        | RosterRule::TooManyConsecutiveDays
        | RosterRule::TooFewConsecutiveDays
        | RosterRule::TooFewConsecutiveDaysOff => None,
        _ => v.date,
    };
    let message = if v.rule == RosterRule::UnderCover {
        // Distinguish uncovered slots on one day by what is short.
        Some(
            v.message
                .split(" short on ")
                .nth(1)
                .unwrap_or("")
                .to_owned(),
        )
    } else {
        v.staff_id.clone()
    };
    (v.rule, message, date)
}

/// Which violations of `after` are new compared with `before`.
pub(super) fn new_violations(
    before: &[RuleViolation],
    after: Vec<RuleViolation>,
) -> Vec<RuleViolation> {
    let known: BTreeSet<_> = before.iter().map(violation_key).collect();
    let mut seen = BTreeSet::new();
    after
        .into_iter()
        .filter(|v| {
            let key = violation_key(v);
            !known.contains(&key) && seen.insert(key)
        })
        .collect()
}

trait MinutesOfDay {
    fn num_seconds_from_midnight_minutes(&self) -> u32;
}

impl MinutesOfDay for chrono::NaiveTime {
    fn num_seconds_from_midnight_minutes(&self) -> u32 {
        use chrono::Timelike;
        self.num_seconds_from_midnight() / 60
    }
}

/// Why a roster looks the way it does.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Explanation {
    /// `optimal` or `feasible` after a solve; absent for hand-made rosters.
    pub status: Option<String>,
    /// The roster's penalty under the site's rules (without repair change penalties).
    pub objective: i64,
    pub solver_objective: Option<i64>,
    pub best_bound: Option<i64>,
    pub gap: Option<f64>,
    pub seconds: Option<f64>,
    pub penalties: BTreeMap<String, i64>,
    pub uncovered: Vec<UncoveredShift>,
    pub staff: Vec<StaffSummary>,
    pub fairness: FairnessSummary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct UncoveredShift {
    pub date: NaiveDate,
    pub shift_type: String,
    pub skill: Option<String>,
    pub required: u32,
    pub assigned: u32,
    pub missing: u32,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StaffSummary {
    pub staff_id: String,
    pub full_name: String,
    pub shifts: u32,
    pub minutes: u32,
    pub contract_min_minutes: u32,
    pub contract_max_minutes: u32,
    pub weekends_worked: u32,
    pub nights: u32,
    pub preferences_met: u32,
    pub preferences_missed: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FairnessSummary {
    pub weekends_min: u32,
    pub weekends_max: u32,
    pub nights_min: u32,
    pub nights_max: u32,
    pub minutes_min: u32,
    pub minutes_max: u32,
}

pub(super) fn severity_is_hard(v: &RuleViolation) -> bool {
    v.severity == Severity::Hard
}
