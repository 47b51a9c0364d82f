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
//! Private networks (server-side request forgery): a feed configured at a public address may not
//! be led into loopback, private, link-local or other non-public space ([`restricted`]) — not by
//! a redirect, not by what a name resolves to. Literal addresses and private-use names are
//! checked before every hop; names are checked where they are resolved, by the [`Client`]'s
//! resolver, so a DNS answer cannot change between the check and the connection. A feed whose
//! configured URL is itself private (`http://127.0.0.1:8080/feed`, `http://nas.local/`), or
//! that the user allowed (`allow_private`), may go anywhere ([`reach`]). Behind a `proxy` the
//! proxy resolves names, so only the literal checks apply: the proxy must refuse private
//! destinations itself.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::config::FetchSettings;
pub use crate::model::Validators;

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
    #[error("{}", truncated(*got, *announced))]
    Truncated { got: u64, announced: Option<u64> },
    #[error("the server reset the connection after {got} bytes of the body")]
    Reset { got: u64 },
    #[error("response headers too large: {0}")]
    HeadersTooLarge(String),
    #[error("TLS certificate of {host} rejected: {reason}")]
    Certificate { host: String, reason: String },
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    /// A public feed led towards a private address. The message names the opt-in.
    #[error(
        "refused {target}: {reason}; gleaner reaches private networks only for feeds configured \
         at a private address, or with `allow_private = true` (on the feed, or in [fetch])"
    )]
    Private { target: String, reason: String },
    #[error("request failed: {0}")]
    Other(String),
}

impl FetchError {
    /// The kind of failure, for the fetch log and `/metrics`.
    pub fn kind(&self) -> crate::model::ErrorKind {
        use crate::model::ErrorKind as K;
        match self {
            FetchError::Timeout(_) => K::Timeout,
            FetchError::Dns { .. } => K::Dns,
            FetchError::Connect { .. } => K::Connect,
            FetchError::Status { .. } => K::Http,
            FetchError::TooLarge { .. } | FetchError::HeadersTooLarge(_) => K::TooLarge,
            FetchError::TooManyRedirects(_)
            | FetchError::RedirectLoop(_)
            | FetchError::BadRedirect(_) => K::Redirect,
            FetchError::Body(_) | FetchError::Truncated { .. } | FetchError::Reset { .. } => {
                K::Body
            }
            FetchError::Certificate { .. } => K::Certificate,
            FetchError::Tls { .. } => K::Tls,
            FetchError::Private { .. } => K::Private,
            FetchError::Other(_) => K::Other,
        }
    }
}

fn truncated(got: u64, announced: Option<u64>) -> String {
    match announced {
        Some(n) => format!(
            "the server closed the connection after {got} of the {n} bytes it announced \
             (Content-Length)"
        ),
        None => {
            format!("the server closed the connection in the middle of the body, after {got} bytes")
        }
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

/// Where a fetch may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Public addresses only.
    Public,
    /// Private addresses too.
    Any,
}

/// How far the feed configured at `configured` may reach: anywhere when that URL is itself
/// private (a literal private address or a private-use name: the user pointed gleaner at a
/// local service) or when `allow_private` is set for it or for every feed; else public
/// addresses only.
pub fn reach(settings: &FetchSettings, configured: &Url) -> Reach {
    if settings.allow_private
        || settings.private_feeds.contains(configured)
        || restricted_host(configured).is_some()
    {
        Reach::Any
    } else {
        Reach::Public
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

/// The errors of a body cut short, named for what the server did.
fn body_error(
    e: &reqwest::Error,
    got: u64,
    announced: Option<u64>,
    timeout: Duration,
) -> FetchError {
    // reqwest's own timeout (the same deadline, set on the client) can fire first while the
    // body drips in: it is the same timeout, and says so.
    if e.is_timeout() {
        return FetchError::Timeout(timeout);
    }
    let kind = causes(e)
        .find_map(|c| c.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    match kind {
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => {
            FetchError::Reset { got }
        }
        Some(std::io::ErrorKind::UnexpectedEof) => FetchError::Truncated { got, announced },
        _ if crate::text::error_chain(e).contains("connection closed before message completed") => {
            FetchError::Truncated { got, announced }
        }
        _ => FetchError::Body(crate::text::error_chain(e)),
    }
}

/// `e` and its sources, innermost last. An `io::Error` that wraps another error (rustls
/// does this) hides it from `source()`, so it is unwrapped here.
pub(crate) fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    let mut next = Some(e);
    std::iter::from_fn(move || {
        let cur = next?;
        next = match cur.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => cur.source(),
        };
        Some(cur)
    })
}

/// What rustls said about a server's certificate, in words.
pub(crate) fn certificate_problem(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => "it is not signed by a trusted certificate authority (a self-signed \
                             certificate, or a missing intermediate)"
            .into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it is not valid for this host name".into()
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "it is not valid yet (is the clock right?)".into()
        }
        C::Revoked => "it has been revoked".into(),
        C::BadSignature => "its signature is invalid".into(),
        other => other.to_string(),
    }
}

fn classify(e: &reqwest::Error, url: &Url, timeout: Duration) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout(timeout);
    }
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => url.to_string(),
    };
    for cause in causes(e) {
        if let Some(p) = cause.downcast_ref::<ResolvedPrivate>() {
            return FetchError::Private {
                target: url.to_string(),
                reason: p.to_string(),
            };
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(c) => FetchError::Certificate {
                    host,
                    reason: certificate_problem(c),
                },
                other => FetchError::Tls {
                    host,
                    reason: other.to_string(),
                },
            };
        }
    }
    let full = crate::text::error_chain(e);
    if full.contains("message head is too large") {
        return FetchError::HeadersTooLarge(
            "more than 100 header lines, or more than about 400 KB".into(),
        );
    }
    if !e.is_connect() {
        return FetchError::Other(full);
    }
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

/// Why an address is not one a public feed may lead to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restricted {
    Loopback,
    /// RFC 1918, and IPv6 site-local (deprecated).
    Private,
    /// RFC 6598 carrier-grade NAT, 100.64.0.0/10.
    SharedNat,
    /// RFC 4193 unique local, fc00::/7.
    UniqueLocal,
    /// 169.254.0.0/16 (where cloud metadata services answer) and fe80::/10.
    LinkLocal,
    Unspecified,
    Multicast,
    /// Reserved for other uses (IETF protocol assignments, benchmarking, class E, broadcast).
    Reserved,
}

impl Restricted {
    pub fn describe(self) -> &'static str {
        match self {
            Restricted::Loopback => "a loopback address",
            Restricted::Private => "a private address",
            Restricted::SharedNat => "a carrier-grade NAT address (100.64.0.0/10)",
            Restricted::UniqueLocal => "a unique local address (fc00::/7)",
            Restricted::LinkLocal => "a link-local address (where cloud metadata services answer)",
            Restricted::Unspecified => "the unspecified address",
            Restricted::Multicast => "a multicast address",
            Restricted::Reserved => "a reserved address",
        }
    }
}

/// Classifies an address: `None` for an ordinary public one. IPv4 addresses embedded in IPv6
/// (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
/// are judged by their IPv4 address. Documentation ranges (TEST-NET) count as public: they
/// lead nowhere inside.
pub fn restricted(ip: IpAddr) -> Option<Restricted> {
    match ip {
        IpAddr::V4(v4) => restricted_v4(v4),
        IpAddr::V6(v6) => restricted_v6(v6),
    }
}

fn restricted_v4(ip: Ipv4Addr) -> Option<Restricted> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => Restricted::Unspecified, // "this network", 0.0.0.0/8
        (127, ..) => Restricted::Loopback,
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => Restricted::Private,
        (100, 64..=127, _) => Restricted::SharedNat,
        (169, 254, _) => Restricted::LinkLocal,
        (192, 0, 0) | (198, 18..=19, _) => Restricted::Reserved,
        (224..=239, ..) => Restricted::Multicast,
        (240..=255, ..) => Restricted::Reserved,
        _ => return None,
    })
}

fn restricted_v6(ip: Ipv6Addr) -> Option<Restricted> {
    if ip.is_unspecified() {
        return Some(Restricted::Unspecified);
    }
    if ip.is_loopback() {
        return Some(Restricted::Loopback);
    }
    let s = ip.segments();
    let low_v4 = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated)
        [0, 0, 0, 0, 0, 0xffff, ..] => restricted_v4(low_v4()),
        [0, 0, 0, 0, 0, 0, ..] => Some(restricted_v4(low_v4()).unwrap_or(Restricted::Reserved)),
        // NAT64, RFC 6052
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => restricted_v4(low_v4()),
        // 6to4, RFC 3056: the IPv4 address follows the prefix
        [0x2002, hi, lo, ..] => restricted_v4(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        [x, ..] if x & 0xfe00 == 0xfc00 => Some(Restricted::UniqueLocal),
        [x, ..] if x & 0xffc0 == 0xfe80 => Some(Restricted::LinkLocal),
        [x, ..] if x & 0xffc0 == 0xfec0 => Some(Restricted::Private),
        [x, ..] if x & 0xff00 == 0xff00 => Some(Restricted::Multicast),
        _ => None,
    }
}

/// Names that are private by definition, whatever they resolve to: `localhost` and
/// `*.localhost` (RFC 6761), `*.local` (mDNS, RFC 6762), `*.home.arpa` (RFC 8375) and
/// `*.internal` (reserved for private use, ICANN 2024).
fn private_name(host: &str) -> Option<&'static str> {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |suffix: &str| h == suffix || h.ends_with(&format!(".{suffix}"));
    if under("localhost") {
        Some("a loopback name")
    } else if under("local") || under("home.arpa") || under("internal") {
        Some("a private-use name")
    } else {
        None
    }
}

/// Why `url`'s host is not public, judged from the URL alone (no DNS).
pub fn restricted_host(url: &Url) -> Option<String> {
    match url.host()? {
        url::Host::Ipv4(ip) => restricted_v4(ip).map(|k| format!("{ip} is {}", k.describe())),
        url::Host::Ipv6(ip) => restricted_v6(ip).map(|k| format!("{ip} is {}", k.describe())),
        url::Host::Domain(d) => private_name(d).map(|what| format!("{d} is {what}")),
    }
}

/// A name that resolved only to addresses a public feed may not reach.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {addr}, {}", .kind.describe())]
pub struct ResolvedPrivate {
    pub host: String,
    pub addr: IpAddr,
    pub kind: Restricted,
}

/// Keeps the public addresses a name resolved to; refuses a name with none.
pub fn screen(host: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, ResolvedPrivate> {
    let mut first_refused = None;
    let public: Vec<SocketAddr> = addrs
        .into_iter()
        .filter(|a| match restricted(a.ip()) {
            None => true,
            Some(kind) => {
                first_refused.get_or_insert((a.ip(), kind));
                false
            }
        })
        .collect();
    match (public.is_empty(), first_refused) {
        (true, Some((addr, kind))) => Err(ResolvedPrivate {
            host: host.to_string(),
            addr,
            kind,
        }),
        _ => Ok(public),
    }
}

/// The system resolver (getaddrinfo, on the blocking pool, as reqwest's own), with
/// [`screen`] applied: where the guard against names pointing inside belongs, since the
/// addresses checked are the ones connected to.
#[derive(Debug)]
struct PublicOnly {
    exempt: Option<String>,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let exempt = self.exempt.as_deref() == Some(host.as_str());
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let addrs = if exempt { addrs } else { screen(&host, addrs)? };
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_addresses_are_classified() {
        let r = |s: &str| restricted(s.parse().unwrap());
        use Restricted::*;
        for (addr, want) in [
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("10.0.0.1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.1", None),
            ("192.168.1.1", Some(Private)),
            ("100.64.0.1", Some(SharedNat)),
            ("100.127.255.255", Some(SharedNat)),
            ("100.128.0.1", None),
            ("169.254.169.254", Some(LinkLocal)),
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("255.255.255.255", Some(Reserved)),
            ("240.0.0.1", Some(Reserved)),
            ("192.0.0.170", Some(Reserved)),
            ("198.18.0.1", Some(Reserved)),
            ("8.8.8.8", None),
            ("93.184.215.14", None),
            ("203.0.113.10", None), // TEST-NET-3: public-looking, used by the tests
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("fc00::1", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("fec0::1", Some(Private)),
            ("ff02::1", Some(Multicast)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some(Loopback)),
            ("::8.8.8.8", Some(Reserved)),
            ("64:ff9b::10.0.0.1", Some(Private)),
            ("64:ff9b::8.8.8.8", None),
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:0808:0808::", None),
            ("2606:4700::1111", None),
            ("2001:db8::1", None),
        ] {
            assert_eq!(r(addr), want, "{addr}");
        }
    }

    #[test]
    fn hosts_are_judged_from_the_url_alone() {
        let h = |s: &str| restricted_host(&Url::parse(s).unwrap());
        assert_eq!(
            h("http://127.0.0.1:8080/feed").unwrap(),
            "127.0.0.1 is a loopback address"
        );
        // The URL parser normalizes numeric hosts before anyone connects.
        assert_eq!(
            h("http://2130706433/").unwrap(),
            "127.0.0.1 is a loopback address"
        );
        assert_eq!(
            h("http://0x7f.1/").unwrap(),
            "127.0.0.1 is a loopback address"
        );
        assert_eq!(h("http://[::1]/").unwrap(), "::1 is a loopback address");
        assert!(
            h("http://[::ffff:a9fe:a9fe]/")
                .unwrap()
                .contains("link-local")
        );
        assert_eq!(
            h("http://localhost/").unwrap(),
            "localhost is a loopback name"
        );
        assert_eq!(
            h("http://LocalHost./").unwrap(),
            "localhost. is a loopback name"
        );
        assert!(h("http://app.localhost:3000/").is_some());
        assert!(h("http://nas.local/").is_some());
        assert!(h("http://router.home.arpa/").is_some());
        assert!(h("http://metadata.google.internal/").is_some());
        assert_eq!(h("http://203.0.113.10/feed"), None);
        assert_eq!(h("https://blog.example/feed"), None);
        assert_eq!(h("https://localhost.example/feed"), None);
        assert_eq!(h("https://notlocal/feed"), None);
    }

    #[test]
    fn reach_follows_the_configured_url_and_the_opt_ins() {
        let mut s = FetchSettings::default();
        let public = Url::parse("http://203.0.113.10/feed").unwrap();
        let private = Url::parse("http://127.0.0.1:8080/feed").unwrap();
        assert_eq!(reach(&s, &public), Reach::Public);
        assert_eq!(reach(&s, &private), Reach::Any);
        assert_eq!(
            reach(&s, &Url::parse("http://localhost/").unwrap()),
            Reach::Any
        );
        s.private_feeds.insert(public.clone());
        assert_eq!(reach(&s, &public), Reach::Any);
        let other = Url::parse("http://203.0.113.11/feed").unwrap();
        assert_eq!(reach(&s, &other), Reach::Public);
        s.allow_private = true;
        assert_eq!(reach(&s, &other), Reach::Any);
    }

    #[test]
    fn resolved_names_keep_only_public_addresses() {
        let a = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let e = screen("evil.example", vec![a("127.0.0.1:0"), a("[::1]:0")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "evil.example resolves to 127.0.0.1, a loopback address"
        );
        let e = screen("meta.example", vec![a("169.254.169.254:0")]).unwrap_err();
        assert!(e.to_string().contains("link-local"), "{e}");
        // A mixed answer (a rebinding trick) keeps only what is public.
        let kept = screen("mixed.example", vec![a("10.0.0.1:0"), a("203.0.113.7:0")]).unwrap();
        assert_eq!(kept, vec![a("203.0.113.7:0")]);
        // No answer at all is the resolver's error to report, not this one.
        assert_eq!(screen("empty.example", vec![]).unwrap(), vec![]);
    }

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
