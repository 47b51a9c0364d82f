//! The handlers: read the request, call `desk` (never the store) and a renderer, and answer with a page, a redirect or a feed. Time is read here, at the edge, and passed down.

// The error of these Results is a finished HTTP response, built once per request and
// returned straight to axum: boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::guard::{self, SESSION_COOKIE};
use super::{App, Shared};
use crate::desk::{self, DeskError};
use crate::model::{Candidate, Sections};
use crate::output;
use crate::text::hex;

/// The templates, embedded in the binary. Auto-escaping is minijinja's default for `.html`.
pub fn templates() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("error.html", include_str!("templates/error.html")),
        ("candidates.html", include_str!("templates/candidates.html")),
        ("draft.html", include_str!("templates/draft.html")),
        ("published.html", include_str!("templates/published.html")),
        ("digest.html", include_str!("templates/digest.html")),
        ("feeds.html", include_str!("templates/feeds.html")),
        ("added.html", include_str!("templates/added.html")),
    ] {
        env.add_template(name, source)
            .expect("the embedded templates are valid");
    }
    env
}

type Page = Result<Response, Response>;

fn render(app: &App, status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    render_for(app, status, name, ctx, true)
}

/// `desk`: whether the page is for the editor (it gets the desk's CSRF token and the logout
/// button), or is the login page, which anyone who reaches the server can read.
fn render_for(
    app: &App,
    status: StatusCode,
    name: &str,
    ctx: minijinja::Value,
    desk: bool,
) -> Response {
    let base = context! {
        newsletter => &app.config().output.title,
        csrf => if desk { app.keys.csrf.as_str() } else { "" },
        logged_in => desk && app.token.is_some(),
    };
    let ctx = context! { ..ctx, ..base };
    match app.templates.get_template(name).and_then(|t| t.render(ctx)) {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!("template {name}: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error\n").into_response()
        }
    }
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Pages hold the CSRF token and the editor's work in progress.
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn error_page(app: &App, status: StatusCode, message: &str, back: &str) -> Response {
    render(
        app,
        status,
        "error.html",
        context! { status => status.to_string(), message, back },
    )
}

fn desk_error(app: &App, e: DeskError, back: &str) -> Response {
    let status = match &e {
        DeskError::NoStory(_) | DeskError::NoFeed(_) => StatusCode::NOT_FOUND,
        DeskError::Invalid(_) | DeskError::Apply { .. } | DeskError::Link { .. } => {
            StatusCode::CONFLICT
        }
        DeskError::Store(_) | DeskError::Write { .. } | DeskError::Read { .. } => {
            tracing::error!("{e}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error_page(app, status, &e.to_string(), back)
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// A posted form, read as pairs so that the CSRF token is checked before anything else is
/// parsed (a missing or wrong token is a 403, whatever else the form holds).
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A text field, trimmed; `None` when absent or blank.
    fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }
}

type Form = axum::Form<Fields>;

fn checked(app: &App, f: &Fields) -> Result<(), Response> {
    if guard::csrf_ok(app, f.get("csrf")) {
        Ok(())
    } else {
        Err(error_page(
            app,
            StatusCode::FORBIDDEN,
            "refused: the form's CSRF token is missing or out of date (reload the page and try again)",
            "/",
        ))
    }
}

fn story_id(app: &App, f: &Fields) -> Result<i64, Response> {
    f.get("id")
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| error_page(app, StatusCode::BAD_REQUEST, "no story id", "/"))
}

fn safe_url(u: &str) -> Option<String> {
    let l = u.trim_start().to_ascii_lowercase();
    (l.starts_with("https://") || l.starts_with("http://")).then(|| u.trim().to_string())
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

#[derive(Serialize)]
struct CandView {
    id: i64,
    title: String,
    url: Option<String>,
    also_at: Vec<String>,
    sources: String,
    section: String,
    published: Option<String>,
    score: String,
    why: String,
    excerpt: String,
}

#[derive(Serialize)]
struct SectionView {
    name: String,
    shown: usize,
    picked: usize,
    items: Vec<CandView>,
}

/// A snoozed or rejected story on the candidates page.
#[derive(Serialize)]
struct ShelvedView {
    id: i64,
    title: String,
    url: Option<String>,
    at: String,
    reason: Option<String>,
}

/// The snooze lengths the page offers (value for `POST /snooze`, label); the second is the
/// default, as on the command line.
const SNOOZE_CHOICES: &[(&str, &str)] = &[
    ("3d", "3 days"),
    ("7d", "a week"),
    ("14d", "two weeks"),
    ("28d", "four weeks"),
];

#[derive(Serialize)]
struct PickedView {
    id: i64,
    title: String,
    url: Option<String>,
    section: String,
    blurb: String,
}

fn cand_view(c: &Candidate) -> CandView {
    CandView {
        id: c.id,
        title: c.title.clone(),
        url: c.url.as_deref().and_then(safe_url),
        also_at: c.also_at.iter().filter_map(|u| safe_url(u)).collect(),
        sources: c.sources.join(", "),
        section: c.section.clone(),
        published: c.published.map(day),
        score: output::candidates::fmt_score(c.score),
        why: output::candidates::why_plain(&c.why),
        excerpt: c.excerpt.clone(),
    }
}

/// `/`: the current window's candidates by section (the list `gleaner candidates` prints),
/// then the picks waiting for the next issue.
pub async fn candidates(State(app): State<Shared>) -> Page {
    let now = Utc::now();
    let desk::Board {
        candidates: cands,
        since,
        picked,
        next_issue: issue,
        snoozed,
        rejected,
    } = desk::board(&app.config(), &app.store, now)
        .await
        .map_err(|e| desk_error(&app, e, "/"))?;
    let picked: Vec<PickedView> = picked
        .iter()
        .map(|p| PickedView {
            id: p.story.id,
            title: p.story.title.clone(),
            url: p.story.url.as_deref().and_then(safe_url),
            section: desk::section_of(&p.decision, p.feed_section.as_deref(), &p.story),
            blurb: p.decision.blurb.clone().unwrap_or_default(),
        })
        .collect();
    let mut sections: Vec<SectionView> = Vec::new();
    for c in &cands {
        match sections.last_mut() {
            Some(s) if s.name == c.section => s.items.push(cand_view(c)),
            _ => sections.push(SectionView {
                name: c.section.clone(),
                shown: 0,
                picked: 0,
                items: vec![cand_view(c)],
            }),
        }
    }
    // Configured sections with nothing to show still show their picks, in their place.
    let config = app.config();
    let configured = &config.output.sections;
    for name in configured.iter() {
        if !sections.iter().any(|s| Sections::same(&s.name, name)) {
            sections.push(SectionView {
                name: name.clone(),
                shown: 0,
                picked: 0,
                items: Vec::new(),
            });
        }
    }
    sections.sort_by_key(|s| configured.rank(&s.name));
    for s in &mut sections {
        s.shown = s.items.len();
        s.picked = picked
            .iter()
            .filter(|p| Sections::same(&p.section, &s.name))
            .count();
    }
    let shelved = |rows: Vec<crate::model::Shelved>| -> Vec<ShelvedView> {
        rows.into_iter()
            .map(|r| ShelvedView {
                id: r.id,
                title: r.title,
                url: r.url.as_deref().and_then(safe_url),
                at: r.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                reason: r.reason,
            })
            .collect()
    };
    let (snoozed, rejected) = (shelved(snoozed), shelved(rejected));
    Ok(render(
        &app,
        StatusCode::OK,
        "candidates.html",
        context! {
            sections => minijinja::value::Serde(&sections),
            picked => minijinja::value::Serde(&picked),
            snoozed => minijinja::value::Serde(&snoozed),
            rejected => minijinja::value::Serde(&rejected),
            snooze_choices => minijinja::value::Serde(SNOOZE_CHOICES),
            issue,
            total => cands.len(),
            cap => app.config().output.per_section,
            all_sections => minijinja::value::Serde(&app.config().output.sections),
            since => since.format("%Y-%m-%d %H:%M UTC").to_string(),
            as_of => now.format("%Y-%m-%d %H:%M UTC").to_string(),
        },
    ))
}

/// `POST /pick`: pick, or (from the picks list, `edit=1`) change a pick's blurb or section.
pub async fn pick(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    let id = story_id(&app, &f)?;
    let editing = f.get("edit").is_some();
    // From the picks list an emptied blurb clears it; from a candidate, no blurb keeps any.
    let blurb = if editing {
        f.get("blurb").map(|b| b.trim().to_string())
    } else {
        f.text("blurb")
    };
    desk::pick(
        &app.config(),
        &app.store,
        id,
        f.text("section"),
        blurb,
        Utc::now(),
    )
    .await
    .map_err(|e| desk_error(&app, e, "/"))?;
    Ok(see_other(if editing { "/#picked" } else { "/" }))
}

/// `POST /reject`.
pub async fn reject(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    let id = story_id(&app, &f)?;
    desk::reject(&app.config(), &app.store, id, f.text("reason"), Utc::now())
        .await
        .map_err(|e| desk_error(&app, e, "/"))?;
    Ok(see_other("/"))
}

/// `POST /unpick`: the story is a candidate again.
pub async fn unpick(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    let id = story_id(&app, &f)?;
    desk::unpick(&app.config(), &app.store, id, Utc::now())
        .await
        .map_err(|e| desk_error(&app, e, "/"))?;
    Ok(see_other(&format!("/#s{id}")))
}

/// `POST /snooze`: set a candidate aside `for` a while (a duration: 3d, 7d, …).
pub async fn snooze(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    let id = story_id(&app, &f)?;
    let now = Utc::now();
    let raw = f.text("for").unwrap_or_else(|| "7d".into());
    let until = humantime::parse_duration(&raw)
        .ok()
        .filter(|d| !d.is_zero() && *d <= std::time::Duration::from_secs(366 * 86_400))
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| now + d)
        .ok_or_else(|| {
            error_page(
                &app,
                StatusCode::BAD_REQUEST,
                &format!("`{raw}` is not a snooze length like 3d or 2weeks (at most a year)"),
                "/",
            )
        })?;
    desk::snooze(&app.config(), &app.store, id, until, now)
        .await
        .map_err(|e| desk_error(&app, e, "/"))?;
    Ok(see_other("/"))
}

/// `POST /unsnooze`: the story is a candidate again now.
pub async fn unsnooze(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    let id = story_id(&app, &f)?;
    desk::unsnooze(&app.config(), &app.store, id, Utc::now())
        .await
        .map_err(|e| desk_error(&app, e, "/"))?;
    Ok(see_other(&format!("/#s{id}")))
}

/// `/draft`: the next issue's draft as `gleaner draft` writes it (and records it: publishing
/// then takes exactly the picks shown here).
pub async fn draft(State(app): State<Shared>) -> Page {
    let d = desk::draft(&app.config(), &app.store, None, Utc::now())
        .await
        .map_err(|e| desk_error(&app, e, "/"))?;
    Ok(render(
        &app,
        StatusCode::OK,
        "draft.html",
        context! {
            issue => d.number,
            items => d.items,
            markdown => d.markdown,
            // Built by output::draft::html, which escapes every text and renders only the
            // blurbs' inline Markdown (no raw HTML, no images, http(s)/mailto links only).
            html => minijinja::Value::from_safe_string(d.html),
            path => d.path.display().to_string(),
        },
    ))
}

/// `POST /publish`.
pub async fn publish(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    let Some(number) = f.get("number").and_then(|n| n.trim().parse::<i64>().ok()) else {
        return Err(error_page(
            &app,
            StatusCode::BAD_REQUEST,
            "no issue number",
            "/draft",
        ));
    };
    let p = desk::publish(&app.config(), &app.store, number, Utc::now())
        .await
        .map_err(|e| desk_error(&app, e, "/draft"))?;
    Ok(render(
        &app,
        StatusCode::OK,
        "published.html",
        context! { issue => number, items => p.items, held => p.held_for_next },
    ))
}

#[derive(serde::Deserialize)]
pub struct WeekQuery {
    week: Option<String>,
}

/// `/digest?week=YYYY-Www`: the HTML digest of a week (the current one by default).
pub async fn digest(State(app): State<Shared>, Query(q): Query<WeekQuery>) -> Page {
    let week = q
        .week
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| desk::week_of(Utc::now()));
    let start = desk::parse_week(&week)
        .map_err(|m| error_page(&app, StatusCode::BAD_REQUEST, &m, "/digest"))?;
    let d = desk::digest_of(&app.config(), &app.store, &week, Utc::now())
        .await
        .map_err(|e| desk_error(&app, e, "/digest"))?;
    let body = output::digest::html_body(&d);
    Ok(render(
        &app,
        StatusCode::OK,
        "digest.html",
        context! {
            week => &d.week,
            prev => desk::week_of(start - chrono::Duration::days(7)),
            next => desk::week_of(start + chrono::Duration::days(7)),
            body,
        },
    ))
}

/// `/feeds`: the status table (`gleaner status`) and the add-a-feed form.
pub async fn feeds(State(app): State<Shared>) -> Page {
    let now = Utc::now();
    let rows = desk::feed_status(&app.store)
        .await
        .map_err(|e| desk_error(&app, e, "/"))?;
    let rows = output::status::with_unseen(rows, &app.config(), now);
    let feeds = output::status::rows(&rows, now);
    Ok(render(
        &app,
        StatusCode::OK,
        "feeds.html",
        context! { feeds => minijinja::value::Serde(&feeds), all_sections => minijinja::value::Serde(&app.config().output.sections) },
    ))
}

/// `POST /feeds/pause`: pause (`action=pause`) or resume a feed by name.
pub async fn pause_feed(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    let bad = |m: &str| error_page(&app, StatusCode::BAD_REQUEST, m, "/feeds");
    let name = f
        .get("name")
        .map(str::to_string)
        .ok_or_else(|| bad("no feed name"))?;
    let pause = match f.get("action") {
        Some("pause") => true,
        Some("resume") => false,
        _ => return Err(bad("the action must be pause or resume")),
    };
    desk::pause_feeds(&app.config(), &app.store, &[name], pause, Utc::now())
        .await
        .map_err(|e| desk_error(&app, e, "/feeds"))?;
    Ok(see_other("/feeds"))
}

#[derive(Serialize)]
struct FoundView {
    title: String,
    url: String,
    format: String,
    entries: usize,
}

/// `POST /feeds/add`: `gleaner add URL` from the page: discover, append the feed found (the
/// first, or the `choose`th) to feeds.toml (keeping its layout), show what happened. With
/// `go=find` (`--dry-run`), list what was found, each with its own add form, and change nothing.
pub async fn add_feed(State(app): State<Shared>, axum::Form(f): Form) -> Page {
    use crate::feeds_file::{self, NewFeed, Outcome};
    checked(&app, &f)?;
    let bad = |m: String| error_page(&app, StatusCode::BAD_REQUEST, &m, "/feeds");
    let raw = f.text("url").unwrap_or_default();
    let url = url::Url::parse(&raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| bad(format!("`{raw}` is not an http(s) address")))?;
    let found = crate::discover::discover(&app.fetcher, &url)
        .await
        .map_err(|e| error_page(&app, StatusCode::BAD_GATEWAY, &e.to_string(), "/feeds"))?;
    let text = output::discovery::text(&url, &found);
    if found.found.is_empty() {
        return Ok(render(
            &app,
            StatusCode::OK,
            "added.html",
            context! { found => text, outcome => format!("No feed found for {url}: nothing added.") },
        ));
    }
    if f.get("go") == Some("find") {
        let choices: Vec<FoundView> = found
            .found
            .iter()
            .map(|c| FoundView {
                title: c.feed_name(None),
                url: c.url.to_string(),
                format: c.format.clone(),
                entries: c.entries,
            })
            .collect();
        return Ok(render(
            &app,
            StatusCode::OK,
            "added.html",
            context! {
                found => text,
                choices => minijinja::value::Serde(&choices),
                name => f.text("name").unwrap_or_default(),
                section => f.text("section").unwrap_or_default(),
                all_sections => minijinja::value::Serde(&app.config().output.sections),
                outcome => "Nothing added yet: choose a feed above.",
            },
        ));
    }
    let n = match f.text("choose") {
        None => 1,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=found.found.len()).contains(n))
            .ok_or_else(|| {
                bad(format!(
                    "choose {c}: there are {} feeds to choose from (1 to {})",
                    found.found.len(),
                    found.found.len()
                ))
            })?,
    };
    let chosen = &found.found[n - 1];
    let name = chosen.feed_name(f.text("name").as_deref());
    let feed = NewFeed {
        name,
        url: chosen.url.to_string(),
        section: f.text("section"),
    };
    let note = format!("Added by gleaner serve from {url}.");
    let path = app.config_path.clone();
    let appended = tokio::task::spawn_blocking(move || {
        feeds_file::append_to_file(&path, &[feed], Some(&note), false)
    })
    .await
    .map_err(|e| bad(e.to_string()))?
    .map_err(|e| bad(e.to_string()))?;
    let report = &appended.reports[0];
    let config = app.config_path.display();
    let outcome = match &report.outcome {
        Outcome::Added { .. } => {
            // As after SIGHUP: this desk reads the file again (and under `run --serve` the
            // daemon too, which then polls the new feed). A full queue means a reload is
            // already on its way.
            let _ = app.reload.try_send(());
            format!(
                "{config} updated and read again: the feed is listed on the feeds page. A daemon running on its own (not `run --serve`) picks it up after SIGHUP (systemctl reload gleaner); `gleaner poll` fetches it now."
            )
        }
        Outcome::Duplicate { .. } => format!("{config} not changed: the feed is already there."),
        Outcome::Invalid { .. } => format!("{config} not changed."),
    };
    Ok(render(
        &app,
        StatusCode::OK,
        "added.html",
        context! { found => text, report => feeds_file::report_line(report, false), outcome },
    ))
}

pub async fn login_page(State(app): State<Shared>) -> Response {
    login_form(&app, StatusCode::OK, false)
}

fn login_form(app: &App, status: StatusCode, wrong: bool) -> Response {
    // The login page must not show the desk's CSRF token: it is the one page anyone reaches.
    let ctx = context! { login_csrf => &app.keys.login_csrf, wrong };
    render_for(app, status, "login.html", ctx, false)
}

/// `POST /login`: the token, compared in constant time, opens a new session and sets its
/// cookie. A client address that has given too many wrong tokens is refused (429) before
/// its token is looked at.
pub async fn login(
    State(app): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(f): Form,
) -> Page {
    if !guard::login_csrf_ok(&app, f.get("csrf")) {
        let message = "refused: the login form is out of date (reload it)";
        return Err(render_for(
            &app,
            StatusCode::FORBIDDEN,
            "error.html",
            context! { status => "403 Forbidden", message, back => "/login" },
            false,
        ));
    }
    if app.token.is_none() {
        return Ok(see_other("/"));
    }
    let client = peer.ip();
    let now = Instant::now();
    if let Err(retry) = app.throttle().attempt(client, now) {
        let message = guard::throttled_message(retry);
        let page = render_for(
            &app,
            StatusCode::TOO_MANY_REQUESTS,
            "error.html",
            context! { status => "429 Too Many Requests", message, back => "/login" },
            false,
        );
        return Err(guard::too_many(page, retry));
    }
    if !guard::token_ok(&app, f.get("token").unwrap_or("")) {
        // A guess costs a moment too (it is already counted).
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        return Err(login_form(&app, StatusCode::UNAUTHORIZED, true));
    }
    app.throttle().succeeded(client);
    let id = super::sessions::Sessions::new_id().map_err(|e| {
        tracing::error!("cannot get random bytes for a session id: {e}");
        error_page(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot open a session: the operating system gave no random bytes",
            "/login",
        )
    })?;
    let max_age = {
        let mut sessions = app.sessions();
        // A session this browser still had is replaced, not left to idle out.
        for old in guard::session_ids(&headers) {
            sessions.close(old);
        }
        sessions.open(&id, now);
        sessions.max_age()
    };
    let mut r = see_other("/");
    let cookie =
        format!("{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("hex is a valid header value"),
    );
    Ok(r)
}

/// `POST /logout`: ends the session on the server (its cookie no longer works, wherever it
/// was copied to) and clears the cookie in this browser.
pub async fn logout(State(app): State<Shared>, headers: HeaderMap, axum::Form(f): Form) -> Page {
    checked(&app, &f)?;
    {
        let mut sessions = app.sessions();
        for id in guard::session_ids(&headers) {
            sessions.close(id);
        }
    }
    let mut r = see_other("/login");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        ))
        .expect("a valid header value"),
    );
    Ok(r)
}

/// Which renderer a curated feed endpoint uses.
#[derive(Clone, Copy)]
enum Curated {
    Atom,
    Rss,
    Json,
}

async fn curated(app: &App, kind: Curated, headers: &HeaderMap) -> Response {
    let (info, entries) = match desk::curated(&app.config(), &app.store, Utc::now()).await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!("curated feed: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "database error\n").into_response();
        }
    };
    let (body, content_type) = match kind {
        Curated::Atom => (
            output::atom::render(&info, &entries),
            "application/atom+xml; charset=utf-8",
        ),
        Curated::Rss => (
            output::curated_rss::render(&info, &entries),
            "application/rss+xml; charset=utf-8",
        ),
        Curated::Json => (
            output::curated_json::render(&info, &entries),
            "application/feed+json; charset=utf-8",
        ),
    };
    conditional(body, content_type, headers)
}

/// A strong ETag (a hash of the body) and 304 when `If-None-Match` names it (RFC 9110
/// §13.1.2: the weak comparison, so `W/"…"` matches too).
fn conditional(body: String, content_type: &'static str, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", &hex(&Sha256::digest(body.as_bytes()))[..32]);
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag);
    let etag_header = (header::ETAG, etag.clone());
    if matches {
        return (StatusCode::NOT_MODIFIED, [etag_header]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            etag_header,
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        body,
    )
        .into_response()
}

pub async fn curated_atom(State(app): State<Shared>, headers: HeaderMap) -> Response {
    curated(&app, Curated::Atom, &headers).await
}

pub async fn curated_rss(State(app): State<Shared>, headers: HeaderMap) -> Response {
    curated(&app, Curated::Rss, &headers).await
}

pub async fn curated_json(State(app): State<Shared>, headers: HeaderMap) -> Response {
    curated(&app, Curated::Json, &headers).await
}

/// `/healthz`: 200 `ok` when the database answers.
pub async fn healthz(State(app): State<Shared>) -> Response {
    match desk::health(&app.store).await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!("healthz: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// `/metrics`: Prometheus text format.
pub async fn metrics(State(app): State<Shared>) -> Response {
    let now = Utc::now();
    let result = desk::figures(&app.store)
        .await
        .map(|(rows, stats, deliveries)| {
            (
                output::status::with_unseen(rows, &app.config(), now),
                stats,
                deliveries,
            )
        });
    match result {
        Ok((rows, stats, deliveries)) => {
            let states: Vec<&str> = rows
                .iter()
                .map(|r| output::status::state_of(r, now))
                .collect();
            (
                StatusCode::OK,
                [(
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                output::metrics::render(&states, &stats)
                    + &output::deliveries::metrics(&deliveries),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!("metrics: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

pub async fn desk_js() -> Response {
    static_file(
        include_str!("static/desk.js"),
        "text/javascript; charset=utf-8",
    )
}

pub async fn desk_css() -> Response {
    static_file(include_str!("static/desk.css"), "text/css; charset=utf-8")
}

fn static_file(body: &'static str, content_type: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A 404. Also reached without a login (under /static/): no desk CSRF token on it.
pub async fn not_found(State(app): State<Shared>) -> Response {
    let ctx = context! { status => "404 Not Found", message => "no such page", back => "/" };
    render_for(&app, StatusCode::NOT_FOUND, "error.html", ctx, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn the_embedded_templates_parse() {
        // A syntax error (or a statement a disabled minijinja feature would parse) fails here,
        // not when `gleaner serve` starts.
        let env = templates();
        assert!(env.get_template("candidates.html").is_ok());
    }

    #[test]
    fn conditional_get_by_strong_etag() {
        let fresh = conditional("body".into(), "text/plain", &HeaderMap::new());
        assert_eq!(fresh.status(), StatusCode::OK);
        let etag = fresh.headers()[header::ETAG].to_str().unwrap().to_string();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
        let weak = format!("\"x\", W/{etag}");
        for (header, status) in [
            (etag.as_str(), StatusCode::NOT_MODIFIED),
            (weak.as_str(), StatusCode::NOT_MODIFIED),
            ("*", StatusCode::NOT_MODIFIED),
            ("\"other\"", StatusCode::OK),
        ] {
            let r = conditional("body".into(), "text/plain", &tagged(header));
            assert_eq!(r.status(), status, "{header}");
            assert_eq!(r.headers()[header::ETAG], etag.as_str());
        }
        let other = conditional("body2".into(), "text/plain", &HeaderMap::new());
        assert_ne!(other.headers()[header::ETAG], etag.as_str());
    }
}
