//! Roster periods: creation, solve jobs (one running per site, enforced by a partial unique
//! index), live-checked manual edits and pins, publishing, repair, swap requests and exports.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tend_audit::AuditRecord;
use tend_core::{Actor, SiteId, StaffId};
use tend_scheduling::SolveOptions;
use tend_staff::{period_days, RosterStatus, SwapStatus};
use uuid::Uuid;

use super::jobs::{self, ProgressWriter, Registration};
use super::model::{new_violations, severity_is_hard, Build, Context, Explanation};

/// A roster as (staff id, day index, shift type key) triples, the engine's view.
type Roster = Vec<(String, usize, String)>;
use super::setup::{site_demand, site_leave, site_profiles, site_shift_types, site_stays};
use super::tables::{roster_assignments, roster_periods, solve_jobs, swap_requests};
use super::{
    date_text, from_json, parse_day, require_manager, target_site, to_json, RosteringError,
    RuleViolation,
};
use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::StoreError;
use crate::map::{from_db_time, is_unique_violation, parse_column, to_db_time};
use crate::sites::load_site;
use crate::Store;

/// Default and largest solve time limits.
pub const DEFAULT_SOLVE_SECONDS: u32 = 20;
pub const MAX_SOLVE_SECONDS: u32 = 300;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodInput {
    pub site_id: Option<SiteId>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosterPeriod {
    pub id: String,
    pub site_id: SiteId,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub status: RosterStatus,
    pub published_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentRecord {
    pub period_id: String,
    pub staff_id: String,
    pub date: NaiveDate,
    pub shift_type: String,
    pub pinned: bool,
    /// Whether the period is published.
    pub published: bool,
}

/// A period with its roster and the explanation of its last solve or repair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosterView {
    pub period: RosterPeriod,
    pub assignments: Vec<AssignmentRecord>,
    pub explanation: Option<Explanation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolveRequest {
    pub time_limit_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolveJob {
    pub id: String,
    pub site_id: SiteId,
    pub period_id: String,
    /// running, succeeded, failed or cancelled.
    pub status: String,
    /// While running, the engine's phase (`starting`, `construction`, `full model (first look)`,
    /// `neighbourhood search`, `full model (bound)`); then `finished`, `failed`, `stopping` (cancelled,
    /// the solver not yet stopped), `stopped` (cancelled and stopped) or `interrupted` (its
    /// server stopped).
    pub phase: Option<String>,
    pub time_limit_seconds: u32,
    /// Elapsed time over the time limit while running (the solve stops at the limit); 1 when
    /// ended.
    pub progress: f64,
    /// While running, the best roster's penalty so far (none before the first complete roster);
    /// the result's once succeeded.
    pub objective: Option<i64>,
    /// The best proven lower bound so far, then the result's.
    pub best_bound: Option<i64>,
    /// `(objective − bound) / objective` when both are known (0 when both are 0).
    pub gap: Option<f64>,
    /// Neighbourhood solves so far.
    pub iterations: Option<u64>,
    /// The solver's own elapsed seconds at its last progress report.
    pub solver_seconds: Option<f64>,
    /// Seconds since the job started (until it ended, once it has), by the server's clock.
    pub elapsed_seconds: f64,
    pub error: Option<String>,
    pub started_at: chrono::DateTime<Utc>,
    pub finished_at: Option<chrono::DateTime<Utc>>,
    /// When the process running the job last showed it was alive (written at least every few
    /// seconds while it runs).
    pub heartbeat_at: Option<chrono::DateTime<Utc>>,
}

/// A running solve job's thread; `wait` joins it (tests), dropping detaches it (the API).
#[derive(Debug)]
pub struct SolveJobHandle {
    pub job: SolveJob,
    thread: Option<std::thread::JoinHandle<Result<SolveJob, StoreError>>>,
}

impl SolveJobHandle {
    pub fn wait(mut self) -> Result<SolveJob, StoreError> {
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| StoreError::corrupt("the solve thread panicked"))?,
            None => Ok(self.job.clone()),
        }
    }
}

/// A manual edit: give `staff_id` the shift `shift_type` on `date` (none: a day off), and pin or
/// unpin it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentEdit {
    pub staff_id: StaffId,
    pub date: NaiveDate,
    pub shift_type: Option<String>,
    #[serde(default)]
    pub pinned: bool,
}

/// An accepted edit with the soft rules it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditOutcome {
    pub assignment: Option<AssignmentRecord>,
    pub warnings: Vec<RuleViolation>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairInput {
    /// First day that may change (default: today at the site, or the period's first day).
    pub from: Option<NaiveDate>,
    /// Refuse a repair that needs more changes than this.
    pub max_changes: Option<usize>,
    pub time_limit_seconds: Option<u32>,
    /// Penalty per changed published assignment (default 200; uncovered demand costs 1000).
    pub change_weight: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairChange {
    pub staff_id: String,
    pub date: NaiveDate,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairCandidate {
    pub staff_id: String,
    pub full_name: String,
    /// Soft rules the candidate would break; candidates breaking hard rules are not listed.
    pub warnings: Vec<RuleViolation>,
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepairUncovered {
    pub date: NaiveDate,
    pub shift_type: String,
    pub skill: Option<String>,
    pub missing: u32,
    pub candidates: Vec<RepairCandidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepairOutcome {
    pub changes: Vec<RepairChange>,
    pub uncovered: Vec<RepairUncovered>,
    pub hard_violations: Vec<RuleViolation>,
    pub explanation: Explanation,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapInput {
    pub staff_id: StaffId,
    pub date: NaiveDate,
    pub other_staff_id: StaffId,
    /// Defaults to `date`.
    pub other_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapDecision {
    pub status: SwapStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwapRecord {
    pub id: String,
    pub period_id: String,
    pub staff_id: String,
    pub date: NaiveDate,
    pub other_staff_id: String,
    pub other_date: NaiveDate,
    pub status: SwapStatus,
    pub warnings: Vec<RuleViolation>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = roster_periods)]
struct PeriodRow {
    id: String,
    site_id: String,
    first_day: String,
    last_day: String,
    status: String,
    explanation: Option<String>,
    published_at: Option<NaiveDateTime>,
}

impl PeriodRow {
    fn into_period(self) -> Result<(RosterPeriod, Option<Explanation>), StoreError> {
        let explanation = self
            .explanation
            .as_deref()
            .map(|text| from_json("roster_periods.explanation", text))
            .transpose()?;
        Ok((
            RosterPeriod {
                site_id: parse_column("roster_periods.site_id", &self.site_id, SiteId::parse)?,
                first_day: parse_day("roster_periods.first_day", &self.first_day)?,
                last_day: parse_day("roster_periods.last_day", &self.last_day)?,
                status: RosterStatus::parse(&self.status)
                    .ok_or_else(|| StoreError::corrupt("roster_periods.status"))?,
                published_at: self.published_at.map(from_db_time),
                id: self.id,
            },
            explanation,
        ))
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = roster_assignments)]
struct AssignmentRow {
    period_id: String,
    staff_id: String,
    day: String,
    shift_type: String,
    pinned: bool,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = solve_jobs)]
struct JobRow {
    id: String,
    site_id: String,
    period_id: String,
    status: String,
    previous_status: String,
    time_limit_seconds: i32,
    objective: Option<i64>,
    best_bound: Option<i64>,
    error: Option<String>,
    started_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
    phase: Option<String>,
    iterations: Option<i64>,
    solver_millis: Option<i64>,
    owner: Option<String>,
    heartbeat_at: Option<NaiveDateTime>,
}

impl JobRow {
    /// Whether the job is running in name only: its process stopped.
    fn interrupted(&self, now: chrono::DateTime<Utc>) -> bool {
        self.status == "running"
            && jobs::is_interrupted(
                &self.id,
                self.owner.as_deref(),
                self.heartbeat_at,
                self.started_at,
                self.time_limit_seconds,
                now,
            )
    }

    fn into_job(self, now: chrono::DateTime<Utc>) -> Result<SolveJob, StoreError> {
        let started_at = from_db_time(self.started_at);
        let finished_at = self.finished_at.map(from_db_time);
        let limit = self.time_limit_seconds.max(1) as u32;
        let elapsed_seconds =
            ((finished_at.unwrap_or(now) - started_at).num_milliseconds() as f64 / 1000.0).max(0.0);
        let solver_seconds = self.solver_millis.map(|millis| millis as f64 / 1000.0);
        let progress = if self.status == "running" {
            (elapsed_seconds.max(solver_seconds.unwrap_or(0.0)) / f64::from(limit)).clamp(0.0, 0.99)
        } else {
            1.0
        };
        let gap = match (self.objective, self.best_bound) {
            (Some(objective), Some(bound)) if objective > 0 => {
                Some(((objective - bound) as f64 / objective as f64).max(0.0))
            }
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        Ok(SolveJob {
            id: self.id,
            site_id: parse_column("solve_jobs.site_id", &self.site_id, SiteId::parse)?,
            period_id: self.period_id,
            status: self.status,
            phase: self.phase,
            time_limit_seconds: limit,
            progress,
            objective: self.objective,
            best_bound: self.best_bound,
            gap,
            iterations: self.iterations.map(|n| n.max(0) as u64),
            solver_seconds,
            elapsed_seconds,
            error: self.error,
            started_at,
            finished_at,
            heartbeat_at: self.heartbeat_at.map(from_db_time),
        })
    }
}

fn load_period(
    connection: &mut AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<(RosterPeriod, Option<Explanation>), StoreError> {
    let (period, explanation) = roster_periods::table
        .find(id)
        .select(PeriodRow::as_select())
        .first(connection)
        .optional()?
        .ok_or(RosteringError::PeriodNotFound)?
        .into_period()?;
    if !actor.can_access_site(period.site_id) {
        return Err(RosteringError::PeriodNotFound.into());
    }
    Ok((period, explanation))
}

fn load_assignments(
    connection: &mut AnyConnection,
    period: &RosterPeriod,
) -> Result<Vec<AssignmentRecord>, StoreError> {
    roster_assignments::table
        .filter(roster_assignments::period_id.eq(&period.id))
        .order((
            roster_assignments::day.asc(),
            roster_assignments::staff_id.asc(),
        ))
        .select(AssignmentRow::as_select())
        .load(connection)?
        .into_iter()
        .map(|row| {
            Ok(AssignmentRecord {
                date: parse_day("roster_assignments.day", &row.day)?,
                period_id: row.period_id,
                staff_id: row.staff_id,
                shift_type: row.shift_type,
                pinned: row.pinned,
                published: period.status == RosterStatus::Published,
            })
        })
        .collect()
}

/// A staff member's assignments in every period between `first` and `last`.
pub(super) fn staff_assignments(
    connection: &mut AnyConnection,
    staff_id: StaffId,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<AssignmentRecord>, StoreError> {
    let rows: Vec<(AssignmentRow, String)> = roster_assignments::table
        .inner_join(roster_periods::table)
        .filter(roster_assignments::staff_id.eq(staff_id.to_string()))
        .filter(roster_assignments::day.ge(date_text(first)))
        .filter(roster_assignments::day.le(date_text(last)))
        .select((AssignmentRow::as_select(), roster_periods::status))
        .load(connection)?;
    rows.into_iter()
        .map(|(row, status)| {
            Ok(AssignmentRecord {
                date: parse_day("roster_assignments.day", &row.day)?,
                period_id: row.period_id,
                staff_id: row.staff_id,
                shift_type: row.shift_type,
                pinned: row.pinned,
                published: status == RosterStatus::Published.as_str(),
            })
        })
        .collect()
}

fn load_context(
    connection: &mut AnyConnection,
    period: &RosterPeriod,
) -> Result<Context, StoreError> {
    Ok(Context {
        first_day: period.first_day,
        days: period_days(period.first_day, period.last_day)?,
        shift_types: site_shift_types(connection, period.site_id)?,
        staff: site_profiles(connection, period.site_id)?,
        leave: site_leave(
            connection,
            period.site_id,
            period.first_day,
            period.last_day,
        )?,
        demand: site_demand(connection, period.site_id)?,
        stays: site_stays(
            connection,
            period.site_id,
            period.first_day,
            period.last_day,
        )?,
    })
}

/// Assignments as (staff, day index, shift type) for the engine.
fn as_tuples(context: &Context, assignments: &[AssignmentRecord]) -> Vec<(String, usize, String)> {
    assignments
        .iter()
        .filter_map(|a| {
            context
                .day_of(a.date)
                .map(|day| (a.staff_id.clone(), day, a.shift_type.clone()))
        })
        .collect()
}

fn pinned_tuples(
    context: &Context,
    assignments: &[AssignmentRecord],
) -> Vec<(String, usize, String)> {
    let pinned: Vec<AssignmentRecord> = assignments.iter().filter(|a| a.pinned).cloned().collect();
    as_tuples(context, &pinned)
}

fn set_status(
    connection: &mut AnyConnection,
    period_id: &str,
    status: RosterStatus,
    now: chrono::DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(roster_periods::table.find(period_id))
        .set((
            roster_periods::status.eq(status.as_str()),
            roster_periods::updated_at.eq(to_db_time(now)),
        ))
        .execute(connection)?;
    Ok(())
}

/// Replaces the period's roster with `assignments`.
fn replace_assignments(
    connection: &mut AnyConnection,
    context: &Context,
    period_id: &str,
    assignments: &[(String, usize, String)],
    pinned: &BTreeSet<(String, usize)>,
) -> Result<(), StoreError> {
    diesel::delete(roster_assignments::table.filter(roster_assignments::period_id.eq(period_id)))
        .execute(connection)?;
    let rows: Vec<AssignmentRow> = assignments
        .iter()
        .map(|(staff, day, shift)| AssignmentRow {
            period_id: period_id.to_owned(),
            staff_id: staff.clone(),
            day: date_text(context.date(*day)),
            shift_type: shift.clone(),
            pinned: pinned.contains(&(staff.clone(), *day)),
        })
        .collect();
    // One statement per row: the multi-backend connection has no batch insert.
    for row in rows {
        diesel::insert_into(roster_assignments::table)
            .values(row)
            .execute(connection)?;
    }
    Ok(())
}

fn refuse_overlap_with_published(
    connection: &mut AnyConnection,
    period: &RosterPeriod,
) -> Result<(), StoreError> {
    let overlapping: Option<String> = roster_periods::table
        .filter(roster_periods::site_id.eq(period.site_id.to_string()))
        .filter(roster_periods::status.eq(RosterStatus::Published.as_str()))
        .filter(roster_periods::id.ne(&period.id))
        .filter(roster_periods::first_day.le(date_text(period.last_day)))
        .filter(roster_periods::last_day.ge(date_text(period.first_day)))
        .select(roster_periods::id)
        .first(connection)
        .optional()?;
    match overlapping {
        Some(id) => Err(RosteringError::OverlapsPublished(id).into()),
        None => Ok(()),
    }
}

/// On PostgreSQL, serialises writers of a site's rosters (SQLite's `BEGIN IMMEDIATE` already
/// does), so overlap checks and repairs see a stable roster.
pub(super) fn lock_rosters(connection: &mut AnyConnection) -> Result<(), StoreError> {
    if let AnyConnection::Postgres(postgres) = connection {
        use diesel::connection::SimpleConnection;
        postgres.batch_execute("LOCK TABLE roster_periods IN SHARE ROW EXCLUSIVE MODE")?;
    }
    Ok(())
}

fn solve_options(seconds: u32) -> SolveOptions {
    SolveOptions {
        time_limit: Duration::from_secs(u64::from(seconds)),
        relative_gap: 0.005,
        // One HiGHS thread: measured better than two on the 30-staff benchmark, and it leaves
        // the second core to the web workers.
        threads: 1,
        seed: 1,
        ..SolveOptions::default()
    }
}

fn unsolvable(error: impl std::fmt::Display) -> StoreError {
    RosteringError::Unsolvable(error.to_string()).into()
}

/// Everything a solve thread needs; built in the request, run off the web workers.
#[derive(Debug)]
struct SolveTask {
    job_id: String,
    period: RosterPeriod,
    context: Context,
    problem: tend_scheduling::Problem,
    pinned: BTreeSet<(String, usize)>,
    seconds: u32,
    actor: Actor,
    /// In the registry while the solve runs in this process; holds its cancel flag.
    registration: Registration,
}

impl Store {
    pub fn create_roster_period(
        &self,
        actor: &Actor,
        input: PeriodInput,
    ) -> Result<RosterPeriod, StoreError> {
        require_manager(actor)?;
        let site_id = target_site(actor, input.site_id)?;
        period_days(input.first_day, input.last_day)?;
        let now = self.now();
        let period = RosterPeriod {
            id: Uuid::now_v7().to_string(),
            site_id,
            first_day: input.first_day,
            last_day: input.last_day,
            status: RosterStatus::Draft,
            published_at: None,
        };
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            load_site(connection, site_id)?;
            lock_rosters(connection)?;
            refuse_overlap_with_published(connection, &period)?;
            diesel::insert_into(roster_periods::table)
                .values((
                    roster_periods::id.eq(&period.id),
                    roster_periods::site_id.eq(site_id.to_string()),
                    roster_periods::first_day.eq(date_text(period.first_day)),
                    roster_periods::last_day.eq(date_text(period.last_day)),
                    roster_periods::status.eq(period.status.as_str()),
                    roster_periods::created_at.eq(to_db_time(now)),
                    roster_periods::updated_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site_id),
                    "roster.period_created",
                    "roster_period",
                    &period.id,
                    serde_json::json!({
                        "first_day": { "after": period.first_day },
                        "last_day": { "after": period.last_day },
                    }),
                ),
                now,
            )?;
            Ok(period.clone())
        })
    }

    pub fn list_roster_periods(
        &self,
        actor: &Actor,
        site_id: Option<SiteId>,
    ) -> Result<Vec<RosterPeriod>, StoreError> {
        let site_id = target_site(actor, site_id)?;
        let mut connection = self.connection()?;
        roster_periods::table
            .filter(roster_periods::site_id.eq(site_id.to_string()))
            .order(roster_periods::first_day.asc())
            .select(PeriodRow::as_select())
            .load(&mut connection)?
            .into_iter()
            .map(|row| row.into_period().map(|(period, _)| period))
            .collect()
    }

    pub fn get_roster(&self, actor: &Actor, period_id: &str) -> Result<RosterView, StoreError> {
        let mut connection = self.connection()?;
        let (period, explanation) = load_period(&mut connection, actor, period_id)?;
        let assignments = load_assignments(&mut connection, &period)?;
        Ok(RosterView {
            period,
            assignments,
            explanation,
        })
    }

    /// Starts a solve job for a draft or proposed period. At most one runs per site (a second is
    /// refused by the database's unique index); the solve runs on its own thread.
    pub fn start_solve_job(
        &self,
        actor: &Actor,
        period_id: &str,
        request: SolveRequest,
    ) -> Result<SolveJobHandle, StoreError> {
        require_manager(actor)?;
        let seconds = request
            .time_limit_seconds
            .unwrap_or(DEFAULT_SOLVE_SECONDS)
            .clamp(1, MAX_SOLVE_SECONDS);
        let now = self.now();
        let job_id = Uuid::now_v7().to_string();
        // Registered before the row exists: a job row owned by this process but not registered
        // here is one whose solve died (see `jobs::is_interrupted`).
        let registration = Registration::new(&job_id);
        let mut connection = self.connection()?;
        // A job left running by a stopped process must not block the site (its recovery
        // commits on its own, whatever becomes of this start).
        let (period, _) = load_period(&mut connection, actor, period_id)?;
        self.recover_site_solve_jobs(&mut connection, period.site_id)?;
        let task = write_transaction(&mut connection, |connection| {
            lock_rosters(connection)?;
            let (period, _) = load_period(connection, actor, period_id)?;
            if period.status == RosterStatus::Solving {
                return Err(RosteringError::PeriodBeingSolved.into());
            }
            let next = period.status.transition(RosterStatus::Solving)?;
            let context = load_context(connection, &period)?;
            let assignments = load_assignments(connection, &period)?;
            let pinned_list = pinned_tuples(&context, &assignments);
            let problem = context
                .valid_problem(&Build {
                    pinned: pinned_list.clone(),
                    ..Build::default()
                })
                .map_err(unsolvable)?;
            diesel::insert_into(solve_jobs::table)
                .values((
                    solve_jobs::id.eq(&job_id),
                    solve_jobs::site_id.eq(period.site_id.to_string()),
                    solve_jobs::period_id.eq(&period.id),
                    solve_jobs::status.eq("running"),
                    solve_jobs::previous_status.eq(period.status.as_str()),
                    solve_jobs::time_limit_seconds.eq(seconds as i32),
                    solve_jobs::started_at.eq(to_db_time(now)),
                    solve_jobs::phase.eq(Some(jobs::PHASE_STARTING)),
                    solve_jobs::owner.eq(Some(jobs::this_process())),
                    solve_jobs::heartbeat_at.eq(Some(to_db_time(now))),
                ))
                .execute(connection)
                .map_err(|error| {
                    if is_unique_violation(&error) {
                        RosteringError::SolveRunning(running_job_hint(period.site_id)).into()
                    } else {
                        StoreError::from(error)
                    }
                })?;
            set_status(connection, &period.id, next, now)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(period.site_id),
                    "roster.solve_started",
                    "roster_period",
                    &period.id,
                    serde_json::json!({
                        "status": { "before": period.status, "after": next },
                        "job_id": { "after": job_id },
                        "time_limit_seconds": { "after": seconds },
                    }),
                ),
                now,
            )?;
            Ok(SolveTask {
                job_id: job_id.clone(),
                pinned: pinned_list
                    .into_iter()
                    .map(|(staff, day, _)| (staff, day))
                    .collect(),
                period,
                context,
                problem,
                seconds,
                actor: *actor,
                registration,
            })
        })?;
        drop(connection);
        let job = self.job_by_id(&task.job_id)?;
        let store = self.clone();
        let thread = std::thread::Builder::new()
            .name("tend-roster-solve".into())
            .spawn(move || store.run_solve_task(task))
            .map_err(|error| {
                StoreError::corrupt(format!("cannot start a solve thread: {error}"))
            })?;
        Ok(SolveJobHandle {
            job,
            thread: Some(thread),
        })
    }

    /// Solves a period and waits for the result (the synchronous form of a solve job).
    pub fn solve_roster_period(
        &self,
        actor: &Actor,
        period_id: &str,
        request: SolveRequest,
    ) -> Result<SolveJob, StoreError> {
        self.start_solve_job(actor, period_id, request)?.wait()
    }

    fn job_by_id(&self, job_id: &str) -> Result<SolveJob, StoreError> {
        let mut connection = self.connection()?;
        solve_jobs::table
            .find(job_id)
            .select(JobRow::as_select())
            .first(&mut connection)
            .optional()?
            .ok_or(RosteringError::JobNotFound)?
            .into_job(self.now())
    }

    fn run_solve_task(&self, task: SolveTask) -> Result<SolveJob, StoreError> {
        let started = Instant::now();
        let cancel = task.registration.cancel_flag();
        let (writer, sink) =
            ProgressWriter::start(self.clone(), task.job_id.clone(), cancel.clone());
        hold::wait_while_held(task.period.site_id, &cancel);
        let options = SolveOptions {
            cancel: Some(cancel.clone()),
            progress: Some(sink),
            ..solve_options(task.seconds)
        };
        let outcome = if cancel.is_cancelled() {
            Err("cancelled before the solve started".to_owned())
        } else {
            tend_scheduling::solve(&task.problem, &options).map_err(|error| error.to_string())
        };
        // No progress write may land after the final one.
        writer.stop();
        let outcome = outcome.and_then(|solution| {
            // The independent checker guards the proposal against a solver mistake.
            let broken = tend_scheduling::check(&task.problem, &solution.plan);
            if broken.is_empty() {
                Ok(solution)
            } else {
                Err(format!("the solver returned a roster breaking {broken:?}"))
            }
        });
        tracing::info!(
            job = %task.job_id,
            seconds = started.elapsed().as_secs_f64(),
            ok = outcome.is_ok(),
            cancelled = cancel.is_cancelled(),
            "roster solve finished"
        );
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            lock_rosters(connection)?;
            let job = solve_jobs::table
                .find(&task.job_id)
                .select(JobRow::as_select())
                .first(connection)?;
            if job.status != "running" {
                // Cancelled (or recovered as interrupted) while solving: the result is
                // discarded; a cancelled job now says its solver has stopped.
                if job.status == "cancelled" {
                    diesel::update(solve_jobs::table.find(&task.job_id))
                        .set(solve_jobs::phase.eq(Some(jobs::PHASE_STOPPED)))
                        .execute(connection)?;
                }
                return Ok(());
            }
            let previous = RosterStatus::parse(&job.previous_status)
                .ok_or_else(|| StoreError::corrupt("solve_jobs.previous_status"))?;
            match &outcome {
                Ok(solution) => {
                    let tuples: Vec<(String, usize, String)> = solution
                        .plan
                        .assignments
                        .iter()
                        .map(|a| (a.staff.clone(), a.day, a.shift_type.clone()))
                        .collect();
                    replace_assignments(
                        connection,
                        &task.context,
                        &task.period.id,
                        &tuples,
                        &task.pinned,
                    )?;
                    let explanation = task.context.explain(&tuples, Some(&solution.report));
                    diesel::update(roster_periods::table.find(&task.period.id))
                        .set((
                            roster_periods::status.eq(RosterStatus::Proposed.as_str()),
                            roster_periods::explanation.eq(Some(to_json(&explanation)?)),
                            roster_periods::updated_at.eq(to_db_time(now)),
                        ))
                        .execute(connection)?;
                    diesel::update(solve_jobs::table.find(&task.job_id))
                        .set((
                            solve_jobs::status.eq("succeeded"),
                            solve_jobs::phase.eq(Some(jobs::PHASE_FINISHED)),
                            solve_jobs::objective.eq(Some(solution.report.objective)),
                            solve_jobs::best_bound.eq(Some(solution.report.best_bound)),
                            solve_jobs::iterations.eq(Some(
                                i64::try_from(solution.report.iterations).unwrap_or(i64::MAX),
                            )),
                            solve_jobs::solver_millis
                                .eq(Some((solution.report.seconds * 1000.0).round() as i64)),
                            solve_jobs::finished_at.eq(Some(to_db_time(now))),
                        ))
                        .execute(connection)?;
                    audit::append(
                        connection,
                        AuditRecord::success(
                            Some(task.actor.user_id),
                            Some(task.period.site_id),
                            "roster.proposed",
                            "roster_period",
                            &task.period.id,
                            serde_json::json!({
                                "status": { "before": RosterStatus::Solving, "after": RosterStatus::Proposed },
                                "job_id": task.job_id,
                                "assignments": { "after": tuples.len() },
                                "objective": { "after": solution.report.objective },
                            }),
                        ),
                        now,
                    )?;
                }
                Err(error) => {
                    set_status(connection, &task.period.id, previous, now)?;
                    diesel::update(solve_jobs::table.find(&task.job_id))
                        .set((
                            solve_jobs::status.eq("failed"),
                            solve_jobs::phase.eq(Some(jobs::PHASE_FAILED)),
                            solve_jobs::error.eq(Some(error.clone())),
                            solve_jobs::finished_at.eq(Some(to_db_time(now))),
                        ))
                        .execute(connection)?;
                    audit::append(
                        connection,
                        AuditRecord::success(
                            Some(task.actor.user_id),
                            Some(task.period.site_id),
                            "roster.solve_failed",
                            "roster_period",
                            &task.period.id,
                            serde_json::json!({
                                "status": { "before": RosterStatus::Solving, "after": previous },
                                "job_id": task.job_id,
                            }),
                        ),
                        now,
                    )?;
                }
            }
            Ok(())
        })?;
        drop(connection);
        // Only now does a cancel waiting for this solve learn that it stopped.
        drop(task.registration);
        self.job_by_id(&task.job_id)
    }

    /// A job with its progress. A job still `running` whose process stopped is recovered first
    /// (failed, "interrupted: the server stopped").
    pub fn get_solve_job(&self, actor: &Actor, job_id: &str) -> Result<SolveJob, StoreError> {
        let now = self.now();
        let mut connection = self.connection()?;
        let row = solve_jobs::table
            .find(job_id)
            .select(JobRow::as_select())
            .first(&mut connection)
            .optional()?
            .ok_or(RosteringError::JobNotFound)?;
        let site = parse_column("solve_jobs.site_id", &row.site_id, SiteId::parse)?;
        if !actor.can_access_site(site) {
            return Err(RosteringError::JobNotFound.into());
        }
        if !row.interrupted(now) {
            return row.into_job(now);
        }
        self.recover_site_solve_jobs(&mut connection, site)?;
        drop(connection);
        self.job_by_id(job_id)
    }

    /// Cancels a running job: the period returns to its status before the solve at once (so the
    /// site is free), the solver is told to stop through its cancel flag (in this process at
    /// once, in another by its progress writer within a second), and the result is discarded.
    /// Waits a few seconds for a solve running here to stop: the answer then says `stopped`.
    pub fn cancel_solve_job(&self, actor: &Actor, job_id: &str) -> Result<SolveJob, StoreError> {
        require_manager(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            lock_rosters(connection)?;
            let job = solve_jobs::table
                .find(job_id)
                .select(JobRow::as_select())
                .first(connection)
                .optional()?
                .ok_or(RosteringError::JobNotFound)?;
            let site = parse_column("solve_jobs.site_id", &job.site_id, SiteId::parse)?;
            if !actor.can_access_site(site) {
                return Err(RosteringError::JobNotFound.into());
            }
            if job.status != "running" {
                return Err(RosteringError::JobEnded(job.status).into());
            }
            let previous = RosterStatus::parse(&job.previous_status)
                .ok_or_else(|| StoreError::corrupt("solve_jobs.previous_status"))?;
            set_status(connection, &job.period_id, previous, now)?;
            diesel::update(solve_jobs::table.find(job_id))
                .set((
                    solve_jobs::status.eq("cancelled"),
                    solve_jobs::phase.eq(Some(jobs::PHASE_STOPPING)),
                    solve_jobs::finished_at.eq(Some(to_db_time(now))),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(site),
                    "roster.solve_cancelled",
                    "roster_period",
                    &job.period_id,
                    serde_json::json!({
                        "status": { "before": RosterStatus::Solving, "after": previous },
                        "job_id": job_id,
                    }),
                ),
                now,
            )?;
            Ok(())
        })?;
        drop(connection);
        if !jobs::stop_and_wait(job_id, jobs::CANCEL_WAIT) {
            tracing::warn!(job = %job_id, "the cancelled solve has not stopped yet");
        }
        self.get_solve_job(actor, job_id)
    }

    /// A manual edit, checked live: hard conflicts are refused with every broken rule, soft
    /// ones are accepted and returned as warnings.
    pub fn edit_assignment(
        &self,
        actor: &Actor,
        period_id: &str,
        edit: AssignmentEdit,
    ) -> Result<EditOutcome, StoreError> {
        require_manager(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            lock_rosters(connection)?;
            let (period, _) = load_period(connection, actor, period_id)?;
            if !period.status.editable() {
                return Err(RosteringError::PeriodBeingSolved.into());
            }
            let context = load_context(connection, &period)?;
            let day = context
                .day_of(edit.date)
                .ok_or(RosteringError::DateOutsidePeriod(edit.date))?;
            let staff = edit.staff_id.to_string();
            if !context.staff.iter().any(|p| p.staff_id == edit.staff_id) {
                super::setup::load_staff_member(connection, actor, edit.staff_id)?;
                return Err(RosteringError::NotRostered(staff).into());
            }
            if let Some(shift) = &edit.shift_type {
                if !context.shift_types.iter().any(|s| &s.key == shift) {
                    return Err(RosteringError::UnknownShiftType(shift.clone()).into());
                }
            }
            let assignments = load_assignments(connection, &period)?;
            let before = as_tuples(&context, &assignments);
            let mut after: Vec<(String, usize, String)> = before
                .iter()
                .filter(|(s, d, _)| !(*s == staff && *d == day))
                .cloned()
                .collect();
            if let Some(shift) = &edit.shift_type {
                after.push((staff.clone(), day, shift.clone()));
            }
            let warnings = check_change(&context, &before, &after)?;
            let old = assignments
                .iter()
                .find(|a| a.staff_id == staff && a.date == edit.date)
                .cloned();
            diesel::delete(
                roster_assignments::table
                    .filter(roster_assignments::period_id.eq(&period.id))
                    .filter(roster_assignments::staff_id.eq(&staff))
                    .filter(roster_assignments::day.eq(date_text(edit.date))),
            )
            .execute(connection)?;
            let record = match &edit.shift_type {
                Some(shift) => {
                    diesel::insert_into(roster_assignments::table)
                        .values(AssignmentRow {
                            period_id: period.id.clone(),
                            staff_id: staff.clone(),
                            day: date_text(edit.date),
                            shift_type: shift.clone(),
                            pinned: edit.pinned,
                        })
                        .execute(connection)?;
                    Some(AssignmentRecord {
                        period_id: period.id.clone(),
                        staff_id: staff.clone(),
                        date: edit.date,
                        shift_type: shift.clone(),
                        pinned: edit.pinned,
                        published: period.status == RosterStatus::Published,
                    })
                }
                None => None,
            };
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(period.site_id),
                    "roster.assignment_edited",
                    "roster_period",
                    &period.id,
                    serde_json::json!({
                        "staff_id": staff,
                        "date": edit.date,
                        "shift_type": {
                            "before": old.as_ref().map(|a| &a.shift_type),
                            "after": edit.shift_type,
                        },
                        "pinned": { "before": old.as_ref().map(|a| a.pinned), "after": edit.pinned },
                        "warnings": warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
                    }),
                ),
                now,
            )?;
            Ok(EditOutcome {
                assignment: record,
                warnings,
            })
        })
    }

    /// Publishes a draft or proposed period (refused when it overlaps a published one).
    pub fn publish_roster(&self, actor: &Actor, period_id: &str) -> Result<RosterView, StoreError> {
        require_manager(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            lock_rosters(connection)?;
            let (period, _) = load_period(connection, actor, period_id)?;
            let next = period.status.transition(RosterStatus::Published)?;
            refuse_overlap_with_published(connection, &period)?;
            let context = load_context(connection, &period)?;
            let assignments = load_assignments(connection, &period)?;
            let tuples = as_tuples(&context, &assignments);
            // Refuse to publish hard violations (a draft edited by hand passed the live check,
            // but leave approved since may collide).
            let problem = context.problem(&Build {
                no_minimum_hours: true,
                ..Build::default()
            });
            let hard: Vec<RuleViolation> = context
                .violations(&problem, &tuples)
                .into_iter()
                .filter(severity_is_hard)
                .collect();
            if !hard.is_empty() {
                return Err(RosteringError::EditConflict(hard).into());
            }
            let explanation = context.explain(&tuples, None);
            diesel::update(roster_periods::table.find(&period.id))
                .set((
                    roster_periods::status.eq(next.as_str()),
                    roster_periods::published_at.eq(Some(to_db_time(now))),
                    roster_periods::explanation.eq(Some(to_json(&explanation)?)),
                    roster_periods::updated_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(period.site_id),
                    "roster.published",
                    "roster_period",
                    &period.id,
                    serde_json::json!({
                        "status": { "before": period.status, "after": next },
                        "assignments": tuples.len(),
                    }),
                ),
                now,
            )?;
            let (period, explanation) = load_period(connection, actor, period_id)?;
            let assignments = load_assignments(connection, &period)?;
            Ok(RosterView {
                period,
                assignments,
                explanation,
            })
        })
    }

    /// Repairs a published roster after leave or demand changed: re-solves from `from` on,
    /// keeping the past and pinned shifts, with a penalty on every change to the published
    /// roster and an optional maximum number of changes. All or nothing.
    pub fn repair_roster(
        &self,
        actor: &Actor,
        period_id: &str,
        input: RepairInput,
    ) -> Result<RepairOutcome, StoreError> {
        require_manager(actor)?;
        let start = self.repair_start(actor, period_id)?;
        let plan = start.plan(&input)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            lock_rosters(connection)?;
            write_repair(connection, actor, &plan, now, None)
        })?;
        Ok(plan.outcome)
    }

    /// What a repair of a published period starts from, read outside any transaction (the
    /// solve takes seconds).
    pub(super) fn repair_start(
        &self,
        actor: &Actor,
        period_id: &str,
    ) -> Result<RepairStart, StoreError> {
        let mut connection = self.connection()?;
        let (period, _) = load_period(&mut connection, actor, period_id)?;
        if period.status == RosterStatus::Solving {
            return Err(RosteringError::PeriodBeingSolved.into());
        }
        if period.status != RosterStatus::Published {
            return Err(RosteringError::NotPublished.into());
        }
        let site = load_site(&mut connection, period.site_id)?;
        let context = load_context(&mut connection, &period)?;
        let assignments = load_assignments(&mut connection, &period)?;
        let today = self.now().with_timezone(&site.time_zone.tz()).date_naive();
        Ok(RepairStart {
            period,
            context,
            assignments,
            today,
        })
    }
    /// Asks to swap two staff members' shifts (a day each; one of them may be a day off).
    pub fn request_swap(
        &self,
        actor: &Actor,
        period_id: &str,
        input: SwapInput,
    ) -> Result<SwapRecord, StoreError> {
        let now = self.now();
        let other_date = input.other_date.unwrap_or(input.date);
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let (period, _) = load_period(connection, actor, period_id)?;
            let (_, swapped, warnings) = swapped_roster(connection, &period, &input, other_date)?;
            let _ = swapped;
            let record = SwapRecord {
                id: Uuid::now_v7().to_string(),
                period_id: period.id.clone(),
                staff_id: input.staff_id.to_string(),
                date: input.date,
                other_staff_id: input.other_staff_id.to_string(),
                other_date,
                status: SwapStatus::Requested,
                warnings,
            };
            diesel::insert_into(swap_requests::table)
                .values((
                    swap_requests::id.eq(&record.id),
                    swap_requests::site_id.eq(period.site_id.to_string()),
                    swap_requests::period_id.eq(&period.id),
                    swap_requests::staff_id.eq(&record.staff_id),
                    swap_requests::day.eq(date_text(record.date)),
                    swap_requests::other_staff_id.eq(&record.other_staff_id),
                    swap_requests::other_day.eq(date_text(other_date)),
                    swap_requests::status.eq(record.status.as_str()),
                    swap_requests::created_at.eq(to_db_time(now)),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(period.site_id),
                    "roster.swap_requested",
                    "swap_request",
                    &record.id,
                    serde_json::json!({
                        "staff_id": record.staff_id, "date": record.date,
                        "other_staff_id": record.other_staff_id, "other_date": other_date,
                    }),
                ),
                now,
            )?;
            Ok(record)
        })
    }

    /// A manager approves (the swap is re-checked and applied), rejects or cancels a swap.
    pub fn decide_swap(
        &self,
        actor: &Actor,
        swap_id: &str,
        decision: SwapDecision,
    ) -> Result<SwapRecord, StoreError> {
        require_manager(actor)?;
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            lock_rosters(connection)?;
            let row: (String, String, String, String, String, String) = swap_requests::table
                .find(swap_id)
                .select((
                    swap_requests::period_id,
                    swap_requests::staff_id,
                    swap_requests::day,
                    swap_requests::other_staff_id,
                    swap_requests::other_day,
                    swap_requests::status,
                ))
                .first(connection)
                .optional()?
                .ok_or(RosteringError::SwapNotFound)?;
            let (period_id, staff, day, other, other_day, status) = row;
            let (period, _) = load_period(connection, actor, &period_id).map_err(|error| {
                if matches!(error, StoreError::Rostering(RosteringError::PeriodNotFound)) {
                    RosteringError::SwapNotFound.into()
                } else {
                    error
                }
            })?;
            let status = SwapStatus::parse(&status)
                .ok_or_else(|| StoreError::corrupt("swap_requests.status"))?;
            let next = status.decide(decision.status)?;
            let input = SwapInput {
                staff_id: parse_column("swap_requests.staff_id", &staff, StaffId::parse)?,
                date: parse_day("swap_requests.day", &day)?,
                other_staff_id: parse_column(
                    "swap_requests.other_staff_id",
                    &other,
                    StaffId::parse,
                )?,
                other_date: None,
            };
            let other_date = parse_day("swap_requests.other_day", &other_day)?;
            let mut warnings = Vec::new();
            if next == SwapStatus::Approved {
                if !period.status.editable() {
                    return Err(RosteringError::PeriodBeingSolved.into());
                }
                let (context, swapped, found) =
                    swapped_roster(connection, &period, &input, other_date)?;
                warnings = found;
                let pinned: BTreeSet<(String, usize)> = load_assignments(connection, &period)?
                    .iter()
                    .filter(|a| a.pinned)
                    .filter_map(|a| context.day_of(a.date).map(|d| (a.staff_id.clone(), d)))
                    .collect();
                replace_assignments(connection, &context, &period.id, &swapped, &pinned)?;
            }
            diesel::update(swap_requests::table.find(swap_id))
                .set((
                    swap_requests::status.eq(next.as_str()),
                    swap_requests::decided_at.eq(Some(to_db_time(now))),
                ))
                .execute(connection)?;
            audit::append(
                connection,
                AuditRecord::success(
                    Some(actor.user_id),
                    Some(period.site_id),
                    "roster.swap_decided",
                    "swap_request",
                    swap_id,
                    serde_json::json!({ "status": { "before": status, "after": next } }),
                ),
                now,
            )?;
            Ok(SwapRecord {
                id: swap_id.to_owned(),
                period_id: period.id,
                staff_id: staff,
                date: input.date,
                other_staff_id: other,
                other_date,
                status: next,
                warnings,
            })
        })
    }

    /// The roster as CSV: one row per staff member, one column per day, shift keys in cells.
    pub fn roster_csv(&self, actor: &Actor, period_id: &str) -> Result<String, StoreError> {
        let mut connection = self.connection()?;
        let (period, _) = load_period(&mut connection, actor, period_id)?;
        let context = load_context(&mut connection, &period)?;
        let assignments = load_assignments(&mut connection, &period)?;
        let mut cells: BTreeMap<(String, NaiveDate), String> = BTreeMap::new();
        for a in &assignments {
            cells.insert((a.staff_id.clone(), a.date), a.shift_type.clone());
        }
        let mut out = String::from("staff_id,full_name");
        for day in 0..context.days {
            out.push(',');
            out.push_str(&date_text(context.date(day)));
        }
        out.push_str("\r\n");
        for profile in &context.staff {
            let id = profile.staff_id.to_string();
            out.push_str(&id);
            out.push(',');
            out.push_str(&csv_field(&profile.full_name));
            for day in 0..context.days {
                out.push(',');
                if let Some(shift) = cells.get(&(id.clone(), context.date(day))) {
                    out.push_str(&csv_field(shift));
                }
            }
            out.push_str("\r\n");
        }
        Ok(out)
    }

    /// One staff member's shifts in a period as iCalendar (RFC 5545), local shift times of the
    /// site's time zone written as UTC instants.
    pub fn staff_roster_ics(
        &self,
        actor: &Actor,
        period_id: &str,
        staff_id: StaffId,
    ) -> Result<String, StoreError> {
        let mut connection = self.connection()?;
        let (period, _) = load_period(&mut connection, actor, period_id)?;
        let (staff_site, full_name) =
            super::setup::load_staff_member(&mut connection, actor, staff_id)?;
        if staff_site != period.site_id {
            return Err(RosteringError::StaffNotFound.into());
        }
        let site = load_site(&mut connection, period.site_id)?;
        let shift_types = site_shift_types(&mut connection, period.site_id)?;
        let assignments = load_assignments(&mut connection, &period)?;
        let tz = site.time_zone.tz();
        let local = |date: NaiveDate, time: chrono::NaiveTime| {
            let naive = date.and_time(time);
            tz.from_local_datetime(&naive)
                .earliest()
                .or_else(|| {
                    // In a spring-forward gap: the instant the clock jumps to.
                    tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                        .earliest()
                })
                .map(|at| at.with_timezone(&Utc))
        };
        let mut events = Vec::new();
        for a in assignments
            .iter()
            .filter(|a| a.staff_id == staff_id.to_string())
        {
            let Some(shift) = shift_types.iter().find(|s| s.key == a.shift_type) else {
                continue;
            };
            let end_date = if shift.end <= shift.start {
                a.date + chrono::Days::new(1)
            } else {
                a.date
            };
            let (Some(start), Some(end)) = (local(a.date, shift.start), local(end_date, shift.end))
            else {
                continue;
            };
            let Ok(interval) = tend_appointments::TimeInterval::new(start, end) else {
                continue;
            };
            events.push(tend_appointments::IcalEvent {
                uid: format!("{}-{}-{}@tend", period.id, a.staff_id, date_text(a.date)),
                interval,
                summary: format!("Shift: {}", a.shift_type),
                description: Some(format!(
                    "{} shift {}–{} ({})",
                    a.shift_type,
                    shift.start.format("%H:%M"),
                    shift.end.format("%H:%M"),
                    site.time_zone.as_str()
                )),
                location: Some(site.name.clone()),
                tentative: period.status != RosterStatus::Published,
            });
        }
        Ok(tend_appointments::render_calendar(
            &format!("{full_name} – roster"),
            &events,
            self.now(),
        ))
    }
}

/// A published period as a repair starts from it: its roster, what it is planned from, and the
/// site's today.
#[derive(Debug)]
pub(super) struct RepairStart {
    pub period: RosterPeriod,
    pub context: Context,
    pub assignments: Vec<AssignmentRecord>,
    pub today: NaiveDate,
}

/// A repair computed outside any transaction; [`write_repair`] stores it if the roster it was
/// computed from is still the published one.
#[derive(Debug)]
pub(super) struct RepairPlan {
    period: RosterPeriod,
    context: Context,
    /// The published roster it was computed from.
    assignments: Vec<AssignmentRecord>,
    from: NaiveDate,
    tuples: Roster,
    pinned: BTreeSet<(String, usize)>,
    max_changes: Option<usize>,
    pub outcome: RepairOutcome,
}

impl RepairPlan {
    pub fn period_id(&self) -> &str {
        &self.period.id
    }

    pub fn first_day(&self) -> NaiveDate {
        self.from
    }
}

impl RepairStart {
    /// The first day a repair may change: the one asked for, else the site's today, never
    /// before the period.
    pub fn first_repair_day(&self, from: Option<NaiveDate>) -> NaiveDate {
        from.unwrap_or(self.today).max(self.period.first_day)
    }

    /// Re-solves from `input.from` (default: today) on, keeping earlier and pinned shifts, with
    /// a penalty per changed published assignment; with `max_changes`, raises the penalty and
    /// tries again up to four times, then refuses.
    pub fn plan(self, input: &RepairInput) -> Result<RepairPlan, StoreError> {
        let seconds = input
            .time_limit_seconds
            .unwrap_or(DEFAULT_SOLVE_SECONDS)
            .clamp(1, MAX_SOLVE_SECONDS);
        let RepairStart {
            period,
            context,
            assignments,
            ..
        } = &self;
        let from_date = self.first_repair_day(input.from);
        if from_date > period.last_day {
            return Err(RosteringError::DateOutsidePeriod(from_date).into());
        }
        let keep_before = context.day_of(from_date).unwrap_or(0);
        let reference = as_tuples(context, assignments);
        let pinned = pinned_tuples(context, assignments);
        let mut weight = input.change_weight.unwrap_or(200).max(1);
        let mut best: Option<(Roster, Vec<RepairChange>, tend_scheduling::Report)> = None;
        for _attempt in 0..4 {
            let build = Build {
                pinned: pinned.clone(),
                keep_before,
                reference: reference.clone(),
                change_weight: Some(weight),
                no_minimum_hours: false,
            };
            let problem = context.valid_problem(&build).map_err(unsolvable)?;
            let solution =
                tend_scheduling::solve(&problem, &solve_options(seconds)).map_err(unsolvable)?;
            // The independent checker guards the published roster against a solver mistake.
            let broken = tend_scheduling::check(&problem, &solution.plan);
            if !broken.is_empty() {
                return Err(unsolvable(format!(
                    "the solver returned a roster breaking {broken:?}"
                )));
            }
            let tuples: Roster = solution
                .plan
                .assignments
                .iter()
                .map(|a| (a.staff.clone(), a.day, a.shift_type.clone()))
                .collect();
            let changes = diff(context, &reference, &tuples);
            let fits = input.max_changes.is_none_or(|max| changes.len() <= max);
            let better = best
                .as_ref()
                .is_none_or(|(_, old, _)| changes.len() < old.len());
            if better {
                best = Some((tuples, changes, solution.report));
            }
            if fits {
                break;
            }
            weight = weight.saturating_mul(4);
        }
        let Some((tuples, changes, report)) = best else {
            return Err(unsolvable("no repair was computed"));
        };
        if let Some(max) = input.max_changes {
            if changes.len() > max {
                return Err(RosteringError::TooManyChanges {
                    needed: changes.len(),
                    max,
                }
                .into());
            }
        }
        let check_problem = context.problem(&Build {
            no_minimum_hours: true,
            ..Build::default()
        });
        let hard_violations: Vec<RuleViolation> = context
            .violations(&check_problem, &tuples)
            .into_iter()
            .filter(severity_is_hard)
            .collect();
        let explanation = context.explain(&tuples, Some(&report));
        let uncovered = explanation
            .uncovered
            .iter()
            .filter(|u| u.date >= from_date)
            .map(|u| RepairUncovered {
                date: u.date,
                shift_type: u.shift_type.clone(),
                skill: u.skill.clone(),
                missing: u.missing,
                candidates: candidates(context, &tuples, u),
            })
            .collect();
        let pinned = pinned
            .iter()
            .map(|(staff, day, _)| (staff.clone(), *day))
            .collect();
        Ok(RepairPlan {
            from: from_date,
            tuples,
            pinned,
            max_changes: input.max_changes,
            outcome: RepairOutcome {
                changes,
                uncovered,
                hard_violations,
                explanation,
            },
            period: self.period,
            context: self.context,
            assignments: self.assignments,
        })
    }
}

/// Stores a repair in the caller's transaction (which holds the roster lock), refusing with
/// `roster.changed_concurrently` if the period, its roster or its approved leave moved since the
/// repair was computed: a published roster is never half-changed. `leave_id` names the leave
/// whose approval asked for the repair.
pub(super) fn write_repair(
    connection: &mut AnyConnection,
    actor: &Actor,
    plan: &RepairPlan,
    now: chrono::DateTime<Utc>,
    leave_id: Option<&str>,
) -> Result<(), StoreError> {
    let (current, _) = load_period(connection, actor, &plan.period.id)?;
    if current.status != RosterStatus::Published {
        return Err(RosteringError::ChangedConcurrently.into());
    }
    if load_assignments(connection, &current)? != plan.assignments {
        return Err(RosteringError::ChangedConcurrently.into());
    }
    let leave_ids = |leave: &[super::setup::LeaveRecord]| -> BTreeSet<String> {
        leave.iter().map(|l| l.id.clone()).collect()
    };
    let leave_now = site_leave(
        connection,
        current.site_id,
        current.first_day,
        current.last_day,
    )?;
    if leave_ids(&leave_now) != leave_ids(&plan.context.leave) {
        return Err(RosteringError::ChangedConcurrently.into());
    }
    replace_assignments(
        connection,
        &plan.context,
        &plan.period.id,
        &plan.tuples,
        &plan.pinned,
    )?;
    diesel::update(roster_periods::table.find(&plan.period.id))
        .set((
            roster_periods::explanation.eq(Some(to_json(&plan.outcome.explanation)?)),
            roster_periods::updated_at.eq(to_db_time(now)),
        ))
        .execute(connection)?;
    audit::append(
        connection,
        AuditRecord::success(
            Some(actor.user_id),
            Some(plan.period.site_id),
            "roster.repaired",
            "roster_period",
            &plan.period.id,
            serde_json::json!({
                "from": plan.from,
                "changes": plan.outcome.changes,
                "max_changes": plan.max_changes,
                "leave_id": leave_id,
            }),
        ),
        now,
    )?;
    Ok(())
}

/// A published period whose demand a change (demand settings, a planned stay) moved. Published
/// rosters are never rewritten silently: the manager repairs them
/// (`POST /roster-periods/{id}/repair`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedPeriod {
    pub period_id: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Dates of the period, from the site's today on, whose demand changed.
    pub dates: Vec<NaiveDate>,
    /// Required demand the published roster leaves uncovered on those dates now.
    pub uncovered: Vec<super::model::UncoveredShift>,
    /// Whether the published roster needs a repair: it now leaves required demand uncovered.
    pub needs_repair: bool,
}

/// The demand of a site's published periods (from today on) before a change.
#[derive(Debug)]
pub(super) struct PublishedDemand {
    today: NaiveDate,
    periods: Vec<(RosterPeriod, Context)>,
}

impl PublishedDemand {
    /// Read in the changing transaction, before the change.
    pub fn before_change(
        connection: &mut AnyConnection,
        site_id: SiteId,
        now: chrono::DateTime<Utc>,
    ) -> Result<PublishedDemand, StoreError> {
        let site = load_site(connection, site_id)?;
        let today = now.with_timezone(&site.time_zone.tz()).date_naive();
        let rows: Vec<PeriodRow> = roster_periods::table
            .filter(roster_periods::site_id.eq(site_id.to_string()))
            .filter(roster_periods::status.eq(RosterStatus::Published.as_str()))
            .filter(roster_periods::last_day.ge(date_text(today)))
            .order(roster_periods::first_day.asc())
            .select(PeriodRow::as_select())
            .load(connection)?;
        let mut periods = Vec::new();
        for row in rows {
            let (period, _) = row.into_period()?;
            let context = load_context(connection, &period)?;
            periods.push((period, context));
        }
        Ok(PublishedDemand { today, periods })
    }

    /// Read in the same transaction after the change: the periods whose demand moved.
    pub fn affected(
        self,
        connection: &mut AnyConnection,
    ) -> Result<Vec<AffectedPeriod>, StoreError> {
        let mut affected = Vec::new();
        for (period, before) in self.periods {
            let after = load_context(connection, &period)?;
            let dates: Vec<NaiveDate> = (0..after.days)
                .filter(|&day| after.date(day) >= self.today)
                .filter(|&day| before.demand_of(day) != after.demand_of(day))
                .map(|day| after.date(day))
                .collect();
            if dates.is_empty() {
                continue;
            }
            let assignments = load_assignments(connection, &period)?;
            let roster = as_tuples(&after, &assignments);
            let uncovered: Vec<super::model::UncoveredShift> = after
                .explain(&roster, None)
                .uncovered
                .into_iter()
                .filter(|u| dates.contains(&u.date))
                .collect();
            affected.push(AffectedPeriod {
                period_id: period.id,
                first_day: period.first_day,
                last_day: period.last_day,
                dates,
                needs_repair: !uncovered.is_empty(),
                uncovered,
            });
        }
        Ok(affected)
    }
}

/// Tests (feature `testing`) can hold a site's solve threads before they write their result, so
/// a job is reliably still running while they probe it. Without the feature this is a no-op.
#[cfg(feature = "testing")]
pub mod hold {
    use std::collections::BTreeSet;
    use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

    use tend_core::SiteId;

    type Held = (Mutex<BTreeSet<SiteId>>, Condvar);
    static HELD: OnceLock<Held> = OnceLock::new();

    fn held() -> &'static Held {
        HELD.get_or_init(Default::default)
    }

    fn lock(held: &'static Held) -> MutexGuard<'static, BTreeSet<SiteId>> {
        held.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// While this lives, solve threads of the site wait before writing their result.
    #[derive(Debug)]
    pub struct SolveHold(SiteId);

    impl Drop for SolveHold {
        fn drop(&mut self) {
            lock(held()).remove(&self.0);
            held().1.notify_all();
        }
    }

    pub fn hold_solves(site_id: SiteId) -> SolveHold {
        lock(held()).insert(site_id);
        SolveHold(site_id)
    }

    /// Waits while the site is held, unless the solve is cancelled.
    pub(super) fn wait_while_held(site_id: SiteId, cancel: &tend_scheduling::CancelFlag) {
        let held = held();
        let mut sites = lock(held);
        while sites.contains(&site_id) && !cancel.is_cancelled() {
            sites = held
                .1
                .wait_timeout(sites, std::time::Duration::from_millis(20))
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }
}

#[cfg(not(feature = "testing"))]
mod hold {
    pub(super) fn wait_while_held(
        _site_id: tend_core::SiteId,
        _cancel: &tend_scheduling::CancelFlag,
    ) {
    }
}

/// A hint for the error body; the database refused the second running job.
fn running_job_hint(site_id: SiteId) -> String {
    format!("site {site_id}")
}

/// Checks a change of the roster: new hard violations refuse it, new soft ones are warnings.
fn check_change(
    context: &Context,
    before: &[(String, usize, String)],
    after: &[(String, usize, String)],
) -> Result<Vec<RuleViolation>, StoreError> {
    let problem = context.problem(&Build {
        no_minimum_hours: true,
        ..Build::default()
    });
    let old = context.violations(&problem, before);
    let current = context.violations(&problem, after);
    // A shift the change sets is judged on its own: putting someone back on a leave day that a
    // published shift already collided with is still a leave conflict.
    let touched: BTreeSet<(String, NaiveDate)> = after
        .iter()
        .filter(|cell| !before.contains(cell))
        .map(|(staff, day, _)| (staff.clone(), context.date(*day)))
        .collect();
    let mut new = new_violations(&old, current.clone());
    for violation in current {
        let on_touched = match (&violation.staff_id, violation.date) {
            (Some(staff), Some(date)) => touched.contains(&(staff.clone(), date)),
            _ => false,
        };
        if on_touched && !new.contains(&violation) {
            new.push(violation);
        }
    }
    let (hard, soft): (Vec<_>, Vec<_>) = new.into_iter().partition(severity_is_hard);
    if !hard.is_empty() {
        return Err(RosteringError::EditConflict(hard).into());
    }
    Ok(soft)
}

/// The roster with a swap applied, checked.
fn swapped_roster(
    connection: &mut AnyConnection,
    period: &RosterPeriod,
    input: &SwapInput,
    other_date: NaiveDate,
) -> Result<(Context, Roster, Vec<RuleViolation>), StoreError> {
    let context = load_context(connection, period)?;
    for id in [input.staff_id, input.other_staff_id] {
        if !context.staff.iter().any(|p| p.staff_id == id) {
            return Err(RosteringError::StaffNotFound.into());
        }
    }
    let day = context
        .day_of(input.date)
        .ok_or(RosteringError::DateOutsidePeriod(input.date))?;
    let other_day = context
        .day_of(other_date)
        .ok_or(RosteringError::DateOutsidePeriod(other_date))?;
    let assignments = load_assignments(connection, period)?;
    if assignments.iter().any(|a| {
        a.pinned
            && ((a.staff_id == input.staff_id.to_string() && a.date == input.date)
                || (a.staff_id == input.other_staff_id.to_string() && a.date == other_date))
    }) {
        return Err(RosteringError::EditConflict(vec![RuleViolation {
            rule: tend_staff::RosterRule::PinnedChanged,
            code: tend_staff::RosterRule::PinnedChanged.code(),
            severity: tend_staff::Severity::Hard,
            staff_id: Some(input.staff_id.to_string()),
            date: Some(input.date),
            message: "a pinned shift cannot be swapped".into(),
        }])
        .into());
    }
    let before = as_tuples(&context, &assignments);
    let a = input.staff_id.to_string();
    let b = input.other_staff_id.to_string();
    let shift_of = |staff: &str, d: usize| {
        before
            .iter()
            .find(|(s, dd, _)| s == staff && *dd == d)
            .map(|(_, _, shift)| shift.clone())
    };
    let a_shift = shift_of(&a, day);
    let b_shift = shift_of(&b, other_day);
    let mut after: Vec<(String, usize, String)> = before
        .iter()
        .filter(|(s, d, _)| !((*s == a && *d == day) || (*s == b && *d == other_day)))
        .filter(|(s, d, _)| !((*s == b && *d == day) || (*s == a && *d == other_day)))
        .cloned()
        .collect();
    // What the other held on `day` and `other_day` stays with them unless swapped.
    for (s, d, shift) in &before {
        let moved = (*s == a && *d == day) || (*s == b && *d == other_day);
        let displaced = (*s == b && *d == day && day != other_day)
            || (*s == a && *d == other_day && day != other_day);
        if !moved && displaced {
            after.push((s.clone(), *d, shift.clone()));
        }
    }
    if let Some(shift) = a_shift {
        after.push((b.clone(), day, shift));
    }
    if let Some(shift) = b_shift {
        after.push((a.clone(), other_day, shift));
    }
    let mut seen = BTreeSet::new();
    let duplicates: Vec<RuleViolation> = after
        .iter()
        .filter(|(s, d, _)| !seen.insert((s.clone(), *d)))
        .map(|(s, d, _)| RuleViolation {
            rule: tend_staff::RosterRule::DoubleAssignment,
            code: tend_staff::RosterRule::DoubleAssignment.code(),
            severity: tend_staff::Severity::Hard,
            staff_id: Some(s.clone()),
            date: Some(context.date(*d)),
            message: "would work two shifts on one day".into(),
        })
        .collect();
    if !duplicates.is_empty() {
        return Err(RosteringError::EditConflict(duplicates).into());
    }
    let warnings = check_change(&context, &before, &after)?;
    Ok((context, after, warnings))
}

fn diff(
    context: &Context,
    before: &[(String, usize, String)],
    after: &[(String, usize, String)],
) -> Vec<RepairChange> {
    let index = |list: &[(String, usize, String)]| -> BTreeMap<(String, usize), String> {
        list.iter()
            .map(|(s, d, shift)| ((s.clone(), *d), shift.clone()))
            .collect()
    };
    let before = index(before);
    let after = index(after);
    let keys: BTreeSet<&(String, usize)> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|key| before.get(*key) != after.get(*key))
        .map(|(staff, day)| RepairChange {
            staff_id: staff.clone(),
            date: context.date(*day),
            before: before.get(&(staff.clone(), *day)).cloned(),
            after: after.get(&(staff.clone(), *day)).cloned(),
        })
        .collect()
}

/// Staff who could take an uncovered shift without breaking a hard rule, fewest warnings
/// first, then fewest rostered minutes.
fn candidates(
    context: &Context,
    roster: &[(String, usize, String)],
    uncovered: &super::model::UncoveredShift,
) -> Vec<RepairCandidate> {
    let Some(day) = context.day_of(uncovered.date) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for profile in &context.staff {
        let id = profile.staff_id.to_string();
        if roster.iter().any(|(s, d, _)| *s == id && *d == day) {
            continue;
        }
        if let Some(skill) = &uncovered.skill {
            if !tend_staff::skill_keys(&profile.skills).contains(skill) {
                continue;
            }
        }
        let mut after = roster.to_vec();
        after.push((id.clone(), day, uncovered.shift_type.clone()));
        if let Ok(warnings) = check_change(context, roster, &after) {
            let minutes = roster
                .iter()
                .filter(|(s, _, _)| *s == id)
                .map(|(_, _, shift)| {
                    context
                        .shift_types
                        .iter()
                        .find(|t| t.key == *shift)
                        .map_or(0, |t| t.length_minutes)
                })
                .sum();
            found.push(RepairCandidate {
                staff_id: id,
                full_name: profile.full_name.clone(),
                warnings,
                minutes,
            });
        }
    }
    found.sort_by_key(|c| (c.warnings.len(), c.minutes));
    found.truncate(5);
    found
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
