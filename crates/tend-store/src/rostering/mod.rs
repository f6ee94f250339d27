//! Staff and rostering use cases: the rostering side of staff members (skill levels, contract,
//! shift types they may work, preferences), leave, shift types, demand (rules, date overrides,
//! care ratios over planned stays), roster periods with solve jobs, live-checked manual edits,
//! publishing, repair after leave or demand changes, swap requests and exports.
//!
//! The rules live in `tend-staff`; the roster engine is `tend-scheduling`. This module maps the
//! stored facts into the engine's `Problem` (see `model.rs`), and writes every outcome with its
//! audit event in one transaction. See ADR 0006.

mod jobs;
mod model;
mod roster;
mod setup;

use chrono::NaiveDate;
use serde::Serialize;
use tend_core::{Actor, SiteId};
use tend_staff::{ContractError, LeaveError, RosterRule, RosterRuleError, Severity, SkillError};

use crate::error::StoreError;

pub use model::{Explanation, FairnessSummary, StaffSummary, UncoveredShift};
#[cfg(feature = "testing")]
pub use roster::hold::{hold_solves, SolveHold};
pub use roster::{
    AffectedPeriod, AssignmentEdit, AssignmentRecord, EditOutcome, PeriodInput, RepairCandidate,
    RepairChange, RepairInput, RepairOutcome, RepairUncovered, RosterPeriod, RosterView, SolveJob,
    SolveJobHandle, SolveRequest, SwapDecision, SwapInput, SwapRecord,
};
pub use setup::{
    DemandInput, DemandOutcome, DemandSettings, LeaveDecision, LeaveInput, LeaveOutcome,
    LeaveRecord, PeriodRepair, ShiftTypeInput, ShiftTypeRecord, SkillLevelInput, StaffRostering,
    StaffRosteringInput, StayInput, StayOutcome, StayRecord, KNOWN_SKILLS,
};

/// One broken rule found when checking a manual edit, a swap or a repair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleViolation {
    pub rule: RosterRule,
    pub code: &'static str,
    pub severity: Severity,
    pub staff_id: Option<String>,
    pub date: Option<NaiveDate>,
    pub message: String,
}

/// Why a rostering use case refused.
#[derive(Debug, thiserror::Error)]
pub enum RosteringError {
    #[error("no such staff member")]
    StaffNotFound,
    #[error("no such roster period")]
    PeriodNotFound,
    #[error("no such leave request")]
    LeaveNotFound,
    #[error("no such solve job")]
    JobNotFound,
    #[error("no such swap request")]
    SwapNotFound,
    #[error("no such client")]
    ClientNotFound,
    #[error("`{0}` is not a known skill")]
    UnknownSkill(String),
    #[error("`{0}` is not a shift type of this site")]
    UnknownShiftType(String),
    #[error("this site already has a shift type `{0}`")]
    ShiftTypeTaken(String),
    #[error("staff member {0} has no rostering profile (skills and contract); set it first")]
    NotRostered(String),
    #[error("{0} is outside the roster period")]
    DateOutsidePeriod(NaiveDate),
    #[error("the period overlaps the published roster period {0}")]
    OverlapsPublished(String),
    #[error("a solve is already running for this site (job {0}); wait for it or cancel it")]
    SolveRunning(String),
    #[error("the roster period is being solved; edits wait until the job ends or is cancelled")]
    PeriodBeingSolved,
    #[error("the job has already ended ({0})")]
    JobEnded(String),
    #[error("the edit breaks {} hard rule(s); nothing was changed", .0.len())]
    EditConflict(Vec<RuleViolation>),
    #[error("the leave contradicts {} pinned shift(s); unpin them first", .0.len())]
    LeaveContradictsPinned(Vec<NaiveDate>),
    #[error("only a published roster can be repaired")]
    NotPublished,
    #[error(
        "no repair within {max} changes was found (the best needs {needed}); nothing was changed"
    )]
    TooManyChanges { needed: usize, max: usize },
    #[error("the roster cannot be solved as given: {0}")]
    Unsolvable(String),
    #[error("the roster changed while the repair was computed; retry")]
    ChangedConcurrently,
    #[error("chain-wide users name the site")]
    SiteRequired,
    #[error(transparent)]
    Rule(#[from] RosterRuleError),
    #[error(transparent)]
    Leave(#[from] LeaveError),
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error(transparent)]
    Skill(#[from] SkillError),
}

impl RosteringError {
    pub fn code(&self) -> &'static str {
        match self {
            RosteringError::StaffNotFound => "staff.not_found",
            RosteringError::PeriodNotFound => "roster.period_not_found",
            RosteringError::LeaveNotFound => "leave.not_found",
            RosteringError::JobNotFound => "roster.job_not_found",
            RosteringError::SwapNotFound => "swap.not_found",
            RosteringError::ClientNotFound => "client.not_found",
            RosteringError::UnknownSkill(_) => "staff.unknown_skill",
            RosteringError::UnknownShiftType(_) => "roster.unknown_shift_type",
            RosteringError::ShiftTypeTaken(_) => "roster.shift_type_taken",
            RosteringError::NotRostered(_) => "staff.not_rostered",
            RosteringError::DateOutsidePeriod(_) => "roster.date_outside_period",
            RosteringError::OverlapsPublished(_) => "roster.overlaps_published",
            RosteringError::SolveRunning(_) => "roster.solve_running",
            RosteringError::PeriodBeingSolved => "roster.period_being_solved",
            RosteringError::JobEnded(_) => "roster.job_ended",
            RosteringError::EditConflict(_) => "roster.edit_conflict",
            RosteringError::LeaveContradictsPinned(_) => "leave.contradicts_pinned",
            RosteringError::NotPublished => "roster.not_published",
            RosteringError::TooManyChanges { .. } => "roster.repair_too_many_changes",
            RosteringError::Unsolvable(_) => "roster.unsolvable",
            RosteringError::ChangedConcurrently => "roster.changed_concurrently",
            RosteringError::SiteRequired => "value.required",
            RosteringError::Rule(error) => error.code(),
            RosteringError::Leave(error) => error.code(),
            RosteringError::Contract(error) => error.code(),
            RosteringError::Skill(_) => "staff.invalid_skill",
        }
    }

    pub fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind::*;
        match self {
            RosteringError::StaffNotFound
            | RosteringError::PeriodNotFound
            | RosteringError::LeaveNotFound
            | RosteringError::JobNotFound
            | RosteringError::SwapNotFound
            | RosteringError::ClientNotFound => NotFound,
            RosteringError::ShiftTypeTaken(_)
            | RosteringError::OverlapsPublished(_)
            | RosteringError::SolveRunning(_)
            | RosteringError::PeriodBeingSolved
            | RosteringError::JobEnded(_)
            | RosteringError::EditConflict(_)
            | RosteringError::LeaveContradictsPinned(_)
            | RosteringError::NotPublished
            | RosteringError::TooManyChanges { .. }
            | RosteringError::ChangedConcurrently
            | RosteringError::Rule(RosterRuleError::IllegalPeriodTransition { .. })
            | RosteringError::Rule(RosterRuleError::IllegalSwapDecision { .. })
            | RosteringError::Leave(LeaveError::IllegalDecision { .. }) => Conflict,
            RosteringError::UnknownSkill(_)
            | RosteringError::UnknownShiftType(_)
            | RosteringError::NotRostered(_)
            | RosteringError::DateOutsidePeriod(_)
            | RosteringError::Unsolvable(_)
            | RosteringError::SiteRequired
            | RosteringError::Rule(_)
            | RosteringError::Leave(_)
            | RosteringError::Contract(_)
            | RosteringError::Skill(_) => Invalid,
        }
    }

    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            RosteringError::EditConflict(violations) => {
                Some(serde_json::json!({ "violations": violations }))
            }
            RosteringError::LeaveContradictsPinned(days) => {
                Some(serde_json::json!({ "pinned_days": days }))
            }
            RosteringError::TooManyChanges { needed, max } => {
                Some(serde_json::json!({ "needed": needed, "max_changes": max }))
            }
            RosteringError::SolveRunning(job) => Some(serde_json::json!({ "job_id": job })),
            RosteringError::OverlapsPublished(period) => {
                Some(serde_json::json!({ "period_id": period }))
            }
            _ => None,
        }
    }
}

macro_rules! into_store_error {
    ($($domain:ty),*) => {
        $(impl From<$domain> for StoreError {
            fn from(error: $domain) -> StoreError {
                StoreError::Rostering(RosteringError::from(error))
            }
        })*
    };
}
into_store_error!(RosterRuleError, LeaveError, ContractError, SkillError);

impl From<RosteringError> for StoreError {
    fn from(error: RosteringError) -> StoreError {
        StoreError::Rostering(error)
    }
}

/// Rostering tables, private to this module (the shared `schema.rs` stays untouched).
mod tables {
    diesel::table! {
        staff_rostering (staff_id) {
            staff_id -> Text,
            site_id -> Text,
            skill_levels -> Text,
            contract -> Text,
            shift_types -> Text,
            preferences -> Text,
            updated_at -> Timestamp,
            availability -> Text,
        }
    }
    diesel::table! {
        leave_requests (id) {
            id -> Text,
            site_id -> Text,
            staff_id -> Text,
            first_day -> Text,
            last_day -> Text,
            status -> Text,
            reason -> Nullable<Text>,
            created_at -> Timestamp,
            decided_at -> Nullable<Timestamp>,
        }
    }
    diesel::table! {
        shift_types (id) {
            id -> Text,
            site_id -> Text,
            key -> Text,
            start_time -> Text,
            end_time -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        demand_settings (site_id) {
            site_id -> Text,
            rules -> Text,
            overrides -> Text,
            care_ratios -> Text,
            updated_at -> Timestamp,
        }
    }
    diesel::table! {
        client_stays (client_id) {
            client_id -> Text,
            site_id -> Text,
            check_in -> Text,
            check_out -> Text,
            updated_at -> Timestamp,
        }
    }
    diesel::table! {
        roster_periods (id) {
            id -> Text,
            site_id -> Text,
            first_day -> Text,
            last_day -> Text,
            status -> Text,
            explanation -> Nullable<Text>,
            created_at -> Timestamp,
            updated_at -> Timestamp,
            published_at -> Nullable<Timestamp>,
        }
    }
    diesel::table! {
        roster_assignments (period_id, staff_id, day) {
            period_id -> Text,
            staff_id -> Text,
            day -> Text,
            shift_type -> Text,
            pinned -> Bool,
        }
    }
    diesel::table! {
        solve_jobs (id) {
            id -> Text,
            site_id -> Text,
            period_id -> Text,
            status -> Text,
            previous_status -> Text,
            time_limit_seconds -> Integer,
            objective -> Nullable<BigInt>,
            best_bound -> Nullable<BigInt>,
            error -> Nullable<Text>,
            started_at -> Timestamp,
            finished_at -> Nullable<Timestamp>,
            phase -> Nullable<Text>,
            iterations -> Nullable<BigInt>,
            solver_millis -> Nullable<BigInt>,
            owner -> Nullable<Text>,
            heartbeat_at -> Nullable<Timestamp>,
        }
    }
    diesel::table! {
        swap_requests (id) {
            id -> Text,
            site_id -> Text,
            period_id -> Text,
            staff_id -> Text,
            day -> Text,
            other_staff_id -> Text,
            other_day -> Text,
            status -> Text,
            created_at -> Timestamp,
            decided_at -> Nullable<Timestamp>,
        }
    }
    diesel::joinable!(roster_assignments -> roster_periods (period_id));
    diesel::allow_tables_to_appear_in_same_query!(roster_assignments, roster_periods);
}

/// The site a request is about: the one named, else the actor's own; another site is
/// "not found".
fn target_site(actor: &Actor, site_id: Option<SiteId>) -> Result<SiteId, StoreError> {
    let site_id = match (site_id, actor.home_site()) {
        (Some(site_id), _) | (None, Some(site_id)) => site_id,
        (None, None) => return Err(RosteringError::SiteRequired.into()),
    };
    if !actor.can_access_site(site_id) {
        return Err(StoreError::SiteNotFound);
    }
    Ok(site_id)
}

/// Staff, demand and roster changes: administrators and store managers.
fn require_manager(actor: &Actor) -> Result<(), StoreError> {
    if actor.role.manages_site() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "a {} may not change staff records, demand or rosters",
            actor.role
        )))
    }
}

fn from_json<T: serde::de::DeserializeOwned>(
    column: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::corrupt(format!("{column}: {error}")))
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::corrupt(format!("json: {error}")))
}

fn date_text(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn parse_day(column: &'static str, text: &str) -> Result<NaiveDate, StoreError> {
    crate::map::parse_column(column, text, tend_core::parse_date)
}
