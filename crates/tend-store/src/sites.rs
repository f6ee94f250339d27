//! Sites: the care centers of a chain, each with its IANA time zone.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tend_audit::AuditRecord;
use tend_core::{Actor, PersonName, Role, SiteId, SiteScope, SiteTimeZone};

use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::{InvalidField, StoreError};
use crate::map::{from_db_time, is_unique_violation, parse_column, to_db_time};
use crate::schema::sites;
use crate::Store;

/// A care center.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub time_zone: SiteTimeZone,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sites)]
pub(crate) struct SiteRow {
    id: String,
    name: String,
    time_zone: String,
    created_at: NaiveDateTime,
}

impl SiteRow {
    fn into_site(self) -> Result<Site, StoreError> {
        Ok(Site {
            id: parse_column("sites.id", &self.id, SiteId::parse)?,
            name: self.name,
            time_zone: parse_column("sites.time_zone", &self.time_zone, SiteTimeZone::parse)?,
            created_at: from_db_time(self.created_at),
        })
    }
}

/// Parses a new site's name and time zone, reporting both problems at once.
fn parse_site(name: &str, time_zone: &str) -> Result<(PersonName, SiteTimeZone), StoreError> {
    let name = PersonName::parse(name);
    let time_zone = SiteTimeZone::parse(time_zone);
    let mut problems = Vec::new();
    if let Err(error) = &name {
        problems.push(InvalidField {
            field: "name".into(),
            code: error.code().into(),
            message: error.to_string(),
        });
    }
    if let Err(error) = &time_zone {
        problems.push(InvalidField {
            field: "time_zone".into(),
            code: error.code().into(),
            message: error.to_string(),
        });
    }
    match (name, time_zone) {
        (Ok(name), Ok(time_zone)) => Ok((name, time_zone)),
        _ => Err(StoreError::InvalidInput(problems)),
    }
}

/// Inserts a site and its audit event; the caller owns the transaction.
pub(crate) fn insert_site(
    connection: &mut AnyConnection,
    actor: Option<&Actor>,
    name: PersonName,
    time_zone: SiteTimeZone,
    now: DateTime<Utc>,
) -> Result<Site, StoreError> {
    let site = Site {
        id: SiteId::new(),
        name: name.as_str().to_owned(),
        time_zone,
        created_at: now,
    };
    diesel::insert_into(sites::table)
        .values(SiteRow {
            id: site.id.to_string(),
            name: site.name.clone(),
            time_zone: site.time_zone.as_str().to_owned(),
            created_at: to_db_time(now),
        })
        .execute(connection)
        .map_err(|error| {
            if is_unique_violation(&error) {
                StoreError::SiteNameTaken
            } else {
                StoreError::Database(error)
            }
        })?;
    audit::append(
        connection,
        AuditRecord::success(
            actor.map(|actor| actor.user_id),
            Some(site.id),
            "site.created",
            "site",
            site.id,
            serde_json::json!({
                "name": { "before": null, "after": site.name },
                "time_zone": { "before": null, "after": site.time_zone.as_str() },
            }),
        ),
        now,
    )?;
    Ok(site)
}

pub(crate) fn load_site(connection: &mut AnyConnection, id: SiteId) -> Result<Site, StoreError> {
    sites::table
        .find(id.to_string())
        .select(SiteRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(StoreError::SiteNotFound)?
        .into_site()
}

impl Store {
    /// Opens a new site. Only administrators do this.
    pub fn create_site(
        &self,
        actor: &Actor,
        name: &str,
        time_zone: &str,
    ) -> Result<Site, StoreError> {
        if actor.role != Role::Admin || actor.scope != SiteScope::AllSites {
            return Err(StoreError::Forbidden(format!(
                "a {} may not open sites",
                actor.role
            )));
        }
        let (name, time_zone) = parse_site(name, time_zone)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            insert_site(connection, Some(actor), name, time_zone, now)
        })
    }

    /// The sites the actor may see, by name.
    pub fn list_sites(&self, actor: &Actor) -> Result<Vec<Site>, StoreError> {
        let mut connection = self.connection()?;
        let mut select = sites::table.select(SiteRow::as_select()).into_boxed();
        if let SiteScope::Site(site) = actor.scope {
            select = select.filter(sites::id.eq(site.to_string()));
        }
        select
            .order(sites::name.asc())
            .load(&mut *connection)?
            .into_iter()
            .map(SiteRow::into_site)
            .collect()
    }

    /// One site the actor may see; another site is "not found".
    pub fn get_site(&self, actor: &Actor, id: SiteId) -> Result<Site, StoreError> {
        if !actor.can_access_site(id) {
            return Err(StoreError::SiteNotFound);
        }
        let mut connection = self.connection()?;
        load_site(&mut connection, id)
    }

    /// Finds a site by id or by exact name: for operators on the command line.
    pub fn find_site(&self, id_or_name: &str) -> Result<Site, StoreError> {
        let mut connection = self.connection()?;
        if let Ok(id) = SiteId::parse(id_or_name) {
            return load_site(&mut connection, id);
        }
        sites::table
            .filter(sites::name.eq(id_or_name.trim()))
            .select(SiteRow::as_select())
            .first(&mut *connection)
            .optional()?
            .ok_or(StoreError::SiteNotFound)?
            .into_site()
    }
}
