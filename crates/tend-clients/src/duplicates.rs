//! Possible duplicates: the same person registered twice, usually by two consultants.

use serde::Serialize;

use crate::record::{Client, NewClient};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    SamePhone,
    SameNameAndBirthDate,
}

/// Why `existing` may be the same person as `candidate`, if it may.
pub fn duplicate_reason(candidate: &NewClient, existing: &Client) -> Option<DuplicateReason> {
    if candidate.site_id != existing.site_id {
        return None;
    }
    if candidate.phone.is_some() && candidate.phone == existing.phone {
        return Some(DuplicateReason::SamePhone);
    }
    let same_name =
        candidate.full_name.as_str().to_lowercase() == existing.full_name.as_str().to_lowercase();
    if same_name && candidate.birth_date.is_some() && candidate.birth_date == existing.birth_date {
        return Some(DuplicateReason::SameNameAndBirthDate);
    }
    None
}
