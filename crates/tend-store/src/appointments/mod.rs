//! Appointment use cases: bookable staff and resources with their hours, the service catalogue,
//! slot search, bookings (idempotent, never double-booked), series, reminders, the waitlist,
//! no-show counts and iCalendar exports.
//!
//! The rules live in `tend-appointments`; this module loads what they need, asks them, and writes
//! the outcome with its audit event in one transaction. No double booking is enforced by the
//! database: every booking holds one `booking_occupancy` row per occupant and 5-minute quantum
//! under a primary key, inserted in the booking's transaction (see ADR 0005).

mod bookings;
mod calendar;
mod catalogue;
mod waitlist;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use tend_appointments::{
    AvailabilityError, BookingError, CatalogueError, IntervalError, SearchError, SlotRefusal,
};
use tend_core::{Actor, Role, SiteId};

use crate::error::StoreError;

pub use bookings::{
    parse_booking_action, BookingOutcome, BookingQuery, BookingRecord, BookingRequest,
    NoShowSummary, ReminderRecord, SeriesOutcome, SeriesRequest, SlotList, SlotSearch,
};
pub use catalogue::{
    BlockedTime, ResourceInput, ResourceRecord, ServiceInput, StaffInput, StaffMember, TimeOffInput,
};
pub use waitlist::{WaitlistInput, WaitlistOfferRecord, WaitlistRecord};

/// How long a waitlist offer holds before it lapses (never past the slot's start).
pub const WAITLIST_OFFER_HOURS: i64 = 2;

/// Why an appointment use case refused. `code()` is stable; domain refusals keep the domain's
/// code (`appointments.slot.misaligned_start`, …).
#[derive(Debug, thiserror::Error)]
pub enum AppointmentError {
    #[error("no such service")]
    ServiceNotFound,
    #[error("no such staff member")]
    StaffNotFound,
    #[error("no such resource")]
    ResourceNotFound,
    #[error("no such booking")]
    BookingNotFound,
    #[error("no such waitlist entry")]
    WaitlistEntryNotFound,
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Availability(#[from] AvailabilityError),
    #[error(transparent)]
    Interval(#[from] IntervalError),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Refused(SlotRefusal),
    #[error("that time is no longer free ({reason}); search again")]
    SlotTaken { reason: String },
    #[error(transparent)]
    Booking(#[from] BookingError),
    #[error("{} of the series' occurrences cannot be booked; nothing was booked", .0.len())]
    SeriesConflict(Vec<SeriesConflict>),
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("an Idempotency-Key must be 1 to 200 visible ASCII characters")]
    InvalidIdempotencyKey,
    #[error("a request with this Idempotency-Key is still being processed; retry")]
    IdempotencyKeyInFlight,
    #[error("the waitlist entry has no open offer (none was made, or it lapsed)")]
    NoOpenOffer,
}

/// One occurrence of a series that cannot be booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeriesConflict {
    pub index: u16,
    pub start: DateTime<Utc>,
    pub code: String,
    pub message: String,
}

impl AppointmentError {
    pub fn code(&self) -> &'static str {
        match self {
            AppointmentError::ServiceNotFound => "service.not_found",
            AppointmentError::StaffNotFound => "staff.not_found",
            AppointmentError::ResourceNotFound => "resource.not_found",
            AppointmentError::BookingNotFound => "booking.not_found",
            AppointmentError::WaitlistEntryNotFound => "waitlist.not_found",
            AppointmentError::Catalogue(error) => error.code(),
            AppointmentError::Availability(error) => error.code(),
            AppointmentError::Interval(error) => error.code(),
            AppointmentError::Search(error) => error.code(),
            AppointmentError::Refused(refusal) => refusal.code(),
            AppointmentError::SlotTaken { .. } => "booking.slot_taken",
            AppointmentError::Booking(error) => error.code(),
            AppointmentError::SeriesConflict(_) => "booking.series_conflict",
            AppointmentError::IdempotencyKeyReused => "booking.idempotency_key_reused",
            AppointmentError::InvalidIdempotencyKey => "booking.invalid_idempotency_key",
            AppointmentError::IdempotencyKeyInFlight => "booking.idempotency_key_in_flight",
            AppointmentError::NoOpenOffer => "waitlist.no_open_offer",
        }
    }

    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind::*;
        match self {
            AppointmentError::ServiceNotFound
            | AppointmentError::StaffNotFound
            | AppointmentError::ResourceNotFound
            | AppointmentError::BookingNotFound
            | AppointmentError::WaitlistEntryNotFound
            | AppointmentError::Search(SearchError::UnknownStaff(_))
            | AppointmentError::Refused(SlotRefusal::UnknownStaff(_)) => NotFound,
            AppointmentError::SlotTaken { .. }
            | AppointmentError::SeriesConflict(_)
            | AppointmentError::IdempotencyKeyInFlight
            | AppointmentError::NoOpenOffer => Conflict,
            AppointmentError::Booking(BookingError::InvalidRecurrence { .. }) => Invalid,
            AppointmentError::Booking(_) => Conflict,
            AppointmentError::Catalogue(_)
            | AppointmentError::Availability(_)
            | AppointmentError::Interval(_)
            | AppointmentError::Search(_)
            | AppointmentError::Refused(_)
            | AppointmentError::IdempotencyKeyReused
            | AppointmentError::InvalidIdempotencyKey => Invalid,
        }
    }

    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            AppointmentError::SlotTaken { reason } => Some(serde_json::json!({ "reason": reason })),
            AppointmentError::SeriesConflict(conflicts) => {
                Some(serde_json::json!({ "occurrences": conflicts }))
            }
            AppointmentError::Booking(BookingError::IllegalTransition { from, action }) => {
                Some(serde_json::json!({ "from": from, "action": action }))
            }
            _ => None,
        }
    }
}

macro_rules! into_store_error {
    ($($domain:ty),*) => {
        $(impl From<$domain> for StoreError {
            fn from(error: $domain) -> StoreError {
                StoreError::Appointments(AppointmentError::from(error))
            }
        })*
    };
}
into_store_error!(
    CatalogueError,
    AvailabilityError,
    IntervalError,
    SearchError,
    BookingError
);

impl From<SlotRefusal> for StoreError {
    fn from(refusal: SlotRefusal) -> StoreError {
        StoreError::Appointments(AppointmentError::Refused(refusal))
    }
}

/// Wall-clock hours on one weekday, e.g. `{"weekday": "mon", "start": "09:00", "end": "17:00"}`.
/// An end not after the start runs past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeekdayHours {
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// When a staff member (or a resource) works, in the site's local time: weekly hours, recurring
/// breaks, changes to single dates, and emergency windows only urgent bookings may use
/// (released to everyone `emergency_release_minutes` before they start).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkingHours {
    #[serde(default)]
    pub weekly: Vec<WeekdayHours>,
    #[serde(default)]
    pub breaks: Vec<WeekdayHours>,
    /// `{"kind": "closed", "date": "2026-12-25"}` or
    /// `{"kind": "hours", "date": …, "ranges": [{"start": "10:00", "end": "14:00"}]}`.
    #[serde(default)]
    pub day_exceptions: Vec<tend_appointments::DayException>,
    #[serde(default)]
    pub emergency_windows: Vec<WeekdayHours>,
    #[serde(default)]
    pub emergency_release_minutes: Option<u32>,
}

fn weekly_hours(
    ranges: &[WeekdayHours],
) -> Result<tend_appointments::WeeklyHours, AvailabilityError> {
    let mut hours = tend_appointments::WeeklyHours::new();
    for range in ranges {
        hours.add(
            range.weekday,
            tend_appointments::LocalTimeRange::new(range.start, range.end)?,
        );
    }
    Ok(hours)
}

impl WorkingHours {
    /// The domain's availability, with `blocked` one-off time.
    pub fn to_availability(
        &self,
        blocked: Vec<tend_appointments::TimeInterval>,
    ) -> Result<tend_appointments::Availability, AvailabilityError> {
        let mut availability = tend_appointments::Availability::new(
            tend_appointments::WorkingTime::Weekly(weekly_hours(&self.weekly)?),
        );
        availability.breaks = weekly_hours(&self.breaks)?;
        availability.day_exceptions = self.day_exceptions.clone();
        availability.blocked = blocked;
        if !self.emergency_windows.is_empty() {
            availability.emergency_reserve = Some(tend_appointments::EmergencyReserve {
                windows: weekly_hours(&self.emergency_windows)?,
                release_before: self
                    .emergency_release_minutes
                    .map(|minutes| chrono::Duration::minutes(i64::from(minutes))),
            });
        }
        Ok(availability)
    }

    /// The domain's availability where some local dates follow a published roster: on each date
    /// from `first` to `last` that is a key of `rostered` the working time is exactly that date's
    /// shifts (none: not working, and an `hours` day exception does not apply, the roster decides);
    /// every other date keeps the weekly hours and its day exceptions. Ranges and shifts are
    /// taken by the date they start on. Breaks, `closed` day exceptions, `blocked` time and the
    /// emergency reserve still apply on top. No rostered dates: the same as [`Self::to_availability`].
    pub(crate) fn to_availability_with_roster(
        &self,
        blocked: Vec<tend_appointments::TimeInterval>,
        time_zone: &tend_core::SiteTimeZone,
        first: NaiveDate,
        last: NaiveDate,
        rostered: &BTreeMap<NaiveDate, Vec<tend_appointments::TimeInterval>>,
    ) -> Result<tend_appointments::Availability, AvailabilityError> {
        let mut availability = self.to_availability(blocked)?;
        if rostered.is_empty() {
            return Ok(availability);
        }
        let tz = time_zone.tz();
        let weekly = weekly_hours(&self.weekly)?;
        let mut working = tend_appointments::IntervalSet::empty();
        for date in first.iter_days().take_while(|date| *date <= last) {
            if let Some(shifts) = rostered.get(&date) {
                for shift in shifts {
                    working.insert(*shift);
                }
                continue;
            }
            let exception = self
                .day_exceptions
                .iter()
                .rev()
                .find(|exception| exception.date() == date);
            let ranges: Vec<tend_appointments::LocalTimeRange> = match exception {
                Some(tend_appointments::DayException::Hours { ranges, .. }) => ranges.clone(),
                Some(tend_appointments::DayException::Closed { .. }) => Vec::new(),
                None => weekly.ranges_on(date.weekday()).to_vec(),
            };
            for range in ranges {
                if let Some(interval) = range.on(tz, date) {
                    working.insert(interval);
                }
            }
        }
        availability.working_time = tend_appointments::WorkingTime::Rostered(working);
        Ok(availability)
    }
}

/// The site a new record goes to: the one named, else the actor's own; another site is
/// "not found".
fn target_site(actor: &Actor, site_id: Option<SiteId>) -> Result<SiteId, StoreError> {
    let site_id = match (site_id, actor.home_site()) {
        (Some(site_id), _) | (None, Some(site_id)) => site_id,
        (None, None) => {
            return Err(StoreError::invalid(
                "site_id",
                "value.required",
                "chain-wide users name the site",
            ))
        }
    };
    if !actor.can_access_site(site_id) {
        return Err(StoreError::SiteNotFound);
    }
    Ok(site_id)
}

/// Catalogue, staff and resource changes: administrators and store managers.
fn require_manager(actor: &Actor) -> Result<(), StoreError> {
    if actor.role.manages_site() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "a {} may not change the catalogue, staff or resources",
            actor.role
        )))
    }
}

/// Booking changes: everyone at the front desk or in care; not the kitchen or finance.
fn require_booker(actor: &Actor) -> Result<(), StoreError> {
    if matches!(actor.role, Role::Chef | Role::Finance) {
        Err(StoreError::Forbidden(format!(
            "a {} may not book or change appointments",
            actor.role
        )))
    } else {
        Ok(())
    }
}

/// A stored JSON document; one that no longer parses is a corrupt row.
fn from_json<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::corrupt(format!("{column}: {error}")))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::corrupt(format!("json: {error}")))
}

fn parse_local_dates(
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> Result<tend_appointments::LocalDateRange, StoreError> {
    Ok(tend_appointments::LocalDateRange::new(
        from,
        to.unwrap_or(from),
    )?)
}
