//! Conversions between stored columns and domain values. A stored value that no longer parses is
//! reported as a corrupt row, never unwrapped.

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::error::StoreError;

pub(crate) fn to_db_time(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub(crate) fn from_db_time(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// Parses a stored column with the domain parser, naming the column if it fails.
pub(crate) fn parse_column<T, E: std::fmt::Display>(
    column: &'static str,
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(text).map_err(|error| StoreError::corrupt(format!("{column}: {error}")))
}

pub(crate) fn parse_optional<T, E: std::fmt::Display>(
    column: &'static str,
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, StoreError> {
    text.map(|text| parse_column(column, text, parse))
        .transpose()
}

/// Whether a diesel error is a unique-constraint violation (a duplicate e-mail, site name, …).
pub(crate) fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}
