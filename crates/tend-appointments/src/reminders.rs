//! Reminders: booking → the reminders to send, as outbox rows. Rescheduling or cancelling a
//! booking recomputes its schedule; [`reminder_changes`] says which rows to drop and add.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::Booking;
use crate::ids::BookingId;

/// How long before a visit reminders go out, e.g. 24 hours and 2 hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u32>", into = "Vec<u32>")]
pub struct ReminderPolicy {
    /// Minutes before the start, largest first, no duplicates, none zero.
    lead_minutes: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReminderError {
    #[error("a reminder must go out at least one minute before the visit")]
    ZeroLead,
}

impl ReminderError {
    pub fn code(&self) -> &'static str {
        match self {
            ReminderError::ZeroLead => "appointments.reminder.zero_lead",
        }
    }
}

impl TryFrom<Vec<u32>> for ReminderPolicy {
    type Error = ReminderError;
    fn try_from(leads: Vec<u32>) -> Result<Self, Self::Error> {
        ReminderPolicy::new(leads)
    }
}

impl From<ReminderPolicy> for Vec<u32> {
    fn from(policy: ReminderPolicy) -> Self {
        policy.lead_minutes
    }
}

impl Default for ReminderPolicy {
    fn default() -> Self {
        ReminderPolicy {
            lead_minutes: vec![24 * 60, 2 * 60],
        }
    }
}

impl ReminderPolicy {
    pub fn new(lead_minutes: Vec<u32>) -> Result<ReminderPolicy, ReminderError> {
        if lead_minutes.contains(&0) {
            return Err(ReminderError::ZeroLead);
        }
        let unique: BTreeSet<u32> = lead_minutes.into_iter().collect();
        Ok(ReminderPolicy {
            lead_minutes: unique.into_iter().rev().collect(),
        })
    }

    pub fn lead_minutes(&self) -> &[u32] {
        &self.lead_minutes
    }
}

/// One reminder to send: an outbox row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScheduledReminder {
    pub booking_id: BookingId,
    pub send_at: DateTime<Utc>,
    pub lead_minutes: u32,
}

impl ScheduledReminder {
    /// A stable key for the outbox row, unique per booking, lead and visit start, so a retried
    /// write does not send twice and a moved visit gets fresh rows.
    pub fn outbox_key(&self) -> String {
        format!(
            "reminder:{}:{}:{}",
            self.booking_id,
            self.lead_minutes,
            self.send_at.timestamp()
        )
    }
}

/// The reminders `booking` should have, seen at `now`: none unless the visit is upcoming, and
/// none whose sending time has passed.
pub fn reminder_schedule(
    booking: &Booking,
    policy: &ReminderPolicy,
    now: DateTime<Utc>,
) -> Vec<ScheduledReminder> {
    if !booking.status.is_upcoming() {
        return Vec::new();
    }
    policy
        .lead_minutes
        .iter()
        .map(|&lead| ScheduledReminder {
            booking_id: booking.id,
            send_at: booking.start() - Duration::minutes(i64::from(lead)),
            lead_minutes: lead,
        })
        .filter(|reminder| reminder.send_at > now)
        .collect()
}

/// Outbox rows to drop and to add when a booking's schedule goes from `before` to `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderChanges {
    pub cancel: Vec<ScheduledReminder>,
    pub create: Vec<ScheduledReminder>,
}

pub fn reminder_changes(
    before: &[ScheduledReminder],
    after: &[ScheduledReminder],
) -> ReminderChanges {
    ReminderChanges {
        cancel: before
            .iter()
            .filter(|r| !after.contains(r))
            .cloned()
            .collect(),
        create: after
            .iter()
            .filter(|r| !before.contains(r))
            .cloned()
            .collect(),
    }
}
