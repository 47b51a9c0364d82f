//! SQLite through sqlx: the only module that writes SQL.
//!
//! The database is created if missing and migrated at open (`migrations/`, embedded with
//! `sqlx::migrate!`). WAL journal, a busy timeout and foreign keys are set explicitly (none is
//! a default). Each feed's result is written in one transaction, so a crash loses at most the
//! feed being written and never leaves half of one. Queries are checked at run time (no
//! database needed to build).

mod decisions;
mod deliveries;
mod editorial;
mod feeds;
mod issues;
mod scores;
mod stories;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use editorial::{CatalogueItem, LearningLimits};
pub use feeds::FetchWrite;
pub use stories::StoryFilter;

/// Errors from the database. Opening errors name the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("cannot create or lock the files of database {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot migrate database {path}: {source}")]
    Migrate {
        path: PathBuf,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}{hint}", hint = full_disk_hint(.0))]
    Sql(#[from] sqlx::Error),
}

impl StoreError {
    /// The write failed for want of space (a full disk, or a file size limit): retrying later
    /// can succeed, and nothing committed was touched.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sql(e) if is_disk_full(e))
    }
}

/// SQLITE_FULL (13, any extended code), or SQLITE_IOERR_WRITE (778), which is what a write
/// past a file size limit (EFBIG) becomes.
fn is_disk_full(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(d) = e else {
        return false;
    };
    let code = d.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
    code & 0xff == 13 || code == 778
}

fn full_disk_hint(e: &sqlx::Error) -> &'static str {
    if is_disk_full(e) {
        " (the disk holding the database is full, or a file size limit was reached: free \
         space and try again; what was committed before is intact)"
    } else {
        ""
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating and migrating as needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
                path: path.to_owned(),
                source,
            })?;
        }
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        // Creating and migrating are serialized across processes (a reader started while the
        // daemon creates the database must not migrate it too). The lock is a sidecar file:
        // SQLite's own POSIX locks on the database file would be dropped if we closed another
        // descriptor of it.
        let lock = Self::lock_for_setup(path)
            .await
            .map_err(|source| StoreError::Dir {
                path: path.to_owned(),
                source,
            })?;
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable across application crashes in WAL mode.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // A write that failed at COMMIT (a full disk) is rolled back by SQLite itself, and
            // then sqlx's own ROLLBACK fails and leaves the connection believing it is still
            // in a transaction: every later BEGIN on it would fail. Such a connection is closed
            // instead of going back to the pool.
            .after_release(|conn, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!()
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_owned(),
                source,
            })?;
        drop(lock);
        Ok(Store { pool })
    }

    async fn lock_for_setup(path: &Path) -> std::io::Result<std::fs::File> {
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        tokio::task::spawn_blocking(move || {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)?;
            f.lock()?;
            Ok(f)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }

    /// The pool, for tests that inspect the database directly.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Splits rows for multi-row `INSERT … VALUES` into chunks of 512, 256, 128, … 1 rows: a
/// statement's text depends on its row count, so these few shapes are all that is ever
/// prepared (and cached), whatever the batch sizes, and a batch of a thousand stories is a
/// handful of statements (each one waits for sqlx's database thread). Bound parameters, not
/// JSON: SQLite would parse a JSON row once per extracted column. 512 rows × 12 columns stays
/// far below SQLite's 32,766 parameters.
fn chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    const MAX: usize = 512;
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = if rest.len() >= MAX {
            MAX
        } else {
            1 << (usize::BITS - 1 - rest.len().leading_zeros())
        };
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

/// For plans: rounded up, so that a feed is never fetched before its time.
fn ts_ceil(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

fn from_ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// A fresh database in a temp dir with `n` stories (`Story 1`…, at `https://s.example/1`…),
/// for the table groups' unit tests.
#[cfg(test)]
pub(crate) async fn test_store(n: usize) -> (tempfile::TempDir, Store, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).await.unwrap();
    let now = chrono::Utc::now();
    let mut ids = Vec::new();
    for i in 1..=n {
        let url = format!("https://s.example/{i}");
        let entry = crate::model::CleanEntry {
            title: format!("Story {i}"),
            url: Some(url.clone()),
            canonical_url: Some(url),
            author: None,
            published: Some(now - chrono::Duration::hours(i as i64)),
            updated: None,
            excerpt: format!("About story {i}."),
            content_html: format!("<p>About story {i}.</p>"),
        };
        ids.push(store.add_story(&entry, now).await.unwrap());
    }
    (dir, store, ids)
}
