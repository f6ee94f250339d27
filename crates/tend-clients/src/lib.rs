//! Client records and the rules that govern them: the lifecycle state machine, parsing of raw
//! input into typed records, who may read and change which fields, and duplicate detection.
//!
//! No IO here: the store composes these rules with persistence and the audit trail.

pub mod access;
pub mod duplicates;
pub mod lifecycle;
pub mod record;

pub use access::{AccessDenied, ClientAction, ClientView, FieldGroup};
pub use duplicates::{duplicate_reason, DuplicateReason};
pub use lifecycle::{transition, ClientStatus, LifecycleError, UnknownStatus};
pub use record::{
    Client, ClientCategory, ClientChanges, ClientField, ClientInput, ClientPatchInput, FieldChange,
    FieldError, InvalidFields, NewClient, Patch,
};
