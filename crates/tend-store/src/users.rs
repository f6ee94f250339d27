//! Users: people who log in, their role and the site they work at; and the first-start
//! bootstrap that makes a fresh database usable.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use rand::distributions::{Alphanumeric, DistString};
use tend_audit::AuditRecord;
use tend_core::{Actor, EmailAddress, PersonName, Role, SiteId, SiteScope, SiteTimeZone, UserId};

use crate::audit;
use crate::auth::hash_password;
use crate::connection::{lock_audit_chain, write_transaction, AnyConnection};
use crate::error::{InvalidField, StoreError};
use crate::map::{from_db_time, is_unique_violation, parse_column, parse_optional, to_db_time};
use crate::schema::users;
use crate::sites::{insert_site, load_site, Site};
use crate::Store;

/// Passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A person who logs in to Tend. The password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub id: UserId,
    pub email: EmailAddress,
    pub role: Role,
    /// `None` for chain-wide administrators.
    pub site_id: Option<SiteId>,
    pub created_at: DateTime<Utc>,
}

/// A new user as typed by a person: raw text, checked by [`Store::create_user`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub role: String,
    pub site_id: Option<String>,
    pub password: String,
}

/// What the first start of an empty database created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub site: Site,
    pub admin: User,
    /// The administrator's password when it was generated rather than given: show it once.
    pub generated_password: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) site_id: Option<String>,
    pub(crate) password_hash: String,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) deactivated_at: Option<NaiveDateTime>,
}

impl UserRow {
    fn to_user(&self) -> Result<User, StoreError> {
        Ok(User {
            id: parse_column("users.id", &self.id, UserId::parse)?,
            email: parse_column("users.email", &self.email, EmailAddress::parse)?,
            role: parse_column("users.role", &self.role, Role::parse)?,
            site_id: parse_optional("users.site_id", self.site_id.as_deref(), SiteId::parse)?,
            created_at: from_db_time(self.created_at),
        })
    }
}

/// The actor a stored user acts as.
pub(crate) fn actor_of(row: &UserRow) -> Result<Actor, StoreError> {
    let user = row.to_user()?;
    Ok(Actor {
        user_id: user.id,
        role: user.role,
        scope: match user.site_id {
            Some(site) => SiteScope::Site(site),
            None => SiteScope::AllSites,
        },
    })
}

/// A new user's checked fields.
struct CheckedUser {
    email: EmailAddress,
    role: Role,
    site_id: Option<SiteId>,
    password: String,
}

fn check_user(new_user: NewUser) -> Result<CheckedUser, StoreError> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, code: &str, message: String| {
        problems.push(InvalidField {
            field: field.into(),
            code: code.into(),
            message,
        })
    };
    let email = EmailAddress::parse(&new_user.email)
        .map_err(|error| problem("email", error.code(), error.to_string()))
        .ok();
    let role = Role::parse(&new_user.role)
        .map_err(|error| problem("role", "value.invalid_role", error.to_string()))
        .ok();
    let site_id = match new_user.site_id.as_deref().map(SiteId::parse).transpose() {
        Ok(site_id) => site_id,
        Err(error) => {
            problem("site_id", error.code(), error.to_string());
            None
        }
    };
    if role.is_some_and(|role| role != Role::Admin) && new_user.site_id.is_none() {
        problem(
            "site_id",
            "value.required",
            "every user except an administrator works at one site".into(),
        );
    }
    if new_user.password.chars().count() < MIN_PASSWORD_CHARS {
        problem(
            "password",
            "value.too_short",
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters"),
        );
    }
    match (email, role) {
        (Some(email), Some(role)) if problems.is_empty() => Ok(CheckedUser {
            email,
            role,
            site_id,
            password: new_user.password,
        }),
        _ => Err(StoreError::InvalidInput(problems)),
    }
}

fn insert_user(
    connection: &mut AnyConnection,
    by: Option<&Actor>,
    user: CheckedUser,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    if let Some(site) = user.site_id {
        load_site(connection, site)?;
    }
    let row = UserRow {
        id: UserId::new().to_string(),
        email: user.email.as_str().to_owned(),
        role: user.role.as_str().to_owned(),
        site_id: user.site_id.map(|site| site.to_string()),
        password_hash,
        created_at: to_db_time(now),
        deactivated_at: None,
    };
    diesel::insert_into(users::table)
        .values(&row)
        .execute(connection)
        .map_err(|error| {
            if is_unique_violation(&error) {
                StoreError::EmailTaken
            } else {
                StoreError::Database(error)
            }
        })?;
    let created = row.to_user()?;
    audit::append(
        connection,
        AuditRecord::success(
            by.map(|actor| actor.user_id),
            created.site_id,
            "user.created",
            "user",
            created.id,
            serde_json::json!({
                "email": { "before": null, "after": created.email.as_str() },
                "role": { "before": null, "after": created.role.as_str() },
                "site_id": { "before": null, "after": created.site_id.map(|site| site.to_string()) },
            }),
        ),
        now,
    )?;
    Ok(created)
}

impl Store {
    /// Creates a user. `by` is the acting user over the API; `None` is an operator at the command
    /// line, who already holds the database. Administrators create anyone; store managers create
    /// non-administrators at their own site; nobody else creates users.
    pub fn create_user(&self, by: Option<&Actor>, new_user: NewUser) -> Result<User, StoreError> {
        let user = check_user(new_user)?;
        if let Some(actor) = by {
            let allowed = match actor.role {
                Role::Admin => actor.scope == SiteScope::AllSites || user.role != Role::Admin,
                Role::StoreManager => {
                    user.role != Role::Admin
                        && user.site_id.is_some_and(|site| actor.can_access_site(site))
                }
                _ => false,
            };
            if !allowed {
                return Err(StoreError::Forbidden(format!(
                    "a {} may not create this user",
                    actor.role
                )));
            }
            if let Some(site) = user.site_id {
                if !actor.can_access_site(site) {
                    return Err(StoreError::SiteNotFound);
                }
            }
        }
        // Hash before the write transaction: Argon2 is deliberately slow.
        let password_hash = hash_password(&user.password)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            insert_user(connection, by, user, password_hash, now)
        })
    }

    /// Makes an empty database usable: when there are no users yet, creates a site "Main" in
    /// `time_zone` and the administrator `admin@tend.local`, with `admin_password` or a random
    /// one. Returns `None` when the database already has users.
    pub fn bootstrap(
        &self,
        time_zone: &str,
        admin_password: Option<String>,
    ) -> Result<Option<Bootstrap>, StoreError> {
        let time_zone = SiteTimeZone::parse(time_zone)
            .map_err(|error| StoreError::invalid("time_zone", error.code(), error.to_string()))?;
        let (password, generated) = match admin_password {
            Some(password) => (password, false),
            None => (Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20), true),
        };
        let admin = check_user(NewUser {
            email: "admin@tend.local".into(),
            role: Role::Admin.as_str().into(),
            site_id: None,
            password: password.clone(),
        })?;
        let password_hash = hash_password(&password)?;
        let site_name = PersonName::parse("Main").map_err(StoreError::corrupt)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            // Take the chain lock before counting: two processes starting at once on PostgreSQL
            // then bootstrap once, and never wait on each other's rows while holding it.
            lock_audit_chain(connection)?;
            let users_count: i64 = users::table.count().get_result(connection)?;
            if users_count > 0 {
                return Ok(None);
            }
            let site = insert_site(connection, None, site_name, time_zone, now)?;
            let admin = insert_user(connection, None, admin, password_hash, now)?;
            Ok(Some(Bootstrap {
                site,
                admin,
                generated_password: generated.then_some(password),
            }))
        })
    }
}
