//! Service catalogue, availability, slot search, bookings, waitlists and reminders.
//!
//! A pure domain crate: no IO, no database, no clock. Time is an input (`now`), every instant is
//! UTC, and local wall-clock times are computed from the site's [`tend_core::SiteTimeZone`].
//! The store builds on it: it loads the catalogue, availability and bookings, asks this crate
//! for slots, and enforces no double booking with the time quanta from
//! [`booking::occupied_quanta`] under a `UNIQUE(owner, quantum)` constraint.

pub mod availability;
pub mod booking;
pub mod catalogue;
pub mod ical;
pub mod ids;
pub mod interval;
pub mod reminders;
pub mod search;
pub mod waitlist;

pub use availability::{
    local_day, resolve_local, Access, Availability, AvailabilityError, DayException,
    EmergencyReserve, HeldTime, HoldPurpose, LocalDateRange, LocalTimeRange, Urgency, WeeklyHours,
    WorkingTime,
};
pub use booking::{
    apply_action, busy_time, check_series, no_show_counts, occupancy, occupied_quanta, quanta_of,
    quantum_start, Booking, BookingAction, BookingError, BookingStatus, CancellationPolicy,
    Occupancy, Occupant, OccupiedQuantum, Recurrence, SeriesOccurrence, UnknownBookingStatus,
    MAX_SERIES_OCCURRENCES,
};
pub use catalogue::{
    quantum, CatalogueError, Price, Qualification, Resource, ResourceKind, ResourceRequirement,
    ResourceTag, Service, ServiceDraft, SkillKey, StaffRequirement, StaffRequirementDraft,
    VisitPartDraft, WorkKind, QUANTUM_MINUTES,
};
pub use ical::{
    escape_text, render_calendar, resource_day_calendar, staff_day_calendar, IcalEvent,
};
pub use ids::{BookingId, ResourceId, SeriesId, ServiceId, WaitlistEntryId};
pub use interval::{IntervalError, IntervalSet, TimeInterval};
pub use reminders::{
    reminder_changes, reminder_schedule, ReminderChanges, ReminderError, ReminderPolicy,
    ScheduledReminder,
};
pub use search::{
    check_start, find_slots, grid_starts, Calendar, ResourceAssignment, ResourceCandidate,
    SearchError, Slot, SlotQuery, SlotRefusal, StaffAssignment, StaffCandidate, StaffPreference,
};
pub use waitlist::{first_match, make_offer, WaitlistEntry, WaitlistOffer, WaitlistStatus};
