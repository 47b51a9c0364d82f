//! The rest of the desk's triage, through the real binary: snoozing a story (command line and
//! page) and its return in a later window, undoing a reject from the page, pausing and
//! resuming feeds (poll, daemon, page), choosing among discovered feeds on the page, and the
//! round and error-kind figures of `/metrics`.

use std::time::Duration;

use crate::serve::{Desk, FormPairs, body, client, csrf_of, polled, recent_rss};
use crate::support::{Route, Server, Workspace, eventually, rss, stderr, stdout};

fn candidate_ids(ws: &Workspace, extra: &[&str]) -> Vec<i64> {
    let mut args = vec!["candidates", "--json"];
    args.extend_from_slice(extra);
    let out = ws.gleaner(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// The one number `sql` selects from the workspace's database.
async fn scalar(ws: &Workspace, sql: &str) -> i64 {
    value(ws, sql).await
}

/// The one value `sql` selects from the workspace's database.
async fn value<T>(ws: &Workspace, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + Unpin,
{
    let store = ws.store().await;
    let v: T = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    v
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn a_snoozed_story_leaves_the_list_and_comes_back_in_the_window_where_it_ends() {
    let server = Server::start();
    let ws = Workspace::new();
    let (good, other) = polled(&server, &ws, "").await;
    assert_eq!(candidate_ids(&ws, &[]).len(), 2);

    let out = ws.gleaner(&["snooze", &good.to_string(), "--for", "2h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("snoozed #{good}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(candidate_ids(&ws, &[]), vec![other]);
    // The written list agrees.
    let md = std::fs::read_to_string(ws.path("out/candidates.md")).unwrap();
    assert!(!md.contains(&format!("#{good}")), "{md}");

    // Publish an issue: the next window starts now, after the snoozed story's date.
    assert!(ws.gleaner(&["pick", &other.to_string()]).status.success());
    assert!(ws.gleaner(&["draft"]).status.success());
    let out = ws.gleaner(&["publish", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(candidate_ids(&ws, &[]), Vec::<i64>::new());
    // Three hours on, the snooze is over: the story is back in that window, old as it is,
    // and ranks as fresh (it ages from its return, not from its date).
    let later = rfc3339(chrono::Utc::now() + chrono::Duration::hours(3));
    assert_eq!(candidate_ids(&ws, &["--as-of", &later]), vec![good]);
    let out = ws.gleaner(&["candidates", "--json", "--as-of", &later]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let decay = v[0]["why"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["factor"] == "recency decay")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!(decay > 0.9, "decay {decay} in {v:#}");
    let out = ws.gleaner(&["explain", &good.to_string(), "--as-of", &later]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("recency decay {decay:.3} (back from a snooze")),
        "{text}"
    );
    // And in the window after the next issue, it is gone for good (its snooze ended before).
    let much_later = rfc3339(chrono::Utc::now() + chrono::Duration::days(30));
    assert_eq!(
        candidate_ids(&ws, &["--as-of", &much_later, "--since", &later]),
        Vec::<i64>::new()
    );

    // Snoozing again, then waking: a candidate at once. Picking ends a snooze.
    let out = ws.gleaner(&["snooze", &good.to_string(), "--until", "2099-01-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        scalar(
            &ws,
            "SELECT COUNT(*) FROM decision_log WHERE action = 'snooze'"
        )
        .await,
        2
    );
    let out = ws.gleaner(&["unsnooze", &good.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = ws.gleaner(&["unsnooze", &good.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not snoozed"), "{}", stderr(&out));
    assert!(ws.gleaner(&["snooze", &good.to_string()]).status.success());
    assert!(ws.gleaner(&["pick", &good.to_string()]).status.success());
    assert_eq!(scalar(&ws, "SELECT COUNT(*) FROM snoozes").await, 0);

    // A blurb is two or three sentences, not a book.
    let long = "x".repeat(4001);
    let out = ws.gleaner(&["pick", &good.to_string(), "--blurb", &long]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("at most 4000"), "{}", stderr(&out));

    // Bad uses: a past date, a zero length, an unknown story.
    let out = ws.gleaner(&["snooze", &other.to_string(), "--until", "2001-01-01"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not in the future"),
        "{}",
        stderr(&out)
    );
    let out = ws.gleaner(&["snooze", &other.to_string(), "--for", "0s"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = ws.gleaner(&["snooze", "999999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no story with id 999999"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn z_in_candidates_md_snoozes_for_a_week_with_the_other_ticks() {
    let server = Server::start();
    let ws = Workspace::new();
    let (good, other) = polled(&server, &ws, "").await;
    let path = ws.path("out/candidates.md");
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.contains("`[z]` to snooze for a week"), "{md}");
    let edited = md
        .replace("- [ ] **Kubernetes upgrades", "- [z] **Kubernetes upgrades")
        .lines()
        .map(|l| {
            if l.contains(&format!("<!-- gleaner:{other} -->")) {
                l.replacen("- [ ]", "- [x]", 1)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(edited, md);
    std::fs::write(&path, &edited).unwrap();
    let out = ws.gleaner(&["apply", "out/candidates.md"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "applied: 1 picked, 0 rejected, 1 snoozed, 0 left as candidates"
    );
    assert_eq!(
        scalar(
            &ws,
            &format!("SELECT until - at FROM snoozes WHERE story_id = {good}")
        )
        .await,
        7 * 86_400
    );
    assert_eq!(candidate_ids(&ws, &[]), Vec::<i64>::new());
    // All or nothing: a bad marker elsewhere and the snooze is not written either.
    assert!(
        ws.gleaner(&["unsnooze", &good.to_string()])
            .status
            .success()
    );
    assert!(ws.gleaner(&["unpick", &other.to_string()]).status.success());
    let md = std::fs::read_to_string(&path).unwrap();
    let broken = md
        .replacen("- [ ]", "- [z]", 1)
        .replacen("- [ ]", "- [?]", 1);
    std::fs::write(&path, broken).unwrap();
    let out = ws.gleaner(&["apply", "out/candidates.md"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("`[z]`"), "{}", stderr(&out));
    assert_eq!(scalar(&ws, "SELECT COUNT(*) FROM snoozes").await, 0);
}

#[tokio::test]
async fn the_page_snoozes_wakes_and_undoes_a_reject() {
    let server = Server::start();
    let ws = Workspace::new();
    let (good, hostile) = polled(&server, &ws, "").await;
    let desk = Desk::start(&ws);
    let http = client();
    let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
    assert!(page.contains("action=\"/snooze\""), "{page}");
    assert!(page.contains("Nothing snoozed."), "{page}");
    let csrf = csrf_of(&page);
    let good_s = good.to_string();
    let hostile_s = hostile.to_string();

    // Without the token: refused, nothing snoozed.
    let r = http
        .post(desk.url("/snooze"))
        .form_pairs(&[("id", good_s.as_str()), ("for", "7d")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(scalar(&ws, "SELECT COUNT(*) FROM snoozes").await, 0);
    // A length that is not one.
    let r = http
        .post(desk.url("/snooze"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("id", good_s.as_str()),
            ("for", "soon"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(body(r).await.contains("not a snooze length"));

    let r = http
        .post(desk.url("/snooze"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("id", good_s.as_str()),
            ("for", "3d"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let until: i64 = scalar(&ws, "SELECT until - at FROM snoozes").await;
    assert_eq!(until, 3 * 86_400);
    let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
    let snoozed = &page[page.find("id=\"snoozed\"").unwrap()..];
    assert!(
        snoozed.contains("Kubernetes upgrades without downtime"),
        "{snoozed}"
    );
    assert!(snoozed.contains("Wake now"), "{snoozed}");
    assert!(
        snoozed.contains(&format!(
            "name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"id\" value=\"{good}\">"
        )),
        "{snoozed}"
    );
    // Not among the candidates any more (only in the snoozed list).
    assert_eq!(
        page.matches(&format!("id=\"s{good}\"")).count(),
        1,
        "{page}"
    );
    assert_eq!(candidate_ids(&ws, &[]), vec![hostile]);

    let r = http
        .post(desk.url("/unsnooze"))
        .form_pairs(&[("csrf", csrf.as_str()), ("id", good_s.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/#s{good}"));
    assert_eq!(candidate_ids(&ws, &[]).len(), 2);

    // Reject the hostile one with a reason: it is listed under "Rejected", escaped, with an
    // undo that makes it a candidate again.
    let r = http
        .post(desk.url("/reject"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("id", hostile_s.as_str()),
            ("reason", "<b>spam</b>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
    let rejected = &page[page.find("id=\"rejected\"").unwrap()..];
    assert!(
        rejected.contains("&lt;b&gt;spam&lt;&#x2f;b&gt;"),
        "{rejected}"
    );
    assert!(!rejected.contains("<b>spam"), "{rejected}");
    assert!(!rejected.contains("<script>"), "{rejected}");
    assert!(rejected.contains("Undo reject"), "{rejected}");
    assert_eq!(candidate_ids(&ws, &[]), vec![good]);
    let r = http
        .post(desk.url("/unpick"))
        .form_pairs(&[("csrf", csrf.as_str()), ("id", hostile_s.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(candidate_ids(&ws, &[]).len(), 2);
    let page = body(http.get(desk.url("/")).send().await.unwrap()).await;
    assert!(
        page.contains("Nothing rejected since the window opened."),
        "{page}"
    );
}

/// Two feeds, "Ops" (/ops) and "Dev team" (/dev), polled every hour.
fn two_feeds(server: &Server, ws: &Workspace) {
    let ops = server.route(
        "/ops",
        Route::feed(recent_rss(
            "Ops",
            &[("a", "Ops story", "https://ops.example/a", "x")],
        )),
    );
    let dev = server.route(
        "/dev",
        Route::feed(recent_rss(
            "Dev",
            &[("b", "Dev story", "https://dev.example/b", "y")],
        )),
    );
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n\
         [schedule]\nevery = \"1h\"\n\
         [[feeds]]\nname = \"Ops\"\nurl = \"{ops}\"\n[[feeds]]\nname = \"Dev team\"\nurl = \"{dev}\"\n"
    ));
}

#[tokio::test]
async fn a_paused_feed_is_not_polled_until_resumed() {
    let server = Server::start();
    let ws = Workspace::new();
    two_feeds(&server, &ws);

    let out = ws.gleaner(&["pause", "Dev team"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "paused Dev team");
    let out = ws.gleaner(&["pause", "Dev team"]);
    assert_eq!(stdout(&out).trim(), "Dev team was already paused");
    // An unknown name changes nothing, and says which feeds there are.
    let out = ws.gleaner(&["pause", "Ops", "Nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no feed named \"Nope\""),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("Ops, Dev team"), "{}", stderr(&out));

    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("paused since"), "{text}");
    assert!(text.contains("gleaner resume 'Dev team'"), "{text}");
    assert_eq!(server.seen("/dev").len(), 0);
    assert_eq!(server.seen("/ops").len(), 1);

    let out = ws.gleaner(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dev = v
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Dev team")
        .unwrap();
    assert_eq!(dev["state"], "paused", "{v:#}");
    assert!(dev["paused_at"].is_string(), "{v:#}");
    assert!(dev["next_due"].is_null(), "{v:#}");
    let out = ws.gleaner(&["status"]);
    assert!(
        stdout(&out).contains("Dev team  paused"),
        "{}",
        stdout(&out)
    );

    // The daemon leaves it alone too (never fetched, it would be due at once), and fetches
    // it once it is resumed (SIGHUP wakes the daemon; otherwise it looks within 30 s).
    let mut daemon = ws.start_daemon();
    assert!(
        eventually(Duration::from_secs(20), || daemon
            .log()
            .contains("gleaner running"))
        .await,
        "{}",
        daemon.log()
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(server.seen("/dev").len(), 0, "{}", daemon.log());
    let out = ws.gleaner(&["resume", "Dev team"]);
    assert_eq!(stdout(&out).trim(), "resumed Dev team: due now");
    daemon.signal("HUP");
    assert!(
        eventually(Duration::from_secs(20), || server.seen("/dev").len() == 1).await,
        "{}",
        daemon.log()
    );
    daemon.signal("TERM");
    assert!(daemon.wait(Duration::from_secs(20)).await.is_some());
    assert_eq!(server.seen("/ops").len(), 1, "Ops was not due again");

    // Named, a paused feed is fetched once, and stays paused.
    assert!(ws.gleaner(&["pause", "Dev team"]).status.success());
    let out = ws.gleaner(&["poll", "--feed", "Dev team"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.seen("/dev").len(), 2);
    assert_eq!(
        scalar(
            &ws,
            "SELECT COUNT(*) FROM feeds WHERE paused_at IS NOT NULL"
        )
        .await,
        1
    );
    // The daemon's busy spell is a round, for /metrics.
    assert!(
        scalar(
            &ws,
            "SELECT COUNT(*) FROM rounds WHERE source = 'daemon' AND feeds = 1"
        )
        .await
            >= 1
    );
}

#[tokio::test]
async fn the_feeds_page_pauses_resumes_and_lets_the_editor_choose_a_discovered_feed() {
    let server = Server::start();
    let ws = Workspace::new();
    two_feeds(&server, &ws);
    assert!(ws.gleaner(&["poll"]).status.success());
    // A site that declares two feeds.
    let atom = "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Site comments</title><id>urn:c</id><updated>2026-01-01T00:00:00Z</updated></feed>";
    server.route(
        "/site/comments.atom",
        Route::typed(atom, "application/atom+xml"),
    );
    server.route(
        "/site/rss.xml",
        Route::feed(rss(
            "Site posts",
            &[("p", "Post", "https://site.example/p", "z")],
        )),
    );
    server.route(
        "/site/",
        Route::typed(
            "<html><head><title>Site</title>\
             <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/site/rss.xml\">\
             <link rel=\"alternate\" type=\"application/atom+xml\" href=\"/site/comments.atom\">\
             </head><body></body></html>",
            "text/html",
        ),
    );
    let desk = Desk::start(&ws);
    let http = client();
    let page = body(http.get(desk.url("/feeds")).send().await.unwrap()).await;
    assert_eq!(page.matches("<button>Pause</button>").count(), 2, "{page}");
    let csrf = csrf_of(&page);

    let r = http
        .post(desk.url("/feeds/pause"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("name", "Dev team"),
            ("action", "pause"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = body(http.get(desk.url("/feeds")).send().await.unwrap()).await;
    assert!(page.contains("<td>paused<br>"), "{page}");
    assert!(page.contains("<button>Resume</button>"), "{page}");
    let r = http
        .post(desk.url("/feeds/pause"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("name", "Nope"),
            ("action", "pause"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .post(desk.url("/feeds/pause"))
        .form_pairs(&[("name", "Dev team"), ("action", "resume")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(desk.url("/feeds/pause"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("name", "Dev team"),
            ("action", "resume"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        scalar(
            &ws,
            "SELECT COUNT(*) FROM feeds WHERE paused_at IS NOT NULL"
        )
        .await,
        0
    );

    // "Only show": both feeds listed, each with its own add form; feeds.toml untouched.
    let original = std::fs::read_to_string(ws.config_path()).unwrap();
    let site = server.url("/site/");
    let r = http
        .post(desk.url("/feeds/add"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("url", site.as_str()),
            ("go", "find"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let shown = body(r).await;
    assert!(shown.contains("found 2 feeds"), "{shown}");
    assert!(
        shown.contains("Site posts") && shown.contains("Site comments"),
        "{shown}"
    );
    // Each add form posts the feed it shows (not "the Nth found", which could change).
    assert_eq!(shown.matches("class=\"add\"").count(), 2, "{shown}");
    for path in ["/site/rss.xml", "/site/comments.atom"] {
        // (minijinja escapes `/` in HTML.)
        let field = format!(
            "name=\"url\" value=\"{}\"",
            server.url(path).replace('/', "&#x2f;")
        );
        assert!(shown.contains(&field), "{field} in {shown}");
    }
    assert!(shown.contains("Nothing added yet"), "{shown}");
    assert_eq!(std::fs::read_to_string(ws.config_path()).unwrap(), original);

    // Choosing the second one adds that one.
    let r = http
        .post(desk.url("/feeds/add"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("url", site.as_str()),
            ("choose", "2"),
            ("section", ""),
            ("go", "add"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = std::fs::read_to_string(ws.config_path()).unwrap();
    assert!(after.starts_with(&original), "{after}");
    assert!(
        after.contains(&server.url("/site/comments.atom")),
        "{after}"
    );
    assert!(!after.contains(&server.url("/site/rss.xml")), "{after}");
    // The desk read the file it wrote: the new feed is on the feeds page, without a SIGHUP.
    let mut listed = false;
    for _ in 0..50 {
        let page = body(http.get(desk.url("/feeds")).send().await.unwrap()).await;
        if page.contains("Site comments") {
            listed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed, "the added feed is listed on /feeds");
    let r = http
        .post(desk.url("/feeds/add"))
        .form_pairs(&[
            ("csrf", csrf.as_str()),
            ("url", site.as_str()),
            ("choose", "3"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(body(r).await.contains("there are 2 feeds to choose from"));
}

#[tokio::test]
async fn metrics_report_the_last_round_and_errors_by_kind() {
    let server = Server::start();
    let ws = Workspace::new();
    let ok = server.route(
        "/ok",
        Route::feed(recent_rss(
            "Ok",
            &[("a", "A story", "https://ok.example/a", "x")],
        )),
    );
    let missing = server.route("/missing", Route::status(404, "no"));
    let junk = server.route("/junk", Route::typed("this is not a feed", "text/plain"));
    // A port nobody listens on: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}/feed", l.local_addr().unwrap().port())
    };
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n\
         [[feeds]]\nname = \"Ok\"\nurl = \"{ok}\"\n[[feeds]]\nname = \"Missing\"\nurl = \"{missing}\"\n\
         [[feeds]]\nname = \"Junk\"\nurl = \"{junk}\"\n[[feeds]]\nname = \"Closed\"\nurl = \"{closed}\"\n"
    ));
    let out = ws.gleaner(&["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let desk = Desk::start(&ws);
    let metrics = body(client().get(desk.url("/metrics")).send().await.unwrap()).await;
    for line in [
        "gleaner_fetch_errors_total{kind=\"http\"} 1",
        "gleaner_fetch_errors_total{kind=\"connect\"} 1",
        "gleaner_fetch_errors_total{kind=\"parse\"} 1",
        "gleaner_fetch_errors_total{kind=\"timeout\"} 0",
        "gleaner_fetch_errors_by_status_total{status=\"404\"} 1",
        "gleaner_fetch_errors_by_status_total{status=\"none\"} 1",
        "gleaner_last_round_feeds{source=\"poll\"} 4",
        "gleaner_last_round_failed_feeds{source=\"poll\"} 3",
        "gleaner_last_round_new_stories{source=\"poll\"} 1",
        "gleaner_feeds{state=\"paused\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    let duration: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gleaner_last_round_duration_seconds{source=\"poll\"} "))
        .unwrap_or_else(|| panic!("a round duration in {metrics}"))
        .parse()
        .unwrap();
    assert!(duration > 0.0 && duration < 60.0, "{duration}");
    let at: i64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("gleaner_last_round_timestamp_seconds{source=\"poll\"} "))
        .unwrap()
        .parse()
        .unwrap();
    assert!((chrono::Utc::now().timestamp() - at).abs() < 120, "{at}");
}

#[tokio::test]
async fn the_rounds_table_keeps_the_last_ten_thousand() {
    let ws = Workspace::new();
    ws.write_config_text("[storage]\npath = \"gleaner.db\"\n");
    let store = ws.store().await;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10005)
         INSERT INTO rounds (source, started_at, duration_ms, feeds, failed, new_count)
         SELECT 'poll', i, 1, 1, 0, 0 FROM n",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let round = gleaner::model::Round {
        source: "daemon",
        started_at: chrono::Utc::now(),
        duration: Duration::from_millis(1234),
        feeds: 7,
        failed: 1,
        new: 3,
    };
    store.record_round(&round).await.unwrap();
    let (n, oldest): (i64, i64) = sqlx::query_as("SELECT COUNT(*), MIN(started_at) FROM rounds")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!((n, oldest), (10_000, 7));
    let mut last = store.last_round().await.unwrap().unwrap();
    assert_eq!(last.started_at.timestamp(), round.started_at.timestamp());
    last.started_at = round.started_at;
    assert_eq!(last, round);
    store.close().await;
}

#[tokio::test]
async fn editing_a_pick_keeps_its_place_and_a_grouped_story_lists_its_group_not_itself() {
    let server = Server::start();
    let ws = Workspace::new();
    let title = "Kubernetes Gateway API reaches general availability today";
    let text = "<p>The Gateway API for Kubernetes is now generally available, with HTTPRoute, GRPCRoute and the conformance suite stable for every implementation.</p>";
    let a = server.route(
        "/a",
        Route::feed(recent_rss(
            "A",
            &[
                ("1", title, "https://a.example/gw", text),
                (
                    "2",
                    "Kubernetes operators in practice",
                    "https://a.example/ops",
                    "<p>Operators.</p>",
                ),
            ],
        )),
    );
    let b = server.route(
        "/b",
        Route::feed(recent_rss(
            "B",
            &[("1", title, "https://b.example/gateway-ga", text)],
        )),
    );
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n[keywords]\nkubernetes = 3\n\
         [[feeds]]\nname = \"A\"\nurl = \"{a}\"\n[[feeds]]\nname = \"B\"\nurl = \"{b}\"\n"
    ));
    assert!(ws.gleaner(&["poll"]).status.success());
    let out = ws.gleaner(&["candidates", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let group = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == title)
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(group["also_at"].as_array().unwrap().len(), 1, "{v:#}");
    let listed = group["url"].as_str().unwrap().to_string();
    let other_url = group["also_at"][0].as_str().unwrap().to_string();
    let out = ws.gleaner(&["entries", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id_of = |url: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"] == url)
            .unwrap_or_else(|| panic!("{url} in {entries:#}"))["id"]
            .as_i64()
            .unwrap()
    };
    // Pick the member that is not the one listed: its "also at" is the listed one's link only.
    let member = id_of(&other_url);
    let ops = id_of("https://a.example/ops");
    assert!(ws.gleaner(&["pick", &member.to_string()]).status.success());
    let also = value::<String>(
        &ws,
        &format!("SELECT also_at FROM decisions WHERE story_id = {member}"),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Vec<String>>(&also).unwrap(),
        vec![listed.clone()]
    );

    // A second pick, then the first one's blurb is edited: it keeps its place and its time.
    // (Picks are ordered by their time in seconds, then by story id: the second pick waits for
    // the next second, or which comes first would depend on which feed was stored first.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(ws.gleaner(&["pick", &ops.to_string()]).status.success());
    let at_sql = format!("SELECT decided_at FROM decisions WHERE story_id = {member}");
    let before = scalar(&ws, &at_sql).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = ws.gleaner(&["pick", &member.to_string(), "--blurb", "Gateway is GA."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(scalar(&ws, &at_sql).await, before);
    let out = ws.gleaner(&["draft"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let draft = std::fs::read_to_string(ws.path("out/issue-1.md")).unwrap();
    let (gw, op) = (
        draft.find("Gateway is GA.").unwrap(),
        draft.find("Kubernetes operators").unwrap(),
    );
    assert!(gw < op, "the first pick stays first:\n{draft}");
    assert_eq!(draft.matches(&other_url).count(), 1, "{draft}");
    assert_eq!(draft.matches(&listed).count(), 1, "{draft}");
    // The edit is in the log, at its own time.
    assert_eq!(
        scalar(
            &ws,
            &format!("SELECT COUNT(DISTINCT at) FROM decision_log WHERE story_id = {member}")
        )
        .await,
        2
    );
}

#[tokio::test]
async fn the_desk_listens_on_localhost_by_name_and_refuses_weeks_off_the_calendar() {
    let ws = Workspace::new();
    ws.write_config_text("[storage]\npath = \"gleaner.db\"\n");
    let desk = Desk::start_with(&ws, &["serve", "--listen", "localhost:0"]);
    let r = client().get(desk.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Weeks at the edge of the calendar are refused, not a crash (a week later overflowed).
    for week in ["262143-W01", "-262143-W02", "-5-W01"] {
        let r = client()
            .get(desk.url(&format!("/digest?week={week}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{week}");
        assert!(body(r).await.contains("is not an ISO week"), "{week}");
    }
    let out = ws.gleaner(&["digest", "--week", "262143-W01"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not an ISO week"),
        "{}",
        stderr(&out)
    );
    let out = ws.gleaner(&["serve", "--listen", "example.com:80"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("localhost:8080"), "{}", stderr(&out));
}
