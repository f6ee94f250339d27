//! Typed identifiers. A `ClientId` cannot be passed where a `SiteId` is expected.
//!
//! Ids are UUID v7, so they sort by creation time; they travel as their hyphenated text form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::value::ValueError;

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
    /// A care center (one site of a chain).
    SiteId,
    "site"
);
typed_id!(
    /// A person who logs in to Tend.
    UserId,
    "user"
);
typed_id!(
    /// A client of a care center.
    ClientId,
    "client"
);
typed_id!(
    /// A staff member on a roster.
    StaffId,
    "staff member"
);
typed_id!(
    /// One event of the audit trail.
    AuditEventId,
    "audit event"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn ids_round_trip_through_text(bits in any::<u128>()) {
            let id = ClientId::from_uuid(Uuid::from_u128(bits));
            prop_assert_eq!(ClientId::parse(&id.to_string()), Ok(id));
        }
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert_eq!(
            SiteId::parse("nope"),
            Err(ValueError::InvalidId {
                kind: "site",
                value: "nope".into()
            })
        );
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let first = UserId::new();
        let second = UserId::new();
        assert!(first < second);
    }
}
