//! The one error type of the store's use cases. `code()` is stable and travels to API clients;
//! `kind()` tells the HTTP layer which status family to answer with.

use std::path::PathBuf;

use tend_clients::{AccessDenied, InvalidFields, LifecycleError};

/// How a caller should treat an error, independent of any transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
    Unauthorized,
    Forbidden,
    Internal,
}

/// One invalid input field: what, why (a stable code) and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvalidField {
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such site")]
    SiteNotFound,
    #[error("no such client")]
    ClientNotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("the session token is not valid")]
    InvalidToken,
    #[error("the session has expired; log in again")]
    TokenExpired,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidClientFields(#[from] InvalidFields),
    #[error("invalid input: {}", .0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    InvalidInput(Vec<InvalidField>),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error("the client was changed by someone else (you edited version {expected}, it is now at version {actual}); reload and retry")]
    VersionConflict { expected: i64, actual: i64 },
    #[error("a user with this e-mail address already exists")]
    EmailTaken,
    #[error("a site with this name already exists")]
    SiteNameTaken,
    #[error("the audit chain is broken: {0}")]
    AuditChainBroken(tend_audit::ChainBreak),
    #[error("a stored row cannot be read back: {0}")]
    CorruptRow(String),
    #[error(
        "`{0}` is not a database URL; use sqlite://path/to/file.db or postgres://user@host/db"
    )]
    InvalidDatabaseUrl(String),
    #[error("cannot create the database folder {path}")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("database error")]
    Database(#[from] diesel::result::Error),
    #[error("no database connection available")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error(transparent)]
    Appointments(#[from] crate::appointments::AppointmentError),
    #[error(transparent)]
    Rostering(crate::rostering::RosteringError),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::SiteNotFound => "site.not_found",
            StoreError::ClientNotFound => "client.not_found",
            StoreError::UserNotFound => "user.not_found",
            StoreError::InvalidCredentials => "auth.invalid_credentials",
            StoreError::InvalidToken => "auth.invalid_token",
            StoreError::TokenExpired => "auth.token_expired",
            StoreError::Forbidden(_) => "access.forbidden",
            StoreError::InvalidClientFields(error) => error.code(),
            StoreError::InvalidInput(_) => "validation.invalid_fields",
            StoreError::Lifecycle(error) => error.code(),
            StoreError::VersionConflict { .. } => "client.version_conflict",
            StoreError::EmailTaken => "user.email_taken",
            StoreError::SiteNameTaken => "site.name_taken",
            StoreError::AuditChainBroken(_) => "audit.chain_broken",
            StoreError::CorruptRow(_) => "internal.corrupt_row",
            StoreError::InvalidDatabaseUrl(_) => "config.invalid_database_url",
            StoreError::CreateDirectory { .. } => "internal.io",
            StoreError::Migration(_) => "internal.migration",
            StoreError::PasswordHash(_) => "internal.password_hash",
            StoreError::Database(_) => "internal.database",
            StoreError::Pool(_) => "internal.database_unavailable",
            StoreError::Appointments(error) => error.code(),
            StoreError::Rostering(error) => error.code(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::SiteNotFound | StoreError::ClientNotFound | StoreError::UserNotFound => {
                ErrorKind::NotFound
            }
            StoreError::InvalidCredentials
            | StoreError::InvalidToken
            | StoreError::TokenExpired => ErrorKind::Unauthorized,
            StoreError::Forbidden(_) => ErrorKind::Forbidden,
            StoreError::InvalidClientFields(_)
            | StoreError::InvalidInput(_)
            | StoreError::InvalidDatabaseUrl(_) => ErrorKind::Invalid,
            StoreError::Lifecycle(_)
            | StoreError::VersionConflict { .. }
            | StoreError::EmailTaken
            | StoreError::SiteNameTaken => ErrorKind::Conflict,
            StoreError::AuditChainBroken(_)
            | StoreError::CorruptRow(_)
            | StoreError::CreateDirectory { .. }
            | StoreError::Migration(_)
            | StoreError::PasswordHash(_)
            | StoreError::Database(_)
            | StoreError::Pool(_) => ErrorKind::Internal,
            StoreError::Appointments(error) => error.kind(),
            StoreError::Rostering(error) => error.kind(),
        }
    }

    /// Machine-readable details for the API body, where there are any. Never internals.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            StoreError::InvalidClientFields(InvalidFields(fields)) => {
                Some(serde_json::json!({ "fields": fields }))
            }
            StoreError::InvalidInput(fields) => Some(serde_json::json!({ "fields": fields })),
            StoreError::Lifecycle(LifecycleError::IllegalTransition { from, to }) => {
                Some(serde_json::json!({ "from": from, "to": to }))
            }
            StoreError::Lifecycle(LifecycleError::ReasonRequired { to }) => {
                Some(serde_json::json!({ "to": to }))
            }
            StoreError::VersionConflict { expected, actual } => {
                Some(serde_json::json!({ "expected_version": expected, "current_version": actual }))
            }
            StoreError::Appointments(error) => error.details(),
            StoreError::Rostering(error) => error.details(),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &str, code: &str, message: impl Into<String>) -> StoreError {
        StoreError::InvalidInput(vec![InvalidField {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }])
    }

    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::CorruptRow(what.to_string())
    }
}

impl From<AccessDenied> for StoreError {
    fn from(denied: AccessDenied) -> StoreError {
        match denied {
            // Another site's records do not exist for this actor.
            AccessDenied::OtherSite { .. } => StoreError::ClientNotFound,
            other => StoreError::Forbidden(other.to_string()),
        }
    }
}
