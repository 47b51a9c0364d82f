//! The editorial wing: everything the editor's decisions touch, between the store and the
//! renderers. It scores stories (`scoring`), ranks the candidate window and writes the files made
//! from it (`candidates`, with the pure ranking in `ranking` and the candidates.md reader in
//! `candidates_md`), records decisions (`decisions`) and makes issues and the weekly digest
//! (`issues`). It is the only place that knows that order; the stages it calls (`score`,
//! `neardup`, `sections`, `learn`, `output::*`) are pure, and the store does the I/O. Every
//! function takes its "now" (or `as_of`) as an argument: nothing here reads the clock.

mod board;
mod candidates;
pub mod candidates_md;
mod decisions;
mod issues;
pub mod past_issues;
pub mod ranking;
mod scoring;

use std::path::{Path, PathBuf};

pub use board::*;
pub use candidates::*;
pub use decisions::*;
pub use issues::*;
pub use ranking::Filter;
pub use scoring::*;

use crate::model::PoolRow;
use crate::output::atomic_write;
use crate::store::{Store, StoreError};

/// Errors of editorial commands, written for the editor.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no story with id {0} (ids are shown by `gleaner candidates`)")]
    NoStory(i64),
    /// A feed name that is not in the config (the message lists the names that are).
    #[error("{0}")]
    NoFeed(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: nothing applied, {} problem{}:\n{}", .errors.len(), if .errors.len() == 1 { "" } else { "s" }, .errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Apply {
        path: PathBuf,
        errors: Vec<candidates_md::MarkError>,
    },
    #[error("cannot pick {url}: {reason}")]
    Link { url: String, reason: String },
}

fn write(path: &Path, contents: &str) -> Result<(), DeskError> {
    atomic_write(path, contents).map_err(|source| DeskError::Write {
        path: path.to_owned(),
        source,
    })
}

async fn story(store: &Store, id: i64) -> Result<PoolRow, DeskError> {
    store.pool_row(id).await?.ok_or(DeskError::NoStory(id))
}
