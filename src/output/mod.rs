//! Renderers: data in, `String` out. Writing to a terminal or file is the caller's business,
//! so every output can be tested as a string.

pub mod check;
pub mod entries;
pub mod round;
pub mod status;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::store::{Store, StoreError};

/// The hook the daemon calls after a burst of fetches stored new stories: it regenerates every
/// output file that exists at the time and returns the paths written. Ingest alone keeps no
/// files; the candidate list (`out/candidates.md`, `.json`) and the curated Atom feed plug in
/// here when they arrive (issue #4).
pub async fn regenerate(
    _config: &Config,
    _store: &Store,
    _now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, StoreError> {
    Ok(Vec::new())
}
