//! The service catalogue: what can be booked, how long it takes, who and what it needs.
//!
//! A [`Service`] is built from a plain [`ServiceDraft`] (minutes as integers, ready for a form or
//! a JSON body) and is valid once built. All lengths are whole multiples of
//! [`QUANTUM_MINUTES`], so a booking's occupied time maps exactly onto the quanta the store
//! uses for its no-overlap constraint (see [`crate::booking::occupied_quanta`]).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use tend_core::{Role, SiteId};

use crate::ids::{ResourceId, ServiceId};
use crate::interval::TimeInterval;

/// The grain of bookable time, in minutes. Durations, buffers, offsets and slot steps are
/// multiples of it; so are booking starts.
pub const QUANTUM_MINUTES: i64 = 5;

/// The grain of bookable time.
pub fn quantum() -> Duration {
    Duration::minutes(QUANTUM_MINUTES)
}

/// Longest visit the catalogue accepts.
pub const MAX_SERVICE_MINUTES: u32 = 24 * 60;
/// Farthest ahead a service may be bookable.
pub const MAX_BOOKING_HORIZON_DAYS: u32 = 731;
/// Most people or resources one requirement may ask for.
pub const MAX_COUNT_PER_REQUIREMENT: u8 = 10;

macro_rules! key_type {
    ($(#[$meta:meta])* $name:ident, $label:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Lower-cases and joins words with underscores; refuses anything but 1 to 64
            /// ASCII letters, digits and underscores.
            pub fn parse(text: &str) -> Result<$name, CatalogueError> {
                let key = text.trim().to_lowercase().replace([' ', '-'], "_");
                let valid = !key.is_empty()
                    && key.len() <= 64
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if valid {
                    Ok($name(key))
                } else {
                    Err(CatalogueError::InvalidKey {
                        kind: $label,
                        value: text.to_owned(),
                    })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $name::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

key_type!(
    /// A skill key as tend-staff spells it (`dental_hygiene`). This crate does not depend on
    /// tend-staff; the layer above maps staff skills to these keys.
    SkillKey,
    "skill"
);
key_type!(
    /// A tag on a resource (`xray`, `wheelchair_access`) that a service may require.
    ResourceTag,
    "resource tag"
);
key_type!(
    /// A kind of work that typed blocks hold time for (`new_patient`, `hygiene`).
    WorkKind,
    "work kind"
);

/// Who can fill a staff requirement: anyone with the role, or anyone with the skill.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "key")]
pub enum Qualification {
    Role(Role),
    Skill(SkillKey),
}

impl Qualification {
    pub fn is_met_by(&self, roles: &BTreeSet<Role>, skills: &BTreeSet<SkillKey>) -> bool {
        match self {
            Qualification::Role(role) => roles.contains(role),
            Qualification::Skill(skill) => skills.contains(skill),
        }
    }
}

/// The part of a visit a requirement covers, in minutes from the visit's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VisitPartDraft {
    pub offset_minutes: u32,
    pub length_minutes: u32,
}

/// `count` distinct people with `qualification`, for the whole visit or for `part` of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StaffRequirementDraft {
    pub qualification: Qualification,
    pub count: u8,
    /// `None`: the whole visit.
    #[serde(default)]
    pub part: Option<VisitPartDraft>,
}

/// What kind of thing a resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Room,
    DentalChair,
    Equipment,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Room => "room",
            ResourceKind::DentalChair => "dental_chair",
            ResourceKind::Equipment => "equipment",
        }
    }
}

/// `count` distinct resources of `kind` carrying every tag in `tags`, for the whole visit and
/// its buffers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ResourceRequirement {
    pub kind: ResourceKind,
    #[serde(default)]
    pub tags: BTreeSet<ResourceTag>,
    pub count: u8,
}

impl ResourceRequirement {
    pub fn is_met_by(&self, kind: ResourceKind, tags: &BTreeSet<ResourceTag>) -> bool {
        self.kind == kind && self.tags.is_subset(tags)
    }
}

/// A room, chair or piece of equipment of a site. Its availability is kept like a staff
/// member's (see [`crate::availability`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: ResourceId,
    pub site_id: SiteId,
    pub name: String,
    pub kind: ResourceKind,
    #[serde(default)]
    pub tags: BTreeSet<ResourceTag>,
}

/// A price in the currency's minor units (cents).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Price {
    pub minor_units: u64,
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
}

/// A service as typed in: plain data, checked by [`Service::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDraft {
    pub id: ServiceId,
    pub site_id: SiteId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price: Price,
    pub duration_minutes: u32,
    #[serde(default)]
    pub buffer_before_minutes: u32,
    #[serde(default)]
    pub buffer_after_minutes: u32,
    #[serde(default)]
    pub staff_requirements: Vec<StaffRequirementDraft>,
    #[serde(default)]
    pub resource_requirements: Vec<ResourceRequirement>,
    #[serde(default)]
    pub min_notice_minutes: u32,
    pub booking_horizon_days: u32,
    /// Time held by typed blocks of this kind is open to this service.
    #[serde(default)]
    pub work_kind: Option<WorkKind>,
    /// An urgent service (an emergency visit): its bookings may use emergency capacity.
    #[serde(default)]
    pub urgent: bool,
}

/// Why a catalogue entry is refused. `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("`{value}` is not a valid {kind} key: use 1 to 64 letters, digits and underscores")]
    InvalidKey { kind: &'static str, value: String },
    #[error("a service needs a name of 1 to 200 characters")]
    InvalidName,
    #[error("`{0}` is not an ISO 4217 currency code")]
    InvalidCurrency(String),
    #[error("a service must last 1 to {max} minutes (got {minutes})", max = MAX_SERVICE_MINUTES)]
    InvalidDuration { minutes: u32 },
    #[error("{field} is {minutes} minutes, which is not a multiple of {QUANTUM_MINUTES} minutes")]
    NotAQuantumMultiple { field: &'static str, minutes: u32 },
    #[error("requirement {index} asks for {count} people or resources; allowed 1 to {max}", max = MAX_COUNT_PER_REQUIREMENT)]
    InvalidCount { index: usize, count: u8 },
    #[error("requirement {index} covers minutes {offset}..{end} of a {duration}-minute visit")]
    PartOutsideVisit {
        index: usize,
        offset: u32,
        end: u32,
        duration: u32,
    },
    #[error("the booking horizon must be 1 to {max} days and reach past the minimum notice", max = MAX_BOOKING_HORIZON_DAYS)]
    InvalidHorizon,
}

impl CatalogueError {
    pub fn code(&self) -> &'static str {
        match self {
            CatalogueError::InvalidKey { .. } => "appointments.catalogue.invalid_key",
            CatalogueError::InvalidName => "appointments.catalogue.invalid_name",
            CatalogueError::InvalidCurrency(_) => "appointments.catalogue.invalid_currency",
            CatalogueError::InvalidDuration { .. } => "appointments.catalogue.invalid_duration",
            CatalogueError::NotAQuantumMultiple { .. } => {
                "appointments.catalogue.not_a_quantum_multiple"
            }
            CatalogueError::InvalidCount { .. } => "appointments.catalogue.invalid_count",
            CatalogueError::PartOutsideVisit { .. } => "appointments.catalogue.part_outside_visit",
            CatalogueError::InvalidHorizon => "appointments.catalogue.invalid_horizon",
        }
    }
}

/// A checked staff requirement: the part of the visit is resolved to offsets.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StaffRequirement {
    qualification: Qualification,
    count: u8,
    offset: Duration,
    length: Duration,
}

impl StaffRequirement {
    pub fn qualification(&self) -> &Qualification {
        &self.qualification
    }

    pub fn count(&self) -> u8 {
        self.count
    }

    /// Where this requirement's part starts, from the visit's start.
    pub fn offset(&self) -> Duration {
        self.offset
    }

    pub fn length(&self) -> Duration {
        self.length
    }
}

/// A bookable service. Valid by construction; see [`ServiceDraft`] for the fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ServiceDraft", into = "ServiceDraft")]
pub struct Service {
    draft: ServiceDraft,
    staff_requirements: Vec<StaffRequirement>,
}

impl TryFrom<ServiceDraft> for Service {
    type Error = CatalogueError;
    fn try_from(draft: ServiceDraft) -> Result<Self, Self::Error> {
        Service::new(draft)
    }
}

impl From<Service> for ServiceDraft {
    fn from(service: Service) -> Self {
        service.draft
    }
}

fn check_quantum(field: &'static str, minutes: u32) -> Result<(), CatalogueError> {
    if i64::from(minutes) % QUANTUM_MINUTES == 0 {
        Ok(())
    } else {
        Err(CatalogueError::NotAQuantumMultiple { field, minutes })
    }
}

fn check_count(index: usize, count: u8) -> Result<(), CatalogueError> {
    if (1..=MAX_COUNT_PER_REQUIREMENT).contains(&count) {
        Ok(())
    } else {
        Err(CatalogueError::InvalidCount { index, count })
    }
}

impl Service {
    pub fn new(mut draft: ServiceDraft) -> Result<Service, CatalogueError> {
        draft.name = draft.name.trim().to_owned();
        if draft.name.is_empty() || draft.name.chars().count() > 200 {
            return Err(CatalogueError::InvalidName);
        }
        let currency = &draft.price.currency;
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(CatalogueError::InvalidCurrency(currency.clone()));
        }
        let duration = draft.duration_minutes;
        if duration == 0 || duration > MAX_SERVICE_MINUTES {
            return Err(CatalogueError::InvalidDuration { minutes: duration });
        }
        check_quantum("duration", duration)?;
        check_quantum("buffer before", draft.buffer_before_minutes)?;
        check_quantum("buffer after", draft.buffer_after_minutes)?;
        check_quantum("minimum notice", draft.min_notice_minutes)?;
        if draft.booking_horizon_days == 0
            || draft.booking_horizon_days > MAX_BOOKING_HORIZON_DAYS
            || u64::from(draft.min_notice_minutes) >= u64::from(draft.booking_horizon_days) * 1440
        {
            return Err(CatalogueError::InvalidHorizon);
        }
        let mut staff_requirements = Vec::with_capacity(draft.staff_requirements.len());
        for (index, requirement) in draft.staff_requirements.iter().enumerate() {
            check_count(index, requirement.count)?;
            let part = requirement.part.unwrap_or(VisitPartDraft {
                offset_minutes: 0,
                length_minutes: duration,
            });
            check_quantum("requirement offset", part.offset_minutes)?;
            check_quantum("requirement length", part.length_minutes)?;
            let end = u64::from(part.offset_minutes) + u64::from(part.length_minutes);
            if part.length_minutes == 0 || end > u64::from(duration) {
                return Err(CatalogueError::PartOutsideVisit {
                    index,
                    offset: part.offset_minutes,
                    end: u32::try_from(end).unwrap_or(u32::MAX),
                    duration,
                });
            }
            staff_requirements.push(StaffRequirement {
                qualification: requirement.qualification.clone(),
                count: requirement.count,
                offset: Duration::minutes(part.offset_minutes.into()),
                length: Duration::minutes(part.length_minutes.into()),
            });
        }
        for (index, requirement) in draft.resource_requirements.iter().enumerate() {
            check_count(index, requirement.count)?;
        }
        Ok(Service {
            draft,
            staff_requirements,
        })
    }

    pub fn id(&self) -> ServiceId {
        self.draft.id
    }

    pub fn site_id(&self) -> SiteId {
        self.draft.site_id
    }

    pub fn name(&self) -> &str {
        &self.draft.name
    }

    pub fn description(&self) -> &str {
        &self.draft.description
    }

    pub fn price(&self) -> &Price {
        &self.draft.price
    }

    pub fn duration(&self) -> Duration {
        Duration::minutes(self.draft.duration_minutes.into())
    }

    pub fn buffer_before(&self) -> Duration {
        Duration::minutes(self.draft.buffer_before_minutes.into())
    }

    pub fn buffer_after(&self) -> Duration {
        Duration::minutes(self.draft.buffer_after_minutes.into())
    }

    pub fn staff_requirements(&self) -> &[StaffRequirement] {
        &self.staff_requirements
    }

    pub fn resource_requirements(&self) -> &[ResourceRequirement] {
        &self.draft.resource_requirements
    }

    pub fn min_notice(&self) -> Duration {
        Duration::minutes(self.draft.min_notice_minutes.into())
    }

    pub fn booking_horizon(&self) -> Duration {
        Duration::days(self.draft.booking_horizon_days.into())
    }

    pub fn work_kind(&self) -> Option<&WorkKind> {
        self.draft.work_kind.as_ref()
    }

    pub fn is_urgent(&self) -> bool {
        self.draft.urgent
    }

    /// The visit itself, without buffers: what the client's diary is blocked for.
    pub fn visit_at(&self, start: DateTime<Utc>) -> TimeInterval {
        TimeInterval::of_positive_length(start, self.duration())
    }

    /// What a staff member filling `requirement` is busy for when the visit starts at `start`:
    /// their part of the visit widened by the service's buffers (preparation and clean-up are
    /// theirs too).
    pub fn staff_time_at(
        &self,
        requirement: &StaffRequirement,
        start: DateTime<Utc>,
    ) -> TimeInterval {
        TimeInterval::of_positive_length(start + requirement.offset, requirement.length)
            .widened(self.buffer_before(), self.buffer_after())
    }

    /// What each resource is busy for: the whole visit widened by the buffers.
    pub fn resource_time_at(&self, start: DateTime<Utc>) -> TimeInterval {
        self.visit_at(start)
            .widened(self.buffer_before(), self.buffer_after())
    }

    pub fn draft(&self) -> &ServiceDraft {
        &self.draft
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> ServiceDraft {
        ServiceDraft {
            id: ServiceId::new(),
            site_id: SiteId::new(),
            name: " Check-up ".into(),
            description: String::new(),
            price: Price {
                minor_units: 6000,
                currency: "EUR".into(),
            },
            duration_minutes: 30,
            buffer_before_minutes: 5,
            buffer_after_minutes: 10,
            staff_requirements: vec![StaffRequirementDraft {
                qualification: Qualification::Role(Role::Expert),
                count: 1,
                part: None,
            }],
            resource_requirements: vec![],
            min_notice_minutes: 60,
            booking_horizon_days: 90,
            work_kind: None,
            urgent: false,
        }
    }

    #[test]
    fn a_valid_service_is_built_and_round_trips_through_json() {
        let service = Service::new(draft()).unwrap();
        assert_eq!(service.name(), "Check-up");
        assert_eq!(
            service.staff_requirements()[0].length(),
            Duration::minutes(30)
        );
        let json = serde_json::to_string(&service).unwrap();
        assert_eq!(serde_json::from_str::<Service>(&json).unwrap(), service);
    }

    #[test]
    fn bad_services_are_refused_with_stable_codes() {
        let check = |edit: fn(&mut ServiceDraft), code: &str| {
            let mut bad = draft();
            edit(&mut bad);
            assert_eq!(Service::new(bad).map_err(|e| e.code()), Err(code));
        };
        check(
            |d| d.duration_minutes = 0,
            "appointments.catalogue.invalid_duration",
        );
        check(
            |d| d.duration_minutes = 32,
            "appointments.catalogue.not_a_quantum_multiple",
        );
        check(
            |d| d.name = "  ".into(),
            "appointments.catalogue.invalid_name",
        );
        check(
            |d| d.price.currency = "eu".into(),
            "appointments.catalogue.invalid_currency",
        );
        check(
            |d| d.staff_requirements[0].count = 0,
            "appointments.catalogue.invalid_count",
        );
        check(
            |d| {
                d.staff_requirements[0].part = Some(VisitPartDraft {
                    offset_minutes: 20,
                    length_minutes: 20,
                })
            },
            "appointments.catalogue.part_outside_visit",
        );
        check(
            |d| d.booking_horizon_days = 0,
            "appointments.catalogue.invalid_horizon",
        );
        assert_eq!(
            SkillKey::parse("hygiène").map_err(|e| e.code()),
            Err("appointments.catalogue.invalid_key")
        );
    }
}
