//! Service catalogue, availability, slot search, bookings, waitlists and reminders.
//!
//! A pure domain crate: no IO, no database, no clock. Time is an input (`now`), every instant is
//! UTC, and local wall-clock times are computed from the site's [`tend_core::SiteTimeZone`].
//! The store builds on it: it loads the catalogue, availability and bookings, asks this crate
//! for slots, and enforces no double booking with the time quanta from
//! [`booking::occupied_quanta`] under a `UNIQUE(owner, quantum)` constraint.

pub mod availability;
pub mod catalogue;
pub mod ids;
pub mod interval;
pub mod search;

pub use availability::{
    local_day, resolve_local, Access, Availability, AvailabilityError, DayException,
    EmergencyReserve, HeldTime, HoldPurpose, LocalDateRange, LocalTimeRange, Urgency, WeeklyHours,
    WorkingTime,
};
pub use catalogue::{
    quantum, CatalogueError, Price, Qualification, Resource, ResourceKind, ResourceRequirement,
    ResourceTag, Service, ServiceDraft, SkillKey, StaffRequirement, StaffRequirementDraft,
    VisitPartDraft, WorkKind, QUANTUM_MINUTES,
};
pub use ids::{BookingId, ResourceId, SeriesId, ServiceId, WaitlistEntryId};
pub use interval::{IntervalError, IntervalSet, TimeInterval};
pub use search::{
    check_start, find_slots, grid_starts, Calendar, ResourceAssignment, ResourceCandidate,
    SearchError, Slot, SlotQuery, SlotRefusal, StaffAssignment, StaffCandidate, StaffPreference,
};
