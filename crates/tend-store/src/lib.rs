//! Tend's persistence and use cases: diesel on SQLite (embedded) and PostgreSQL.
//!
//! This is the only crate that knows diesel. Row structs stay private and are mapped to the domain
//! types of `tend-core`, `tend-clients` and `tend-audit`. The use cases ([`Store`] methods) compose
//! the domain rules with persistence: they check permissions, run every state change together with
//! its audit event in one transaction, and return domain values or a [`StoreError`].

mod appointments;
mod audit;
mod auth;
mod clients;
mod connection;
mod error;
mod map;
mod rostering;
mod schema;
mod sites;
mod users;

#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;
use std::sync::Arc;

use diesel::prelude::*;
use tend_core::Clock;

pub use appointments::{
    parse_booking_action, AppointmentError, BlockedTime, BookingOutcome, BookingQuery,
    BookingRecord, BookingRequest, NoShowSummary, ReminderRecord, ResourceInput, ResourceRecord,
    SeriesConflict, SeriesOutcome, SeriesRequest, ServiceInput, SlotList, SlotSearch, StaffInput,
    StaffMember, TimeOffInput, WaitlistInput, WaitlistOfferRecord, WaitlistRecord, WeekdayHours,
    WorkingHours,
};
pub use audit::{AuditPage, AuditQuery};
pub use auth::{Session, SESSION_LIFETIME};
pub use clients::{
    ClientPage, ClientQuery, ClientTransition, CreatedClient, PossibleDuplicate, TransitionOutcome,
};
pub use connection::{Backend, DatabaseUrl};
pub use error::{ErrorKind, InvalidField, StoreError};
#[cfg(feature = "testing")]
pub use rostering::{hold_solves, SolveHold};
pub use rostering::{
    AffectedPeriod, AssignmentEdit, AssignmentRecord, DemandInput, DemandOutcome, DemandSettings,
    EditOutcome, Explanation, FairnessSummary, LeaveDecision, LeaveInput, LeaveOutcome,
    LeaveRecord, PeriodInput, PeriodRepair, RepairCandidate, RepairChange, RepairInput,
    RepairOutcome, RepairUncovered, RosterPeriod, RosterView, RosteringError, RuleViolation,
    ShiftTypeInput, ShiftTypeRecord, SkillLevelInput, SolveJob, SolveJobHandle, SolveRequest,
    StaffRostering, StaffRosteringInput, StaffSummary, StayInput, StayOutcome, StayRecord,
    SwapDecision, SwapInput, SwapRecord, UncoveredShift, KNOWN_SKILLS,
};
pub use sites::Site;
pub use users::{Bootstrap, NewUser, User, MIN_PASSWORD_CHARS};

use connection::{Pool, PooledConnection};

/// The default page size of listings, and the largest one a caller may ask for.
pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 200;

/// Tend's data and the use cases over it. Cheap to clone (a pool handle and a clock).
///
/// Every method is blocking: async callers run them on a blocking thread pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects, creating the SQLite file (and its folder) if needed, and runs pending migrations.
    /// Solve jobs left running by a process that stopped are recovered (ADR 0006).
    pub fn open(url: &DatabaseUrl, clock: Arc<dyn Clock>) -> Result<Store, StoreError> {
        let pool = connection::open_pool(url)?;
        let store = Store {
            pool,
            backend: url.backend(),
            clock,
        };
        // Not fatal: starting a solve or reading a job recovers its site's jobs again.
        if let Err(error) = store.recover_interrupted_solve_jobs() {
            tracing::warn!(%error, "interrupted solve jobs not recovered at start");
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers a trivial query.
    pub fn check_health(&self) -> Result<(), StoreError> {
        let mut connection = self.connection()?;
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
            .get_result::<i32>(&mut *connection)?;
        Ok(())
    }

    fn connection(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.pool.get()?)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// A page of a listing: the items, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Checks paging input: pages count from 1, page sizes from 1 to [`MAX_PER_PAGE`].
fn paging(page: Option<u32>, per_page: Option<u32>) -> Result<(u32, u32), StoreError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if page == 0 {
        return Err(StoreError::invalid(
            "page",
            "value.out_of_range",
            "pages count from 1",
        ));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(StoreError::invalid(
            "per_page",
            "value.out_of_range",
            format!("per_page must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    Ok((page, per_page))
}

fn offset(page: u32, per_page: u32) -> i64 {
    i64::from(page - 1) * i64::from(per_page)
}
