//! One conditional GET of one feed, with limits, turned into a [`Fetched`] outcome.
//!
//! Statuses are outcomes, not crashes: 304, 410, 429/503 and permanent redirects are values the
//! orchestrator records; everything that prevents getting a body is a [`FetchError`] with a
//! message fit for the user. Redirects are followed here, by hand, so that a chain of permanent
//! redirects (301/308) can be reported as the feed's new address and loops are named as such.
//!
//! Limits (reqwest has none by default): a total timeout over every hop and the body, a connect
//! timeout, at most [`MAX_REDIRECTS`] redirects, and `max_bytes` counted while streaming, after
//! decompression — a gzip bomb stops at the limit with bounded memory.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::config::FetchSettings;
pub use crate::model::Validators;

/// Redirect hops followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

const ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
     application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5";

/// What one fetch produced.
#[derive(Debug)]
pub enum Fetched {
    /// 2xx with a body within the limits.
    Body(Body),
    /// 304: nothing changed since the validators we sent.
    NotModified(Meta),
    /// 410: the publisher removed the feed for good.
    Gone(Meta),
    /// 429 or 503: come back later, at the time the server asked for if it did.
    RetryLater {
        meta: Meta,
        retry_after: Option<RetryAfter>,
    },
}

impl Fetched {
    pub fn meta(&self) -> &Meta {
        match self {
            Fetched::Body(b) => &b.meta,
            Fetched::NotModified(m) | Fetched::Gone(m) => m,
            Fetched::RetryLater { meta, .. } => meta,
        }
    }
}

/// Facts about the response that ended the fetch.
#[derive(Debug, Clone)]
pub struct Meta {
    pub status: u16,
    /// The URL that answered, after redirects.
    pub final_url: Url,
    /// Set when every redirect hop was permanent (301/308): the feed's new address.
    pub moved_to: Option<Url>,
}

/// A successful response.
#[derive(Debug)]
pub struct Body {
    pub meta: Meta,
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `Cache-Control: max-age`, for the scheduler.
    pub max_age: Option<Duration>,
    /// `Expires`, for the scheduler.
    pub expires: Option<DateTime<Utc>>,
}

/// A `Retry-After` header: seconds from now, or an HTTP date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryAfter {
    Seconds(u64),
    At(DateTime<Utc>),
}

impl RetryAfter {
    /// The moment the server allows us back, given the time of the response.
    pub fn resolve(self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            // Capped at a week: a hostile value must not overflow or silence a feed forever.
            RetryAfter::Seconds(s) => now + chrono::Duration::seconds(s.min(7 * 86_400) as i64),
            RetryAfter::At(t) => t.min(now + chrono::Duration::days(7)),
        }
    }

    fn parse(v: &HeaderValue) -> Option<RetryAfter> {
        let s = v.to_str().ok()?.trim();
        if let Ok(secs) = s.parse::<u64>() {
            return Some(RetryAfter::Seconds(secs));
        }
        // IMF-fixdate is RFC 2822 compatible.
        DateTime::parse_from_rfc2822(s)
            .ok()
            .map(|d| RetryAfter::At(d.with_timezone(&Utc)))
    }
}

/// Why a fetch produced no usable response. Messages are written for the user.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    #[error("cannot resolve {host}: {reason}")]
    Dns { host: String, reason: String },
    #[error("cannot connect to {host}: {reason}")]
    Connect { host: String, reason: String },
    #[error("HTTP {code}{}", reason.map(|r| format!(" {r}")).unwrap_or_default())]
    Status {
        code: u16,
        reason: Option<&'static str>,
    },
    #[error("body larger than the limit of {}", bytesize::ByteSize(*limit))]
    TooLarge { limit: u64 },
    #[error("more than {MAX_REDIRECTS} redirects (last: {0})")]
    TooManyRedirects(Url),
    #[error("redirect loop at {0}")]
    RedirectLoop(Url),
    #[error("bad redirect: {0}")]
    BadRedirect(String),
    #[error("reading the body failed: {0}")]
    Body(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// Builds the HTTP client every fetch shares. Call once, at start-up.
pub fn client(settings: &FetchSettings) -> Result<reqwest::Client, reqwest::Error> {
    // reqwest is built without a default crypto provider (aws-lc-sys costs a minute of C per
    // cold build); ring is installed here. A second call finds it installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
    reqwest::Client::builder()
        .user_agent(crate::USER_AGENT)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout)
        // No idle connections kept between feeds: hyper grows a connection's read buffer up to
        // 400 KB on a fast large body and never shrinks it, so a pool of idle connections to
        // hundreds of hosts held tens of megabytes (28 MB in the 2,000-feed benchmark) to save
        // a handshake per feed.
        .pool_max_idle_per_host(0)
        .tcp_nodelay(true)
        .build()
}

/// Fetches `url`, sending `validators`; the whole exchange is bounded by `settings.timeout`.
pub async fn fetch(
    client: &reqwest::Client,
    settings: &FetchSettings,
    url: &Url,
    validators: &Validators,
) -> Result<Fetched, FetchError> {
    match tokio::time::timeout(
        settings.timeout,
        fetch_inner(client, settings, url, validators),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout(settings.timeout)),
    }
}

async fn fetch_inner(
    client: &reqwest::Client,
    settings: &FetchSettings,
    start: &Url,
    validators: &Validators,
) -> Result<Fetched, FetchError> {
    let mut url = start.clone();
    let mut seen = HashSet::from([start.clone()]);
    let mut all_permanent = true;
    let mut moved_to = None;

    for hop in 0.. {
        let mut req = client.get(url.clone());
        if let Some(etag) = &validators.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| classify(&e, &url, settings.timeout))?;
        let status = resp.status();

        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let location = resp
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    FetchError::BadRedirect(format!("HTTP {status} without Location"))
                })?;
            let next = url
                .join(location.trim())
                .map_err(|e| FetchError::BadRedirect(format!("`{location}`: {e}")))?;
            if !matches!(next.scheme(), "http" | "https") {
                return Err(FetchError::BadRedirect(format!(
                    "to a non-HTTP address `{next}`"
                )));
            }
            all_permanent &= matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
            );
            moved_to = all_permanent.then(|| next.clone());
            if !seen.insert(next.clone()) {
                return Err(FetchError::RedirectLoop(next));
            }
            if hop + 1 > MAX_REDIRECTS {
                return Err(FetchError::TooManyRedirects(next));
            }
            url = next;
            continue;
        }

        let meta = Meta {
            status: status.as_u16(),
            final_url: url.clone(),
            moved_to: moved_to.clone(),
        };
        return match status {
            StatusCode::NOT_MODIFIED => Ok(Fetched::NotModified(meta)),
            StatusCode::GONE => Ok(Fetched::Gone(meta)),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                let retry_after = resp
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(RetryAfter::parse);
                Ok(Fetched::RetryLater { meta, retry_after })
            }
            s if s.is_success() => read_body(resp, meta, settings).await.map(Fetched::Body),
            s => Err(FetchError::Status {
                code: s.as_u16(),
                reason: s.canonical_reason(),
            }),
        };
    }
    unreachable!("the redirect loop returns")
}

async fn read_body(
    mut resp: reqwest::Response,
    meta: Meta,
    settings: &FetchSettings,
) -> Result<Body, FetchError> {
    let limit = settings.max_bytes;
    let headers = resp.headers();
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let content_type = text(header::CONTENT_TYPE);
    let etag = text(header::ETAG);
    let last_modified = text(header::LAST_MODIFIED);
    let max_age = text(header::CACHE_CONTROL).and_then(|cc| parse_max_age(&cc));
    let expires = text(header::EXPIRES)
        .and_then(|e| DateTime::parse_from_rfc2822(&e).ok())
        .map(|d| d.with_timezone(&Utc));

    // A declared length over the limit fails before reading anything. Compressed responses
    // carry no usable length (reqwest removes it), so the stream below is the real guard.
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(FetchError::TooLarge { limit });
    }
    let mut bytes =
        Vec::with_capacity(resp.content_length().unwrap_or(64 * 1024).min(limit) as usize);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| FetchError::Body(chain(&e)))?
    {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(FetchError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body {
        meta,
        bytes,
        content_type,
        etag,
        last_modified,
        max_age,
        expires,
    })
}

fn parse_max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|d| {
        let (k, v) = d.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case("max-age").then(|| {
            v.trim()
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs)
        })?
    })
}

fn classify(e: &reqwest::Error, url: &Url, timeout: Duration) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(timeout);
    }
    if !e.is_connect() {
        return FetchError::Other(chain(e));
    }
    let full = chain(e);
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.to_string(),
    };
    // The innermost cause says what happened; the layers above only repeat "connect".
    let reason = root_cause(e);
    if full.contains("dns error") {
        FetchError::Dns { host, reason }
    } else {
        FetchError::Connect { host, reason }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let s = cur.to_string();
    // io::Error adds " (os error N)"; the words are enough.
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// An error and its causes in one line, without reqwest's repetitions.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        // reqwest prefixes its own message with the URL; the feed line names it already.
        let s = match s.find(" for url (") {
            Some(i) => s[..i].to_string(),
            None => s,
        };
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            parse_max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_max_age("no-cache"), None);
        assert_eq!(
            parse_max_age("max-age=\"60\""),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = RetryAfter::parse(&HeaderValue::from_static("120")).unwrap();
        assert_eq!(s.resolve(now), now + chrono::Duration::seconds(120));
        let d =
            RetryAfter::parse(&HeaderValue::from_static("Wed, 25 Nov 2026 12:00:00 GMT")).unwrap();
        assert_eq!(d.resolve(now), now + chrono::Duration::hours(2));
        // Absurd values are capped at a week.
        let big = RetryAfter::parse(&HeaderValue::from_static("999999999999")).unwrap();
        assert_eq!(big.resolve(now), now + chrono::Duration::days(7));
        assert!(RetryAfter::parse(&HeaderValue::from_static("soon")).is_none());
    }
}
