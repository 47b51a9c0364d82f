//! `gleaner serve` (and `gleaner run --serve`): the editor's desk over HTTP. Pages are
//! rendered on the server; every action is a plain form POST that calls the same `desk`
//! functions as the command line and redirects back (303). This module only translates HTTP
//! to desk calls and desk results to pages: the order of things stays in `desk`.
//!
//! Security, in the order a request meets it ([`guard`]):
//! - Without `[serve] token` the server only binds loopback ([`bind`] refuses anything else),
//!   and the Host header must name a loopback host (DNS rebinding would otherwise make another
//!   site same-origin with the desk).
//! - With a token, every page but `/login`, `/static/` and `/healthz` needs a session cookie
//!   (HttpOnly, SameSite=Strict) or `Authorization: Bearer <token>`; the token is compared in
//!   constant time. Each login opens its own session ([`sessions`]: a random id, kept in
//!   memory by its hash), which ends at `/logout`, after `[serve] session_idle` unused, or
//!   `session_max` after the login, whichever comes first; the cookie's `Max-Age` is
//!   `session_max`.
//! - Guessing is braked per client address ([`throttle`]): after 5 failed tokens in 15
//!   minutes, at `/login` or as a bearer, that address gets 429 with `Retry-After` and its
//!   guesses are not checked until the oldest failure is 15 minutes old. The address is the
//!   TCP peer (`ConnectInfo`); `X-Forwarded-For` is not believed. Behind a reverse proxy every
//!   client is the proxy, so one guesser there slows everyone's login (not their sessions).
//! - A state-changing request is a POST; one whose `Sec-Fetch-Site` or `Origin` says it comes
//!   from another site is refused (403), and every POST must carry the CSRF token (derived
//!   from a per-process secret from the OS CSPRNG) in a hidden field. (It is per process, not
//!   per session: it only has to be unknown to other sites, and pages are never cached.)
//! - Every response carries a strict CSP (no inline script or style: `/static/` serves them),
//!   `nosniff` and `no-referrer`. Feed text is escaped by the template engine; the stored HTML
//!   of stories is never shown (the excerpt is).
//!
//! Templates: minijinja rather than askama. Its HTML auto-escaping is on for every `.html`
//! template; it builds in seconds (askama's derive pulls syn and a proc-macro build, slow on
//! two cores); and the templates are embedded with `include_str!`, so the binary stays one
//! file.

mod guard;
mod pages;
mod sessions;
mod throttle;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::routing::{get, post};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Secret};
use crate::ingest::Fetcher;
use crate::store::Store;

/// Why the server cannot start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0}: it is not a loopback address, and anyone who can reach it could pick, reject and publish; set [serve] token = \"…\" in the config (at least {min} characters, e.g. `openssl rand -hex 24`), or listen on 127.0.0.1",
        min = crate::config::MIN_TOKEN_LEN
    )]
    NeedsToken(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot get random bytes from the operating system: {0}")]
    Random(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("the web server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// A bound socket, not serving yet: binding first lets the caller report the address (and
/// fail on a bad `--listen`) before the daemon starts beside it.
pub struct Listener {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl Listener {
    /// The address actually bound (port 0 picks a free one).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Checks that `listen` may be served with this config, and binds it.
pub async fn bind(config: &Config, listen: SocketAddr) -> Result<Listener, ServeError> {
    if !listen.ip().is_loopback() && config.serve.token.is_none() {
        return Err(ServeError::NeedsToken(listen));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    Ok(Listener { listener, addr })
}

/// Per-process secrets, derived from 32 bytes of the OS CSPRNG. A restart invalidates open
/// forms (and, the sessions being in memory, logs everyone out).
pub(crate) struct Keys {
    /// The CSRF token of the desk's forms (shown only to a logged-in editor).
    csrf: String,
    /// The CSRF token of the login form (which anyone who reaches the server can read).
    login_csrf: String,
}

impl Keys {
    fn new() -> Result<Keys, ServeError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| ServeError::Random(e.to_string()))?;
        let derive = |label: &str| {
            let mut h = Sha256::new();
            h.update(label.as_bytes());
            h.update(secret);
            crate::text::hex(&h.finalize())
        };
        Ok(Keys {
            csrf: derive("gleaner csrf"),
            login_csrf: derive("gleaner login csrf"),
        })
    }
}

/// What every handler shares.
pub(crate) struct App {
    /// The config in force: re-read on SIGHUP (`gleaner serve`), or the daemon's after each of
    /// its reloads (`run --serve`), so that the desk and the daemon score alike.
    configs: watch::Receiver<Arc<Config>>,
    config_path: PathBuf,
    store: Store,
    fetcher: Fetcher,
    templates: minijinja::Environment<'static>,
    keys: Keys,
    token: Option<Secret>,
    /// The logged-in editors (only used with a token).
    sessions: Mutex<sessions::Sessions>,
    /// Recent failed tokens by client address.
    throttle: Mutex<throttle::Throttle>,
    /// Asks for what SIGHUP does: after the desk appended a feed to feeds.toml, the desk (and
    /// under `run --serve`, the daemon) read it again, so the feed shows and is polled.
    reload: tokio::sync::mpsc::Sender<()>,
}

impl App {
    /// The config now (cheap: an `Arc`). The token, the session lengths, the fetch settings
    /// and the listening address are the ones the server started with.
    fn config(&self) -> Arc<Config> {
        self.configs.borrow().clone()
    }

    /// The sessions, locked for a moment (never across an `.await`). A panic while holding
    /// the lock leaves nothing half-done that matters (a map insert or remove), so a
    /// poisoned lock is used as it is rather than taking the desk down.
    fn sessions(&self) -> MutexGuard<'_, sessions::Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The failed-token counts, locked likewise.
    fn throttle(&self) -> MutexGuard<'_, throttle::Throttle> {
        self.throttle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

type Shared = Arc<App>;

/// Serves the desk on `listener` until `shutdown` is cancelled, with the latest config
/// `configs` holds. The store is shared with the
/// daemon under `run --serve`: the daemon stays the only one writing feeds and stories, the
/// pages write decisions through `desk` as the command line does.
pub async fn serve(
    listener: Listener,
    configs: watch::Receiver<Arc<Config>>,
    config_path: PathBuf,
    store: Store,
    shutdown: CancellationToken,
    reload: tokio::sync::mpsc::Sender<()>,
) -> Result<(), ServeError> {
    let config = configs.borrow().clone();
    let app = Arc::new(App {
        fetcher: Fetcher::new(&config.fetch)?,
        reload,
        token: config.serve.token.clone(),
        configs,
        config_path,
        store,
        templates: pages::templates(),
        keys: Keys::new()?,
        sessions: Mutex::new(sessions::Sessions::new(
            config.serve.session_idle,
            config.serve.session_max,
            sessions::MAX_SESSIONS,
        )),
        throttle: Mutex::new(throttle::Throttle::new(
            throttle::LIMIT,
            throttle::WINDOW,
            throttle::MAX_CLIENTS,
        )),
    });
    let router = router(app);
    // With the peer address in every request's extensions: the throttle counts by it.
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener.listener, service)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}

fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(pages::candidates))
        .route("/pick", post(pages::pick))
        .route("/reject", post(pages::reject))
        .route("/unpick", post(pages::unpick))
        .route("/snooze", post(pages::snooze))
        .route("/unsnooze", post(pages::unsnooze))
        .route("/draft", get(pages::draft))
        .route("/publish", post(pages::publish))
        .route("/digest", get(pages::digest))
        .route("/feeds", get(pages::feeds))
        .route("/feeds/add", post(pages::add_feed))
        .route("/feeds/pause", post(pages::pause_feed))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/curated.atom", get(pages::curated_atom))
        .route("/curated.rss", get(pages::curated_rss))
        .route("/curated.json", get(pages::curated_json))
        .route("/healthz", get(pages::healthz))
        .route("/metrics", get(pages::metrics))
        .route("/static/desk.js", get(pages::desk_js))
        .route("/static/desk.css", get(pages::desk_css))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::guard,
        ))
        .with_state(app)
}
