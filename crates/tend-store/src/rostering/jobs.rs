//! What keeps solve jobs honest beyond their use cases (ADR 0006): the in-process registry of
//! running solves (job id → the engine's cancel flag), the progress writer that persists the
//! engine's progress and this process's heartbeat on the job row at most once a second, on its own
//! connection and outside any caller's transaction, and the recovery of jobs whose process stopped.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use tend_audit::AuditRecord;
use tend_core::SiteId;
use tend_scheduling::{CancelFlag, Progress, ProgressSink};
use tend_staff::RosterStatus;
use uuid::Uuid;

use super::tables::{roster_periods, solve_jobs};
use crate::audit;
use crate::connection::{write_transaction, AnyConnection};
use crate::error::StoreError;
use crate::map::{parse_column, to_db_time};
use crate::Store;

/// Progress reaches the job row at most this often.
pub(super) const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
/// The owner's heartbeat is written at least this often while the job runs, progress or not.
pub(super) const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A job of another process whose heartbeat is older than this is taken as interrupted: six
/// missed heartbeats, so a busy database does not fail live jobs.
pub(super) const STALE_AFTER_SECONDS: i64 = 30;
/// How long a cancel waits for a solve running in this process to stop.
pub(super) const CANCEL_WAIT: Duration = Duration::from_secs(5);

/// The error of a job whose process stopped while it ran.
pub(super) const INTERRUPTED: &str = "interrupted: the server stopped";

/// Phases the store writes itself (the engine's own are `construction`, `neighbourhood
/// search`, …).
pub(super) const PHASE_STARTING: &str = "starting";
pub(super) const PHASE_FINISHED: &str = "finished";
pub(super) const PHASE_FAILED: &str = "failed";
pub(super) const PHASE_STOPPING: &str = "stopping";
pub(super) const PHASE_STOPPED: &str = "stopped";
pub(super) const PHASE_INTERRUPTED: &str = "interrupted";

/// This process's identity on the job rows it owns: the pid for people, a UUID for uniqueness.
pub(super) fn this_process() -> &'static str {
    static PROCESS: OnceLock<String> = OnceLock::new();
    PROCESS.get_or_init(|| format!("pid {} / {}", std::process::id(), Uuid::now_v7()))
}

type Running = (Mutex<HashMap<String, CancelFlag>>, Condvar);

/// What tells whether a running job is alive: id, time limit, start, owner, heartbeat.
type Liveness = (
    String,
    i32,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
);

fn registry() -> &'static Running {
    static RUNNING: OnceLock<Running> = OnceLock::new();
    RUNNING.get_or_init(Default::default)
}

fn running() -> MutexGuard<'static, HashMap<String, CancelFlag>> {
    registry()
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A solve registered as running in this process; it leaves the registry when dropped, also when
/// its thread panics.
#[derive(Debug)]
pub(super) struct Registration {
    job_id: String,
    cancel: CancelFlag,
}

impl Registration {
    pub fn new(job_id: &str) -> Registration {
        let cancel = CancelFlag::new();
        running().insert(job_id.to_owned(), cancel.clone());
        Registration {
            job_id: job_id.to_owned(),
            cancel,
        }
    }

    pub fn cancel_flag(&self) -> CancelFlag {
        self.cancel.clone()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        running().remove(&self.job_id);
        registry().1.notify_all();
    }
}

/// Whether the job's solve runs in this process now.
pub(super) fn runs_here(job_id: &str) -> bool {
    running().contains_key(job_id)
}

/// Asks a solve running in this process to stop and waits up to `timeout` for its thread to
/// finish; true when it has (or never ran here).
pub(super) fn stop_and_wait(job_id: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut jobs = running();
    if let Some(flag) = jobs.get(job_id) {
        flag.cancel();
    }
    while jobs.contains_key(job_id) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        jobs = registry()
            .1
            .wait_timeout(jobs, left)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
    true
}

/// Whether a running job has lost its process: a job of this process is alive exactly while it is
/// registered here; another process's job while its heartbeat is fresh (a job written before
/// heartbeats existed: until its time limit, plus the same margin, has passed since it started).
pub(super) fn is_interrupted(
    job_id: &str,
    owner: Option<&str>,
    heartbeat_at: Option<NaiveDateTime>,
    started_at: NaiveDateTime,
    time_limit_seconds: i32,
    now: DateTime<Utc>,
) -> bool {
    let now = to_db_time(now);
    match (owner, heartbeat_at) {
        (Some(owner), _) if owner == this_process() => !runs_here(job_id),
        (_, Some(heartbeat)) => now - heartbeat > chrono::Duration::seconds(STALE_AFTER_SECONDS),
        (_, None) => {
            now - started_at
                > chrono::Duration::seconds(i64::from(time_limit_seconds) + STALE_AFTER_SECONDS)
        }
    }
}

/// Marks the interrupted running jobs (of one site, or all) failed, puts their periods back to
/// where they were before the solve and audits each, in the caller's transaction. Returns the
/// ids of the jobs recovered.
pub(super) fn recover_interrupted(
    connection: &mut AnyConnection,
    site: Option<SiteId>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    super::roster::lock_rosters(connection)?;
    type Candidate = (
        String,
        String,
        String,
        String,
        i32,
        NaiveDateTime,
        Option<String>,
        Option<NaiveDateTime>,
    );
    let mut query = solve_jobs::table
        .filter(solve_jobs::status.eq("running"))
        .select((
            solve_jobs::id,
            solve_jobs::site_id,
            solve_jobs::period_id,
            solve_jobs::previous_status,
            solve_jobs::time_limit_seconds,
            solve_jobs::started_at,
            solve_jobs::owner,
            solve_jobs::heartbeat_at,
        ))
        .into_boxed();
    if let Some(site) = site {
        query = query.filter(solve_jobs::site_id.eq(site.to_string()));
    }
    let candidates: Vec<Candidate> = query.load(connection)?;
    let mut recovered = Vec::new();
    for (id, site_id, period_id, previous, limit, started_at, owner, heartbeat_at) in candidates {
        if !is_interrupted(&id, owner.as_deref(), heartbeat_at, started_at, limit, now) {
            continue;
        }
        let site_id = parse_column("solve_jobs.site_id", &site_id, SiteId::parse)?;
        let previous = RosterStatus::parse(&previous)
            .ok_or_else(|| StoreError::corrupt("solve_jobs.previous_status"))?;
        diesel::update(
            solve_jobs::table
                .filter(solve_jobs::id.eq(&id))
                .filter(solve_jobs::status.eq("running")),
        )
        .set((
            solve_jobs::status.eq("failed"),
            solve_jobs::error.eq(Some(INTERRUPTED)),
            solve_jobs::phase.eq(Some(PHASE_INTERRUPTED)),
            solve_jobs::finished_at.eq(Some(to_db_time(now))),
        ))
        .execute(connection)?;
        // The period is only still solving if nothing else moved it meanwhile.
        diesel::update(
            roster_periods::table
                .filter(roster_periods::id.eq(&period_id))
                .filter(roster_periods::status.eq(RosterStatus::Solving.as_str())),
        )
        .set((
            roster_periods::status.eq(previous.as_str()),
            roster_periods::updated_at.eq(to_db_time(now)),
        ))
        .execute(connection)?;
        audit::append(
            connection,
            AuditRecord::success(
                None,
                Some(site_id),
                "roster.solve_interrupted",
                "roster_period",
                &period_id,
                serde_json::json!({
                    "status": { "before": RosterStatus::Solving, "after": previous },
                    "job_id": id,
                    "reason": INTERRUPTED,
                    "owner": owner,
                    "heartbeat_at": heartbeat_at.map(|at| at.and_utc()),
                }),
            ),
            now,
        )?;
        tracing::warn!(job = %id, period = %period_id, ?owner, "interrupted solve job recovered");
        recovered.push(id);
    }
    Ok(recovered)
}

#[derive(Debug, Default)]
struct WriterState {
    latest: Option<Progress>,
    /// Moves on every report, so the writer knows whether there is something new.
    version: u64,
    stop: bool,
}

type Shared = Arc<(Mutex<WriterState>, Condvar)>;

fn state(shared: &Shared) -> MutexGuard<'_, WriterState> {
    shared
        .0
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Persists a running solve's progress and its owner's heartbeat from a thread of its own: the
/// engine's callback only stores the latest report (it runs on the solving thread and must be
/// quick). When the row says the job is no longer running (cancelled by another process, or
/// recovered as interrupted), the writer raises the solve's cancel flag.
#[derive(Debug)]
pub(super) struct ProgressWriter {
    shared: Shared,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressWriter {
    pub fn start(
        store: Store,
        job_id: String,
        cancel: CancelFlag,
    ) -> (ProgressWriter, ProgressSink) {
        let shared: Shared = Arc::default();
        let sink = {
            let shared = shared.clone();
            ProgressSink::new(move |progress: &Progress| {
                let mut state = state(&shared);
                state.latest = Some(progress.clone());
                state.version += 1;
            })
        };
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("tend-solve-progress".into())
                .spawn(move || write_until_stopped(&store, &job_id, &shared, &cancel))
        };
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(error) => {
                // The solve still runs; only its progress and heartbeat go unwritten.
                tracing::error!(%error, "cannot start the solve progress writer");
                None
            }
        };
        (ProgressWriter { shared, thread }, sink)
    }

    /// Stops the writer and waits for it (it never writes after this returns).
    pub fn stop(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        state(&self.shared).stop = true;
        self.shared.1.notify_all();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the solve progress writer panicked");
            }
        }
    }
}

impl Drop for ProgressWriter {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

fn write_until_stopped(store: &Store, job_id: &str, shared: &Shared, cancel: &CancelFlag) {
    let mut written = 0;
    let mut last_heartbeat = Instant::now();
    loop {
        let (progress, version) = {
            let guard = state(shared);
            let (guard, _) = shared
                .1
                .wait_timeout_while(guard, PROGRESS_INTERVAL, |state| !state.stop)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if guard.stop {
                return;
            }
            (guard.latest.clone(), guard.version)
        };
        let due = version != written || last_heartbeat.elapsed() >= HEARTBEAT_INTERVAL;
        let still_running = if due {
            let result = write_progress(store, job_id, progress.as_ref());
            if result.is_ok() {
                written = version;
                last_heartbeat = Instant::now();
            }
            result
        } else {
            job_is_running(store, job_id)
        };
        match still_running {
            Ok(true) => {}
            Ok(false) => {
                cancel.cancel();
                return;
            }
            // A missed write is not worth failing the solve for; the next tick retries.
            Err(error) => tracing::warn!(job = %job_id, %error, "solve progress not written"),
        }
    }
}

/// Writes the latest progress (or only the heartbeat) on the job row while it is running;
/// false when it no longer is.
fn write_progress(
    store: &Store,
    job_id: &str,
    progress: Option<&Progress>,
) -> Result<bool, StoreError> {
    let now = to_db_time(store.now());
    let mut connection = store.connection()?;
    let running = solve_jobs::table
        .filter(solve_jobs::id.eq(job_id))
        .filter(solve_jobs::status.eq("running"));
    let updated = match progress {
        Some(progress) => diesel::update(running)
            .set((
                solve_jobs::phase.eq(Some(progress.phase.as_str())),
                solve_jobs::objective.eq(progress.objective),
                solve_jobs::best_bound.eq(Some(progress.best_bound)),
                solve_jobs::iterations
                    .eq(Some(i64::try_from(progress.iterations).unwrap_or(i64::MAX))),
                solve_jobs::solver_millis.eq(Some((progress.seconds * 1000.0).round() as i64)),
                solve_jobs::heartbeat_at.eq(Some(now)),
            ))
            .execute(&mut connection)?,
        None => diesel::update(running)
            .set(solve_jobs::heartbeat_at.eq(Some(now)))
            .execute(&mut connection)?,
    };
    Ok(updated > 0)
}

fn job_is_running(store: &Store, job_id: &str) -> Result<bool, StoreError> {
    let mut connection = store.connection()?;
    let status: Option<String> = solve_jobs::table
        .find(job_id)
        .select(solve_jobs::status)
        .first(&mut connection)
        .optional()?;
    Ok(status.as_deref() == Some("running"))
}

impl Store {
    /// Recovers the site's interrupted solve jobs, if it has any (a read first, so the common
    /// case writes nothing).
    pub(super) fn recover_site_solve_jobs(
        &self,
        connection: &mut AnyConnection,
        site: SiteId,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let running: Vec<Liveness> = solve_jobs::table
            .filter(solve_jobs::status.eq("running"))
            .filter(solve_jobs::site_id.eq(site.to_string()))
            .select((
                solve_jobs::id,
                solve_jobs::time_limit_seconds,
                solve_jobs::started_at,
                solve_jobs::owner,
                solve_jobs::heartbeat_at,
            ))
            .load(connection)?;
        let any = running
            .iter()
            .any(|(id, limit, started, owner, heartbeat)| {
                is_interrupted(id, owner.as_deref(), *heartbeat, *started, *limit, now)
            });
        if any {
            write_transaction(connection, |connection| {
                recover_interrupted(connection, Some(site), now)
            })?;
        }
        Ok(())
    }

    /// Marks solve jobs whose process stopped (left `running` by a crash or a kill) as failed
    /// with "interrupted: the server stopped", puts their periods back and audits each, so their
    /// sites are free again. Safe with several server processes on one database: a job of
    /// another process counts as interrupted only once its heartbeat (written every few seconds
    /// while it runs) is 30 seconds old. Runs at [`Store::open`]; starting a solve and reading a job
    /// run it too, for their site. Returns the ids of the jobs recovered.
    pub fn recover_interrupted_solve_jobs(&self) -> Result<Vec<String>, StoreError> {
        let now = self.now();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            recover_interrupted(connection, None, now)
        })
    }
}

#[cfg(feature = "testing")]
impl Store {
    /// Leaves what a server that died mid-solve leaves behind, for tests of the recovery: the
    /// period `solving` and a `running` job owned by another process whose last heartbeat was
    /// `heartbeat_age` ago. Returns the job id.
    pub fn plant_orphaned_solve_job(
        &self,
        period_id: &str,
        heartbeat_age: chrono::TimeDelta,
    ) -> Result<String, StoreError> {
        let now = self.now();
        let job_id = Uuid::now_v7().to_string();
        let mut connection = self.connection()?;
        write_transaction(&mut connection, |connection| {
            let (site_id, status): (String, String) = roster_periods::table
                .find(period_id)
                .select((roster_periods::site_id, roster_periods::status))
                .first(connection)?;
            diesel::insert_into(solve_jobs::table)
                .values((
                    solve_jobs::id.eq(&job_id),
                    solve_jobs::site_id.eq(&site_id),
                    solve_jobs::period_id.eq(period_id),
                    solve_jobs::status.eq("running"),
                    solve_jobs::previous_status.eq(&status),
                    solve_jobs::time_limit_seconds.eq(60),
                    solve_jobs::started_at.eq(to_db_time(now - heartbeat_age)),
                    solve_jobs::phase.eq(Some("neighbourhood search")),
                    solve_jobs::owner.eq(Some("pid 0 / a process that crashed")),
                    solve_jobs::heartbeat_at.eq(Some(to_db_time(now - heartbeat_age))),
                ))
                .execute(connection)?;
            diesel::update(roster_periods::table.find(period_id))
                .set(roster_periods::status.eq(RosterStatus::Solving.as_str()))
                .execute(connection)?;
            Ok(job_id.clone())
        })
    }
}
