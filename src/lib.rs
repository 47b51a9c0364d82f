//! gleaner reads the feeds a newsletter editor follows and keeps the stories in SQLite.
//!
//! Data flows one way; each module does one step and only the orchestrators ([`ingest`], [`desk`],
//! [`daemon`], [`deliver`], [`serve`]) know the order. `ARCHITECTURE.md` names every module,
//! its one job and what it must never import (`.ci/layers.py` checks it). The base layer —
//! [`text`] (escaping, the word normalizer), [`model`] (plain data), [`schedule`], [`config`] —
//! imports no stage.
//!
//! ```text
//! feeds.toml ─ config ─▶ ingest (the engine; `poll` runs a round, `daemon` runs it forever)
//!                         │  for every feed, by at most `concurrency` workers (per-host limits):
//!                         │    fetch    one conditional GET, limits, redirects, private-network guard
//!                         │    parse    bytes → charset → XML reader (feed-rs for JSON Feed)
//!                         │    clean    sanitize HTML, plain-text titles/excerpts, canonical URLs
//!                         │    dedup    identity keys and content hashes
//!                         │    score    keywords, fingerprint (neardup), section, learned features
//!                         ▼  serially, a batch of feeds per transaction:
//!                        store  (feeds, stories, scores, decisions, issues, deliveries)
//!                         ▼
//!                        desk (the editorial wing): ranking, decisions, issues, digest
//!                         ▼
//!                        output (renderers return strings; one atomic writer) · deliver (mail,
//!                        webhook) · serve (the desk over HTTP)
//! ```
//!
//! `schedule` is the pure math of when each feed is due (intervals, crontab, backoff, publisher
//! hints); `hosts` keeps per-host politeness; `daemon` runs rounds forever on that schedule.
//! Beside the pipeline, `feeds_file` appends feeds to feeds.toml keeping its comments and
//! layout, and `opml` reads and writes OPML subscription lists (`gleaner import`/`export`).
//! `serve` is the HTTP face of `desk` (`gleaner serve`, `gleaner run --serve`): pages and
//! form posts that call the same desk functions as the command line.

pub mod config;
pub mod feeds_file;
pub mod model;
pub mod schedule;
pub mod text;

pub mod fetch;
pub mod hosts;
pub mod parse;

pub mod clean;
pub mod dedup;

pub mod store;

pub mod learn;
pub mod neardup;
pub mod score;
pub mod sections;

pub mod discover;
pub mod page;

pub mod ingest;
pub mod opml;
pub mod output;

pub mod daemon;
pub mod deliver;
pub mod desk;
pub mod serve;

/// The User-Agent gleaner sends: `gleaner/<version> (+<repository>)`.
pub const USER_AGENT: &str = concat!(
    "gleaner/",
    env!("CARGO_PKG_VERSION"),
    " (+",
    env!("CARGO_PKG_REPOSITORY"),
    ")"
);
