//! Who is acting: the authenticated user, their role and the sites they may touch.

use serde::{Deserialize, Serialize};

use crate::ids::{SiteId, UserId};
use crate::role::Role;

/// Which sites a user may see and change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "site_id")]
pub enum SiteScope {
    /// Every site of the chain (administrators).
    AllSites,
    /// One site only.
    Site(SiteId),
}

/// The user on whose behalf a use case runs. Use cases decide permissions from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub scope: SiteScope,
}

impl Actor {
    pub fn can_access_site(&self, site: SiteId) -> bool {
        match self.scope {
            SiteScope::AllSites => true,
            SiteScope::Site(own) => own == site,
        }
    }

    /// The one site a site-scoped user works at, `None` for chain-wide users.
    pub fn home_site(&self) -> Option<SiteId> {
        match self.scope {
            SiteScope::AllSites => None,
            SiteScope::Site(site) => Some(site),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_scoped_users_see_only_their_site() {
        let home = SiteId::new();
        let other = SiteId::new();
        let nurse = Actor {
            user_id: UserId::new(),
            role: Role::Operator,
            scope: SiteScope::Site(home),
        };
        assert!(nurse.can_access_site(home));
        assert!(!nurse.can_access_site(other));
        let admin = Actor {
            user_id: UserId::new(),
            role: Role::Admin,
            scope: SiteScope::AllSites,
        };
        assert!(admin.can_access_site(other));
        assert_eq!(admin.home_site(), None);
    }
}
