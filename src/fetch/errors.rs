//! What went wrong with a fetch, in words fit for the user, and its kind (for the feed's
//! record and `/metrics`): reqwest's and rustls's errors classified, TLS certificate problems
//! named, a cut-off body told apart from a reset.

use std::time::Duration;

use url::Url;

use super::MAX_REDIRECTS;
use super::guard::ResolvedPrivate;

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

pub(super) fn truncated(got: u64, announced: Option<u64>) -> String {
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

/// The errors of a body cut short, named for what the server did.
pub(super) fn body_error(
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

pub(super) fn classify(e: &reqwest::Error, url: &Url, timeout: Duration) -> FetchError {
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

pub(super) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
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
