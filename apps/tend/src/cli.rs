//! The `tend` command line: serve the API, add users, verify the audit trail, solve rosters.

use std::io::BufRead;
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tend_core::SystemClock;
use tend_store::{DatabaseUrl, NewUser, Store, StoreError};

/// Where data lives when nothing else is said.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tend.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Tend: operations platform for care centers (postpartum centers, dental clinics, wellness
/// studios).
#[derive(Debug, Parser)]
#[command(name = "tend", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API (JSON under /api/v1, OpenAPI at /openapi.json).
    ///
    /// On the first start with an empty database it creates a site "Main" (time zone from
    /// TEND_TIME_ZONE, default UTC) and the administrator admin@tend.local, whose password is
    /// TEND_ADMIN_PASSWORD or a generated one printed once.
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Address to listen on.
        #[arg(long, env = "TEND_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: String,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Inspect the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Solve rosters and run the roster benchmark.
    Roster {
        #[command(subcommand)]
        command: crate::roster::RosterCommand,
    },
}

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(long, env = "TEND_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from the first line of standard input.
    Add {
        #[arg(long)]
        email: String,
        /// admin, store_manager, consultant, expert, operator, chef, receptionist or finance.
        #[arg(long)]
        role: String,
        /// The site (id or exact name) the user works at; only administrators may omit it.
        #[arg(long)]
        site: Option<String>,
        /// Read the password (at least 10 characters) from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every link of the audit hash chain; exits non-zero at the first broken event.
    Verify {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { database, listen } => serve(&database, &listen),
        Command::User {
            command:
                UserCommand::Add {
                    email,
                    role,
                    site,
                    password_stdin: _,
                    database,
                },
        } => add_user(&database, email, role, site),
        Command::Audit {
            command: AuditCommand::Verify { database },
        } => verify_audit(&database),
        Command::Roster { command } => crate::roster::run(command),
    }
}

fn open_store(database: &DatabaseArgs) -> anyhow::Result<Store> {
    let url = DatabaseUrl::parse(&database.database_url)?;
    Store::open(&url, Arc::new(SystemClock)).with_context(|| format!("opening {url}"))
}

fn serve(database: &DatabaseArgs, listen: &str) -> anyhow::Result<ExitCode> {
    let store = open_store(database)?;
    let time_zone = std::env::var("TEND_TIME_ZONE").unwrap_or_else(|_| "UTC".into());
    let admin_password = std::env::var("TEND_ADMIN_PASSWORD")
        .ok()
        .filter(|password| !password.is_empty());
    if let Some(bootstrap) = store
        .bootstrap(&time_zone, admin_password)
        .context("preparing the first start")?
    {
        tracing::info!(site = %bootstrap.site.id, "first start: created site \"Main\" and admin@tend.local");
        if let Some(password) = bootstrap.generated_password {
            println!(
                "First start: administrator admin@tend.local created with password: {password}"
            );
            println!("This password is shown only once. Keep it safe.");
        }
    }
    let listener =
        TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = %DatabaseUrl::parse(&database.database_url)?, "tend is listening");
    println!("Tend is listening on http://{address}");
    let server = crate::http::server(store, listener)?;
    actix_web::rt::System::new().block_on(server)?;
    Ok(ExitCode::SUCCESS)
}

fn add_user(
    database: &DatabaseArgs,
    email: String,
    role: String,
    site: Option<String>,
) -> anyhow::Result<ExitCode> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    let store = open_store(database)?;
    let site_id = match site {
        Some(site) => Some(
            store
                .find_site(&site)
                .with_context(|| format!("no site with id or name `{site}`"))?
                .id
                .to_string(),
        ),
        None => None,
    };
    match store.create_user(
        None,
        NewUser {
            email,
            role,
            site_id,
            password,
        },
    ) {
        Ok(user) => {
            println!(
                "user {} created: {} ({})",
                user.id,
                user.email.as_str(),
                user.role
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(
            error @ (StoreError::InvalidInput(_)
            | StoreError::EmailTaken
            | StoreError::SiteNotFound),
        ) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(2))
        }
        Err(error) => Err(error.into()),
    }
}

fn verify_audit(database: &DatabaseArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(database)?;
    match store.verify_audit_chain() {
        Ok(summary) => {
            println!("audit chain intact: {} events", summary.events);
            Ok(ExitCode::SUCCESS)
        }
        Err(StoreError::AuditChainBroken(broken)) => {
            println!(
                "audit chain BROKEN at event seq {} (id {}): {}",
                broken.seq, broken.event_id, broken
            );
            Ok(ExitCode::from(1))
        }
        Err(error) => Err(error.into()),
    }
}
