//! `gleaner run` as a real child process against real loopback servers: schedules, backoff,
//! publishers' wishes, per-host politeness, signals, reload, restarts (kill -9 and readers:
//! durability.rs).

use std::time::Duration;

use crate::support::{Route, Server, Workspace, eventually, rss, stdout};

fn status_json(ws: &Workspace) -> Vec<serde_json::Value> {
    let out = ws.gleaner(&["status", "--json"]);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn feed<'a>(rows: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {rows:?}"))
}

fn config(head: &str, feeds: &[(&str, &str, &str)]) -> String {
    let mut s = format!("[storage]\npath = \"gleaner.db\"\n{head}\n");
    for (name, url, extra) in feeds {
        s.push_str(&format!(
            "[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n{extra}\n"
        ));
    }
    s
}

const FAST: &str = "[fetch]\ntimeout = \"5s\"\nhost_delay = \"0s\"\nper_host = 16\n[daemon]\ngrace = \"3s\"\n[schedule]\nevery = \"1s\"\n";

#[tokio::test]
async fn the_daemon_follows_schedules_backs_off_and_honours_publishers() {
    let server = Server::start();
    let ws = Workspace::new();
    let ok = server.route(
        "/ok",
        Route::feed(rss("OK", &[("1", "Fine", "https://ok.example/1", "x")])),
    );
    let fail = server.route("/fail", Route::status(500, "boom"));
    let limited = server.route(
        "/limited",
        Route::Raw {
            status: 429,
            headers: vec![("Retry-After".into(), "3600".into())],
            body: vec![],
        },
    );
    let gone = server.route("/gone", Route::status(410, "gone"));
    ws.write_config_text(&config(
        FAST,
        &[
            ("ok", &ok, ""),
            ("fail", &fail, ""),
            ("limited", &limited, ""),
            ("gone", &gone, ""),
        ],
    ));
    let mut d = ws.start_daemon();
    tokio::time::sleep(Duration::from_secs(8)).await;
    d.signal("TERM");
    let status = d
        .wait(Duration::from_secs(15))
        .await
        .expect("daemon exits after SIGTERM");
    assert!(status.success(), "exit {status:?}\n{}", d.log());

    let oks = server.seen("/ok").len();
    let fails = server.seen("/fail");
    assert!(oks >= 4, "the 1s feed was fetched only {oks} times");
    // Exponential backoff: the gaps between attempts at least double (1s, 2s, 4s …).
    let gaps: Vec<Duration> = fails.windows(2).map(|w| w[1].at - w[0].at).collect();
    for (i, gap) in gaps.iter().enumerate() {
        let floor = Duration::from_millis(950 * (1 << i));
        assert!(
            *gap >= floor,
            "failure gap {i} was {gap:?}, expected ≥ {floor:?}: {gaps:?}\n{}",
            d.log()
        );
    }
    assert!(
        fails.len() < oks,
        "a failing feed must not be fetched as often ({} vs {oks})",
        fails.len()
    );
    assert_eq!(
        server.seen("/limited").len(),
        1,
        "Retry-After: 3600 is honoured"
    );
    assert_eq!(server.seen("/gone").len(), 1, "410 stops polling");

    let rows = status_json(&ws);
    assert_eq!(feed(&rows, "ok")["state"], "ok");
    assert_eq!(feed(&rows, "gone")["state"], "gone");
    assert!(feed(&rows, "gone")["next_due"].is_null());
    assert_eq!(feed(&rows, "fail")["state"], "backing off");
    assert_eq!(feed(&rows, "fail")["consecutive_failures"], fails.len());
    assert_eq!(feed(&rows, "fail")["last_status"], 500);
    assert_eq!(feed(&rows, "limited")["state"], "backing off");
    assert!(feed(&rows, "limited")["retry_after"].is_string());
    assert_eq!(feed(&rows, "limited")["consecutive_failures"], 0);
    let log = d.log();
    assert!(log.contains("stopping") && log.contains("stopped"), "{log}");

    // The text table names every feed and its state.
    let text = stdout(&ws.gleaner(&["status"]));
    assert!(
        text.contains("backing off") && text.contains("gone"),
        "{text}"
    );
}

#[tokio::test]
async fn the_daemon_keeps_per_host_limits_and_gaps() {
    let server = Server::start();
    let ws = Workspace::new();
    let body = |i: usize| {
        rss(
            "S",
            &[(
                &format!("s{i}"),
                "Slow",
                &format!("https://slow.example/{i}"),
                "x",
            )],
        )
        .into_bytes()
    };
    let mut feeds = Vec::new();
    for i in 0..6 {
        server.route(
            &format!("/slow{i}"),
            Route::Slow {
                delay: Duration::from_millis(300),
                body: body(i),
            },
        );
        // Two hosts for one server: 127.0.0.1 and localhost.
        let host = if i % 2 == 0 { "127.0.0.1" } else { "localhost" };
        feeds.push((
            format!("slow{i}"),
            format!("http://{host}:{}/slow{i}", server.addr.port()),
        ));
    }
    let feeds_ref: Vec<(&str, &str, &str)> = feeds
        .iter()
        .map(|(n, u)| (n.as_str(), u.as_str(), ""))
        .collect();
    ws.write_config_text(&config(
        "[fetch]\nper_host = 1\nhost_delay = \"700ms\"\n[schedule]\nevery = \"1h\"\n",
        &feeds_ref,
    ));
    let mut d = ws.start_daemon();
    let all = eventually(Duration::from_secs(20), || {
        (0..6).all(|i| server.seen(&format!("/slow{i}")).len() == 1)
    })
    .await;
    d.signal("TERM");
    assert!(
        d.wait(Duration::from_secs(15))
            .await
            .is_some_and(|s| s.success())
    );
    assert!(all, "not every feed was fetched\n{}", d.log());

    for host in ["127.0.0.1", "localhost"] {
        let mut seen: Vec<_> = (0..6)
            .flat_map(|i| server.seen(&format!("/slow{i}")))
            .filter(|s| s.headers.get("host").is_some_and(|h| h.starts_with(host)))
            .collect();
        assert_eq!(seen.len(), 3, "{host}");
        seen.sort_by_key(|s| s.at);
        assert!(
            seen.iter().all(|s| s.concurrent_for_host == 1),
            "{host}: more than one request at a time"
        );
        for w in seen.windows(2) {
            let gap = w[1].at - w[0].at;
            // The gate spaces the starts 700 ms apart; the server sees arrivals, which a busy
            // 2-core machine can bunch by tens of milliseconds. Without the gap they would be
            // ~300 ms apart (one at a time, 300 ms each), so 600 ms still tells them apart.
            assert!(
                gap >= Duration::from_millis(600),
                "{host}: requests {gap:?} apart, host_delay is 700ms"
            );
        }
    }
}

#[tokio::test]
async fn sigterm_lets_in_flight_feeds_finish_within_the_grace_period() {
    let server = Server::start();
    let ws = Workspace::new();
    let slow = server.route(
        "/slow",
        Route::Slow {
            delay: Duration::from_millis(1500),
            body: rss(
                "S",
                &[("1", "Finished in time", "https://s.example/1", "x")],
            )
            .into_bytes(),
        },
    );
    let hang = server.route("/hang", Route::Hang);
    ws.write_config_text(&config(
        "[fetch]\ntimeout = \"60s\"\nhost_delay = \"0s\"\n[daemon]\ngrace = \"4s\"\n",
        &[("slow", &slow, ""), ("hang", &hang, "")],
    ));
    let mut d = ws.start_daemon();
    assert!(
        eventually(Duration::from_secs(10), || !server.seen("/slow").is_empty()
            && !server.seen("/hang").is_empty())
        .await
    );
    d.signal("TERM");
    // The hanging feed would take 60 s; the grace period ends the wait.
    let status = d
        .wait(Duration::from_secs(20))
        .await
        .expect("exits within the grace period");
    assert!(status.success(), "{status:?}");
    let log = d.log();
    assert!(log.contains("grace period over"), "{log}");
    let stories = ws.stories().await;
    assert_eq!(stories.len(), 1, "the in-flight feed was committed");
    assert_eq!(stories[0].title, "Finished in time");
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let server = Server::start();
    let ws = Workspace::new();
    let hang = server.route("/hang", Route::Hang);
    ws.write_config_text(&config(
        "[fetch]\ntimeout = \"60s\"\n[daemon]\ngrace = \"60s\"\n",
        &[("hang", &hang, "")],
    ));
    let mut d = ws.start_daemon();
    assert!(eventually(Duration::from_secs(10), || !server.seen("/hang").is_empty()).await);
    d.signal("INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        d.is_running(),
        "the first signal waits for the grace period"
    );
    d.signal("INT");
    let status = d
        .wait(Duration::from_secs(10))
        .await
        .expect("second signal exits");
    assert_eq!(status.code(), Some(130));
    // The database is consistent and usable.
    assert_eq!(stdout(&ws.gleaner(&["status"])).lines().count(), 2);
}

#[tokio::test]
async fn sighup_applies_a_valid_config_and_keeps_running_on_an_invalid_one() {
    let server = Server::start();
    let ws = Workspace::new();
    let a = server.route(
        "/a",
        Route::feed(rss("A", &[("1", "A", "https://a.example/1", "x")])),
    );
    let b = server.route(
        "/b",
        Route::feed(rss("B", &[("1", "B", "https://b.example/1", "x")])),
    );
    ws.write_config_text(&config("[schedule]\nevery = \"1h\"\n", &[("A", &a, "")]));
    let mut d = ws.start_daemon();
    assert!(
        eventually(Duration::from_secs(10), || server.seen("/a").len() == 1).await,
        "{}",
        d.log()
    );

    // A new feed: fetched at once after SIGHUP. A's schedule changes to 1s: applied.
    ws.write_config_text(&config(
        "[schedule]\nevery = \"1h\"\n",
        &[("A", &a, "every = \"1s\""), ("B", &b, "")],
    ));
    d.signal("HUP");
    assert!(
        eventually(Duration::from_secs(10), || server.seen("/b").len() == 1).await,
        "{}",
        d.log()
    );
    assert!(
        eventually(Duration::from_secs(10), || server.seen("/a").len() >= 3).await,
        "changed schedule not applied\n{}",
        d.log()
    );

    // An invalid file is rejected with its problems; the daemon keeps the old config.
    ws.write_config_text("[[feeds]]\nname = \"A\"\nurl = \"not a url\"\ncolour = \"red\"\n");
    d.signal("HUP");
    assert!(
        eventually(Duration::from_secs(5), || d
            .log()
            .contains("reload rejected"))
        .await,
        "{}",
        d.log()
    );
    assert!(d.is_running());
    let log = d.log();
    assert!(log.contains("colour") && log.contains("not a URL"), "{log}");
    let before = server.seen("/a").len();
    assert!(
        eventually(Duration::from_secs(10), || server.seen("/a").len() > before).await,
        "old config stopped"
    );

    // Removing a feed stops it.
    ws.write_config_text(&config("[schedule]\nevery = \"1h\"\n", &[("B", &b, "")]));
    d.signal("HUP");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.seen("/a").len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        server.seen("/a").len(),
        after,
        "a removed feed is not polled"
    );
    d.signal("TERM");
    assert!(
        d.wait(Duration::from_secs(15))
            .await
            .is_some_and(|s| s.success())
    );
}

#[tokio::test]
async fn a_restart_resumes_the_schedule_and_new_feeds_are_fetched_at_once() {
    let server = Server::start();
    let ws = Workspace::new();
    let a = server.route(
        "/a",
        Route::feed(rss("A", &[("1", "A", "https://a.example/1", "x")])),
    );
    let b = server.route(
        "/b",
        Route::feed(rss("B", &[("1", "B", "https://b.example/1", "x")])),
    );
    ws.write_config_text(&config("[schedule]\nevery = \"1h\"\n", &[("A", &a, "")]));
    let mut d = ws.start_daemon();
    assert!(eventually(Duration::from_secs(10), || server.seen("/a").len() == 1).await);
    d.signal("TERM");
    assert!(d.wait(Duration::from_secs(15)).await.is_some());

    ws.write_config_text(&config(
        "[schedule]\nevery = \"1h\"\n",
        &[("A", &a, ""), ("B", &b, "")],
    ));
    let mut d = ws.start_daemon();
    assert!(
        eventually(Duration::from_secs(10), || server.seen("/b").len() == 1).await,
        "{}",
        d.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        server.seen("/a").len(),
        1,
        "A is not due for an hour: no stampede at start-up"
    );
    let rows = status_json(&ws);
    let due = chrono::DateTime::parse_from_rfc3339(feed(&rows, "A")["next_due"].as_str().unwrap())
        .unwrap();
    let wait = due.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(wait > chrono::Duration::minutes(55), "{wait}");
    d.signal("TERM");
    assert!(d.wait(Duration::from_secs(15)).await.is_some());
}
