//! Logging in and out, and turning a bearer token back into an [`Actor`].
//!
//! A session token is 32 random bytes, shown to the client once as hex. Only its SHA-256 is
//! stored, so a copy of the database does not let anyone act as a logged-in user. Passwords are
//! hashed with Argon2id.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tend_audit::{AuditRecord, Outcome};
use tend_core::{Actor, EmailAddress};

use crate::audit;
use crate::connection::write_transaction;
use crate::error::StoreError;
use crate::map::{from_db_time, to_db_time};
use crate::schema::{sessions, users};
use crate::users::{actor_of, UserRow};
use crate::Store;

/// How long a session lasts after login.
pub const SESSION_LIFETIME: TimeDelta = TimeDelta::hours(12);

/// A fresh login: the bearer token (shown once) and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    token_hash: String,
    user_id: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

pub(crate) fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| StoreError::PasswordHash(error.to_string()))
}

fn password_matches(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the e-mail is unknown, so that "no such user" takes as long as
/// "wrong password" and response times do not reveal which e-mails have accounts.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown users").unwrap_or_default())
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Store {
    /// Checks the password and opens a session. Every attempt is audited, failures included.
    pub fn login(&self, email: &str, password: &str) -> Result<Session, StoreError> {
        let now = self.now();
        let mut connection = self.connection()?;
        let user = match EmailAddress::parse(email) {
            Ok(email) => users::table
                .filter(users::email.eq(email.as_str()))
                .filter(users::deactivated_at.is_null())
                .select(UserRow::as_select())
                .first(&mut *connection)
                .optional()?,
            Err(_) => None,
        };
        let verified = match &user {
            Some(user) => password_matches(password, &user.password_hash),
            None => {
                password_matches(password, decoy_hash());
                false
            }
        };
        let actor = match (&user, verified) {
            (Some(user), true) => Some(actor_of(user)?),
            _ => None,
        };
        let Some(actor) = actor else {
            let attempted = email.trim().chars().take(254).collect::<String>();
            let record = AuditRecord {
                actor_id: None,
                site_id: None,
                action: "auth.login_failed".to_owned(),
                entity_type: "user".to_owned(),
                entity_id: user
                    .as_ref()
                    .map(|user| user.id.clone())
                    .unwrap_or_else(|| attempted.clone()),
                changes: serde_json::json!({ "email": attempted }),
                outcome: Outcome::Failure,
            };
            write_transaction(&mut connection, |connection| {
                audit::append(connection, record, now)
            })?;
            return Err(StoreError::InvalidCredentials);
        };
        let token = new_token();
        let expires_at = now + SESSION_LIFETIME;
        write_transaction(&mut connection, |connection| {
            diesel::insert_into(sessions::table)
                .values(SessionRow {
                    token_hash: token_hash(&token),
                    user_id: actor.user_id.to_string(),
                    created_at: to_db_time(now),
                    expires_at: to_db_time(expires_at),
                    revoked_at: None,
                })
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    actor.home_site(),
                    "auth.login",
                    "user",
                    actor.user_id,
                    serde_json::json!({}),
                ),
                now,
            )
        })?;
        Ok(Session {
            token,
            expires_at,
            actor,
        })
    }

    /// The actor behind a bearer token, if the session is open and the user still active.
    pub fn authenticate(&self, token: &str) -> Result<Actor, StoreError> {
        let now = self.now();
        let mut connection = self.connection()?;
        let found: Option<(SessionRow, UserRow)> = sessions::table
            .inner_join(users::table)
            .filter(sessions::token_hash.eq(token_hash(token)))
            .select((SessionRow::as_select(), UserRow::as_select()))
            .first(&mut *connection)
            .optional()?;
        let Some((session, user)) = found else {
            return Err(StoreError::InvalidToken);
        };
        if session.revoked_at.is_some() || user.deactivated_at.is_some() {
            return Err(StoreError::InvalidToken);
        }
        if from_db_time(session.expires_at) <= now {
            return Err(StoreError::TokenExpired);
        }
        actor_of(&user)
    }

    /// Ends the session of this token. Ending an already ended session is not an error.
    pub fn logout(&self, token: &str) -> Result<(), StoreError> {
        let actor = self.authenticate(token)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            diesel::update(sessions::table.filter(sessions::token_hash.eq(token_hash(token))))
                .set(sessions::revoked_at.eq(Some(to_db_time(now))))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    actor.home_site(),
                    "auth.logout",
                    "user",
                    actor.user_id,
                    serde_json::json!({}),
                ),
                now,
            )
        })?;
        Ok(())
    }
}
