//! What a roster is planned from: staff profiles (skill levels, contract, shift types,
//! preferences), leave, shift types, demand and planned client stays.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tend_audit::AuditRecord;
use tend_core::{Actor, ClientId, SiteId, StaffId};
use tend_staff::{
    check_demand, Availability, CareRatio, Contract, DemandOverride, DemandRule, LeaveRequest,
    LeaveStatus, ShiftPreferences, ShiftTypeDefinition, Skill, SkillLevel,
};
use uuid::Uuid;

use super::roster::{write_repair, PublishedDemand};
use super::tables::{client_stays, demand_settings, leave_requests, shift_types, staff_rostering};
use super::{
    date_text, from_json, parse_day, require_manager, target_site, to_json, RosteringError,
};
use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::StoreError;
use crate::map::{is_unique_violation, to_db_time};
use crate::schema::{clients, staff_members};
use crate::sites::load_site;
use crate::Store;

/// The skills a care center rosters with.
pub const KNOWN_SKILLS: &[&str] = &[
    "newborn_care",
    "postpartum_rehabilitation",
    "lactation",
    "nursing",
    "cooking",
    "cleaning",
    "dental_hygiene",
    "front_desk",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillLevelInput {
    pub skill: String,
    pub level: u8,
}

/// The rostering side of a staff member, replaced as a whole.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffRosteringInput {
    pub skills: Vec<SkillLevelInput>,
    pub contract: Contract,
    /// Shift type keys this person may work; empty or absent means all.
    #[serde(default)]
    pub shift_types: Vec<String>,
    #[serde(default)]
    pub preferences: ShiftPreferences,
    /// Weekdays and dates this person can never work.
    #[serde(default)]
    pub availability: Availability,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffRostering {
    pub staff_id: StaffId,
    pub site_id: SiteId,
    pub full_name: String,
    pub skills: Vec<SkillLevel>,
    pub contract: Contract,
    pub shift_types: Vec<String>,
    pub preferences: ShiftPreferences,
    pub availability: Availability,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftTypeInput {
    pub site_id: Option<SiteId>,
    pub key: String,
    /// Local wall-clock start, `HH:MM`.
    pub start: NaiveTime,
    /// Local wall-clock end; not after the start means the next day.
    pub end: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShiftTypeRecord {
    pub id: String,
    pub site_id: SiteId,
    pub key: String,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub length_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandInput {
    pub site_id: Option<SiteId>,
    #[serde(default)]
    pub rules: Vec<DemandRule>,
    #[serde(default)]
    pub overrides: Vec<DemandOverride>,
    #[serde(default)]
    pub care_ratios: Vec<CareRatio>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandSettings {
    pub rules: Vec<DemandRule>,
    pub overrides: Vec<DemandOverride>,
    pub care_ratios: Vec<CareRatio>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveInput {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveDecision {
    /// approved, rejected or cancelled.
    pub status: LeaveStatus,
    /// Whether approving leave over published shifts repairs those published periods at once,
    /// in the approval's transaction (default true). With false the leave is only recorded and
    /// the answer lists the periods that need a repair.
    #[serde(default = "repair_by_default")]
    pub repair: bool,
    /// That repair's bound on changed assignments (refused beyond it, nothing written).
    #[serde(default)]
    pub max_changes: Option<usize>,
    /// That repair's time limit (default 20 s, at most 300 s).
    #[serde(default)]
    pub time_limit_seconds: Option<u32>,
    /// That repair's penalty per changed published assignment (default 200).
    #[serde(default)]
    pub change_weight: Option<u32>,
}

fn repair_by_default() -> bool {
    true
}

impl LeaveDecision {
    /// A decision with the default repair (approved leave over published shifts is repaired).
    pub fn new(status: LeaveStatus) -> LeaveDecision {
        LeaveDecision {
            status,
            repair: true,
            max_changes: None,
            time_limit_seconds: None,
            change_weight: None,
        }
    }

    /// A decision that records the leave and leaves published rosters to a manual repair.
    pub fn without_repair(status: LeaveStatus) -> LeaveDecision {
        LeaveDecision {
            repair: false,
            ..LeaveDecision::new(status)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaveRecord {
    pub id: String,
    pub site_id: SiteId,
    pub staff_id: StaffId,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub status: LeaveStatus,
    pub reason: Option<String>,
}

/// A leave decision, the published shifts it collided with, and how they were repaired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveOutcome {
    pub leave: LeaveRecord,
    /// The published shifts on the leave's days, as they were before any repair.
    pub affected_shifts: Vec<super::AssignmentRecord>,
    /// One repair per published period those shifts were in (approval with `repair`).
    pub repairs: Vec<PeriodRepair>,
    /// Published periods with affected shifts that were not repaired (approval without
    /// `repair`): repair them with `POST /roster-periods/{id}/repair`.
    pub periods_needing_repair: Vec<String>,
}

/// The repair of one published period, written together with the leave approval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodRepair {
    pub period_id: String,
    /// The first day the repair could change: the leave's first day (today if later, the
    /// period's first day if earlier); earlier shifts are kept.
    pub from: NaiveDate,
    #[serde(flatten)]
    pub outcome: super::RepairOutcome,
}

/// Demand settings as stored, and the published periods whose demand they changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemandOutcome {
    #[serde(flatten)]
    pub demand: DemandSettings,
    pub affected_periods: Vec<super::AffectedPeriod>,
}

/// A planned stay as stored, and the published periods whose occupancy-derived demand it
/// changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StayOutcome {
    #[serde(flatten)]
    pub stay: StayRecord,
    pub affected_periods: Vec<super::AffectedPeriod>,
}

/// A client's planned stay at the site (check-in day to check-out day, both included), used for
/// demand derived from occupancy while the client is contracted or checked in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StayInput {
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StayRecord {
    pub client_id: ClientId,
    pub site_id: SiteId,
    pub check_in: NaiveDate,
    pub check_out: NaiveDate,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = staff_rostering)]
struct ProfileRow {
    staff_id: String,
    site_id: String,
    skill_levels: String,
    contract: String,
    shift_types: String,
    preferences: String,
    updated_at: NaiveDateTime,
    availability: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = shift_types)]
struct ShiftTypeRow {
    id: String,
    site_id: String,
    key: String,
    start_time: String,
    end_time: String,
    created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = leave_requests)]
pub(super) struct LeaveRow {
    id: String,
    site_id: String,
    staff_id: String,
    first_day: String,
    last_day: String,
    status: String,
    reason: Option<String>,
    created_at: NaiveDateTime,
    decided_at: Option<NaiveDateTime>,
}

impl LeaveRow {
    pub(super) fn into_record(self) -> Result<LeaveRecord, StoreError> {
        Ok(LeaveRecord {
            site_id: crate::map::parse_column(
                "leave_requests.site_id",
                &self.site_id,
                SiteId::parse,
            )?,
            staff_id: crate::map::parse_column(
                "leave_requests.staff_id",
                &self.staff_id,
                StaffId::parse,
            )?,
            first_day: parse_day("leave_requests.first_day", &self.first_day)?,
            last_day: parse_day("leave_requests.last_day", &self.last_day)?,
            status: LeaveStatus::parse(&self.status)
                .ok_or_else(|| StoreError::corrupt("leave_requests.status"))?,
            reason: self.reason,
            id: self.id,
        })
    }
}

/// A staff member of a site the actor may see: (site, full name).
pub(super) fn load_staff_member(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: StaffId,
) -> Result<(SiteId, String), StoreError> {
    let (site, name) = staff_members::table
        .find(id.to_string())
        .select((staff_members::site_id, staff_members::full_name))
        .first::<(String, String)>(connection)
        .optional()?
        .ok_or(RosteringError::StaffNotFound)?;
    let site = crate::map::parse_column("staff_members.site_id", &site, SiteId::parse)?;
    if !actor.can_access_site(site) {
        return Err(RosteringError::StaffNotFound.into());
    }
    Ok((site, name))
}

/// Every active staff member of the site with a rostering profile, ordered by name.
pub(super) fn site_profiles(
    connection: &mut AnyConnection,
    site_id: SiteId,
) -> Result<Vec<StaffRostering>, StoreError> {
    let names: Vec<(String, String)> = staff_members::table
        .filter(staff_members::site_id.eq(site_id.to_string()))
        .filter(staff_members::deactivated_at.is_null())
        .order((staff_members::full_name.asc(), staff_members::id.asc()))
        .select((staff_members::id, staff_members::full_name))
        .load(connection)?;
    let rows: Vec<ProfileRow> = staff_rostering::table
        .filter(staff_rostering::site_id.eq(site_id.to_string()))
        .select(ProfileRow::as_select())
        .load(connection)?;
    let mut by_id: std::collections::HashMap<String, ProfileRow> = rows
        .into_iter()
        .map(|row| (row.staff_id.clone(), row))
        .collect();
    let mut profiles = Vec::new();
    for (id, name) in names {
        if let Some(row) = by_id.remove(&id) {
            profiles.push(profile_of(row, name)?);
        }
    }
    Ok(profiles)
}

fn profile_of(row: ProfileRow, full_name: String) -> Result<StaffRostering, StoreError> {
    Ok(StaffRostering {
        staff_id: crate::map::parse_column(
            "staff_rostering.staff_id",
            &row.staff_id,
            StaffId::parse,
        )?,
        site_id: crate::map::parse_column("staff_rostering.site_id", &row.site_id, SiteId::parse)?,
        full_name,
        skills: from_json("staff_rostering.skill_levels", &row.skill_levels)?,
        contract: from_json("staff_rostering.contract", &row.contract)?,
        shift_types: from_json("staff_rostering.shift_types", &row.shift_types)?,
        preferences: from_json("staff_rostering.preferences", &row.preferences)?,
        availability: from_json("staff_rostering.availability", &row.availability)?,
    })
}

pub(super) fn site_shift_types(
    connection: &mut AnyConnection,
    site_id: SiteId,
) -> Result<Vec<ShiftTypeRecord>, StoreError> {
    shift_types::table
        .filter(shift_types::site_id.eq(site_id.to_string()))
        .order((shift_types::start_time.asc(), shift_types::key.asc()))
        .select(ShiftTypeRow::as_select())
        .load(connection)?
        .into_iter()
        .map(|row| {
            let parse_time = |column: &'static str, text: &str| {
                NaiveTime::parse_from_str(text, "%H:%M")
                    .map_err(|error| StoreError::corrupt(format!("{column}: {error}")))
            };
            let start = parse_time("shift_types.start_time", &row.start_time)?;
            let end = parse_time("shift_types.end_time", &row.end_time)?;
            let definition = ShiftTypeDefinition::new(&row.key, start, end)
                .map_err(|error| StoreError::corrupt(format!("shift_types: {error}")))?;
            Ok(ShiftTypeRecord {
                id: row.id,
                site_id,
                length_minutes: definition.length_minutes(),
                key: row.key,
                start,
                end,
            })
        })
        .collect()
}

pub(super) fn site_demand(
    connection: &mut AnyConnection,
    site_id: SiteId,
) -> Result<DemandSettings, StoreError> {
    let row = demand_settings::table
        .find(site_id.to_string())
        .select((
            demand_settings::rules,
            demand_settings::overrides,
            demand_settings::care_ratios,
        ))
        .first::<(String, String, String)>(connection)
        .optional()?;
    match row {
        None => Ok(DemandSettings::default()),
        Some((rules, overrides, care_ratios)) => Ok(DemandSettings {
            rules: from_json("demand_settings.rules", &rules)?,
            overrides: from_json("demand_settings.overrides", &overrides)?,
            care_ratios: from_json("demand_settings.care_ratios", &care_ratios)?,
        }),
    }
}

/// Approved leave of the site's staff overlapping `first ..= last`.
pub(super) fn site_leave(
    connection: &mut AnyConnection,
    site_id: SiteId,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<LeaveRecord>, StoreError> {
    leave_requests::table
        .filter(leave_requests::site_id.eq(site_id.to_string()))
        .filter(leave_requests::status.eq(LeaveStatus::Approved.as_str()))
        .filter(leave_requests::first_day.le(date_text(last)))
        .filter(leave_requests::last_day.ge(date_text(first)))
        .select(LeaveRow::as_select())
        .load(connection)?
        .into_iter()
        .map(LeaveRow::into_record)
        .collect()
}

/// Planned stays overlapping `first ..= last` of clients who are contracted or checked in.
pub(super) fn site_stays(
    connection: &mut AnyConnection,
    site_id: SiteId,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<(NaiveDate, NaiveDate)>, StoreError> {
    let stays: Vec<(String, String, String)> = client_stays::table
        .filter(client_stays::site_id.eq(site_id.to_string()))
        .filter(client_stays::check_in.le(date_text(last)))
        .filter(client_stays::check_out.ge(date_text(first)))
        .select((
            client_stays::client_id,
            client_stays::check_in,
            client_stays::check_out,
        ))
        .load(connection)?;
    let mut out = Vec::new();
    for (client_id, check_in, check_out) in stays {
        let status = clients::table
            .find(&client_id)
            .select(clients::status)
            .first::<String>(connection)
            .optional()?;
        if matches!(status.as_deref(), Some("contracted" | "checked_in")) {
            out.push((
                parse_day("client_stays.check_in", &check_in)?,
                parse_day("client_stays.check_out", &check_out)?,
            ));
        }
    }
    Ok(out)
}

fn parse_skill(text: &str) -> Result<Skill, StoreError> {
    let skill = Skill::parse(text)?;
    if !KNOWN_SKILLS.contains(&skill.as_str()) {
        return Err(RosteringError::UnknownSkill(text.to_owned()).into());
    }
    Ok(skill)
}

fn check_known_skill(skill: &Skill) -> Result<(), StoreError> {
    if KNOWN_SKILLS.contains(&skill.as_str()) {
        Ok(())
    } else {
        Err(RosteringError::UnknownSkill(skill.to_string()).into())
    }
}

fn check_shift_keys<'a>(
    known: &[ShiftTypeRecord],
    keys: impl IntoIterator<Item = &'a String>,
) -> Result<(), StoreError> {
    for key in keys {
        if !known.iter().any(|shift| &shift.key == key) {
            return Err(RosteringError::UnknownShiftType(key.clone()).into());
        }
    }
    Ok(())
}

/// A leave request of a site the actor may see.
fn load_leave(
    connection: &mut AnyConnection,
    actor: &Actor,
    leave_id: &str,
) -> Result<LeaveRecord, StoreError> {
    let record = leave_requests::table
        .find(leave_id)
        .select(LeaveRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(RosteringError::LeaveNotFound)?
        .into_record()?;
    if !actor.can_access_site(record.site_id) {
        return Err(RosteringError::LeaveNotFound.into());
    }
    Ok(record)
}

/// The request after the decision, if the decision is legal from where it stands.
fn decide(record: &LeaveRecord, status: LeaveStatus) -> Result<LeaveRequest, StoreError> {
    let mut request = LeaveRequest::restore(
        record.staff_id,
        record.first_day,
        record.last_day,
        record.status,
        record.reason.clone(),
    )?;
    request.decide(status)?;
    Ok(request)
}

/// Leave cannot be approved over pinned shifts: unpin them first.
fn refuse_over_pinned(overlapping: &[super::AssignmentRecord]) -> Result<(), StoreError> {
    let pinned: Vec<NaiveDate> = overlapping
        .iter()
        .filter(|a| a.pinned)
        .map(|a| a.date)
        .collect();
    if pinned.is_empty() {
        Ok(())
    } else {
        Err(RosteringError::LeaveContradictsPinned(pinned).into())
    }
}

impl Store {
    /// Sets a staff member's skill levels, contract, allowed shift types and preferences.
    pub fn set_staff_rostering(
        &self,
        actor: &Actor,
        staff_id: StaffId,
        input: StaffRosteringInput,
    ) -> Result<StaffRostering, StoreError> {
        require_manager(actor)?;
        let mut skills = Vec::new();
        for skill in &input.skills {
            skills.push(SkillLevel::new(parse_skill(&skill.skill)?, skill.level)?);
        }
        input.contract.validate()?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let (site_id, full_name) = load_staff_member(connection, actor, staff_id)?;
            let known = site_shift_types(connection, site_id)?;
            check_shift_keys(&known, &input.shift_types)?;
            check_shift_keys(
                &known,
                input
                    .preferences
                    .unwanted_shift_types
                    .iter()
                    .chain(&input.preferences.wanted_shift_types),
            )?;
            let row = ProfileRow {
                staff_id: staff_id.to_string(),
                site_id: site_id.to_string(),
                skill_levels: to_json(&skills)?,
                contract: to_json(&input.contract)?,
                shift_types: to_json(&input.shift_types)?,
                preferences: to_json(&input.preferences)?,
                updated_at: to_db_time(now),
                availability: to_json(&input.availability)?,
            };
            diesel::delete(staff_rostering::table.find(staff_id.to_string()))
                .execute(connection)?;
            diesel::insert_into(staff_rostering::table)
                .values(&row)
                .execute(connection)?;
            let profile = profile_of(row, full_name)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "staff.rostering_set",
                    "staff_member",
                    staff_id,
                    serde_json::json!({
                        "skills": { "after": profile.skills },
                        "contract": { "after": profile.contract },
                        "shift_types": { "after": profile.shift_types },
                        "preferences": { "after": profile.preferences },
                        "availability": { "after": profile.availability },
                    }),
                ),
                now,
            )?;
            Ok(profile)
        })
    }

    pub fn get_staff_rostering(
        &self,
        actor: &Actor,
        staff_id: StaffId,
    ) -> Result<StaffRostering, StoreError> {
        let mut connection = self.connection()?;
        let (_, full_name) = load_staff_member(&mut connection, actor, staff_id)?;
        let row = staff_rostering::table
            .find(staff_id.to_string())
            .select(ProfileRow::as_select())
            .first(&mut connection)
            .optional()?
            .ok_or_else(|| RosteringError::NotRostered(staff_id.to_string()))?;
        profile_of(row, full_name)
    }

    /// Adds a shift type to a site.
    pub fn create_shift_type(
        &self,
        actor: &Actor,
        input: ShiftTypeInput,
    ) -> Result<ShiftTypeRecord, StoreError> {
        require_manager(actor)?;
        let site_id = target_site(actor, input.site_id)?;
        let definition = ShiftTypeDefinition::new(&input.key, input.start, input.end)?;
        let now = self.now();
        let record = ShiftTypeRecord {
            id: Uuid::now_v7().to_string(),
            site_id,
            key: definition.key().to_owned(),
            start: definition.start(),
            end: definition.end(),
            length_minutes: definition.length_minutes(),
        };
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            load_site(connection, site_id)?;
            diesel::insert_into(shift_types::table)
                .values(ShiftTypeRow {
                    id: record.id.clone(),
                    site_id: site_id.to_string(),
                    key: record.key.clone(),
                    start_time: record.start.format("%H:%M").to_string(),
                    end_time: record.end.format("%H:%M").to_string(),
                    created_at: to_db_time(now),
                })
                .execute(connection)
                .map_err(|error| {
                    if is_unique_violation(&error) {
                        StoreError::from(RosteringError::ShiftTypeTaken(record.key.clone()))
                    } else {
                        error.into()
                    }
                })?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "roster.shift_type_created",
                    "shift_type",
                    &record.id,
                    serde_json::json!({
                        "key": { "after": record.key },
                        "start": { "after": record.start },
                        "end": { "after": record.end },
                    }),
                ),
                now,
            )?;
            Ok(record.clone())
        })
    }

    pub fn list_shift_types(
        &self,
        actor: &Actor,
        site_id: Option<SiteId>,
    ) -> Result<Vec<ShiftTypeRecord>, StoreError> {
        let site_id = target_site(actor, site_id)?;
        let mut connection = self.connection()?;
        site_shift_types(&mut connection, site_id)
    }

    /// Replaces a site's demand rules, date overrides and care ratios. Published rosters are
    /// not rewritten: the answer lists the published periods whose demand changed (from today
    /// on) and whether each needs a repair.
    pub fn set_demand(
        &self,
        actor: &Actor,
        input: DemandInput,
    ) -> Result<DemandOutcome, StoreError> {
        require_manager(actor)?;
        let site_id = target_site(actor, input.site_id)?;
        for level in input
            .rules
            .iter()
            .map(|r| r.min_level)
            .chain(input.overrides.iter().map(|r| r.min_level))
            .flatten()
        {
            if !(1..=5).contains(&level) {
                return Err(tend_staff::SkillError::InvalidLevel(level).into());
            }
        }
        for rule in &input.rules {
            check_demand(&rule.shift_type, rule.required, rule.preferred)?;
            if let Some(skill) = &rule.skill {
                check_known_skill(skill)?;
            }
        }
        for rule in &input.overrides {
            check_demand(&rule.shift_type, rule.required, rule.preferred)?;
            if let Some(skill) = &rule.skill {
                check_known_skill(skill)?;
            }
        }
        for ratio in &input.care_ratios {
            check_known_skill(&ratio.skill)?;
            if ratio.clients_per_staff == 0 {
                return Err(tend_staff::RosterRuleError::ZeroCareRatio.into());
            }
        }
        let settings = DemandSettings {
            rules: input.rules,
            overrides: input.overrides,
            care_ratios: input.care_ratios,
        };
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            load_site(connection, site_id)?;
            let known = site_shift_types(connection, site_id)?;
            check_shift_keys(
                &known,
                settings
                    .rules
                    .iter()
                    .map(|rule| &rule.shift_type)
                    .chain(settings.overrides.iter().map(|rule| &rule.shift_type))
                    .chain(settings.care_ratios.iter().map(|rule| &rule.shift_type)),
            )?;
            let before = site_demand(connection, site_id)?;
            let published = PublishedDemand::before_change(connection, site_id, now)?;
            diesel::delete(demand_settings::table.find(site_id.to_string())).execute(connection)?;
            diesel::insert_into(demand_settings::table)
                .values((
                    demand_settings::site_id.eq(site_id.to_string()),
                    demand_settings::rules.eq(to_json(&settings.rules)?),
                    demand_settings::overrides.eq(to_json(&settings.overrides)?),
                    demand_settings::care_ratios.eq(to_json(&settings.care_ratios)?),
                    demand_settings::updated_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            let affected_periods = published.affected(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "roster.demand_set",
                    "site",
                    site_id,
                    serde_json::json!({
                        "demand": { "before": before, "after": settings },
                        "affected_periods": affected_periods
                            .iter()
                            .map(|p| &p.period_id)
                            .collect::<Vec<_>>(),
                    }),
                ),
                now,
            )?;
            Ok(DemandOutcome {
                demand: settings.clone(),
                affected_periods,
            })
        })
    }

    pub fn get_demand(
        &self,
        actor: &Actor,
        site_id: Option<SiteId>,
    ) -> Result<DemandSettings, StoreError> {
        let site_id = target_site(actor, site_id)?;
        let mut connection = self.connection()?;
        site_demand(&mut connection, site_id)
    }

    /// Records a leave request (managers, or the staff member's own user).
    pub fn request_leave(
        &self,
        actor: &Actor,
        staff_id: StaffId,
        input: LeaveInput,
    ) -> Result<LeaveRecord, StoreError> {
        let request = LeaveRequest::new(staff_id, input.first_day, input.last_day, input.reason)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let (site_id, _) = load_staff_member(connection, actor, staff_id)?;
            if !actor.role.manages_site() {
                let own = staff_members::table
                    .find(staff_id.to_string())
                    .select(staff_members::user_id)
                    .first::<Option<String>>(connection)?;
                if own != Some(actor.user_id.to_string()) {
                    return Err(StoreError::Forbidden(
                        "only managers request leave for someone else".into(),
                    ));
                }
            }
            let record = LeaveRecord {
                id: Uuid::now_v7().to_string(),
                site_id,
                staff_id,
                first_day: request.first_day(),
                last_day: request.last_day(),
                status: request.status,
                reason: request.reason.clone(),
            };
            diesel::insert_into(leave_requests::table)
                .values(LeaveRow {
                    id: record.id.clone(),
                    site_id: site_id.to_string(),
                    staff_id: staff_id.to_string(),
                    first_day: date_text(record.first_day),
                    last_day: date_text(record.last_day),
                    status: record.status.as_str().to_owned(),
                    reason: record.reason.clone(),
                    created_at: to_db_time(now),
                    decided_at: None,
                })
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "leave.requested",
                    "leave_request",
                    &record.id,
                    serde_json::json!({
                        "staff_id": { "after": staff_id },
                        "first_day": { "after": record.first_day },
                        "last_day": { "after": record.last_day },
                    }),
                ),
                now,
            )?;
            Ok(record)
        })
    }

    pub fn list_leave(
        &self,
        actor: &Actor,
        staff_id: StaffId,
    ) -> Result<Vec<LeaveRecord>, StoreError> {
        let mut connection = self.connection()?;
        load_staff_member(&mut connection, actor, staff_id)?;
        leave_requests::table
            .filter(leave_requests::staff_id.eq(staff_id.to_string()))
            .order(leave_requests::first_day.asc())
            .select(LeaveRow::as_select())
            .load(&mut connection)?
            .into_iter()
            .map(LeaveRow::into_record)
            .collect()
    }

    /// Approves, rejects or cancels leave. Approval is refused when it contradicts pinned
    /// shifts. Approval over published shifts repairs each published period they are in (unless
    /// the decision opts out): the repairs are computed first, outside any transaction, then the
    /// approval and every repair commit in one transaction, which refuses with
    /// `roster.changed_concurrently` if a roster moved meanwhile; a repair that fails (too many
    /// changes, unsolvable) refuses the approval too. Nothing is ever half-written.
    pub fn decide_leave(
        &self,
        actor: &Actor,
        leave_id: &str,
        decision: LeaveDecision,
    ) -> Result<LeaveOutcome, StoreError> {
        require_manager(actor)?;
        let mut connection = self.connection()?;
        let record = load_leave(&mut connection, actor, leave_id)?;
        let decided = decide(&record, decision.status)?;
        let overlapping = super::roster::staff_assignments(
            &mut connection,
            record.staff_id,
            record.first_day,
            record.last_day,
        )?;
        drop(connection);
        let approving = decided.status == LeaveStatus::Approved;
        if approving {
            refuse_over_pinned(&overlapping)?;
        }
        let affected_shifts: Vec<super::AssignmentRecord> = if approving {
            overlapping.into_iter().filter(|a| a.published).collect()
        } else {
            Vec::new()
        };
        let affected_periods: BTreeSet<String> = affected_shifts
            .iter()
            .map(|a| a.period_id.clone())
            .collect();
        let approved = LeaveRecord {
            status: decided.status,
            ..record.clone()
        };
        let mut plans = Vec::new();
        let mut periods_needing_repair = Vec::new();
        for period_id in affected_periods {
            let mut start = self.repair_start(actor, &period_id)?;
            // The repair window opens with the leave (or today, if it began earlier): shifts
            // before it stay as published.
            let from = start.first_repair_day(Some(record.first_day.max(start.today)));
            if from > start.period.last_day {
                // Only past shifts collide: there is nothing left to repair.
                continue;
            }
            if !decision.repair {
                periods_needing_repair.push(period_id);
                continue;
            }
            start.context.leave.push(approved.clone());
            plans.push(start.plan(&super::RepairInput {
                from: Some(from),
                max_changes: decision.max_changes,
                time_limit_seconds: decision.time_limit_seconds,
                change_weight: decision.change_weight,
            })?);
        }
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            super::roster::lock_rosters(connection)?;
            // Decided again on the row as it is now: a concurrent decision wins, or this one
            // is refused as illegal.
            let current = load_leave(connection, actor, leave_id)?;
            let decided = decide(&current, decision.status)?;
            if approving {
                let overlapping = super::roster::staff_assignments(
                    connection,
                    current.staff_id,
                    current.first_day,
                    current.last_day,
                )?;
                refuse_over_pinned(&overlapping)?;
            }
            diesel::update(leave_requests::table.find(leave_id))
                .set((
                    leave_requests::status.eq(decided.status.as_str()),
                    leave_requests::decided_at.eq(Some(to_db_time(now))),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(current.site_id),
                    "leave.decided",
                    "leave_request",
                    leave_id,
                    serde_json::json!({
                        "status": { "before": current.status, "after": decided.status },
                        "repaired_periods": plans.iter().map(|p| p.period_id()).collect::<Vec<_>>(),
                        "periods_needing_repair": periods_needing_repair,
                    }),
                ),
                now,
            )?;
            for plan in &plans {
                write_repair(connection, actor, plan, now, Some(leave_id))?;
            }
            Ok(())
        })?;
        Ok(LeaveOutcome {
            leave: approved,
            affected_shifts,
            repairs: plans
                .into_iter()
                .map(|plan| PeriodRepair {
                    period_id: plan.period_id().to_owned(),
                    from: plan.first_day(),
                    outcome: plan.outcome,
                })
                .collect(),
            periods_needing_repair,
        })
    }

    /// Sets a client's planned stay; occupancy-derived demand counts it while the client is
    /// contracted or checked in. Published rosters are not rewritten: the answer lists the
    /// published periods whose demand the stay changed and whether each needs a repair.
    pub fn set_client_stay(
        &self,
        actor: &Actor,
        client_id: ClientId,
        input: StayInput,
    ) -> Result<StayOutcome, StoreError> {
        require_manager(actor)?;
        if input.check_out < input.check_in {
            return Err(StoreError::invalid(
                "check_out",
                "value.out_of_range",
                "the check-out day is on or after the check-in day",
            ));
        }
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let site = clients::table
                .find(client_id.to_string())
                .select(clients::site_id)
                .first::<String>(connection)
                .optional()?
                .ok_or(RosteringError::ClientNotFound)?;
            let site_id = crate::map::parse_column("clients.site_id", &site, SiteId::parse)?;
            if !actor.can_access_site(site_id) {
                return Err(RosteringError::ClientNotFound.into());
            }
            let published = PublishedDemand::before_change(connection, site_id, now)?;
            diesel::delete(client_stays::table.find(client_id.to_string())).execute(connection)?;
            diesel::insert_into(client_stays::table)
                .values((
                    client_stays::client_id.eq(client_id.to_string()),
                    client_stays::site_id.eq(site_id.to_string()),
                    client_stays::check_in.eq(date_text(input.check_in)),
                    client_stays::check_out.eq(date_text(input.check_out)),
                    client_stays::updated_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            let affected_periods = published.affected(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "client.stay_planned",
                    "client",
                    client_id,
                    serde_json::json!({
                        "check_in": { "after": input.check_in },
                        "check_out": { "after": input.check_out },
                        "affected_periods": affected_periods
                            .iter()
                            .map(|p| &p.period_id)
                            .collect::<Vec<_>>(),
                    }),
                ),
                now,
            )?;
            Ok(StayOutcome {
                stay: StayRecord {
                    client_id,
                    site_id,
                    check_in: input.check_in,
                    check_out: input.check_out,
                },
                affected_periods,
            })
        })
    }
}
