//! Tend's shared vocabulary: typed ids, validated value types, roles and actors, and the clock.
//!
//! Every other Tend crate speaks in these types. Nothing here does IO; time is an input.

pub mod actor;
pub mod clock;
pub mod ids;
pub mod role;
pub mod value;

pub use actor::{Actor, SiteScope};
pub use clock::{Clock, FixedClock, SystemClock};
pub use ids::{AuditEventId, ClientId, SiteId, StaffId, UserId};
pub use role::{Role, UnknownRole};
pub use value::{parse_date, EmailAddress, PersonName, PhoneNumber, SiteTimeZone, ValueError};
