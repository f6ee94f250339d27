//! The roles people have in a care center. Permissions are decided per domain from the role.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user does in the center. The text form is `snake_case` (`store_manager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs Tend for a whole chain: every site, every permission.
    Admin,
    StoreManager,
    Consultant,
    /// A clinician: doctor, dentist, therapist.
    Expert,
    /// Nurse or care operator.
    Operator,
    Chef,
    Receptionist,
    Finance,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; expected one of: {roles}", roles = Role::ALL.map(|role| role.as_str()).join(", "))]
pub struct UnknownRole(pub String);

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::StoreManager,
        Role::Consultant,
        Role::Expert,
        Role::Operator,
        Role::Chef,
        Role::Receptionist,
        Role::Finance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::StoreManager => "store_manager",
            Role::Consultant => "consultant",
            Role::Expert => "expert",
            Role::Operator => "operator",
            Role::Chef => "chef",
            Role::Receptionist => "receptionist",
            Role::Finance => "finance",
        }
    }

    pub fn parse(text: &str) -> Result<Role, UnknownRole> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == wanted)
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }

    /// Whether people in this role manage a site: its settings, users and records.
    pub fn manages_site(self) -> bool {
        matches!(self, Role::Admin | Role::StoreManager)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_text() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
            assert_eq!(role.to_string().parse::<Role>(), Ok(role));
        }
    }

    #[test]
    fn spelling_variants_are_accepted_and_garbage_is_named() {
        assert_eq!(Role::parse("Store-Manager"), Ok(Role::StoreManager));
        let error = Role::parse("wizard").unwrap_err();
        assert!(error.to_string().contains("wizard"));
        assert!(error.to_string().contains("receptionist"));
    }
}
