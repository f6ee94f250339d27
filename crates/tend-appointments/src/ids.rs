//! Typed identifiers of the appointments domain, built like `tend_core`'s: a `ServiceId` cannot be
//! passed where a `ResourceId` is expected. UUID v7, so they sort by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tend_core::ValueError;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $label:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses the text form, naming the kind of id in the error.
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                Uuid::parse_str(text.trim()).map(Self).map_err(|_| ValueError::InvalidId {
                    kind: $label,
                    value: text.to_owned(),
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text)
            }
        }
    };
}

typed_id!(
    /// A bookable service of the catalogue (a check-up, a lactation consultation).
    ServiceId,
    "service"
);
typed_id!(
    /// A room, a dental chair or a piece of equipment.
    ResourceId,
    "resource"
);
typed_id!(
    /// One booked visit.
    BookingId,
    "booking"
);
typed_id!(
    /// A client waiting for a slot of a service.
    WaitlistEntryId,
    "waitlist entry"
);
typed_id!(
    /// A recurring series of bookings (six weekly treatments).
    SeriesId,
    "series"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_name_their_kind() {
        let id = ServiceId::new();
        assert_eq!(ServiceId::parse(&id.to_string()), Ok(id));
        assert_eq!(
            ResourceId::parse("chair"),
            Err(ValueError::InvalidId {
                kind: "resource",
                value: "chair".into()
            })
        );
    }
}
