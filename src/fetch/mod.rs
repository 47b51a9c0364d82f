//! One conditional GET of one feed, with limits, turned into a [`Fetched`] outcome.
//!
//! Statuses are outcomes, not crashes: 304, 410, 429/503 and permanent redirects are values the
//! orchestrator records; everything that prevents getting a body is a [`FetchError`] with a
//! message fit for the user. Redirects are followed here, by hand, so that a chain of permanent
//! redirects (301/308) can be reported as the feed's new address and loops are named as such.
//!
//! Limits (reqwest has none by default): a total timeout over every hop and the body — a
//! deadline, not an idle timeout, so a server that drips a byte a second is cut off too — a
//! connect timeout, at most [`MAX_REDIRECTS`] redirects, at most [`MAX_HEADER_BYTES`] of
//! response headers, and `max_bytes` counted while streaming, after decompression — a gzip bomb
//! stops at the limit with bounded memory.
//!
//! The private-network guard (what a feed may reach, checked before every hop and where names
//! are resolved) is [`guard`]; what went wrong, in words and kinds, is [`errors`].

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::config::FetchSettings;

pub mod errors;
pub mod guard;

pub use crate::model::Validators;
pub use errors::FetchError;
use errors::{body_error, classify};
pub(crate) use errors::{causes, certificate_problem};
use guard::PublicOnly;
pub use guard::{Reach, ResolvedPrivate, Restricted, reach, restricted, restricted_host, screen};

/// Redirect hops followed before giving up.
pub const MAX_REDIRECTS: usize = 10;

/// Largest response head accepted (names, values and line ends). Real feeds send a few
/// kilobytes; big cookies and CSP headers stay far below this. hyper itself stops at 100
/// header lines or about 400 KB.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

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

/// The HTTP clients every fetch shares; build them once, at start-up, with [`client`].
#[derive(Debug, Clone)]
pub struct Client {
    /// For feeds at public addresses: its resolver refuses names that resolve only to private
    /// addresses (and drops the private ones from mixed answers).
    public: reqwest::Client,
    /// For feeds configured at a private address or allowed into private space.
    any: reqwest::Client,
}

impl Client {
    fn get(&self, reach: Reach) -> &reqwest::Client {
        match reach {
            Reach::Public => &self.public,
            Reach::Any => &self.any,
        }
    }
}

/// Builds the HTTP clients every fetch shares. Call once, at start-up.
pub fn client(settings: &FetchSettings) -> Result<Client, reqwest::Error> {
    // reqwest is built without a default crypto provider (aws-lc-sys costs a minute of C per
    // cold build); ring is installed here. A second call finds it installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let any = builder(settings)?.build()?;
    let public = if settings.allow_private {
        any.clone()
    } else {
        // The proxy is the user's own choice of address: resolving it is never refused.
        let exempt = settings
            .proxy
            .as_ref()
            .and_then(|p| p.host_str())
            .map(str::to_ascii_lowercase);
        builder(settings)?
            .dns_resolver(PublicOnly { exempt })
            .build()?
    };
    Ok(Client { public, any })
}

fn builder(settings: &FetchSettings) -> Result<reqwest::ClientBuilder, reqwest::Error> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT));
    let mut builder = reqwest::Client::builder();
    if let Some(proxy) = &settings.proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.as_str())?);
    }
    Ok(builder
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
        .tcp_nodelay(true))
}

/// Fetches `url`, sending `validators`, reaching as far as `url` itself allows ([`reach`]);
/// the whole exchange is bounded by `settings.timeout`.
pub async fn fetch(
    client: &Client,
    settings: &FetchSettings,
    url: &Url,
    validators: &Validators,
) -> Result<Fetched, FetchError> {
    fetch_within(client, settings, url, validators, reach(settings, url)).await
}

/// [`fetch`] with the reach decided by the caller: a feed's reach follows its configured URL,
/// also when it is fetched at the address a permanent redirect gave it.
pub async fn fetch_within(
    client: &Client,
    settings: &FetchSettings,
    url: &Url,
    validators: &Validators,
    reach: Reach,
) -> Result<Fetched, FetchError> {
    // One deadline over everything (every hop, headers and body), so that a slow drip of
    // bytes, each arriving well within any idle timeout, still ends on time.
    match tokio::time::timeout(
        settings.timeout,
        fetch_inner(client, settings, url, validators, reach),
    )
    .await
    {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout(settings.timeout)),
    }
}

async fn fetch_inner(
    client: &Client,
    settings: &FetchSettings,
    start: &Url,
    validators: &Validators,
    reach: Reach,
) -> Result<Fetched, FetchError> {
    let mut url = start.clone();
    let mut seen = HashSet::from([start.clone()]);
    let mut all_permanent = true;
    let mut moved_to = None;

    // Literal addresses never reach the resolver: they are checked here, before the first
    // request and before following each redirect. (A start that is not public has
    // `Reach::Any` unless a permanent redirect took a public feed there earlier.)
    if reach == Reach::Public
        && let Some(reason) = restricted_host(&url)
    {
        return Err(FetchError::Private {
            target: url.to_string(),
            reason,
        });
    }
    for hop in 0.. {
        let mut req = client.get(reach).get(url.clone());
        if let Some(etag) = &validators.etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header(header::IF_MODIFIED_SINCE, lm);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| match classify(&e, &url, settings.timeout) {
                FetchError::Private { target, reason } if hop > 0 => FetchError::Private {
                    target: format!("the redirect to {target}"),
                    reason,
                },
                other => other,
            })?;
        let status = resp.status();
        let head = header_bytes(resp.headers());
        if head > MAX_HEADER_BYTES {
            return Err(FetchError::HeadersTooLarge(format!(
                "{}, over the limit of {}",
                bytesize::ByteSize(head as u64),
                bytesize::ByteSize(MAX_HEADER_BYTES as u64)
            )));
        }

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
            if reach == Reach::Public
                && let Some(reason) = restricted_host(&next)
            {
                // Named as sent, and as parsed when that differs (`http://2130706433/`).
                let location = location.trim();
                let target = if location == next.as_str() {
                    format!("the redirect to {next}")
                } else {
                    format!("the redirect to `{location}` ({next})")
                };
                return Err(FetchError::Private { target, reason });
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
    let announced = resp.content_length();
    let mut bytes = Vec::with_capacity(announced.unwrap_or(64 * 1024).min(limit) as usize);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| body_error(&e, bytes.len() as u64, announced, settings.timeout))?
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

/// Names, values and line ends of a response head, roughly as they came on the wire.
fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum()
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
