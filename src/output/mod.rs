//! Renderers: data in, `String` out. Writing to a terminal or file is the caller's business,
//! so every output can be tested as a string.

pub mod atom;
pub mod candidates;
pub mod check;
pub mod curated_json;
pub mod curated_rss;
pub mod digest;
pub mod discovery;
pub mod draft;
pub mod entries;
pub mod explain;
pub mod metrics;
pub mod round;
pub mod status;
mod write;

pub use write::atomic_write;
