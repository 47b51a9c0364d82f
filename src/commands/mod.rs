//! One function per command. Each loads what it needs through [`Ctx`] (the one place that
//! opens the config and the store), calls the library, prints through [`say`]/[`print`] and
//! returns a [`Failure`], which `main` maps to the exit code. No policy about the pipeline
//! lives here beyond what to print.

mod check;
mod daemon;
mod editorial;
mod issues;
mod poll;
mod reading;
mod sources;

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use gleaner::config::Config;
use gleaner::desk::DeskError;
use gleaner::store::{Store, StoreError};

use crate::cli::{self, Cli, Command};

/// Why a command did not succeed, and so the exit code (`gleaner --help` documents them).
#[derive(Debug)]
pub enum Failure {
    /// 1: anything else (a feed not found, a send failed, a file not written).
    Failed(String),
    /// 2: the config or the command line cannot be used; nothing was changed.
    Config(String),
    /// 3: the database cannot be opened or written (a full disk included).
    Database(String),
    /// 4: the polling round ran, but every feed it fetched failed.
    EveryFeedFailed(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Failed(_) => 1,
            Failure::Config(_) => 2,
            Failure::Database(_) => 3,
            Failure::EveryFeedFailed(_) => 4,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Failed(m)
            | Failure::Config(m)
            | Failure::Database(m)
            | Failure::EveryFeedFailed(m) => m,
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Database(e.to_string())
    }
}

impl From<DeskError> for Failure {
    fn from(e: DeskError) -> Failure {
        match e {
            DeskError::Store(e) => Failure::Database(e.to_string()),
            other => Failure::Failed(other.to_string()),
        }
    }
}

/// What every command gets: where the config and database are, and the time it runs at.
pub struct Ctx {
    pub config_path: PathBuf,
    /// `--db`: overrides the config's `[storage] path`.
    pub db: Option<PathBuf>,
    /// The clock, or `GLEANER_NOW` (one-shot commands replay a past time with it).
    pub now: DateTime<Utc>,
}

impl Ctx {
    /// The config, and the database path it (or `--db`) names.
    pub fn config(&self) -> Result<(Config, PathBuf), Failure> {
        let config = Config::load(&self.config_path).map_err(|e| Failure::Config(e.to_string()))?;
        let db = self
            .db
            .clone()
            .unwrap_or_else(|| config.storage.path.clone());
        Ok((config, db))
    }

    /// For commands that only read the database: with `--db` the config may be absent
    /// (`None`); otherwise it must load.
    pub fn config_if_any(&self) -> Result<(Option<Config>, PathBuf), Failure> {
        match &self.db {
            Some(db) if !self.config_path.exists() => Ok((None, db.clone())),
            _ => {
                let (config, db) = self.config()?;
                Ok((Some(config), db))
            }
        }
    }

    /// Opens (creating and migrating) the database.
    pub async fn open_store(&self, db: &std::path::Path) -> Result<Store, Failure> {
        Ok(Store::open(db).await?)
    }

    /// The config and its open store: what most commands start with.
    pub async fn open(&self) -> Result<(Config, Store), Failure> {
        let (config, db) = self.config()?;
        let store = self.open_store(&db).await?;
        Ok((config, store))
    }
}

/// Prints `text` as it is; false when standard output is closed. This is the only place broken
/// pipes are handled: a closed pipe (`gleaner poll | head`) must not abort a round half way, so
/// the error goes no further — the database, not the terminal, is the record (a command that
/// only prints, like `inspect`, may stop early on false).
pub fn print(text: &str) -> bool {
    std::io::stdout().lock().write_all(text.as_bytes()).is_ok()
}

/// Prints one line.
pub fn say(line: &str) {
    print(&format!("{line}\n"));
}

/// Runs the command the command line names.
pub async fn dispatch(cli: &Cli, ctx: &Ctx) -> Result<(), Failure> {
    match &cli.command {
        Command::Check => check::check(ctx).await,
        Command::Inspect(args) => reading::inspect(args),
        Command::Run(args) => daemon::run(ctx, args).await,
        Command::Serve(args) => daemon::serve(ctx, args).await,
        Command::Status(args) => reading::status(ctx, args).await,
        Command::Entries(args) => reading::entries(ctx, args).await,
        Command::Poll(args) => poll::poll(ctx, args).await,
        Command::Candidates(args) => editorial::candidates(ctx, args).await,
        Command::Pick(args) => editorial::pick(ctx, args).await,
        Command::Reject(args) => editorial::reject(ctx, args).await,
        Command::Unpick(args) => editorial::unpick(ctx, args).await,
        Command::Snooze(args) => editorial::snooze(ctx, args).await,
        Command::Unsnooze(args) => editorial::unsnooze(ctx, args).await,
        Command::Apply(args) => editorial::apply(ctx, args).await,
        Command::Explain(args) => editorial::explain(ctx, args).await,
        Command::Rescore => editorial::rescore(ctx).await,
        Command::Draft(args) => issues::draft(ctx, args).await,
        Command::Publish(args) => issues::publish(ctx, args).await,
        Command::Digest(args) => issues::digest(ctx, args).await,
        Command::Pause(args) => sources::pause(ctx, args, true).await,
        Command::Resume(args) => sources::pause(ctx, args, false).await,
        Command::Add(args) => sources::add(ctx, args).await,
        Command::Import(args) => match &args.format {
            cli::ImportFormat::Opml(args) => sources::import_opml(ctx, args),
            cli::ImportFormat::Issues(args) => issues::import_issues(ctx, args).await,
        },
        Command::Export(args) => match &args.format {
            cli::ExportFormat::Opml(args) => sources::export_opml(ctx, args),
        },
    }
}
