//! The waitlist: clients waiting for a slot of a service within a date range. When a slot frees,
//! the first matching waiting client (first come, first served) is offered it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use tend_core::{ClientId, SiteTimeZone};

use crate::availability::LocalDateRange;
use crate::ids::{ServiceId, WaitlistEntryId};
use crate::search::{Slot, StaffPreference};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitlistStatus {
    Waiting,
    /// Offered a slot; back to waiting if the offer lapses.
    Offered,
    Booked,
    Withdrawn,
}

/// One client waiting for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub id: WaitlistEntryId,
    pub client_id: ClientId,
    pub service_id: ServiceId,
    /// Local dates the client can come on.
    pub dates: LocalDateRange,
    #[serde(default)]
    pub staff_preference: StaffPreference,
    pub joined_at: DateTime<Utc>,
    pub status: WaitlistStatus,
}

impl WaitlistEntry {
    /// Whether this entry would take `slot` of `service_id`: still waiting, same service, a
    /// start on one of its dates and, if it requires people, all of them in the slot. A mere
    /// preference does not exclude a slot.
    pub fn accepts(&self, service_id: ServiceId, slot: &Slot, time_zone: &SiteTimeZone) -> bool {
        let local_date = slot.start().with_timezone(&time_zone.tz()).date_naive();
        let people_ok = match &self.staff_preference {
            StaffPreference::Required(required) => required
                .iter()
                .all(|person| slot.staff_ids().any(|assigned| assigned == *person)),
            StaffPreference::Anyone | StaffPreference::Prefer(_) => true,
        };
        self.status == WaitlistStatus::Waiting
            && self.service_id == service_id
            && self.dates.contains(local_date)
            && people_ok
    }
}

/// The entry to offer a freed `slot` to: the earliest joined (ties by id) that accepts it,
/// leaving out `excluded_client` (the client who just gave the slot up).
pub fn first_match<'e>(
    entries: &'e [WaitlistEntry],
    service_id: ServiceId,
    slot: &Slot,
    time_zone: &SiteTimeZone,
    excluded_client: Option<ClientId>,
) -> Option<&'e WaitlistEntry> {
    entries
        .iter()
        .filter(|entry| Some(entry.client_id) != excluded_client)
        .filter(|entry| entry.accepts(service_id, slot, time_zone))
        .min_by_key(|entry| (entry.joined_at, entry.id))
}

/// A slot held for a waiting client until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistOffer {
    pub entry_id: WaitlistEntryId,
    pub client_id: ClientId,
    pub slot: Slot,
    pub offered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Offers `slot` to `entry` at `now` for `hold`, but never past the slot's start.
pub fn make_offer(
    entry: &WaitlistEntry,
    slot: &Slot,
    now: DateTime<Utc>,
    hold: Duration,
) -> WaitlistOffer {
    WaitlistOffer {
        entry_id: entry.id,
        client_id: entry.client_id,
        slot: slot.clone(),
        offered_at: now,
        expires_at: (now + hold).min(slot.start()),
    }
}
