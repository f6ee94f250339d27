//! Slot search: the start times at which a service can be booked, with who and what it gets.
//!
//! The caller (the store) assembles a [`Calendar`]: each candidate staff member's and resource's
//! free time (availability for the booking's [`crate::availability::Access`], less their
//! existing bookings' occupied time) and the client's busy time. [`find_slots`] then sweeps the
//! candidate starts of a local wall-clock grid and, at each, checks every requirement with
//! binary searches and assigns distinct people (and distinct resources) by bipartite matching.
//! [`check_start`] does the same for one requested start and says why it is refused.
//!
//! Candidate starts are the instants whose local wall-clock time is a whole number of steps
//! after local midnight. Across a spring-forward gap the missing wall times simply have no
//! instant; across the autumn overlap each repeated wall time is two distinct instants, and both
//! are candidates (each slot carries its UTC offset). No instant is ever a candidate twice.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use tend_core::{Role, SiteTimeZone, StaffId};

use crate::availability::LocalDateRange;
use crate::catalogue::{ResourceKind, ResourceTag, Service, SkillKey, QUANTUM_MINUTES};
use crate::ids::ResourceId;
use crate::interval::{IntervalSet, TimeInterval};

/// A staff member who could take part, with their free time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffCandidate {
    pub staff_id: StaffId,
    pub roles: BTreeSet<Role>,
    pub skills: BTreeSet<SkillKey>,
    /// Free time: availability for this booking's access, less existing bookings.
    pub free: IntervalSet,
}

/// A resource that could be used, with its free time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCandidate {
    pub resource_id: ResourceId,
    pub kind: ResourceKind,
    pub tags: BTreeSet<ResourceTag>,
    pub free: IntervalSet,
}

/// Everything the search needs to know about a site over the searched dates. Free time should
/// cover [`LocalDateRange::widened_by_a_day`] of the searched dates, so buffers at the edges
/// are seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub time_zone: SiteTimeZone,
    pub staff: Vec<StaffCandidate>,
    pub resources: Vec<ResourceCandidate>,
    /// The client's other bookings (visits, without buffers): a client is never booked twice.
    #[serde(default)]
    pub client_busy: IntervalSet,
}

/// Whom the client would like to see.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "staff")]
pub enum StaffPreference {
    #[default]
    Anyone,
    /// Assign these people where they qualify and are free, others otherwise.
    Prefer(Vec<StaffId>),
    /// Every one of these people must take part ("with Dr Ruiz"); other places go to anyone.
    Required(Vec<StaffId>),
}

impl StaffPreference {
    pub fn named_staff(&self) -> &[StaffId] {
        match self {
            StaffPreference::Anyone => &[],
            StaffPreference::Prefer(staff) | StaffPreference::Required(staff) => staff,
        }
    }
}

/// A search for the slots of one service over local dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotQuery {
    pub service: Service,
    pub dates: LocalDateRange,
    #[serde(default)]
    pub staff_preference: StaffPreference,
    /// Spacing of candidate starts on the local wall clock, a multiple of the quantum.
    pub step_minutes: u32,
    /// Minimum notice and the booking horizon count from here.
    pub now: DateTime<Utc>,
    /// Stop after this many slots.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Who fills one place of a staff requirement, and for which time (buffers included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StaffAssignment {
    pub requirement_index: usize,
    pub staff_id: StaffId,
    pub occupied: TimeInterval,
}

/// Which resource fills one place of a resource requirement, and for which time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResourceAssignment {
    pub requirement_index: usize,
    pub resource_id: ResourceId,
    pub occupied: TimeInterval,
}

/// A bookable start with one valid assignment of people and resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// The visit, without buffers.
    pub visit: TimeInterval,
    pub local_start: DateTime<FixedOffset>,
    pub local_end: DateTime<FixedOffset>,
    pub staff: Vec<StaffAssignment>,
    pub resources: Vec<ResourceAssignment>,
}

impl Slot {
    pub fn start(&self) -> DateTime<Utc> {
        self.visit.start()
    }

    pub fn staff_ids(&self) -> impl Iterator<Item = StaffId> + '_ {
        self.staff.iter().map(|assignment| assignment.staff_id)
    }
}

/// Why a search cannot run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("a slot step must be a multiple of {QUANTUM_MINUTES} minutes from {QUANTUM_MINUTES} to 1440 (got {minutes})")]
    InvalidStep { minutes: u32 },
    #[error("staff member {0} is not a candidate at this site")]
    UnknownStaff(StaffId),
}

impl SearchError {
    pub fn code(&self) -> &'static str {
        match self {
            SearchError::InvalidStep { .. } => "appointments.search.invalid_step",
            SearchError::UnknownStaff(_) => "appointments.unknown_staff",
        }
    }
}

/// Why one requested start cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotRefusal {
    #[error("a start must fall on a {QUANTUM_MINUTES}-minute boundary ({start})")]
    MisalignedStart { start: DateTime<Utc> },
    #[error("{start} is in the past")]
    StartInPast { start: DateTime<Utc> },
    #[error("{start} is too soon: the earliest bookable start is {earliest}")]
    NotEnoughNotice {
        start: DateTime<Utc>,
        earliest: DateTime<Utc>,
    },
    #[error("{start} is beyond the booking horizon ({latest})")]
    BeyondHorizon {
        start: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
    #[error("the client already has a visit at that time")]
    ClientBusy,
    #[error("staff member {0} is not a candidate at this site")]
    UnknownStaff(StaffId),
    #[error("staff member {0} is not free or not qualified at that time")]
    RequiredStaffUnavailable(StaffId),
    #[error("not enough qualified staff are free for requirement {requirement_index}")]
    NoQualifiedStaffFree { requirement_index: usize },
    #[error("the requirements cannot all be filled by distinct staff members")]
    NotEnoughDistinctStaff,
    #[error("not enough suitable resources are free for resource requirement {requirement_index}")]
    NoResourceFree { requirement_index: usize },
}

impl SlotRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            SlotRefusal::MisalignedStart { .. } => "appointments.slot.misaligned_start",
            SlotRefusal::StartInPast { .. } => "appointments.slot.start_in_past",
            SlotRefusal::NotEnoughNotice { .. } => "appointments.slot.not_enough_notice",
            SlotRefusal::BeyondHorizon { .. } => "appointments.slot.beyond_horizon",
            SlotRefusal::ClientBusy => "appointments.slot.client_busy",
            SlotRefusal::UnknownStaff(_) => "appointments.unknown_staff",
            SlotRefusal::RequiredStaffUnavailable(_) => {
                "appointments.slot.required_staff_unavailable"
            }
            SlotRefusal::NoQualifiedStaffFree { .. } => "appointments.slot.no_qualified_staff_free",
            SlotRefusal::NotEnoughDistinctStaff => "appointments.slot.not_enough_distinct_staff",
            SlotRefusal::NoResourceFree { .. } => "appointments.slot.no_resource_free",
        }
    }
}

/// Every bookable start of `query.service` on `query.dates`, earliest first.
pub fn find_slots(query: &SlotQuery, calendar: &Calendar) -> Result<Vec<Slot>, SearchError> {
    if query.step_minutes == 0
        || query.step_minutes > 1440
        || i64::from(query.step_minutes) % QUANTUM_MINUTES != 0
    {
        return Err(SearchError::InvalidStep {
            minutes: query.step_minutes,
        });
    }
    let prepared = Prepared::new(query, calendar).map_err(SearchError::UnknownStaff)?;
    let earliest = query.now + query.service.min_notice();
    let latest = query.now + query.service.booking_horizon();
    let limit = query.limit.unwrap_or(usize::MAX);
    let mut slots = Vec::new();
    for start in grid_starts(&calendar.time_zone, query.dates, query.step_minutes) {
        if slots.len() >= limit || start > latest {
            break;
        }
        if start < earliest {
            continue;
        }
        if let Ok(slot) = prepared.evaluate(start) {
            slots.push(slot);
        }
    }
    Ok(slots)
}

/// Whether `query.service` can start at `start` (the query's dates and step are not used), and
/// with whom.
pub fn check_start(
    query: &SlotQuery,
    calendar: &Calendar,
    start: DateTime<Utc>,
) -> Result<Slot, SlotRefusal> {
    if start.timestamp() % (QUANTUM_MINUTES * 60) != 0 || start.timestamp_subsec_nanos() != 0 {
        return Err(SlotRefusal::MisalignedStart { start });
    }
    if start < query.now {
        return Err(SlotRefusal::StartInPast { start });
    }
    let earliest = query.now + query.service.min_notice();
    if start < earliest {
        return Err(SlotRefusal::NotEnoughNotice { start, earliest });
    }
    let latest = query.now + query.service.booking_horizon();
    if start > latest {
        return Err(SlotRefusal::BeyondHorizon { start, latest });
    }
    Prepared::new(query, calendar)
        .map_err(SlotRefusal::UnknownStaff)?
        .evaluate(start)
}

/// The instants on `dates` whose local wall-clock time is a whole number of `step_minutes` after
/// local midnight, sorted, each once.
pub fn grid_starts(
    time_zone: &SiteTimeZone,
    dates: LocalDateRange,
    step_minutes: u32,
) -> Vec<DateTime<Utc>> {
    let tz = time_zone.tz();
    let step = Duration::minutes(i64::from(step_minutes.max(1)));
    let mut starts = Vec::new();
    for date in dates.days() {
        let midnight = date.and_time(NaiveTime::MIN);
        let mut offset = Duration::zero();
        while offset < Duration::days(1) {
            // `from_local_datetime` gives nothing for wall times in a gap and both instants for
            // wall times in an overlap.
            match tz.from_local_datetime(&(midnight + offset)) {
                LocalResult::Single(instant) => starts.push(instant.with_timezone(&Utc)),
                LocalResult::Ambiguous(earlier, later) => {
                    starts.push(earlier.with_timezone(&Utc));
                    starts.push(later.with_timezone(&Utc));
                }
                LocalResult::None => {}
            }
            offset += step;
        }
    }
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// The search's fixed part: who is eligible for what, in preference order.
struct Prepared<'a> {
    service: &'a Service,
    calendar: &'a Calendar,
    /// Per staff requirement: indices into `calendar.staff`, preferred people first.
    eligible_staff: Vec<Vec<usize>>,
    /// Per resource requirement: indices into `calendar.resources`.
    eligible_resources: Vec<Vec<usize>>,
    /// Indices into `calendar.staff` of people who must take part.
    required_staff: Vec<usize>,
}

impl<'a> Prepared<'a> {
    fn new(query: &'a SlotQuery, calendar: &'a Calendar) -> Result<Prepared<'a>, StaffId> {
        let mut named = Vec::new();
        for staff_id in query.staff_preference.named_staff() {
            let index = calendar
                .staff
                .iter()
                .position(|candidate| candidate.staff_id == *staff_id)
                .ok_or(*staff_id)?;
            named.push(index);
        }
        let rank = |index: &usize| named.iter().position(|n| n == index).unwrap_or(usize::MAX);
        let eligible_staff = query
            .service
            .staff_requirements()
            .iter()
            .map(|requirement| {
                let mut eligible: Vec<usize> = calendar
                    .staff
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| requirement.qualification().is_met_by(&c.roles, &c.skills))
                    .map(|(index, _)| index)
                    .collect();
                eligible.sort_by_key(rank);
                eligible
            })
            .collect();
        let eligible_resources = query
            .service
            .resource_requirements()
            .iter()
            .map(|requirement| {
                calendar
                    .resources
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| requirement.is_met_by(r.kind, &r.tags))
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect();
        let required_staff = match query.staff_preference {
            StaffPreference::Required(_) => named,
            _ => Vec::new(),
        };
        Ok(Prepared {
            service: &query.service,
            calendar,
            eligible_staff,
            eligible_resources,
            required_staff,
        })
    }

    fn evaluate(&self, start: DateTime<Utc>) -> Result<Slot, SlotRefusal> {
        let service = self.service;
        let visit = service.visit_at(start);
        if self.calendar.client_busy.overlaps(&visit) {
            return Err(SlotRefusal::ClientBusy);
        }

        // Staff: one unit per place; options are the eligible people free for that part.
        let mut staff_units: Vec<(usize, TimeInterval)> = Vec::new();
        let mut staff_options: Vec<Vec<usize>> = Vec::new();
        for (index, requirement) in service.staff_requirements().iter().enumerate() {
            let occupied = service.staff_time_at(requirement, start);
            let free: Vec<usize> = self.eligible_staff[index]
                .iter()
                .copied()
                .filter(|&c| self.calendar.staff[c].free.contains(&occupied))
                .collect();
            if free.len() < usize::from(requirement.count()) {
                return Err(SlotRefusal::NoQualifiedStaffFree {
                    requirement_index: index,
                });
            }
            for _ in 0..requirement.count() {
                staff_units.push((index, occupied));
                staff_options.push(free.clone());
            }
        }
        let staff_matching = Matching::solve(
            &staff_options,
            self.calendar.staff.len(),
            &self.required_staff,
        )
        .map_err(|failure| match failure {
            MatchFailure::Required(candidate) => {
                SlotRefusal::RequiredStaffUnavailable(self.calendar.staff[candidate].staff_id)
            }
            MatchFailure::Units => SlotRefusal::NotEnoughDistinctStaff,
        })?;

        // Resources: every resource is needed for the whole visit and its buffers.
        let resource_time = service.resource_time_at(start);
        let mut resource_units = Vec::new();
        let mut resource_options: Vec<Vec<usize>> = Vec::new();
        for (index, requirement) in service.resource_requirements().iter().enumerate() {
            let free: Vec<usize> = self.eligible_resources[index]
                .iter()
                .copied()
                .filter(|&r| self.calendar.resources[r].free.contains(&resource_time))
                .collect();
            if free.len() < usize::from(requirement.count) {
                return Err(SlotRefusal::NoResourceFree {
                    requirement_index: index,
                });
            }
            for _ in 0..requirement.count {
                resource_units.push(index);
                resource_options.push(free.clone());
            }
        }
        let resource_matching =
            Matching::solve(&resource_options, self.calendar.resources.len(), &[]).map_err(
                |_| SlotRefusal::NoResourceFree {
                    requirement_index: resource_units.first().copied().unwrap_or(0),
                },
            )?;

        let tz = self.calendar.time_zone.tz();
        Ok(Slot {
            visit,
            local_start: visit.start().with_timezone(&tz).fixed_offset(),
            local_end: visit.end().with_timezone(&tz).fixed_offset(),
            staff: staff_units
                .iter()
                .zip(staff_matching)
                .map(
                    |(&(requirement_index, occupied), candidate)| StaffAssignment {
                        requirement_index,
                        staff_id: self.calendar.staff[candidate].staff_id,
                        occupied,
                    },
                )
                .collect(),
            resources: resource_units
                .iter()
                .zip(resource_matching)
                .map(|(&requirement_index, candidate)| ResourceAssignment {
                    requirement_index,
                    resource_id: self.calendar.resources[candidate].resource_id,
                    occupied: resource_time,
                })
                .collect(),
        })
    }
}

enum MatchFailure {
    /// This required candidate could not be given a place.
    Required(usize),
    /// Not every place could be filled by a distinct candidate.
    Units,
}

/// Bipartite matching of places ("units") to distinct candidates by augmenting paths (Kuhn).
/// Places are a handful and candidates a few dozen, so this is microseconds per start.
struct Matching<'o> {
    options: &'o [Vec<usize>],
    /// Per candidate, the units that may take them (the reverse of `options`).
    units_of: Vec<Vec<usize>>,
    unit_of_candidate: Vec<Option<usize>>,
    candidate_of_unit: Vec<Option<usize>>,
}

impl<'o> Matching<'o> {
    /// A candidate for every unit, every `required` candidate used. Required candidates are
    /// matched first; augmenting paths never unmatch a matched candidate, so they stay in.
    fn solve(
        options: &'o [Vec<usize>],
        candidate_count: usize,
        required: &[usize],
    ) -> Result<Vec<usize>, MatchFailure> {
        let mut units_of = vec![Vec::new(); candidate_count];
        for (unit, candidates) in options.iter().enumerate() {
            for &candidate in candidates {
                units_of[candidate].push(unit);
            }
        }
        let mut matching = Matching {
            options,
            units_of,
            unit_of_candidate: vec![None; candidate_count],
            candidate_of_unit: vec![None; options.len()],
        };
        for &candidate in required {
            if matching.unit_of_candidate[candidate].is_some() {
                continue;
            }
            let mut seen_units = vec![false; options.len()];
            if !matching.augment_from_candidate(candidate, &mut seen_units) {
                return Err(MatchFailure::Required(candidate));
            }
        }
        for unit in 0..options.len() {
            if matching.candidate_of_unit[unit].is_some() {
                continue;
            }
            let mut seen_candidates = vec![false; candidate_count];
            if !matching.augment_from_unit(unit, &mut seen_candidates) {
                return Err(MatchFailure::Units);
            }
        }
        matching
            .candidate_of_unit
            .into_iter()
            .map(|candidate| candidate.ok_or(MatchFailure::Units))
            .collect()
    }

    fn augment_from_unit(&mut self, unit: usize, seen: &mut [bool]) -> bool {
        for &candidate in &self.options[unit] {
            if std::mem::replace(&mut seen[candidate], true) {
                continue;
            }
            let free_or_moved = match self.unit_of_candidate[candidate] {
                None => true,
                Some(other) => self.augment_from_unit(other, seen),
            };
            if free_or_moved {
                self.unit_of_candidate[candidate] = Some(unit);
                self.candidate_of_unit[unit] = Some(candidate);
                return true;
            }
        }
        false
    }

    fn augment_from_candidate(&mut self, candidate: usize, seen: &mut [bool]) -> bool {
        for index in 0..self.units_of[candidate].len() {
            let unit = self.units_of[candidate][index];
            if std::mem::replace(&mut seen[unit], true) {
                continue;
            }
            let free_or_moved = match self.candidate_of_unit[unit] {
                None => true,
                Some(other) => self.augment_from_candidate(other, seen),
            };
            if free_or_moved {
                self.candidate_of_unit[unit] = Some(candidate);
                self.unit_of_candidate[candidate] = Some(unit);
                return true;
            }
        }
        false
    }
}
