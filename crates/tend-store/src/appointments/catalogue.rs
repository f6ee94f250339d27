//! Bookable people and things and what can be booked: staff members (a minimal record the staff
//! service will extend), their hours and time off, resources, and the service catalogue.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tend_appointments::{
    HeldTime, HoldPurpose, Price, Resource, ResourceId, ResourceKind, ResourceRequirement,
    ResourceTag, Service, ServiceDraft, ServiceId, SkillKey, StaffRequirementDraft, TimeInterval,
    WorkKind,
};
use tend_audit::AuditRecord;
use tend_core::{Actor, Role, SiteId, StaffId, UserId};

use super::{from_json, require_manager, target_site, to_json, AppointmentError, WorkingHours};
use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::StoreError;
use crate::map::{from_db_time, parse_column, parse_optional, to_db_time};
use crate::schema::{blocked_times, resources, services, staff_members, users};
use crate::sites::load_site;
use crate::Store;

/// A new staff member. `site_id` defaults to the caller's site.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffInput {
    pub site_id: Option<SiteId>,
    pub full_name: String,
    pub role: Role,
    #[serde(default)]
    pub skills: Vec<SkillKey>,
    /// The user account of this person, if they log in.
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub working_hours: WorkingHours,
}

/// A bookable staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: StaffId,
    pub site_id: SiteId,
    pub full_name: String,
    pub role: Role,
    pub skills: BTreeSet<SkillKey>,
    pub user_id: Option<UserId>,
    pub active: bool,
    pub working_hours: WorkingHours,
    pub created_at: DateTime<Utc>,
}

/// Time a staff member or resource cannot be booked: leave, a meeting, maintenance. With
/// `held_for` it is a typed block instead: the time stays bookable, but only for that purpose
/// (`{"kind": "work", "work_kind": "new_patient"}`: services of that work kind;
/// `{"kind": "emergency"}`: urgent bookings only).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeOffInput {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub held_for: Option<HoldPurpose>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockedTime {
    pub id: String,
    pub owner_kind: String,
    pub owner_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub reason: String,
    /// `None`: nothing may be booked; otherwise only bookings for this purpose.
    pub held_for: Option<HoldPurpose>,
}

/// A new room, chair or piece of equipment. Without `working_hours` it is always available.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceInput {
    pub site_id: Option<SiteId>,
    pub name: String,
    pub kind: ResourceKind,
    #[serde(default)]
    pub tags: BTreeSet<ResourceTag>,
    pub working_hours: Option<WorkingHours>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceRecord {
    pub id: ResourceId,
    pub site_id: SiteId,
    pub name: String,
    pub kind: ResourceKind,
    pub tags: BTreeSet<ResourceTag>,
    pub working_hours: Option<WorkingHours>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl ResourceRecord {
    pub fn resource(&self) -> Resource {
        Resource {
            id: self.id,
            site_id: self.site_id,
            name: self.name.clone(),
            kind: self.kind,
            tags: self.tags.clone(),
        }
    }
}

/// A new service: the fields of [`ServiceDraft`] without its ids.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    pub site_id: Option<SiteId>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub price: Price,
    pub duration_minutes: u32,
    #[serde(default)]
    pub buffer_before_minutes: u32,
    #[serde(default)]
    pub buffer_after_minutes: u32,
    #[serde(default)]
    pub staff_requirements: Vec<StaffRequirementDraft>,
    #[serde(default)]
    pub resource_requirements: Vec<ResourceRequirement>,
    #[serde(default)]
    pub min_notice_minutes: u32,
    pub booking_horizon_days: u32,
    #[serde(default)]
    pub work_kind: Option<WorkKind>,
    #[serde(default)]
    pub urgent: bool,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = staff_members)]
pub(super) struct StaffRow {
    id: String,
    site_id: String,
    full_name: String,
    role: String,
    skills: String,
    user_id: Option<String>,
    working_hours: String,
    created_at: NaiveDateTime,
    deactivated_at: Option<NaiveDateTime>,
}

impl StaffRow {
    pub(super) fn into_staff(self) -> Result<StaffMember, StoreError> {
        Ok(StaffMember {
            id: parse_column("staff_members.id", &self.id, StaffId::parse)?,
            site_id: parse_column("staff_members.site_id", &self.site_id, SiteId::parse)?,
            full_name: self.full_name,
            role: parse_column("staff_members.role", &self.role, Role::parse)?,
            skills: from_json("staff_members.skills", &self.skills)?,
            user_id: parse_optional(
                "staff_members.user_id",
                self.user_id.as_deref(),
                UserId::parse,
            )?,
            active: self.deactivated_at.is_none(),
            working_hours: from_json("staff_members.working_hours", &self.working_hours)?,
            created_at: from_db_time(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = resources)]
pub(super) struct ResourceRow {
    id: String,
    site_id: String,
    name: String,
    kind: String,
    tags: String,
    working_hours: String,
    created_at: NaiveDateTime,
    deactivated_at: Option<NaiveDateTime>,
}

impl ResourceRow {
    pub(super) fn into_resource(self) -> Result<ResourceRecord, StoreError> {
        Ok(ResourceRecord {
            id: parse_column("resources.id", &self.id, ResourceId::parse)?,
            site_id: parse_column("resources.site_id", &self.site_id, SiteId::parse)?,
            name: self.name,
            kind: from_json("resources.kind", &format!("\"{}\"", self.kind))?,
            tags: from_json("resources.tags", &self.tags)?,
            working_hours: from_json("resources.working_hours", &self.working_hours)?,
            active: self.deactivated_at.is_none(),
            created_at: from_db_time(self.created_at),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub(super) struct ServiceRow {
    id: String,
    site_id: String,
    name: String,
    definition: String,
    created_at: NaiveDateTime,
    deactivated_at: Option<NaiveDateTime>,
}

impl ServiceRow {
    pub(super) fn into_service(self) -> Result<Service, StoreError> {
        from_json("services.definition", &self.definition)
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = blocked_times)]
pub(super) struct BlockedRow {
    id: String,
    site_id: String,
    pub(super) owner_kind: String,
    pub(super) owner_id: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    reason: String,
    created_at: NaiveDateTime,
    hold_purpose: Option<String>,
}

impl BlockedRow {
    pub(super) fn interval(&self) -> Result<TimeInterval, StoreError> {
        TimeInterval::new(from_db_time(self.starts_at), from_db_time(self.ends_at))
            .map_err(|error| StoreError::corrupt(format!("blocked_times: {error}")))
    }

    /// What the block holds its time for; `None` when nothing may be booked in it.
    pub(super) fn purpose(&self) -> Result<Option<HoldPurpose>, StoreError> {
        self.hold_purpose
            .as_deref()
            .map(|text| from_json("blocked_times.hold_purpose", text))
            .transpose()
    }

    /// The block as held time, when it is a typed block.
    pub(super) fn held(&self) -> Result<Option<HeldTime>, StoreError> {
        let Some(purpose) = self.purpose()? else {
            return Ok(None);
        };
        Ok(Some(HeldTime {
            interval: self.interval()?,
            purpose,
        }))
    }

    fn into_blocked(self) -> Result<BlockedTime, StoreError> {
        let held_for = self.purpose()?;
        Ok(BlockedTime {
            id: self.id,
            owner_kind: self.owner_kind,
            owner_id: self.owner_id,
            start: from_db_time(self.starts_at),
            end: from_db_time(self.ends_at),
            reason: self.reason,
            held_for,
        })
    }
}

/// A service the actor may see; another site's is "not found".
pub(super) fn load_service(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: ServiceId,
) -> Result<Service, StoreError> {
    let service = services::table
        .find(id.to_string())
        .filter(services::deactivated_at.is_null())
        .select(ServiceRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(AppointmentError::ServiceNotFound)?
        .into_service()?;
    if !actor.can_access_site(service.site_id()) {
        return Err(AppointmentError::ServiceNotFound.into());
    }
    Ok(service)
}

/// A staff member the actor may see.
pub(super) fn load_staff(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: StaffId,
) -> Result<StaffMember, StoreError> {
    let staff = staff_members::table
        .find(id.to_string())
        .select(StaffRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(AppointmentError::StaffNotFound)?
        .into_staff()?;
    if !actor.can_access_site(staff.site_id) {
        return Err(AppointmentError::StaffNotFound.into());
    }
    Ok(staff)
}

pub(super) fn load_resource(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: ResourceId,
) -> Result<ResourceRecord, StoreError> {
    let resource = resources::table
        .find(id.to_string())
        .select(ResourceRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(AppointmentError::ResourceNotFound)?
        .into_resource()?;
    if !actor.can_access_site(resource.site_id) {
        return Err(AppointmentError::ResourceNotFound.into());
    }
    Ok(resource)
}

/// Active staff members of a site.
pub(super) fn site_staff(
    connection: &mut AnyConnection,
    site_id: SiteId,
) -> Result<Vec<StaffMember>, StoreError> {
    staff_members::table
        .filter(staff_members::site_id.eq(site_id.to_string()))
        .filter(staff_members::deactivated_at.is_null())
        .order((staff_members::full_name.asc(), staff_members::id.asc()))
        .select(StaffRow::as_select())
        .load(connection)?
        .into_iter()
        .map(StaffRow::into_staff)
        .collect()
}

pub(super) fn site_resources(
    connection: &mut AnyConnection,
    site_id: SiteId,
) -> Result<Vec<ResourceRecord>, StoreError> {
    resources::table
        .filter(resources::site_id.eq(site_id.to_string()))
        .filter(resources::deactivated_at.is_null())
        .order((resources::name.asc(), resources::id.asc()))
        .select(ResourceRow::as_select())
        .load(connection)?
        .into_iter()
        .map(ResourceRow::into_resource)
        .collect()
}

/// Blocked time of a site's staff and resources overlapping `window`.
pub(super) fn site_blocked(
    connection: &mut AnyConnection,
    site_id: SiteId,
    window: &TimeInterval,
) -> Result<Vec<BlockedRow>, StoreError> {
    Ok(blocked_times::table
        .filter(blocked_times::site_id.eq(site_id.to_string()))
        .filter(blocked_times::starts_at.lt(to_db_time(window.end())))
        .filter(blocked_times::ends_at.gt(to_db_time(window.start())))
        .select(BlockedRow::as_select())
        .load(connection)?)
}

/// The audit event of a catalogue entry taken out of use (`<entity>.deactivated`).
fn audit_retired(
    connection: &mut AnyConnection,
    actor: &Actor,
    site_id: SiteId,
    entity: &str,
    id: impl ToString,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    audit::append(
        connection,
        AuditRecord::success(
            Some(actor.user_id),
            Some(site_id),
            &format!("{entity}.deactivated"),
            entity,
            id,
            serde_json::json!({ "active": { "before": true, "after": false } }),
        ),
        now,
    )?;
    Ok(())
}

/// Whose time a block takes, and how its audit event is named.
struct Owner {
    site_id: SiteId,
    kind: &'static str,
    entity: &'static str,
    event: &'static str,
    id: String,
}

/// Inserts one block and its audit event (inside the caller's transaction).
fn insert_block(
    connection: &mut AnyConnection,
    actor: &Actor,
    owner: Owner,
    interval: TimeInterval,
    input: &TimeOffInput,
    held_for: Option<String>,
    now: DateTime<Utc>,
) -> Result<BlockedTime, StoreError> {
    let row = BlockedRow {
        id: uuid::Uuid::now_v7().to_string(),
        site_id: owner.site_id.to_string(),
        owner_kind: owner.kind.into(),
        owner_id: owner.id.clone(),
        starts_at: to_db_time(interval.start()),
        ends_at: to_db_time(interval.end()),
        reason: input.reason.trim().to_owned(),
        created_at: to_db_time(now),
        hold_purpose: held_for,
    };
    diesel::insert_into(blocked_times::table)
        .values(&row)
        .execute(connection)?;
    audit::append(
        connection,
        AuditRecord::success(
            Some(actor.user_id),
            Some(owner.site_id),
            owner.event,
            owner.entity,
            owner.id,
            serde_json::json!({
                "blocked": { "before": null, "after": {
                    "start": interval.start(),
                    "end": interval.end(),
                    "reason": row.reason,
                    "held_for": input.held_for,
                } },
            }),
        ),
        now,
    )?;
    row.into_blocked()
}

fn check_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(StoreError::invalid(
            "name",
            "value.invalid_name",
            "a name has 1 to 200 characters",
        ));
    }
    Ok(name.to_owned())
}

impl Store {
    /// Adds a bookable staff member (administrators and store managers).
    pub fn create_staff_member(
        &self,
        actor: &Actor,
        input: StaffInput,
    ) -> Result<StaffMember, StoreError> {
        require_manager(actor)?;
        let site_id = target_site(actor, input.site_id)?;
        let full_name = tend_core::PersonName::parse(&input.full_name)
            .map_err(|error| StoreError::invalid("full_name", error.code(), error.to_string()))?;
        input.working_hours.to_availability(Vec::new())?;
        let now = self.now();
        let staff = StaffMember {
            id: StaffId::new(),
            site_id,
            full_name: full_name.as_str().to_owned(),
            role: input.role,
            skills: input.skills.into_iter().collect(),
            user_id: input.user_id,
            active: true,
            working_hours: input.working_hours,
            created_at: now,
        };
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            load_site(connection, site_id)?;
            if let Some(user_id) = staff.user_id {
                let user_site = users::table
                    .find(user_id.to_string())
                    .select(users::site_id)
                    .first::<Option<String>>(connection)
                    .optional()?
                    .ok_or(StoreError::UserNotFound)?;
                if user_site.is_some_and(|site| site != site_id.to_string()) {
                    return Err(StoreError::UserNotFound);
                }
            }
            diesel::insert_into(staff_members::table)
                .values(StaffRow {
                    id: staff.id.to_string(),
                    site_id: site_id.to_string(),
                    full_name: staff.full_name.clone(),
                    role: staff.role.as_str().to_owned(),
                    skills: to_json(&staff.skills)?,
                    user_id: staff.user_id.map(|id| id.to_string()),
                    working_hours: to_json(&staff.working_hours)?,
                    created_at: to_db_time(now),
                    deactivated_at: None,
                })
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "staff.created",
                    "staff_member",
                    staff.id,
                    serde_json::json!({
                        "full_name": { "before": null, "after": staff.full_name },
                        "role": { "before": null, "after": staff.role },
                        "skills": { "before": null, "after": staff.skills },
                        "working_hours": { "before": null, "after": staff.working_hours },
                    }),
                ),
                now,
            )?;
            Ok(staff.clone())
        })
    }

    /// The active staff members of a site (the caller's own by default).
    pub fn list_staff(
        &self,
        actor: &Actor,
        site_id: Option<SiteId>,
    ) -> Result<Vec<StaffMember>, StoreError> {
        let site_id = target_site(actor, site_id)?;
        let mut connection = self.connection()?;
        site_staff(&mut connection, site_id)
    }

    pub fn get_staff_member(&self, actor: &Actor, id: StaffId) -> Result<StaffMember, StoreError> {
        let mut connection = self.connection()?;
        load_staff(&mut connection, actor, id)
    }

    /// Replaces a staff member's weekly hours, breaks, date exceptions and emergency windows.
    pub fn set_staff_working_hours(
        &self,
        actor: &Actor,
        id: StaffId,
        hours: WorkingHours,
    ) -> Result<StaffMember, StoreError> {
        require_manager(actor)?;
        hours.to_availability(Vec::new())?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let mut staff = load_staff(connection, actor, id)?;
            diesel::update(staff_members::table.find(id.to_string()))
                .set(staff_members::working_hours.eq(to_json(&hours)?))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(staff.site_id),
                    "staff.working_hours_set",
                    "staff_member",
                    id,
                    serde_json::json!({
                        "working_hours": { "before": staff.working_hours, "after": hours },
                    }),
                ),
                now,
            )?;
            staff.working_hours = hours.clone();
            Ok(staff)
        })
    }

    /// Blocks time of a staff member (leave, a meeting): it is no longer bookable, or, with
    /// `held_for`, bookable only for that purpose. Existing bookings are kept; the caller moves
    /// them.
    pub fn add_staff_time_off(
        &self,
        actor: &Actor,
        id: StaffId,
        input: TimeOffInput,
    ) -> Result<BlockedTime, StoreError> {
        require_manager(actor)?;
        let interval = TimeInterval::new(input.start, input.end)?;
        let held_for = input.held_for.as_ref().map(to_json).transpose()?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let staff = load_staff(connection, actor, id)?;
            let owner = Owner {
                site_id: staff.site_id,
                kind: "staff",
                entity: "staff_member",
                event: "staff.time_blocked",
                id: id.to_string(),
            };
            insert_block(connection, actor, owner, interval, &input, held_for, now)
        })
    }

    /// Blocks time of a room, chair or piece of equipment (maintenance, cleaning), or holds it
    /// for one purpose with `held_for`. Existing bookings are kept; the caller moves them.
    pub fn add_resource_time_off(
        &self,
        actor: &Actor,
        id: ResourceId,
        input: TimeOffInput,
    ) -> Result<BlockedTime, StoreError> {
        require_manager(actor)?;
        let interval = TimeInterval::new(input.start, input.end)?;
        let held_for = input.held_for.as_ref().map(to_json).transpose()?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let resource = load_resource(connection, actor, id)?;
            let owner = Owner {
                site_id: resource.site_id,
                kind: "resource",
                entity: "resource",
                event: "resource.time_blocked",
                id: id.to_string(),
            };
            insert_block(connection, actor, owner, interval, &input, held_for, now)
        })
    }

    /// Adds a room, chair or piece of equipment (administrators and store managers).
    pub fn create_resource(
        &self,
        actor: &Actor,
        input: ResourceInput,
    ) -> Result<ResourceRecord, StoreError> {
        require_manager(actor)?;
        let site_id = target_site(actor, input.site_id)?;
        let name = check_name(&input.name)?;
        if let Some(hours) = &input.working_hours {
            hours.to_availability(Vec::new())?;
        }
        let now = self.now();
        let record = ResourceRecord {
            id: ResourceId::new(),
            site_id,
            name,
            kind: input.kind,
            tags: input.tags,
            working_hours: input.working_hours,
            active: true,
            created_at: now,
        };
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            load_site(connection, site_id)?;
            diesel::insert_into(resources::table)
                .values(ResourceRow {
                    id: record.id.to_string(),
                    site_id: site_id.to_string(),
                    name: record.name.clone(),
                    kind: record.kind.as_str().to_owned(),
                    tags: to_json(&record.tags)?,
                    working_hours: to_json(&record.working_hours)?,
                    created_at: to_db_time(now),
                    deactivated_at: None,
                })
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "resource.created",
                    "resource",
                    record.id,
                    serde_json::json!({
                        "name": { "before": null, "after": record.name },
                        "kind": { "before": null, "after": record.kind },
                        "tags": { "before": null, "after": record.tags },
                        "working_hours": { "before": null, "after": record.working_hours },
                    }),
                ),
                now,
            )?;
            Ok(record.clone())
        })
    }

    pub fn list_resources(
        &self,
        actor: &Actor,
        site_id: Option<SiteId>,
    ) -> Result<Vec<ResourceRecord>, StoreError> {
        let site_id = target_site(actor, site_id)?;
        let mut connection = self.connection()?;
        site_resources(&mut connection, site_id)
    }

    /// Adds a service to a site's catalogue (administrators and store managers).
    pub fn create_service(
        &self,
        actor: &Actor,
        input: ServiceInput,
    ) -> Result<Service, StoreError> {
        require_manager(actor)?;
        let site_id = target_site(actor, input.site_id)?;
        let service = service_from_input(ServiceId::new(), site_id, input)?;
        let now = self.now();
        let definition = to_json(&service)?;
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            load_site(connection, site_id)?;
            diesel::insert_into(services::table)
                .values(ServiceRow {
                    id: service.id().to_string(),
                    site_id: site_id.to_string(),
                    name: service.name().to_owned(),
                    definition: definition.clone(),
                    created_at: to_db_time(now),
                    deactivated_at: None,
                })
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "service.created",
                    "service",
                    service.id(),
                    serde_json::json!({
                        "definition": { "before": null, "after": service },
                    }),
                ),
                now,
            )?;
            Ok(service.clone())
        })
    }

    /// Replaces a service's definition (name, price, duration, requirements, ...). Existing
    /// bookings keep the times and people they were booked with; new searches and bookings use
    /// the new definition.
    pub fn update_service(
        &self,
        actor: &Actor,
        id: ServiceId,
        input: ServiceInput,
    ) -> Result<Service, StoreError> {
        require_manager(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let before = load_service(connection, actor, id)?;
            if input.site_id.is_some_and(|site| site != before.site_id()) {
                return Err(StoreError::invalid(
                    "site_id",
                    "service.site_immutable",
                    "a service stays at its site; create it at the other site instead",
                ));
            }
            let service = service_from_input(id, before.site_id(), input.clone())?;
            diesel::update(services::table.find(id.to_string()))
                .set((
                    services::name.eq(service.name()),
                    services::definition.eq(to_json(&service)?),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(service.site_id()),
                    "service.updated",
                    "service",
                    id,
                    serde_json::json!({
                        "definition": { "before": before, "after": service },
                    }),
                ),
                now,
            )?;
            Ok(service)
        })
    }

    /// Takes a service out of the catalogue: no longer listed, searched or bookable. Existing
    /// bookings stay as they are.
    pub fn deactivate_service(&self, actor: &Actor, id: ServiceId) -> Result<(), StoreError> {
        require_manager(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let service = load_service(connection, actor, id)?;
            diesel::update(services::table.find(id.to_string()))
                .set(services::deactivated_at.eq(Some(to_db_time(now))))
                .execute(connection)?;
            audit_retired(connection, actor, service.site_id(), "service", id, now)
        })
    }

    /// Takes a room, chair or piece of equipment out of use: slot search and booking no longer
    /// consider it. Existing bookings stay as they are.
    pub fn deactivate_resource(&self, actor: &Actor, id: ResourceId) -> Result<(), StoreError> {
        require_manager(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let resource = load_resource(connection, actor, id)?;
            if !resource.active {
                return Err(AppointmentError::ResourceNotFound.into());
            }
            diesel::update(resources::table.find(id.to_string()))
                .set(resources::deactivated_at.eq(Some(to_db_time(now))))
                .execute(connection)?;
            audit_retired(connection, actor, resource.site_id, "resource", id, now)
        })
    }

    /// A site's services, by name.
    pub fn list_services(
        &self,
        actor: &Actor,
        site_id: Option<SiteId>,
    ) -> Result<Vec<Service>, StoreError> {
        let site_id = target_site(actor, site_id)?;
        let mut connection = self.connection()?;
        services::table
            .filter(services::site_id.eq(site_id.to_string()))
            .filter(services::deactivated_at.is_null())
            .order((services::name.asc(), services::id.asc()))
            .select(ServiceRow::as_select())
            .load(&mut *connection)?
            .into_iter()
            .map(ServiceRow::into_service)
            .collect()
    }

    pub fn get_service(&self, actor: &Actor, id: ServiceId) -> Result<Service, StoreError> {
        let mut connection = self.connection()?;
        load_service(&mut connection, actor, id)
    }
}

/// A service definition from its input, checked by the domain.
fn service_from_input(
    id: ServiceId,
    site_id: SiteId,
    input: ServiceInput,
) -> Result<Service, StoreError> {
    Ok(Service::new(ServiceDraft {
        id,
        site_id,
        name: input.name,
        description: input.description,
        price: input.price,
        duration_minutes: input.duration_minutes,
        buffer_before_minutes: input.buffer_before_minutes,
        buffer_after_minutes: input.buffer_after_minutes,
        staff_requirements: input.staff_requirements,
        resource_requirements: input.resource_requirements,
        min_notice_minutes: input.min_notice_minutes,
        booking_horizon_days: input.booking_horizon_days,
        work_kind: input.work_kind,
        urgent: input.urgent,
    })?)
}
