//! Bookings: their status machine, the time they occupy, the quanta the store's no-overlap
//! constraint is built on, and recurring series.
//!
//! # No double booking
//!
//! A booking occupies time for each assigned staff member (their part of the visit plus
//! buffers), each resource (the visit plus buffers) and the client (the visit only).
//! [`occupied_quanta`] maps that onto 5-minute UTC quanta numbered from the Unix epoch
//! (`quantum = floor(unix_seconds / 300)`); one row per (occupant, quantum) under
//! `UNIQUE(occupant_kind, occupant_id, quantum)` makes overlapping bookings impossible on SQLite
//! and PostgreSQL alike, even under concurrent requests. Catalogue lengths and booking starts
//! are whole quanta, so the mapping is exact; an unaligned interval is rounded outwards, which
//! can only refuse, never admit, an overlap.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use tend_core::{ClientId, SiteId, SiteTimeZone, StaffId};

use crate::availability::{resolve_local, Urgency};
use crate::catalogue::{Service, QUANTUM_MINUTES};
use crate::ids::{BookingId, ResourceId, SeriesId, ServiceId};
use crate::interval::{IntervalSet, TimeInterval};
use crate::search::{
    check_start, Calendar, ResourceAssignment, Slot, SlotQuery, SlotRefusal, StaffAssignment,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Requested,
    Confirmed,
    Arrived,
    InService,
    Completed,
    Cancelled,
    /// Cancelled within the late-cancellation window before the start.
    LateCancelled,
    NoShow,
}

/// What someone does to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingAction {
    Confirm,
    Arrive,
    StartService,
    Complete,
    /// Becomes `cancelled` or `late_cancelled` by the [`CancellationPolicy`].
    Cancel,
    MarkNoShow,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown booking status `{0}`")]
pub struct UnknownBookingStatus(pub String);

/// Why a change to a booking is refused. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    #[error("a {from} booking cannot {action:?}")]
    IllegalTransition {
        from: BookingStatus,
        action: BookingAction,
    },
    #[error("a booking can only be marked no-show once it has started (starts {start})")]
    NoShowBeforeStart { start: DateTime<Utc> },
    #[error("a {status} booking cannot be rescheduled")]
    NotReschedulable { status: BookingStatus },
    #[error("the new slot is for another service")]
    ServiceMismatch,
    #[error("a series needs 1 to {max} occurrences every 1 to 4 weeks (got {occurrences} every {interval_weeks})", max = MAX_SERIES_OCCURRENCES)]
    InvalidRecurrence {
        occurrences: u16,
        interval_weeks: u8,
    },
}

impl BookingError {
    pub fn code(&self) -> &'static str {
        match self {
            BookingError::IllegalTransition { .. } => "appointments.booking.illegal_transition",
            BookingError::NoShowBeforeStart { .. } => "appointments.booking.no_show_before_start",
            BookingError::NotReschedulable { .. } => "appointments.booking.not_reschedulable",
            BookingError::ServiceMismatch => "appointments.booking.service_mismatch",
            BookingError::InvalidRecurrence { .. } => "appointments.booking.invalid_recurrence",
        }
    }
}

impl BookingStatus {
    pub const ALL: [BookingStatus; 8] = [
        BookingStatus::Requested,
        BookingStatus::Confirmed,
        BookingStatus::Arrived,
        BookingStatus::InService,
        BookingStatus::Completed,
        BookingStatus::Cancelled,
        BookingStatus::LateCancelled,
        BookingStatus::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Requested => "requested",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Arrived => "arrived",
            BookingStatus::InService => "in_service",
            BookingStatus::Completed => "completed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::LateCancelled => "late_cancelled",
            BookingStatus::NoShow => "no_show",
        }
    }

    pub fn parse(text: &str) -> Result<BookingStatus, UnknownBookingStatus> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        BookingStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == wanted)
            .ok_or_else(|| UnknownBookingStatus(text.to_owned()))
    }

    /// The statuses reachable in one step.
    pub fn next(self) -> &'static [BookingStatus] {
        use BookingStatus::*;
        match self {
            Requested => &[Confirmed, Cancelled, LateCancelled, NoShow],
            Confirmed => &[Arrived, Cancelled, LateCancelled, NoShow],
            Arrived => &[InService],
            InService => &[Completed],
            Completed | Cancelled | LateCancelled | NoShow => &[],
        }
    }

    pub fn is_terminal(self) -> bool {
        self.next().is_empty()
    }

    /// Whether the booking keeps its staff, resources and client busy. Cancelled and no-show
    /// bookings give their time back (the rest of a no-show's slot can take a walk-in).
    pub fn holds_time(self) -> bool {
        !matches!(
            self,
            BookingStatus::Cancelled | BookingStatus::LateCancelled | BookingStatus::NoShow
        )
    }

    /// Whether the visit is still ahead: it may be moved, reminded of and cancelled.
    pub fn is_upcoming(self) -> bool {
        matches!(self, BookingStatus::Requested | BookingStatus::Confirmed)
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BookingStatus {
    type Err = UnknownBookingStatus;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        BookingStatus::parse(text)
    }
}

/// When a cancellation counts as late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationPolicy {
    /// Cancelling less than this many hours before the start is a late cancellation.
    pub late_within_hours: u32,
}

impl Default for CancellationPolicy {
    fn default() -> Self {
        CancellationPolicy {
            late_within_hours: 24,
        }
    }
}

/// The status `action` takes a booking starting at `start` to, at `now`.
pub fn apply_action(
    from: BookingStatus,
    action: BookingAction,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &CancellationPolicy,
) -> Result<BookingStatus, BookingError> {
    let to = match action {
        BookingAction::Confirm => BookingStatus::Confirmed,
        BookingAction::Arrive => BookingStatus::Arrived,
        BookingAction::StartService => BookingStatus::InService,
        BookingAction::Complete => BookingStatus::Completed,
        BookingAction::Cancel => {
            if now >= start - Duration::hours(i64::from(policy.late_within_hours)) {
                BookingStatus::LateCancelled
            } else {
                BookingStatus::Cancelled
            }
        }
        BookingAction::MarkNoShow => BookingStatus::NoShow,
    };
    if !from.next().contains(&to) {
        return Err(BookingError::IllegalTransition { from, action });
    }
    if to == BookingStatus::NoShow && now < start {
        return Err(BookingError::NoShowBeforeStart { start });
    }
    Ok(to)
}

/// One booked visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub site_id: SiteId,
    pub service_id: ServiceId,
    pub client_id: ClientId,
    pub status: BookingStatus,
    /// The visit, without buffers.
    pub visit: TimeInterval,
    pub staff: Vec<StaffAssignment>,
    pub resources: Vec<ResourceAssignment>,
    pub urgency: Urgency,
    #[serde(default)]
    pub series_id: Option<SeriesId>,
}

impl Booking {
    /// A new `requested` booking of `slot`, found by [`crate::find_slots`] or
    /// [`crate::check_start`] for `service`.
    pub fn from_slot(
        id: BookingId,
        service: &Service,
        client_id: ClientId,
        slot: &Slot,
        urgency: Urgency,
        series_id: Option<SeriesId>,
    ) -> Booking {
        Booking {
            id,
            site_id: service.site_id(),
            service_id: service.id(),
            client_id,
            status: BookingStatus::Requested,
            visit: slot.visit,
            staff: slot.staff.clone(),
            resources: slot.resources.clone(),
            urgency,
            series_id,
        }
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.visit.start()
    }

    /// Applies `action` at `now`.
    pub fn apply(
        &mut self,
        action: BookingAction,
        now: DateTime<Utc>,
        policy: &CancellationPolicy,
    ) -> Result<BookingStatus, BookingError> {
        self.status = apply_action(self.status, action, self.start(), now, policy)?;
        Ok(self.status)
    }

    /// Moves an upcoming booking to `slot`, which the caller found with a calendar that leaves
    /// this booking's own occupancy out (so it may overlap the old time). The status is kept.
    pub fn reschedule(&mut self, service: &Service, slot: &Slot) -> Result<(), BookingError> {
        if !self.status.is_upcoming() {
            return Err(BookingError::NotReschedulable {
                status: self.status,
            });
        }
        if service.id() != self.service_id {
            return Err(BookingError::ServiceMismatch);
        }
        self.visit = slot.visit;
        self.staff = slot.staff.clone();
        self.resources = slot.resources.clone();
        Ok(())
    }
}

/// Who or what a booking keeps busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Occupant {
    Staff(StaffId),
    Resource(ResourceId),
    Client(ClientId),
}

impl Occupant {
    /// A stable text for the store's occupant-kind column.
    pub fn kind(&self) -> &'static str {
        match self {
            Occupant::Staff(_) => "staff",
            Occupant::Resource(_) => "resource",
            Occupant::Client(_) => "client",
        }
    }

    pub fn uuid(&self) -> uuid::Uuid {
        match self {
            Occupant::Staff(id) => id.as_uuid(),
            Occupant::Resource(id) => id.as_uuid(),
            Occupant::Client(id) => id.as_uuid(),
        }
    }
}

/// Time one occupant is kept busy by a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Occupancy {
    pub occupant: Occupant,
    pub interval: TimeInterval,
}

/// One row of the store's no-overlap table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OccupiedQuantum {
    pub occupant: Occupant,
    /// `floor(unix_seconds / 300)` of the quantum's start.
    pub quantum: i64,
}

/// What the booking keeps busy; nothing once cancelled or a no-show.
pub fn occupancy(booking: &Booking) -> Vec<Occupancy> {
    if !booking.status.holds_time() {
        return Vec::new();
    }
    let mut all: Vec<Occupancy> = booking
        .staff
        .iter()
        .map(|a| Occupancy {
            occupant: Occupant::Staff(a.staff_id),
            interval: a.occupied,
        })
        .chain(booking.resources.iter().map(|a| Occupancy {
            occupant: Occupant::Resource(a.resource_id),
            interval: a.occupied,
        }))
        .collect();
    all.push(Occupancy {
        occupant: Occupant::Client(booking.client_id),
        interval: booking.visit,
    });
    all
}

/// The quanta touched by `interval`, rounded outwards.
pub fn quanta_of(interval: &TimeInterval) -> Range<i64> {
    let seconds = QUANTUM_MINUTES * 60;
    let start = interval.start().timestamp().div_euclid(seconds);
    let end_ts = interval.end().timestamp();
    let partial = end_ts.rem_euclid(seconds) != 0 || interval.end().timestamp_subsec_nanos() != 0;
    let end = end_ts.div_euclid(seconds) + i64::from(partial);
    start..end
}

/// When quantum number `quantum` starts.
pub fn quantum_start(quantum: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(quantum.saturating_mul(QUANTUM_MINUTES * 60), 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The rows the store inserts for `booking` under `UNIQUE(occupant, quantum)`; each once.
pub fn occupied_quanta(booking: &Booking) -> Vec<OccupiedQuantum> {
    let rows: BTreeSet<OccupiedQuantum> = occupancy(booking)
        .into_iter()
        .flat_map(|occupancy| {
            quanta_of(&occupancy.interval).map(move |quantum| OccupiedQuantum {
                occupant: occupancy.occupant,
                quantum,
            })
        })
        .collect();
    rows.into_iter().collect()
}

/// Busy time per occupant over many bookings, ready to subtract from availability.
pub fn busy_time<'b>(
    bookings: impl IntoIterator<Item = &'b Booking>,
) -> std::collections::BTreeMap<Occupant, IntervalSet> {
    let mut busy: std::collections::BTreeMap<Occupant, Vec<TimeInterval>> = Default::default();
    for booking in bookings {
        for occupied in occupancy(booking) {
            busy.entry(occupied.occupant)
                .or_default()
                .push(occupied.interval);
        }
    }
    busy.into_iter()
        .map(|(occupant, intervals)| (occupant, IntervalSet::from_intervals(intervals)))
        .collect()
}

pub const MAX_SERIES_OCCURRENCES: u16 = 52;

/// A series at the same local wall-clock time every `interval_weeks` weeks (six weekly
/// treatments at 10:00). Occurrences keep their wall-clock time across daylight-saving changes;
/// an occurrence falling into a gap takes the time the clock jumps to (see
/// [`crate::availability`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawRecurrence")]
pub struct Recurrence {
    first_local_start: NaiveDateTime,
    interval_weeks: u8,
    occurrences: u16,
}

#[derive(Deserialize)]
struct RawRecurrence {
    first_local_start: NaiveDateTime,
    interval_weeks: u8,
    occurrences: u16,
}

impl TryFrom<RawRecurrence> for Recurrence {
    type Error = BookingError;
    fn try_from(raw: RawRecurrence) -> Result<Self, Self::Error> {
        Recurrence::weekly(raw.first_local_start, raw.interval_weeks, raw.occurrences)
    }
}

/// One occurrence of a series and whether it can be booked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesOccurrence {
    pub index: u16,
    pub local_start: NaiveDateTime,
    pub start: DateTime<Utc>,
    pub outcome: Result<Slot, SlotRefusal>,
}

impl Recurrence {
    pub fn weekly(
        first_local_start: NaiveDateTime,
        interval_weeks: u8,
        occurrences: u16,
    ) -> Result<Recurrence, BookingError> {
        if !(1..=4).contains(&interval_weeks)
            || !(1..=MAX_SERIES_OCCURRENCES).contains(&occurrences)
        {
            return Err(BookingError::InvalidRecurrence {
                occurrences,
                interval_weeks,
            });
        }
        Ok(Recurrence {
            first_local_start,
            interval_weeks,
            occurrences,
        })
    }

    pub fn local_starts(&self) -> Vec<NaiveDateTime> {
        (0..self.occurrences)
            .map(|index| {
                self.first_local_start
                    + Duration::weeks(i64::from(index) * i64::from(self.interval_weeks))
            })
            .collect()
    }

    pub fn starts(&self, time_zone: &SiteTimeZone) -> Vec<DateTime<Utc>> {
        self.local_starts()
            .into_iter()
            .map(|local| resolve_local(time_zone.tz(), local))
            .collect()
    }
}

/// Checks every occurrence of `recurrence` for `query.service` against `calendar` (which must
/// cover the whole series). Occurrences accepted earlier take their time out of the calendar, so
/// the series never collides with itself. The caller books all or asks what to do with refusals.
pub fn check_series(
    query: &SlotQuery,
    calendar: &Calendar,
    recurrence: &Recurrence,
) -> Vec<SeriesOccurrence> {
    let mut calendar = calendar.clone();
    let mut outcomes = Vec::new();
    for (index, (local_start, start)) in recurrence
        .local_starts()
        .into_iter()
        .zip(recurrence.starts(&calendar.time_zone))
        .enumerate()
    {
        let outcome = check_start(query, &calendar, start);
        if let Ok(slot) = &outcome {
            for assignment in &slot.staff {
                if let Some(person) = calendar
                    .staff
                    .iter_mut()
                    .find(|p| p.staff_id == assignment.staff_id)
                {
                    person.free = person.free.subtract_interval(&assignment.occupied);
                }
            }
            for assignment in &slot.resources {
                if let Some(resource) = calendar
                    .resources
                    .iter_mut()
                    .find(|r| r.resource_id == assignment.resource_id)
                {
                    resource.free = resource.free.subtract_interval(&assignment.occupied);
                }
            }
            calendar.client_busy.insert(slot.visit);
        }
        outcomes.push(SeriesOccurrence {
            index: u16::try_from(index).unwrap_or(u16::MAX),
            local_start,
            start,
            outcome,
        });
    }
    outcomes
}

/// How many times each client did not show up.
pub fn no_show_counts<'b>(
    bookings: impl IntoIterator<Item = &'b Booking>,
) -> std::collections::BTreeMap<ClientId, u32> {
    let mut counts = std::collections::BTreeMap::new();
    for booking in bookings {
        if booking.status == BookingStatus::NoShow {
            *counts.entry(booking.client_id).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::BookingStatus::*;
    use super::*;
    use proptest::prelude::*;

    fn at(hour: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 0, 0, 0).unwrap() + Duration::hours(hour)
    }

    #[test]
    fn the_happy_path_and_the_cancellation_policy() {
        let policy = CancellationPolicy::default();
        let start = at(48);
        let mut status = Requested;
        for action in [
            BookingAction::Confirm,
            BookingAction::Arrive,
            BookingAction::StartService,
            BookingAction::Complete,
        ] {
            status = apply_action(status, action, start, at(47), &policy).unwrap();
        }
        assert_eq!(status, Completed);
        assert_eq!(
            apply_action(Confirmed, BookingAction::Cancel, start, at(0), &policy),
            Ok(Cancelled)
        );
        assert_eq!(
            apply_action(Confirmed, BookingAction::Cancel, start, at(30), &policy),
            Ok(LateCancelled)
        );
        assert_eq!(
            apply_action(Confirmed, BookingAction::MarkNoShow, start, at(47), &policy)
                .map_err(|e| e.code()),
            Err("appointments.booking.no_show_before_start")
        );
        assert_eq!(
            apply_action(Confirmed, BookingAction::MarkNoShow, start, at(48), &policy),
            Ok(NoShow)
        );
        assert_eq!(
            apply_action(Completed, BookingAction::Cancel, start, at(0), &policy)
                .map_err(|e| e.code()),
            Err("appointments.booking.illegal_transition")
        );
    }

    #[test]
    fn statuses_round_trip_through_text() {
        for status in BookingStatus::ALL {
            assert_eq!(BookingStatus::parse(status.as_str()), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!(BookingStatus::parse("maybe").is_err());
    }

    #[test]
    fn quanta_cover_exactly_aligned_intervals_and_round_others_outwards() {
        let aligned = TimeInterval::new(at(10), at(10) + Duration::minutes(30)).unwrap();
        let range = quanta_of(&aligned);
        assert_eq!(range.end - range.start, 6);
        assert_eq!(quantum_start(range.start), at(10));
        let odd = TimeInterval::new(
            at(10) + Duration::minutes(2),
            at(10) + Duration::minutes(11),
        )
        .unwrap();
        assert_eq!(quanta_of(&odd), range.start..range.start + 3);
    }

    fn any_action() -> impl Strategy<Value = BookingAction> {
        proptest::sample::select(vec![
            BookingAction::Confirm,
            BookingAction::Arrive,
            BookingAction::StartService,
            BookingAction::Complete,
            BookingAction::Cancel,
            BookingAction::MarkNoShow,
        ])
    }

    proptest! {
        /// Arbitrary actions at arbitrary times: only legal steps happen, no status is revisited,
        /// terminal states are final, and a no-show never happens before the start.
        #[test]
        fn a_booking_never_reaches_an_illegal_state(
            steps in proptest::collection::vec((any_action(), 0i64..96), 0..30)
        ) {
            let policy = CancellationPolicy::default();
            let start = at(48);
            let mut status = Requested;
            let mut seen = BTreeSet::from([status]);
            for (action, hour) in steps {
                let before = status;
                match apply_action(status, action, start, at(hour), &policy) {
                    Ok(next) => {
                        prop_assert!(before.next().contains(&next));
                        prop_assert!(next != NoShow || at(hour) >= start);
                        prop_assert!(seen.insert(next), "revisited {}", next);
                        status = next;
                    }
                    Err(_) => prop_assert_eq!(status, before),
                }
            }
        }

        /// Two intervals overlap exactly when their quanta do (for quantum-aligned intervals).
        #[test]
        fn aligned_intervals_overlap_iff_their_quanta_do(
            a in 0i64..100, la in 1i64..20, b in 0i64..100, lb in 1i64..20
        ) {
            let q = Duration::minutes(QUANTUM_MINUTES);
            let base = at(0);
            let first = TimeInterval::new(base + q * a as i32, base + q * (a + la) as i32).unwrap();
            let second = TimeInterval::new(base + q * b as i32, base + q * (b + lb) as i32).unwrap();
            let (qa, qb) = (quanta_of(&first), quanta_of(&second));
            let share = qa.start < qb.end && qb.start < qa.end;
            prop_assert_eq!(first.overlaps(&second), share);
        }
    }
}
