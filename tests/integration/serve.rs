//! `gleaner serve`, the real binary on a loopback port over a workspace polled from a local
//! feed server: the candidates page (escaped), form posts with and without the CSRF token,
//! cross-site posts, the curated feeds' conditional GET, health and metrics, the login, and
//! the refusal to listen beyond loopback without a token.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::{Route, Server, Workspace, rss, stderr};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const HOSTILE: &str = "Kubernetes <img src=x onerror=alert(1)> & <script>alert(2)</script>";

type Pairs<'a> = Vec<(&'a str, &'a str)>;

/// A running `gleaner serve`; killed when dropped.
pub struct Desk {
    child: Child,
    pub base: String,
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Desk {
    /// Starts the binary and reads the address it prints ("serving on http://…").
    pub fn start(ws: &Workspace) -> Desk {
        Desk::start_with(ws, &["serve", "--listen", "127.0.0.1:0"])
    }

    pub fn start_with(ws: &Workspace, args: &[&str]) -> Desk {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gleaner"))
            .args(args)
            .current_dir(ws.dir.path())
            .env("RUST_LOG", "gleaner=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(at) = line.find("serving on ") {
                    let _ = tx.send(line[at + "serving on ".len()..].trim().to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("gleaner serve printed its address");
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Desk { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A urlencoded form body, as a browser posts it (reqwest's `form` feature is not enabled).
pub trait FormPairs {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self;
}

impl FormPairs for reqwest::RequestBuilder {
    fn form_pairs(self, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }
}

pub fn client() -> reqwest::Client {
    // reqwest is built without a default TLS provider (gleaner installs ring's).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn body(r: reqwest::Response) -> String {
    // Test code reading a small local page: the project's size limit is for feeds.
    #[allow(clippy::disallowed_methods)]
    let b = r.bytes().await.unwrap();
    String::from_utf8(b.to_vec()).unwrap()
}

/// The value of the first `name="csrf" value="…"` in a page.
pub fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_string()
}

pub fn recent_rss(title: &str, items: &[(&str, &str, &str, &str)]) -> String {
    let date = (chrono::Utc::now() - chrono::Duration::hours(6)).to_rfc2822();
    rss(title, items).replace("Mon, 07 Apr 2014 09:00:00 GMT", &date)
}

/// A workspace with two polled stories, one with a hostile title; returns the story ids.
pub async fn polled(server: &Server, ws: &Workspace, extra: &str) -> (i64, i64) {
    let feed = recent_rss(
        "Ops",
        &[
            (
                "a",
                "Kubernetes upgrades without downtime",
                "https://blog.example/k8s",
                "<p>Kubernetes clusters, upgraded.</p>",
            ),
            (
                "b",
                "Kubernetes &lt;img src=x onerror=alert(1)&gt; &amp;amp; &lt;script&gt;alert(2)&lt;/script&gt;",
                "https://evil.example/x",
                "<p>kubernetes <script>alert(3)</script></p>",
            ),
        ],
    );
    let url = server.route("/ops", Route::feed(feed));
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n\
         [keywords]\nkubernetes = 3\n[output]\ntitle = \"Ops Weekly\"\nsections = [\"News\", \"Tools\"]\n\
         {extra}\n[[feeds]]\nname = \"Ops\"\nurl = \"{url}\"\n"
    ));
    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ws.gleaner(&["candidates", "--json"]);
    let cands: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = |t: &str| {
        cands
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"] == t)
            .unwrap_or_else(|| panic!("no candidate {t:?} in {cands:#}"))["id"]
            .as_i64()
            .unwrap()
    };
    (id("Kubernetes upgrades without downtime"), id(HOSTILE))
}

async fn decision(ws: &Workspace, id: i64) -> Option<(String, Option<String>, Option<String>)> {
    let store = ws.store().await;
    let row = sqlx::query_as("SELECT decision, blurb, reason FROM decisions WHERE story_id = ?")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .unwrap();
    store.close().await;
    row
}

#[tokio::test]
async fn the_desk_lists_escaped_candidates_and_picks_only_with_the_csrf_token() {
    let server = Server::start();
    let ws = Workspace::new();
    let (good, hostile) = polled(&server, &ws, "").await;
    let desk = Desk::start(&ws);
    let http = client();

    // The candidates page: both stories, the hostile title as text, strict headers.
    let r = http.get(desk.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-security-policy"], CSP);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = body(r).await;
    assert!(
        page.contains("Kubernetes upgrades without downtime"),
        "{page}"
    );
    assert!(
        page.contains(
            "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;script&gt;alert(2)&lt;&#x2f;script&gt;"
        ),
        "{page}"
    );
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<script>"), "{page}");
    // Nothing inline for the CSP to block: scripts and styles come from /static/.
    assert!(page.contains("<script src=\"/static/desk.js\" defer></script>"));
    assert!(
        !page.contains("style=") && !page.contains("onclick"),
        "{page}"
    );
    assert!(page.contains("News <span class=\"count\">"), "{page}");
    assert!(page.contains("of at most 15 shown"), "{page}");
    assert!(page.contains(&format!("id=\"s{hostile}\"")), "{page}");
    let csrf = csrf_of(&page);
    assert_eq!(csrf.len(), 64);
    let js = http.get(desk.url("/static/desk.js")).send().await.unwrap();
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(body(js).await.contains("case \"j\""));

    // The curated feed before any pick, and its conditional GET.
    let r = http.get(desk.url("/curated.atom")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let etag1 = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(
        etag1.starts_with('"') && !etag1.starts_with("W/"),
        "{etag1}"
    );
    let r = http
        .get(desk.url("/curated.atom"))
        .header("if-none-match", &etag1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    // Without the token, with a wrong one, and cross-site with the right one: 403, no change.
    let id = good.to_string();
    let zeros = "0".repeat(64);
    let refused: [(&str, Pairs, Pairs); 4] = [
        ("no token", vec![("id", &id)], vec![]),
        ("wrong token", vec![("id", &id), ("csrf", &zeros)], vec![]),
        (
            "cross-site",
            vec![("id", &id), ("csrf", &csrf)],
            vec![
                ("origin", "http://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
        (
            "foreign origin",
            vec![("id", &id), ("csrf", &csrf)],
            vec![("origin", "http://evil.example")],
        ),
    ];
    for (what, form, headers) in &refused {
        let mut req = http.post(desk.url("/pick")).form_pairs(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 403, "{what}");
        assert_eq!(decision(&ws, good).await, None, "{what}");
    }

    // A pick through the form, as the browser sends it.
    let r = http
        .post(desk.url("/pick"))
        .header("origin", desk.base.as_str())
        .header("sec-fetch-site", "same-origin")
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("id", id.as_str()),
            ("blurb", "Upgrades, no downtime."),
            ("section", "Tools"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    assert_eq!(
        decision(&ws, good).await,
        Some(("pick".into(), Some("Upgrades, no downtime.".into()), None))
    );
    let r = http.get(desk.url("/curated.atom")).send().await.unwrap();
    let etag2 = r.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(etag1, etag2);
    let atom = body(r).await;
    assert!(atom.contains("Upgrades, no downtime."), "{atom}");
    let files = std::fs::read_to_string(ws.path("out/curated.atom")).unwrap();
    assert_eq!(atom, files, "the served feed is the file gleaner writes");
    for (tag, status) in [(&etag1, 200), (&etag2, 304)] {
        let r = http
            .get(desk.url("/curated.atom"))
            .header("if-none-match", tag.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "If-None-Match {tag}");
    }
    for (path, kind) in [
        ("/curated.rss", "application/rss+xml"),
        ("/curated.json", "application/feed+json"),
    ] {
        let r = http.get(desk.url(path)).send().await.unwrap();
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert!(r.headers().contains_key("etag"));
        assert!(body(r).await.contains("Upgrades, no downtime."), "{path}");
    }

    // The page now shows it among the picks, in its section; a reject with a reason.
    let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
    let picked = &page[page.find("id=\"picked\"").unwrap()..];
    assert!(
        picked.contains("Kubernetes upgrades without downtime"),
        "{picked}"
    );
    assert!(
        picked.contains("<option selected>Tools</option>"),
        "{picked}"
    );
    let hid = hostile.to_string();
    let r = http
        .post(desk.url("/reject"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("id", &hid),
            ("reason", "clickbait"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        decision(&ws, hostile).await,
        Some(("reject".into(), None, Some("clickbait".into())))
    );
    // An unknown story: the desk's own message, escaped, and nothing written.
    let r = http
        .post(desk.url("/pick"))
        .form_pairs(&[("csrf", csrf.as_str()), ("id", "99999")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(body(r).await.contains("no story with id 99999"));

    // The draft holds the pick; publishing goes through a CSRF-checked form too.
    let draft = body(http.get(desk.url("/draft")).send().await.unwrap()).await;
    assert!(draft.contains("Draft of issue 1"), "{draft}");
    assert!(draft.contains("<p>Upgrades, no downtime.<br>"), "{draft}");
    assert!(draft.contains("<pre id=\"draft-md\">"), "{draft}");
    assert!(draft.contains("Copy as HTML") && draft.contains("Copy as Markdown"));
    let r = http
        .post(desk.url("/publish"))
        .form_pairs(&[("number", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(desk.url("/publish"))
        .form_pairs(&[("csrf", csrf.as_str()), ("number", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(body(r).await.contains("1 item;"));
    let store = ws.store().await;
    let (issue,): (Option<i64>,) = sqlx::query_as("SELECT issue FROM decisions WHERE story_id = ?")
        .bind(good)
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    assert_eq!(issue, Some(1));

    // The digest of this week, escaped; a bad week is a 400.
    let digest = body(http.get(desk.url("/digest")).send().await.unwrap()).await;
    assert!(digest.contains("Ops Weekly digest, week"), "{digest}");
    assert!(
        !digest.contains("<script>") && !digest.contains("<img src=x"),
        "{digest}"
    );
    let r = http
        .get(desk.url("/digest?week=soon"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // Feeds, health, metrics.
    let feeds = body(http.get(desk.url("/feeds")).send().await.unwrap()).await;
    assert!(feeds.contains("<td>ok</td>"), "{feeds}");
    let r = http.get(desk.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(body(r).await, "ok\n");
    let metrics = body(http.get(desk.url("/metrics")).send().await.unwrap()).await;
    for line in [
        "gleaner_feeds{state=\"ok\"} 1",
        "gleaner_feeds{state=\"failing\"} 0",
        "gleaner_stories 2",
        "gleaner_fetches_total{outcome=\"new\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
}

#[tokio::test]
async fn beyond_loopback_the_desk_needs_a_token() {
    let ws = Workspace::new();
    ws.write_config_text("[storage]\npath = \"gleaner.db\"\n");
    let out = ws.gleaner(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("refusing to listen on 0.0.0.0:0"), "{err}");
    assert!(err.contains("[serve] token"), "{err}");
    let out = ws.gleaner(&["run", "--serve", "--listen", "[::]:0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("refusing to listen on [::]:0"));

    ws.write_config_text("[storage]\npath = \"gleaner.db\"\n[serve]\ntoken = \"\"\n");
    let out = ws.gleaner(&["serve"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("[serve]: key `token`: is empty"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn with_a_token_every_page_but_login_needs_the_session() {
    let server = Server::start();
    let ws = Workspace::new();
    let token = "a-very-long-editor-token-42";
    polled(&server, &ws, &format!("[serve]\ntoken = \"{token}\"\n")).await;
    let desk = Desk::start(&ws);
    let http = client();

    // A browser is sent to the login; anything else is a 401.
    let r = http
        .get(desk.url("/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    for path in ["/metrics", "/curated.atom", "/draft", "/feeds"] {
        let r = http.get(desk.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = http
        .post(desk.url("/pick"))
        .form_pairs(&[("id", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        http.get(desk.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The login form: a wrong token gets no cookie, the right one gets a strict one.
    let r = http.get(desk.url("/login")).send().await.unwrap();
    assert_eq!(r.headers()["content-security-policy"], CSP);
    let login_csrf = csrf_of(&body(r).await);
    let r = http
        .post(desk.url("/login"))
        .form_pairs(&[
            ("csrf", login_csrf.as_str()),
            ("token", "a-very-long-editor-token-43"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.headers().contains_key("set-cookie"));
    let r = http
        .post(desk.url("/login"))
        .form_pairs(&[("csrf", "nope"), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!r.headers().contains_key("set-cookie"));
    let refused_login = body(r).await;
    let r = http
        .post(desk.url("/login"))
        .form_pairs(&[("csrf", login_csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let r = http
        .get(desk.url("/"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = body(r).await;
    assert!(page.contains("Kubernetes upgrades without downtime"));
    // The desk's CSRF token is not the login page's (which anyone can read).
    let desk_csrf = csrf_of(&page);
    assert_ne!(desk_csrf, login_csrf);
    let login_page = body(http.get(desk.url("/login")).send().await.unwrap()).await;
    assert!(!login_page.contains(&desk_csrf) && !refused_login.contains(&desk_csrf));
    let r = http.get(desk.url("/static/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        !body(r).await.contains(&desk_csrf),
        "a page anyone can reach shows the token"
    );
    let r = http
        .get(desk.url("/"))
        .header("cookie", "gleaner_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A scraper sends the token as a bearer credential.
    let r = http
        .get(desk.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(desk.url("/metrics"))
        .bearer_auth("a-very-long-editor-token-4")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_daemon_serves_the_desk_and_stops_with_it() {
    let server = Server::start();
    let ws = Workspace::new();
    let feed = recent_rss(
        "Ops",
        &[(
            "a",
            "Kubernetes from the daemon",
            "https://blog.example/d",
            "<p>kubernetes</p>",
        )],
    );
    let url = server.route("/ops", Route::feed(feed));
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n\
         [keywords]\nkubernetes = 3\n[[feeds]]\nname = \"Ops\"\nurl = \"{url}\"\n"
    ));
    let mut desk = Desk::start_with(&ws, &["run", "--serve", "--listen", "127.0.0.1:0"]);
    let http = client();
    // The daemon fetches the new feed at once; the page shows what it stored.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
        if page.contains("Kubernetes from the daemon") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never listed: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        http.get(desk.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let status = Command::new("kill")
        .args(["-TERM", &desk.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let code = loop {
        if let Some(s) = desk.child.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(code, Some(0));
    assert!(
        http.get(desk.url("/healthz")).send().await.is_err(),
        "the desk stopped too"
    );
}

#[tokio::test]
async fn the_feeds_page_adds_a_feed_by_site_url_keeping_the_file() {
    let server = Server::start();
    let ws = Workspace::new();
    server.route(
        "/blog/",
        Route::typed(
            "<!DOCTYPE html><html><head><title>Ops</title><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/blog/rss.xml\"></head><body></body></html>",
            "text/html; charset=utf-8",
        ),
    );
    server.route(
        "/blog/rss.xml",
        Route::feed(rss(
            "Ops &amp; Notes",
            &[("1", "Post", "https://ops.example/1", "x")],
        )),
    );
    let original = "# The editor's sources.\n[storage]\npath = \"gleaner.db\"  # beside this file\n\n[[feeds]]\nname = \"Existing\"\nurl = \"https://existing.example/feed\"\n";
    ws.write_config_text(original);
    let read = || std::fs::read_to_string(ws.config_path()).unwrap();
    let desk = Desk::start(&ws);
    let http = client();
    let page = body(http.get(desk.url("/feeds")).send().await.unwrap()).await;
    assert!(page.contains("Existing"), "{page}");
    let csrf = csrf_of(&page);
    let blog = server.url("/blog/");

    let r = http
        .post(desk.url("/feeds/add"))
        .form_pairs(&[("url", blog.as_str()), ("section", "Tools")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(read(), original);

    let r = http
        .post(desk.url("/feeds/add"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("url", blog.as_str()),
            ("section", "Tools"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let shown = body(r).await;
    assert!(shown.contains("found 1 feed"), "{shown}");
    assert!(
        shown.contains("added &quot;Ops &amp; Notes&quot;"),
        "{shown}"
    );
    assert!(shown.contains("updated"), "{shown}");
    let after = read();
    assert!(after.starts_with(original), "{after}");
    assert!(after.contains(&server.url("/blog/rss.xml")), "{after}");
    assert!(after.contains("section = \"Tools\""), "{after}");
    let check = ws.gleaner(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));

    // The same site again: a duplicate, and the file stays as it is.
    let r = http
        .post(desk.url("/feeds/add"))
        .form_pairs(&[("csrf", csrf.as_str()), ("url", blog.as_str())])
        .send()
        .await
        .unwrap();
    assert!(body(r).await.contains("already there"));
    assert_eq!(read(), after);
}

#[tokio::test]
async fn sighup_gives_the_desk_the_edited_config() {
    let server = Server::start();
    let ws = Workspace::new();
    polled(&server, &ws, "").await;
    let desk = Desk::start(&ws);
    let http = client();
    let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
    assert!(page.contains("Ops Weekly: candidates"), "{page}");
    let edited = std::fs::read_to_string(ws.config_path())
        .unwrap()
        .replace("title = \"Ops Weekly\"", "title = \"Ops Monthly\"");
    ws.write_config_text(&edited);
    let status = Command::new("kill")
        .args(["-HUP", &desk.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
        if page.contains("Ops Monthly: candidates") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not reloaded: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // An invalid file is refused and the running config stays.
    ws.write_config_text(&edited.replace("[output]", "[outptu]"));
    Command::new("kill")
        .args(["-HUP", &desk.child.id().to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
    assert!(page.contains("Ops Monthly: candidates"), "{page}");
}

// Sessions and the login throttle (`[serve] session_idle`, `session_max`; issue: desk
// sessions that expire, logout that logs out, a login rate limit).

/// Logs in through the form with `token`; the response.
async fn log_in(http: &reqwest::Client, desk: &Desk, token: &str) -> reqwest::Response {
    let login_csrf = csrf_of(&body(http.get(desk.url("/login")).send().await.unwrap()).await);
    http.post(desk.url("/login"))
        .form_pairs(&[("csrf", login_csrf.as_str()), ("token", token)])
        .send()
        .await
        .unwrap()
}

/// The `name=value` of a login's Set-Cookie, and its Max-Age.
fn session_of(r: &reqwest::Response) -> (String, String) {
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let session = cookie.split(';').next().unwrap().to_string();
    let max_age = cookie
        .split(';')
        .find_map(|a| a.trim().strip_prefix("Max-Age="))
        .unwrap_or_else(|| panic!("no Max-Age in {cookie}"))
        .to_string();
    (session, max_age)
}

async fn status_with(http: &reqwest::Client, desk: &Desk, session: &str) -> u16 {
    http.get(desk.url("/"))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn each_login_is_its_own_session_and_logout_ends_it_on_the_server() {
    let server = Server::start();
    let ws = Workspace::new();
    let token = "a-very-long-editor-token-42";
    polled(&server, &ws, &format!("[serve]\ntoken = \"{token}\"\n")).await;
    let desk = Desk::start(&ws);
    let http = client();

    let (first, max_age) = session_of(&log_in(&http, &desk, token).await);
    assert_eq!(
        max_age,
        (7 * 24 * 3600).to_string(),
        "session_max's default"
    );
    let (second, _) = session_of(&log_in(&http, &desk, token).await);
    assert_ne!(first, second, "every login gets its own random id");
    let id = first.strip_prefix("gleaner_session=").unwrap();
    assert!(
        id.len() == 64 && id.bytes().all(|c| c.is_ascii_hexdigit()),
        "{first}"
    );
    assert_eq!(status_with(&http, &desk, &first).await, 200);
    assert_eq!(status_with(&http, &desk, &second).await, 200);

    // Logout: the cookie is cleared in this browser, and the value is dead on the server
    // too, for a copy of it as much as for the browser.
    let page = body(
        http.get(desk.url("/"))
            .header("cookie", &first)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let csrf = csrf_of(&page);
    let r = http
        .post(desk.url("/logout"))
        .header("cookie", &first)
        .form_pairs(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(status_with(&http, &desk, &first).await, 401);
    let r = http
        .post(desk.url("/pick"))
        .header("cookie", &first)
        .form_pairs(&[("csrf", csrf.as_str()), ("id", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a POST with the old cookie");
    // The other login is untouched.
    assert_eq!(status_with(&http, &desk, &second).await, 200);
}

#[tokio::test]
async fn five_wrong_tokens_and_the_address_is_refused_for_a_while() {
    let server = Server::start();
    let ws = Workspace::new();
    let token = "a-very-long-editor-token-42";
    polled(&server, &ws, &format!("[serve]\ntoken = \"{token}\"\n")).await;
    let desk = Desk::start(&ws);
    let http = client();
    // A session opened before the guessing starts.
    let (session, _) = session_of(&log_in(&http, &desk, token).await);

    for i in 0..5 {
        let r = log_in(&http, &desk, "a-very-long-editor-token-43").await;
        assert_eq!(r.status(), 401, "wrong token {i}");
        assert!(!r.headers().contains_key("retry-after"));
    }
    // The sixth, with the right token: refused without looking at it.
    let r = log_in(&http, &desk, token).await;
    assert_eq!(r.status(), 429);
    assert!(!r.headers().contains_key("set-cookie"));
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry), "Retry-After: {retry}");
    assert_eq!(r.headers()["content-security-policy"], CSP);
    let page = body(r).await;
    assert!(
        page.contains("too many wrong tokens from your address") && page.contains("try again in"),
        "{page}"
    );
    // The token as a bearer credential is a guess too: the same brake.
    let r = http
        .get(desk.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    // A session opened before is still good: the brake is on guessing, not on the editor.
    assert_eq!(status_with(&http, &desk, &session).await, 200);
}

#[tokio::test]
async fn a_session_unused_for_session_idle_is_over() {
    let server = Server::start();
    let ws = Workspace::new();
    let token = "a-very-long-editor-token-42";
    polled(
        &server,
        &ws,
        &format!("[serve]\ntoken = \"{token}\"\nsession_idle = \"2s\"\nsession_max = \"1h\"\n"),
    )
    .await;
    let desk = Desk::start(&ws);
    let http = client();
    let (session, max_age) = session_of(&log_in(&http, &desk, token).await);
    assert_eq!(max_age, "3600");
    assert_eq!(status_with(&http, &desk, &session).await, 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(status_with(&http, &desk, &session).await, 401);
    let r = http
        .get(desk.url("/"))
        .header("cookie", &session)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "a browser is sent to log in again");
    assert_eq!(r.headers()["location"], "/login");
    // Logging in again opens a new session.
    let (again, _) = session_of(&log_in(&http, &desk, token).await);
    assert_eq!(status_with(&http, &desk, &again).await, 200);
}
