//! The checks every request passes before a handler sees it, and the headers every response
//! leaves with: Host (loopback without a token), cross-site POSTs, the session (or the bearer
//! token, throttled by client address), and the security headers. The CSRF token is checked
//! by each POST handler ([`csrf_ok`]), which owns the form body.

// The error of these Results is a finished HTTP response, built once per request and
// returned straight to axum: boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::throttle;
use super::{App, Shared};

/// The Content-Security-Policy of every response (issue 7): scripts and styles only from
/// /static/, no inline anything, forms only to this server, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gleaner_session";

pub async fn guard(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let mut response = match check(&app, &req, Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(refusal) => refusal,
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn check(app: &App, req: &Request, now: Instant) -> Result<(), Response> {
    let headers = req.headers();
    let path = req.uri().path();
    if app.token.is_none() && !loopback_host(headers) {
        return Err(refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this desk answers only to localhost, 127.0.0.1 or [::1] (set [serve] token to serve other names)",
        ));
    }
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD);
    // /draft records which picks the draft holds: a cross-site GET must not do that either.
    if (state_changing || path == "/draft") && cross_site(headers) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "refused: the request comes from another site",
        ));
    }
    let open = path == "/login" || path == "/healthz" || path.starts_with("/static/");
    if app.token.is_some() && !open {
        let signed_in = authenticate(app, headers, peer(req), now).map_err(|retry| {
            let message = throttled_message(retry);
            too_many(refuse(StatusCode::TOO_MANY_REQUESTS, &message), retry)
        })?;
        if !signed_in {
            let page = req.method() == Method::GET && wants_html(headers);
            return Err(if page {
                (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response()
            } else {
                let mut r = refuse(
                    StatusCode::UNAUTHORIZED,
                    "log in at /login, or send Authorization: Bearer <[serve] token>",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"gleaner\""),
                );
                r
            });
        }
    }
    Ok(())
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// Whether the Host header names a loopback host (any port).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.0 without Host: nothing for a rebinding page to spoof.
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the browser says the request comes from another origin. `Sec-Fetch-Site` first
/// (`same-site` counts as cross here: another port of localhost is the same site); then
/// `Origin`, which must be this very host. Clients that send neither (curl) pass on to the
/// CSRF token check.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin") | Ok("none"));
    }
    match headers.get(header::ORIGIN) {
        None => false,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            let origin = origin.to_str().ok();
            let own = origin
                .and_then(|o| {
                    o.strip_prefix("http://")
                        .or_else(|| o.strip_prefix("https://"))
                })
                .filter(|rest| !rest.contains('/'));
            !matches!((own, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
        }
    }
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// Whether the request carries a live session's cookie, or the token as a bearer credential.
/// A bearer token is a guess like a login's, so it goes through the same throttle:
/// `Err(retry_after)` when `client` has failed too often to have it checked.
fn authenticate(
    app: &App,
    headers: &HeaderMap,
    client: IpAddr,
    now: Instant,
) -> Result<bool, Duration> {
    if session_ids(headers).any(|id| app.sessions().check(id, now)) {
        return Ok(true);
    }
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|a| a.to_str().ok())
        // The scheme is case-insensitive (RFC 9110, section 11.1).
        .and_then(|a| {
            a.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim_start())
        })
    else {
        return Ok(false);
    };
    app.throttle().attempt(client, now)?;
    let ok = token_ok(app, given);
    if ok {
        app.throttle().succeeded(client);
    }
    Ok(ok)
}

/// The values of the request's session cookies (a browser may send more than one with the
/// same name, for different paths).
pub fn session_ids(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

/// The TCP peer's address: who the throttle counts. (Served with `ConnectInfo` always; were
/// it missing, every client would share one count, which errs on the side of refusing.)
fn peer(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// `response` (its body saying why) as 429 Too Many Requests (RFC 6585 §4), with
/// `Retry-After` in seconds.
pub fn too_many(mut response: Response, retry: Duration) -> Response {
    let secs = throttle::retry_after_secs(retry);
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&secs.to_string()).expect("digits are a valid header value"),
    );
    response
}

/// Why a throttled client is refused, and for how long.
pub fn throttled_message(retry: Duration) -> String {
    let wait = Duration::from_secs(throttle::retry_after_secs(retry));
    format!(
        "too many wrong tokens from your address ({} within {}): try again in {}",
        throttle::LIMIT,
        humantime::format_duration(throttle::WINDOW),
        humantime::format_duration(wait)
    )
}

/// Constant-time equality of two strings (of equal length; the length of the values
/// compared here is public: they are hex digests).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether `given` is the configured token. Both sides are hashed first, so neither the
/// comparison's time nor its length check says anything about the token.
pub fn token_ok(app: &App, given: &str) -> bool {
    let Some(token) = &app.token else {
        return false;
    };
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(token.expose().as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

/// Whether a form's CSRF field is this process's token.
pub fn csrf_ok(app: &App, given: Option<&str>) -> bool {
    given.is_some_and(|g| same(g, &app.keys.csrf))
}

/// Whether the login form's CSRF field is right.
pub fn login_csrf_ok(app: &App, given: Option<&str>) -> bool {
    given.is_some_and(|g| same(g, &app.keys.login_csrf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn loopback_hosts_only() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "127.0.0.1",
        ] {
            assert!(loopback_host(&headers(&[("host", ok)])), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "evil.example",
            "10.0.0.1:8080",
            "[::2]:80",
        ] {
            assert!(!loopback_host(&headers(&[("host", bad)])), "{bad}");
        }
    }

    #[test]
    fn cross_site_by_fetch_metadata_then_origin() {
        let host = ("host", "127.0.0.1:8080");
        assert!(!cross_site(&headers(&[host])));
        assert!(!cross_site(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(cross_site(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(cross_site(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(!cross_site(&headers(&[
            host,
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(cross_site(&headers(&[
            host,
            ("origin", "http://evil.example")
        ])));
        assert!(cross_site(&headers(&[host, ("origin", "null")])));
        assert!(cross_site(&headers(&[
            host,
            ("origin", "http://127.0.0.1:9999")
        ])));
    }

    #[test]
    fn constant_time_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
