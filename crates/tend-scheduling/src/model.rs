//! The roster problem as plain data, its validation, and the indexed form the checker and the
//! solver share.
//!
//! A [`Problem`] names everything by string id (staff member, shift type, skill) so that it can be
//! built from a database, a REST body or a benchmark file. [`validate`] turns it into the private
//! indexed form ([`Compiled`]) and reports unknown ids, out-of-range days and contradictory hard
//! rules before any solver runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Minutes in a day; shift start times are minutes after local midnight.
pub const MINUTES_PER_DAY: u32 = 24 * 60;

/// A rostering problem: who may work which shift on which day, and what each choice costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The first day of the horizon; its day of week decides which days are weekend days.
    pub start_date: NaiveDate,
    /// Number of days in the horizon (day indexes `0..days`).
    pub days: usize,
    pub shift_types: Vec<ShiftType>,
    /// Minimum rest in minutes between the end of one shift and the start of a shift on the next
    /// day. Pairs closer than this are forbidden successions, in addition to `forbidden_next`.
    #[serde(default)]
    pub minimum_rest_minutes: Option<u32>,
    pub staff: Vec<StaffMember>,
    pub demand: Vec<Demand>,
    #[serde(default)]
    pub shift_on_requests: Vec<ShiftRequest>,
    #[serde(default)]
    pub shift_off_requests: Vec<ShiftRequest>,
    /// Optional penalty on the spread of weekend and night work across staff.
    #[serde(default)]
    pub fairness: Option<Fairness>,
}

/// A kind of shift (early, late, night, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftType {
    pub id: String,
    /// Start time in minutes after midnight.
    pub start_minute: u32,
    pub length_minutes: u32,
    /// Shift types that may not be worked on the day after this one.
    #[serde(default)]
    pub forbidden_next: Vec<String>,
}

impl ShiftType {
    /// A night shift is one that runs past midnight.
    pub fn is_night(&self) -> bool {
        self.start_minute + self.length_minutes > MINUTES_PER_DAY
    }
}

/// A staff member with their skills, the shift types they may work and their contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffMember {
    pub id: String,
    #[serde(default)]
    pub skills: Vec<String>,
    /// Shift types this staff member may work at all.
    pub shift_types: Vec<String>,
    pub contract: Contract,
    /// Day indexes on which this staff member must not work.
    #[serde(default)]
    pub days_off: Vec<usize>,
    /// Leave periods (inclusive day ranges) on which this staff member must not work.
    #[serde(default)]
    pub leave: Vec<Leave>,
    /// Pinned assignments: on these days the roster must give exactly this shift (or a day off).
    #[serde(default)]
    pub fixed: Vec<FixedAssignment>,
}

/// Contract limits of one staff member. Every limit is a hard rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    pub min_total_minutes: u32,
    pub max_total_minutes: u32,
    /// Upper limit per shift type over the horizon; types not listed are unlimited.
    #[serde(default)]
    pub max_shifts_per_type: BTreeMap<String, u32>,
    /// Minimum length of a run of working days (runs touching the horizon edges are exempt).
    pub min_consecutive_working_days: u32,
    /// Maximum length of a run of working days.
    pub max_consecutive_working_days: u32,
    /// Minimum length of a run of days off (runs touching the horizon edges are exempt).
    pub min_consecutive_days_off: u32,
    /// A weekend counts as worked when its Saturday or Sunday is worked.
    pub max_working_weekends: u32,
    /// This staff member's own minimum rest in minutes between the end of one shift and the start
    /// of the next day's, on top of the problem's `minimum_rest_minutes` (the stricter applies).
    #[serde(default)]
    pub minimum_rest_minutes: Option<u32>,
}

/// An inclusive range of days on leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    pub first_day: usize,
    pub last_day: usize,
}

/// A pinned assignment: `shift_type: None` pins a day off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedAssignment {
    pub day: usize,
    pub shift_type: Option<String>,
}

/// Head count wanted for one shift type on one day, optionally restricted to staff with a skill.
///
/// Penalty for `n` staff assigned: `under_weight · max(0, required − n)
/// + preferred_weight · max(0, preferred − n) + over_weight · max(0, n − preferred)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    pub day: usize,
    pub shift_type: String,
    /// Only staff with this skill count towards this demand.
    #[serde(default)]
    pub skill: Option<String>,
    pub required: u32,
    pub preferred: u32,
    pub under_weight: u32,
    #[serde(default)]
    pub preferred_weight: u32,
    pub over_weight: u32,
}

/// A wish of one staff member: to work (on-request) or not to work (off-request) a shift on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftRequest {
    pub staff: String,
    pub day: usize,
    pub shift_type: String,
    pub weight: u32,
}

/// Penalty weights on the spread (maximum minus minimum over staff) of weekend and night work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fairness {
    /// Per unit of spread in worked weekends, over all staff.
    pub weekend_weight: u32,
    /// Per unit of spread in night shifts, over staff who may work a night shift.
    pub night_weight: u32,
}

/// A roster: who works which shift on which day. Days not listed are days off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub assignments: Vec<Assignment>,
}

/// One staff member working one shift on one day.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Assignment {
    pub staff: String,
    pub day: usize,
    pub shift_type: String,
}

/// A problem that cannot be solved as given: a bad reference or contradictory hard rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemError {
    #[error("the horizon has no days")]
    EmptyHorizon,
    #[error("{what} id {id:?} is defined twice")]
    DuplicateId { what: &'static str, id: String },
    #[error("{context} refers to unknown {what} {id:?}")]
    UnknownId {
        what: &'static str,
        id: String,
        context: String,
    },
    #[error("{context}: day {day} is outside the horizon of {days} days")]
    DayOutOfRange {
        context: String,
        day: usize,
        days: usize,
    },
    #[error("shift type {shift_type:?} has zero length")]
    EmptyShift { shift_type: String },
    #[error("demand on day {day} for {shift_type:?}: preferred {preferred} is below required {required}")]
    PreferredBelowRequired {
        day: usize,
        shift_type: String,
        required: u32,
        preferred: u32,
    },
    #[error("staff member {staff:?}: {rule}")]
    Contradiction { staff: String, rule: Contradiction },
}

/// Hard rules of one staff member that cannot all hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Contradiction {
    #[error("minimum total minutes {min} is above the maximum {max}")]
    MinutesMinAboveMax { min: u32, max: u32 },
    #[error("maximum consecutive working days {max} is below the minimum {min}")]
    ConsecutiveMaxBelowMin { min: u32, max: u32 },
    #[error("maximum consecutive working days is zero but minimum total minutes is {min_minutes}")]
    NoWorkAllowed { min_minutes: u32 },
    #[error("minimum total minutes {min} cannot be reached: the available days allow at most {reachable}")]
    MinutesUnreachable { min: u32, reachable: u64 },
    #[error("pinned shift on day {day} falls on a day off or leave")]
    PinnedOnDayOff { day: usize },
    #[error(
        "pinned shift {shift_type:?} on day {day} is not a shift type this staff member may work"
    )]
    PinnedNotQualified { day: usize, shift_type: String },
    #[error("day {day} is pinned twice with different values")]
    PinnedTwice { day: usize },
    #[error("pinned shifts on days {day} and {next} form a forbidden succession")]
    PinnedForbiddenSuccession { day: usize, next: usize },
    #[error("pinned shifts exceed the limit of {limit} for shift type {shift_type:?}")]
    PinnedAboveTypeLimit { shift_type: String, limit: u32 },
    #[error("pinned shifts total {minutes} minutes, above the maximum {max}")]
    PinnedAboveMaxMinutes { minutes: u64, max: u32 },
    #[error("pinned shifts work {weekends} weekends, above the maximum {max}")]
    PinnedAboveMaxWeekends { weekends: u32, max: u32 },
    #[error("pinned shifts form a run of {run} working days, above the maximum {max}")]
    PinnedRunTooLong { run: u32, max: u32 },
}

/// Checks references and hard-rule consistency; `Ok` means the solver can always return a roster.
pub fn validate(problem: &Problem) -> Result<(), ProblemError> {
    Compiled::new(problem).map(|_| ())
}

/// The indexed form of a [`Problem`]: shift types, staff and demand by position.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub days: usize,
    pub shifts: usize,
    pub shift_minutes: Vec<i64>,
    pub night: Vec<bool>,
    /// Weekend index of each day, `None` on weekdays.
    pub weekend_of_day: Vec<Option<usize>>,
    pub weekends: usize,
    pub staff: Vec<CompiledStaff>,
    pub cover: Vec<CompiledCover>,
    /// Cover items by `day * shifts + shift`.
    pub cover_by_slot: Vec<Vec<usize>>,
    pub fairness: Fairness,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledStaff {
    pub min_minutes: i64,
    pub max_minutes: i64,
    /// `None` when unlimited.
    pub max_per_shift: Vec<Option<u32>>,
    pub min_work: usize,
    pub max_work: usize,
    pub min_off: usize,
    pub max_weekends: usize,
    /// `allowed[d * shifts + s]`.
    pub allowed: Vec<bool>,
    /// Days pinned to a shift (`Some`) or to a day off (`None`).
    pub pinned: BTreeMap<usize, Option<usize>>,
    /// Request penalty of each choice: `cost[d * (shifts + 1)]` is the day off, then one per shift.
    pub cost: Vec<i64>,
    pub may_work_night: bool,
    /// `forbidden[s][t]` for this staff member: the problem's successions plus those closer
    /// than their contract's minimum rest.
    pub forbidden: Vec<Vec<bool>>,
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledCover {
    pub day: usize,
    pub shift: usize,
    /// Staff who count towards this cover.
    pub eligible: Vec<bool>,
    pub required: i64,
    pub preferred: i64,
    pub under_weight: i64,
    pub preferred_weight: i64,
    pub over_weight: i64,
}

impl CompiledStaff {
    pub fn may(&self, shifts: usize, day: usize, shift: usize) -> bool {
        self.allowed[day * shifts + shift]
    }
    pub fn cost_of(&self, shifts: usize, day: usize, choice: Option<usize>) -> i64 {
        let base = day * (shifts + 1);
        match choice {
            None => self.cost[base],
            Some(s) => self.cost[base + 1 + s],
        }
    }
}

impl CompiledCover {
    /// The penalised levels of this cover item, as `(weight, level, under)`: under the required
    /// and the preferred head count, over the preferred one; those with no weight left out.
    pub fn slack_levels(&self) -> impl Iterator<Item = (i64, i64, bool)> {
        [
            (self.under_weight, self.required, true),
            (self.preferred_weight, self.preferred, true),
            (self.over_weight, self.preferred, false),
        ]
        .into_iter()
        .filter(|&(weight, _, _)| weight != 0)
    }

    /// Penalty of this cover item when `n` eligible staff are assigned.
    pub fn penalty(&self, n: i64) -> i64 {
        self.under_weight * (self.required - n).max(0)
            + self.preferred_weight * (self.preferred - n).max(0)
            + self.over_weight * (n - self.preferred).max(0)
    }
}

fn index_of<'a>(
    ids: &'a HashMap<&'a str, usize>,
    what: &'static str,
    id: &str,
    context: impl FnOnce() -> String,
) -> Result<usize, ProblemError> {
    ids.get(id).copied().ok_or_else(|| ProblemError::UnknownId {
        what,
        id: id.to_owned(),
        context: context(),
    })
}

fn check_day(
    day: usize,
    days: usize,
    context: impl FnOnce() -> String,
) -> Result<(), ProblemError> {
    if day >= days {
        return Err(ProblemError::DayOutOfRange {
            context: context(),
            day,
            days,
        });
    }
    Ok(())
}

fn id_map<'a>(
    ids: impl Iterator<Item = &'a str>,
    what: &'static str,
) -> Result<HashMap<&'a str, usize>, ProblemError> {
    let mut map = HashMap::new();
    for (i, id) in ids.enumerate() {
        if map.insert(id, i).is_some() {
            return Err(ProblemError::DuplicateId {
                what,
                id: id.to_owned(),
            });
        }
    }
    Ok(map)
}

impl Compiled {
    pub fn new(problem: &Problem) -> Result<Compiled, ProblemError> {
        let days = problem.days;
        if days == 0 {
            return Err(ProblemError::EmptyHorizon);
        }
        let shifts = problem.shift_types.len();
        let shift_ids = id_map(
            problem.shift_types.iter().map(|s| s.id.as_str()),
            "shift type",
        )?;
        let staff_ids = id_map(problem.staff.iter().map(|s| s.id.as_str()), "staff member")?;

        let mut forbidden = vec![vec![false; shifts]; shifts];
        for (s, shift) in problem.shift_types.iter().enumerate() {
            if shift.length_minutes == 0 {
                return Err(ProblemError::EmptyShift {
                    shift_type: shift.id.clone(),
                });
            }
            for next in &shift.forbidden_next {
                let t = index_of(&shift_ids, "shift type", next, || {
                    format!("forbidden successions of shift type {:?}", shift.id)
                })?;
                forbidden[s][t] = true;
            }
        }
        if let Some(rest) = problem.minimum_rest_minutes {
            add_rest(&problem.shift_types, rest, &mut forbidden);
        }
        let shift_minutes: Vec<i64> = problem
            .shift_types
            .iter()
            .map(|s| i64::from(s.length_minutes))
            .collect();
        let night: Vec<bool> = problem
            .shift_types
            .iter()
            .map(ShiftType::is_night)
            .collect();

        // Weekend k is the k-th Saturday/Sunday pair met in the horizon (a horizon starting on a
        // Sunday has a first weekend of one day).
        let mut weekend_of_day = vec![None; days];
        let first_monday_offset = problem.start_date.weekday().num_days_from_monday() as usize;
        let mut weekends = 0;
        for (d, slot) in weekend_of_day.iter_mut().enumerate() {
            let Some(date) = problem
                .start_date
                .checked_add_days(chrono::Days::new(d as u64))
            else {
                break;
            };
            if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                let k = (d + first_monday_offset) / 7;
                *slot = Some(k);
                weekends = weekends.max(k + 1);
            }
        }
        // Renumber weekends densely from 0.
        let mut seen = BTreeMap::new();
        for k in weekend_of_day.iter_mut().flatten() {
            let next = seen.len();
            *k = *seen.entry(*k).or_insert(next);
        }
        weekends = weekends.min(seen.len());

        let mut staff = Vec::with_capacity(problem.staff.len());
        for member in &problem.staff {
            staff.push(compile_staff(
                problem,
                member,
                &shift_ids,
                &forbidden,
                &weekend_of_day,
            )?);
        }

        for request in &problem.shift_on_requests {
            let context = || {
                format!(
                    "shift-on request of {:?} on day {}",
                    request.staff, request.day
                )
            };
            let e = index_of(&staff_ids, "staff member", &request.staff, context)?;
            let s = index_of(&shift_ids, "shift type", &request.shift_type, context)?;
            check_day(request.day, days, context)?;
            let base = request.day * (shifts + 1);
            for choice in 0..=shifts {
                if choice != s + 1 {
                    staff[e].cost[base + choice] += i64::from(request.weight);
                }
            }
        }
        for request in &problem.shift_off_requests {
            let context = || {
                format!(
                    "shift-off request of {:?} on day {}",
                    request.staff, request.day
                )
            };
            let e = index_of(&staff_ids, "staff member", &request.staff, context)?;
            let s = index_of(&shift_ids, "shift type", &request.shift_type, context)?;
            check_day(request.day, days, context)?;
            staff[e].cost[request.day * (shifts + 1) + 1 + s] += i64::from(request.weight);
        }

        let mut cover = Vec::with_capacity(problem.demand.len());
        let mut cover_by_slot = vec![Vec::new(); days * shifts];
        for demand in &problem.demand {
            let context = || format!("demand on day {} for {:?}", demand.day, demand.shift_type);
            let s = index_of(&shift_ids, "shift type", &demand.shift_type, context)?;
            check_day(demand.day, days, context)?;
            if demand.preferred < demand.required {
                return Err(ProblemError::PreferredBelowRequired {
                    day: demand.day,
                    shift_type: demand.shift_type.clone(),
                    required: demand.required,
                    preferred: demand.preferred,
                });
            }
            let eligible = problem
                .staff
                .iter()
                .zip(&staff)
                .map(|(member, compiled)| {
                    compiled.may(shifts, demand.day, s)
                        && demand
                            .skill
                            .as_ref()
                            .is_none_or(|skill| member.skills.contains(skill))
                })
                .collect();
            cover_by_slot[demand.day * shifts + s].push(cover.len());
            cover.push(CompiledCover {
                day: demand.day,
                shift: s,
                eligible,
                required: i64::from(demand.required),
                preferred: i64::from(demand.preferred),
                under_weight: i64::from(demand.under_weight),
                preferred_weight: i64::from(demand.preferred_weight),
                over_weight: i64::from(demand.over_weight),
            });
        }

        Ok(Compiled {
            days,
            shifts,
            shift_minutes,
            night,
            weekend_of_day,
            weekends,
            staff,
            cover,
            cover_by_slot,
            fairness: problem.fairness.unwrap_or_default(),
        })
    }

    /// Turns a plan into `roster[staff][day]`; unknown ids and double bookings are reported by the
    /// checker, here they are skipped.
    pub fn roster_of(&self, problem: &Problem, plan: &Plan) -> Vec<Vec<Option<usize>>> {
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
        let mut roster = vec![vec![None; self.days]; self.staff.len()];
        for a in &plan.assignments {
            if let (Some(&e), Some(&s)) = (
                staff_ids.get(a.staff.as_str()),
                shift_ids.get(a.shift_type.as_str()),
            ) {
                if a.day < self.days {
                    roster[e][a.day] = Some(s);
                }
            }
        }
        roster
    }

    /// Turns `roster[staff][day]` into a plan, ordered by staff then day.
    pub fn plan_of(&self, problem: &Problem, roster: &[Vec<Option<usize>>]) -> Plan {
        let mut assignments = Vec::new();
        for (e, row) in roster.iter().enumerate() {
            for (d, choice) in row.iter().enumerate() {
                if let Some(s) = choice {
                    assignments.push(Assignment {
                        staff: problem.staff[e].id.clone(),
                        day: d,
                        shift_type: problem.shift_types[*s].id.clone(),
                    });
                }
            }
        }
        Plan { assignments }
    }
}

/// Forbids every succession that leaves less than `rest` minutes between the end of a shift and
/// the start of the next day's.
fn add_rest(shift_types: &[ShiftType], rest: u32, forbidden: &mut [Vec<bool>]) {
    for (s, shift) in shift_types.iter().enumerate() {
        let end = i64::from(shift.start_minute) + i64::from(shift.length_minutes);
        for (t, next) in shift_types.iter().enumerate() {
            let next_start = i64::from(MINUTES_PER_DAY) + i64::from(next.start_minute);
            if next_start - end < i64::from(rest) {
                forbidden[s][t] = true;
            }
        }
    }
}

fn compile_staff(
    problem: &Problem,
    member: &StaffMember,
    shift_ids: &HashMap<&str, usize>,
    forbidden: &[Vec<bool>],
    weekend_of_day: &[Option<usize>],
) -> Result<CompiledStaff, ProblemError> {
    let days = problem.days;
    let shifts = problem.shift_types.len();
    let contradiction = |rule| ProblemError::Contradiction {
        staff: member.id.clone(),
        rule,
    };
    let c = &member.contract;
    let context = || format!("staff member {:?}", member.id);
    let mut own_forbidden = forbidden.to_vec();
    if let Some(rest) = c.minimum_rest_minutes {
        add_rest(&problem.shift_types, rest, &mut own_forbidden);
    }
    let forbidden = &own_forbidden;

    let mut qualified = vec![false; shifts];
    for id in &member.shift_types {
        qualified[index_of(shift_ids, "shift type", id, context)?] = true;
    }
    let mut max_per_shift = vec![None; shifts];
    for (id, &limit) in &c.max_shifts_per_type {
        let s = index_of(shift_ids, "shift type", id, context)?;
        max_per_shift[s] = Some(limit);
        if limit == 0 {
            qualified[s] = false;
        }
    }
    if c.min_total_minutes > c.max_total_minutes {
        return Err(contradiction(Contradiction::MinutesMinAboveMax {
            min: c.min_total_minutes,
            max: c.max_total_minutes,
        }));
    }
    if c.max_consecutive_working_days < c.min_consecutive_working_days {
        return Err(contradiction(Contradiction::ConsecutiveMaxBelowMin {
            min: c.min_consecutive_working_days,
            max: c.max_consecutive_working_days,
        }));
    }
    if c.max_consecutive_working_days == 0 && c.min_total_minutes > 0 {
        return Err(contradiction(Contradiction::NoWorkAllowed {
            min_minutes: c.min_total_minutes,
        }));
    }

    let mut unavailable = BTreeSet::new();
    for &d in &member.days_off {
        check_day(d, days, || format!("days off of {:?}", member.id))?;
        unavailable.insert(d);
    }
    for leave in &member.leave {
        for d in [leave.first_day, leave.last_day] {
            check_day(d, days, || format!("leave of {:?}", member.id))?;
        }
        unavailable.extend(leave.first_day..=leave.last_day);
    }

    let mut pinned: BTreeMap<usize, Option<usize>> = BTreeMap::new();
    for fixed in &member.fixed {
        check_day(fixed.day, days, || {
            format!("pinned assignment of {:?}", member.id)
        })?;
        let choice = match &fixed.shift_type {
            None => None,
            Some(id) => {
                let s = index_of(shift_ids, "shift type", id, context)?;
                if unavailable.contains(&fixed.day) {
                    return Err(contradiction(Contradiction::PinnedOnDayOff {
                        day: fixed.day,
                    }));
                }
                if !qualified[s] {
                    return Err(contradiction(Contradiction::PinnedNotQualified {
                        day: fixed.day,
                        shift_type: id.clone(),
                    }));
                }
                Some(s)
            }
        };
        if pinned
            .insert(fixed.day, choice)
            .is_some_and(|old| old != choice)
        {
            return Err(contradiction(Contradiction::PinnedTwice { day: fixed.day }));
        }
    }
    // Pinned shifts alone must respect the per-staff rules that only grow with more work.
    let mut per_shift = vec![0u32; shifts];
    let mut minutes = 0u64;
    let mut worked_weekends = BTreeSet::new();
    for (&d, choice) in &pinned {
        if let Some(s) = *choice {
            per_shift[s] += 1;
            minutes += u64::from(problem.shift_types[s].length_minutes);
            if let Some(k) = weekend_of_day[d] {
                worked_weekends.insert(k);
            }
            if let Some(Some(t)) = pinned.get(&(d + 1)) {
                if forbidden[s][*t] {
                    return Err(contradiction(Contradiction::PinnedForbiddenSuccession {
                        day: d,
                        next: d + 1,
                    }));
                }
            }
        }
    }
    for s in 0..shifts {
        if let Some(limit) = max_per_shift[s] {
            if per_shift[s] > limit {
                return Err(contradiction(Contradiction::PinnedAboveTypeLimit {
                    shift_type: problem.shift_types[s].id.clone(),
                    limit,
                }));
            }
        }
    }
    if minutes > u64::from(c.max_total_minutes) {
        return Err(contradiction(Contradiction::PinnedAboveMaxMinutes {
            minutes,
            max: c.max_total_minutes,
        }));
    }
    if worked_weekends.len() > c.max_working_weekends as usize {
        return Err(contradiction(Contradiction::PinnedAboveMaxWeekends {
            weekends: worked_weekends.len() as u32,
            max: c.max_working_weekends,
        }));
    }
    let mut run = 0u32;
    for d in 0..days {
        run = if matches!(pinned.get(&d), Some(Some(_))) {
            run + 1
        } else {
            0
        };
        if run > c.max_consecutive_working_days {
            return Err(contradiction(Contradiction::PinnedRunTooLong {
                run,
                max: c.max_consecutive_working_days,
            }));
        }
    }

    let mut allowed = vec![false; days * shifts];
    for d in 0..days {
        for s in 0..shifts {
            allowed[d * shifts + s] = match pinned.get(&d) {
                Some(choice) => *choice == Some(s),
                None => qualified[s] && !unavailable.contains(&d),
            };
        }
    }

    // An upper bound on reachable minutes: each available day takes the longest shift still
    // within its type limit, and no run is longer than the maximum.
    let available_days = (0..days)
        .filter(|&d| (0..shifts).any(|s| allowed[d * shifts + s]))
        .count() as u64;
    let max_work = u64::from(c.max_consecutive_working_days);
    let run_cap = (days as u64 / (max_work + 1)) * max_work + (days as u64 % (max_work + 1));
    let mut slots = available_days.min(run_cap);
    let mut by_length: Vec<usize> = (0..shifts).filter(|&s| qualified[s]).collect();
    by_length.sort_by_key(|&s| std::cmp::Reverse(problem.shift_types[s].length_minutes));
    let mut reachable = 0u64;
    for s in by_length {
        let take = max_per_shift[s].map_or(slots, |l| slots.min(u64::from(l)));
        reachable += take * u64::from(problem.shift_types[s].length_minutes);
        slots -= take;
    }
    if reachable < u64::from(c.min_total_minutes) {
        return Err(contradiction(Contradiction::MinutesUnreachable {
            min: c.min_total_minutes,
            reachable,
        }));
    }

    Ok(CompiledStaff {
        min_minutes: i64::from(c.min_total_minutes),
        max_minutes: i64::from(c.max_total_minutes),
        max_per_shift,
        min_work: c.min_consecutive_working_days as usize,
        max_work: c.max_consecutive_working_days as usize,
        min_off: c.min_consecutive_days_off as usize,
        max_weekends: c.max_working_weekends as usize,
        allowed,
        pinned,
        cost: vec![0; days * (shifts + 1)],
        may_work_night: (0..shifts).any(|s| qualified[s] && problem.shift_types[s].is_night()),
        forbidden: own_forbidden,
    })
}
