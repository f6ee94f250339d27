//! Test harness (feature `testing`): a fresh, private database per test on every backend under
//! test, a clock tests can move, and a way to tamper with the audit trail as an attacker with
//! database access would.
//!
//! SQLite is always tested (a temporary file). PostgreSQL is tested too when
//! `TEND_TEST_POSTGRES_URL` names a server (`postgres://postgres@127.0.0.1:5432/test`): each test
//! gets its own `CREATE DATABASE tend_test_<uuid>`, dropped when the test ends, so tests run in
//! parallel.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tend_core::Clock;

use crate::connection::{AnyConnection, Backend, DatabaseUrl};
use crate::{Store, StoreError};

/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "TEND_TEST_POSTGRES_URL";

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    url: DatabaseUrl,
    // Kept so the folder lives as long as the database.
    _folder: Option<tempfile::TempDir>,
    postgres: Option<PostgresDatabase>,
}

#[derive(Debug)]
struct PostgresDatabase {
    server_url: String,
    name: String,
}

/// One fresh database per backend under test: SQLite, and PostgreSQL when configured.
pub fn test_databases() -> Vec<TestDatabase> {
    let mut databases = vec![TestDatabase::sqlite()];
    if let Some(server) = postgres_server_url() {
        databases.push(TestDatabase::postgres(&server));
    }
    databases
}

/// The configured PostgreSQL server for tests, if any.
pub fn postgres_server_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

impl TestDatabase {
    /// A SQLite database in a new temporary folder.
    #[allow(clippy::expect_used)]
    pub fn sqlite() -> TestDatabase {
        let folder = tempfile::tempdir().expect("a temporary folder for the test database");
        let path = folder.path().join("nested").join("tend.db");
        TestDatabase {
            url: DatabaseUrl::SqliteFile(path),
            _folder: Some(folder),
            postgres: None,
        }
    }

    /// A new, empty database on the PostgreSQL server at `server_url`.
    #[allow(clippy::expect_used)]
    pub fn postgres(server_url: &str) -> TestDatabase {
        let name = format!("tend_test_{}", uuid::Uuid::now_v7().simple());
        let mut server = PgConnection::establish(server_url)
            .expect("the PostgreSQL server named by TEND_TEST_POSTGRES_URL");
        server
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("CREATE DATABASE for a test");
        TestDatabase {
            url: DatabaseUrl::Postgres(with_database(server_url, &name)),
            _folder: None,
            postgres: Some(PostgresDatabase {
                server_url: server_url.to_owned(),
                name,
            }),
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The URL as text, for a `--database-url` argument.
    pub fn url_text(&self) -> String {
        match &self.url {
            DatabaseUrl::SqliteFile(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => "sqlite::memory:".into(),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// Opens (and migrates) a store on this database.
    #[allow(clippy::expect_used)]
    pub fn open(&self, clock: Arc<dyn Clock>) -> Store {
        Store::open(&self.url, clock).expect("open the test store")
    }

    /// Changes the audit trail behind the application's back, after dropping the triggers that
    /// make it append-only: what an attacker with database access can do.
    pub fn tamper_with_audit(&self, tampering: Tampering) -> Result<(), StoreError> {
        let mut connection = match &self.url {
            DatabaseUrl::Postgres(url) => {
                AnyConnection::Postgres(PgConnection::establish(url).map_err(|error| {
                    StoreError::corrupt(format!("connect for tampering: {error}"))
                })?)
            }
            DatabaseUrl::SqliteFile(path) => AnyConnection::Sqlite(
                SqliteConnection::establish(&path.to_string_lossy()).map_err(|error| {
                    StoreError::corrupt(format!("connect for tampering: {error}"))
                })?,
            ),
            DatabaseUrl::SqliteMemory => {
                return Err(StoreError::corrupt("cannot tamper with a private database"))
            }
        };
        let drop_triggers = match connection {
            AnyConnection::Postgres(_) => {
                "DROP TRIGGER IF EXISTS audit_events_no_update_or_delete ON audit_events;"
            }
            AnyConnection::Sqlite(_) => {
                "DROP TRIGGER IF EXISTS audit_events_no_update; \
                 DROP TRIGGER IF EXISTS audit_events_no_delete;"
            }
        };
        let statement = match tampering {
            Tampering::EditAction { seq } => {
                format!("UPDATE audit_events SET action = 'tampered' WHERE seq = {seq};")
            }
            Tampering::Delete { seq } => format!("DELETE FROM audit_events WHERE seq = {seq};"),
            Tampering::SwapSeq { first, second } => format!(
                "UPDATE audit_events SET seq = -1 WHERE seq = {first}; \
                 UPDATE audit_events SET seq = {first} WHERE seq = {second}; \
                 UPDATE audit_events SET seq = {second} WHERE seq = -1;"
            ),
        };
        connection.batch_execute(&format!("{drop_triggers} {statement}"))?;
        Ok(())
    }

    /// Tries to change an audit event the way the application never does, with the
    /// append-only triggers in place.
    pub fn try_edit_audit_event(&self, seq: i64) -> Result<(), StoreError> {
        let store_free = match &self.url {
            DatabaseUrl::Postgres(url) => AnyConnection::Postgres(
                PgConnection::establish(url)
                    .map_err(|error| StoreError::corrupt(format!("connect: {error}")))?,
            ),
            DatabaseUrl::SqliteFile(path) => AnyConnection::Sqlite(
                SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(|error| StoreError::corrupt(format!("connect: {error}")))?,
            ),
            DatabaseUrl::SqliteMemory => return Err(StoreError::corrupt("private database")),
        };
        let mut connection = store_free;
        connection.batch_execute(&format!(
            "UPDATE audit_events SET action = 'tampered' WHERE seq = {seq}"
        ))?;
        Ok(())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(postgres) = &self.postgres {
            let dropped = PgConnection::establish(&postgres.server_url).map(|mut server| {
                server.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    postgres.name
                ))
            });
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {}", postgres.name);
            }
        }
    }
}

/// Ways to tamper with the stored audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tampering {
    /// Rewrites the action of one event.
    EditAction { seq: i64 },
    /// Deletes one event.
    Delete { seq: i64 },
    /// Swaps the positions of two events.
    SwapSeq { first: i64, second: i64 },
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct TestClock {
    now: Mutex<DateTime<Utc>>,
}

impl TestClock {
    pub fn new(start: DateTime<Utc>) -> Arc<TestClock> {
        Arc::new(TestClock {
            now: Mutex::new(start),
        })
    }

    /// Starts at the current time.
    pub fn starting_now() -> Arc<TestClock> {
        TestClock::new(tend_core::SystemClock.now())
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        self.now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .trunc_subsecs(6)
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
