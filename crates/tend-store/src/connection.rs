//! Connections: one diesel connection enum over SQLite and PostgreSQL, chosen explicitly from the
//! URL scheme, pooled with r2d2, migrated at start.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::StoreError;

/// The two database engines behind one connection type. Queries are written once against it;
/// the few engine-specific statements (locks, `BEGIN IMMEDIATE`) match on the variant.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl fmt::Debug for AnyConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyConnection::Sqlite(_) => f.write_str("AnyConnection::Sqlite"),
            AnyConnection::Postgres(_) => f.write_str("AnyConnection::Postgres"),
        }
    }
}

pub(crate) type Pool = r2d2::Pool<TendConnectionManager>;
pub(crate) type PooledConnection = r2d2::PooledConnection<TendConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Where the data lives, parsed from a URL. The scheme decides the engine; nothing is guessed.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://relative/path.db` or `sqlite:///absolute/path.db`.
    SqliteFile(PathBuf),
    /// `sqlite::memory:`: a private in-memory database (one connection, gone at exit).
    SqliteMemory,
    /// `postgres://…` or `postgresql://…`, handed to libpq unchanged.
    Postgres(String),
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<DatabaseUrl, StoreError> {
        let text = text.trim();
        if text == "sqlite::memory:" || text == "sqlite://:memory:" {
            return Ok(DatabaseUrl::SqliteMemory);
        }
        if let Some(path) = text.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(StoreError::InvalidDatabaseUrl(text.to_owned()));
            }
            return Ok(DatabaseUrl::SqliteFile(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_owned()));
        }
        Err(StoreError::InvalidDatabaseUrl(redact(text)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Shows the URL without a password, so it can be logged.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::SqliteFile(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

fn redact(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:***@host/db
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens connections of the engine the URL names. diesel's generic `ConnectionManager` would try
/// every variant in turn, handing a SQLite path to libpq first; this one does not guess.
#[derive(Debug)]
pub struct TendConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for TendConnectionManager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::SqliteFile(path) => {
                SqliteConnection::establish(&path.to_string_lossy()).map(AnyConnection::Sqlite)
            }
            DatabaseUrl::SqliteMemory => {
                SqliteConnection::establish(":memory:").map(AnyConnection::Sqlite)
            }
            DatabaseUrl::Postgres(url) => PgConnection::establish(url).map(AnyConnection::Postgres),
        }
        .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), r2d2::Error> {
        connection.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, connection: &mut AnyConnection) -> bool {
        std::thread::panicking() || connection.is_broken()
    }
}

/// Settings every SQLite connection needs: WAL so readers do not block the writer, foreign keys
/// (off by default in SQLite), and a busy timeout so a second writer waits instead of failing.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, connection: &mut AnyConnection) -> Result<(), r2d2::Error> {
        if let AnyConnection::Sqlite(sqlite) = connection {
            sqlite
                .batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Builds the pool and brings the schema up to date.
pub(crate) fn open_pool(url: &DatabaseUrl) -> Result<Pool, StoreError> {
    if let DatabaseUrl::SqliteFile(path) = url {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDirectory {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
        }
    }
    let max_size = match url {
        // Every in-memory connection would be a separate database.
        DatabaseUrl::SqliteMemory => 1,
        _ => 8,
    };
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        // No idle minimum: r2d2 would otherwise open replacement connections on its background
        // threads at any time, and a short-lived command exiting while libpq is mid-connect on one
        // of them crashes in libpq's exit handlers. Connections are opened on demand instead.
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(SqlitePragmas))
        .build(TendConnectionManager { url: url.clone() })?;
    let mut connection = pool.get()?;
    run_migrations(&mut connection)?;
    Ok(pool)
}

fn run_migrations(connection: &mut AnyConnection) -> Result<(), StoreError> {
    let applied = match connection {
        AnyConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|versions| versions.len()),
        AnyConnection::Postgres(postgres) => postgres
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|versions| versions.len()),
    }
    .map_err(|error| StoreError::Migration(error.to_string()))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(())
}

/// Runs `work` in a write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, which takes the
/// write lock up front: concurrent writers queue on `busy_timeout` instead of failing half-way
/// with `SQLITE_BUSY` when a read transaction tries to upgrade.
pub(crate) fn write_transaction<T>(
    connection: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match connection {
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgres(postgres) => <AnsiTransactionManager as TransactionManager<
            PgConnection,
        >>::begin_transaction(postgres)?,
    }
    match work(connection) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(connection)?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback_error) =
                <AnyConnection as Connection>::TransactionManager::rollback_transaction(connection)
            {
                tracing::error!(%rollback_error, "rollback failed");
            }
            Err(error)
        }
    }
}

/// Serialises appends to the audit chain on PostgreSQL, so two transactions never read the same
/// chain head. Taken as the last lock of a transaction (after any row locks) to keep a single lock
/// order. On SQLite `BEGIN IMMEDIATE` already serialises every writer.
pub(crate) fn lock_audit_chain(connection: &mut AnyConnection) -> Result<(), StoreError> {
    if let AnyConnection::Postgres(postgres) = connection {
        postgres.batch_execute("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_scheme_decides_the_engine() {
        let check = |text: &str, expected: Option<DatabaseUrl>| {
            assert_eq!(DatabaseUrl::parse(text).ok(), expected, "{text}");
        };
        check(
            "sqlite://data/tend.db",
            Some(DatabaseUrl::SqliteFile("data/tend.db".into())),
        );
        check(
            "sqlite:///var/lib/tend.db",
            Some(DatabaseUrl::SqliteFile("/var/lib/tend.db".into())),
        );
        check("sqlite::memory:", Some(DatabaseUrl::SqliteMemory));
        check(
            "postgresql://tend@db/tend",
            Some(DatabaseUrl::Postgres("postgresql://tend@db/tend".into())),
        );
        check("mysql://root@db/tend", None);
        check("data/tend.db", None);
        check("sqlite://", None);
        assert_eq!(
            DatabaseUrl::parse("ftp://x").map_err(|error| error.code()),
            Err("config.invalid_database_url")
        );
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        let url = DatabaseUrl::parse("postgres://tend:s3cret@db:5432/tend").unwrap();
        assert_eq!(url.to_string(), "postgres://tend:***@db:5432/tend");
        assert!(!format!("{url:?}").contains("s3cret"));
        let refused = DatabaseUrl::parse("redis://u:s3cret@host")
            .err()
            .map(|e| e.to_string());
        assert!(refused.is_some_and(|message| !message.contains("s3cret")));
    }
}
