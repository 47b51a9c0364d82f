//! TEMPORARY STUB (the date helper replaces this whole file): RFC 3339 and RFC 2822 only.
use chrono::{DateTime, Utc};

/// A date string → its UTC instant.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}
