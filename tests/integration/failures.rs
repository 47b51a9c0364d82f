//! Every way a feed can fail in one pass: each gets a clear per-feed error recorded on its row,
//! and the good feeds in the same pass are stored.

use std::io::Write;

use gleaner::ingest::PollOptions;
use gleaner::model::FeedResult;

use crate::support::{Route, Server, Workspace, result_of, rss};

fn error_of(r: &FeedResult) -> &str {
    match r {
        FeedResult::Failed(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn bomb(encoding: &str, inflated: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            for _ in 0..inflated >> 20 {
                e.write_all(&zeros).unwrap();
            }
            e.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            {
                let mut w = brotli::CompressorWriter::new(&mut out, 1 << 16, 5, 22);
                for _ in 0..inflated >> 20 {
                    w.write_all(&zeros).unwrap();
                }
            }
            out
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn every_failure_is_a_clear_per_feed_error_and_good_feeds_are_stored() {
    let server = Server::start();
    let ws = Workspace::new();
    let good1 = server.route(
        "/good1",
        Route::feed(rss(
            "G1",
            &[("g1", "Good one", "https://good.example/1", "x")],
        )),
    );
    let good2 = server.route(
        "/good2",
        Route::feed(rss(
            "G2",
            &[("g2", "Good two", "https://good.example/2", "y")],
        )),
    );
    let broken = server.route(
        "/broken",
        Route::feed(
            "<rss version=\"2.0\"><channel><title>x</title><item><title>cut off before any entry",
        ),
    );
    let e500 = server.route("/500", Route::status(500, "boom"));
    let e404 = server.route("/404", Route::status(404, "nope"));
    let gone = server.route("/gone", Route::status(410, "gone"));
    let hang = server.route("/hang", Route::Hang);
    server.route(
        "/loop-a",
        Route::Redirect {
            status: 302,
            location: "/loop-b".into(),
        },
    );
    let looping = server.route(
        "/loop-b",
        Route::Redirect {
            status: 302,
            location: "/loop-a".into(),
        },
    );
    for i in 0..12 {
        server.route(
            &format!("/chain{i}"),
            Route::Redirect {
                status: 302,
                location: format!("/chain{}", i + 1),
            },
        );
    }
    let chain = server.url("/chain0");
    let huge = server.route(
        "/huge",
        Route::Huge {
            bytes: 64 << 20,
            declare_length: true,
        },
    );
    let endless = server.route(
        "/endless",
        Route::Huge {
            bytes: 64 << 20,
            declare_length: false,
        },
    );
    let gzip_bomb = server.route(
        "/gzip-bomb",
        Route::Raw {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "application/rss+xml".into()),
                ("Content-Encoding".into(), "gzip".into()),
            ],
            body: bomb("gzip", 64 << 20),
        },
    );
    let br_bomb = server.route(
        "/br-bomb",
        Route::Raw {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "application/rss+xml".into()),
                ("Content-Encoding".into(), "br".into()),
            ],
            body: bomb("br", 64 << 20),
        },
    );
    let html = server.route(
        "/html",
        Route::typed(
            "<!DOCTYPE html><html><head><title>Blog</title></head><body>Hi</body></html>",
            "text/html; charset=utf-8",
        ),
    );
    let refused = {
        // A port that was open a moment ago and is closed now.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/feed")
    };

    ws.write_config(
        "timeout = \"3s\"",
        &[
            ("good1", &good1),
            ("broken", &broken),
            ("e500", &e500),
            ("e404", &e404),
            ("gone", &gone),
            ("hang", &hang),
            ("loop", &looping),
            ("chain", &chain),
            ("huge", &huge),
            ("endless", &endless),
            ("gzip-bomb", &gzip_bomb),
            ("br-bomb", &br_bomb),
            ("html", &html),
            ("refused", &refused),
            ("good2", &good2),
        ],
    );
    let round = ws.poll().await;
    assert_eq!(round.feeds.len(), 15);

    for good in ["good1", "good2"] {
        match result_of(&round, good) {
            FeedResult::Stored { counts, .. } => assert_eq!(counts.new, 1, "{good}"),
            other => panic!("{good}: {other:?}"),
        }
    }
    let expect = [
        ("broken", "not a feed: unable to parse XML"),
        ("e500", "HTTP 500 Internal Server Error"),
        ("e404", "HTTP 404 Not Found"),
        ("hang", "timed out after 3s"),
        ("loop", "redirect loop at"),
        ("chain", "more than 10 redirects"),
        ("huge", "body larger than the limit of 15.0 MiB"),
        ("endless", "body larger than the limit of 15.0 MiB"),
        ("gzip-bomb", "body larger than the limit of 15.0 MiB"),
        ("br-bomb", "body larger than the limit of 15.0 MiB"),
        (
            "html",
            "not a feed: the server sent an HTML page (text/html; charset=utf-8)",
        ),
        ("refused", "cannot connect"),
    ];
    for (name, want) in expect {
        let e = error_of(result_of(&round, name));
        assert!(e.contains(want), "{name}: {e:?} does not contain {want:?}");
    }
    assert_eq!(result_of(&round, "gone"), &FeedResult::Gone);

    // Recorded on the rows; a second pass counts failures up and skips the gone feed.
    let round2 = ws.poll().await;
    assert!(matches!(result_of(&round2, "gone"), FeedResult::Skipped(why) if why.contains("410")));
    let store = ws.store().await;
    let rows: Vec<(String, Option<String>, i64, String)> = sqlx::query_as(
        "SELECT name, last_error, consecutive_failures, state FROM feeds ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    for (name, last_error, failures, state) in rows {
        match name.as_str() {
            "good1" | "good2" => assert_eq!((last_error, failures), (None, 0), "{name}"),
            "gone" => assert_eq!((state.as_str(), failures), ("gone", 0)),
            _ => {
                assert_eq!(failures, 2, "{name}");
                assert!(last_error.is_some_and(|e| !e.is_empty()), "{name}");
            }
        }
    }
    assert_eq!(ws.stories().await.len(), 2);
}

#[tokio::test]
async fn permanent_redirects_are_recorded_and_followed_next_time() {
    let server = Server::start();
    let ws = Workspace::new();
    let body = rss("M", &[("m1", "Moved", "https://m.example/1", "x")]);
    server.route("/new", Route::feed(body.clone()));
    let old = server.route(
        "/old",
        Route::Redirect {
            status: 301,
            location: "/new".into(),
        },
    );
    server.route(
        "/tmp-target",
        Route::feed(body.replace("m.example", "t.example")),
    );
    let temp = server.route(
        "/temp",
        Route::Redirect {
            status: 302,
            location: "/tmp-target".into(),
        },
    );
    ws.write_config("", &[("moved", &old), ("temporary", &temp)]);
    let round = ws.poll().await;
    let moved = round.feeds.iter().find(|f| f.name == "moved").unwrap();
    assert_eq!(moved.moved_to.as_deref(), Some(server.url("/new").as_str()));
    let line = gleaner::output::round::feed_line(moved);
    assert!(line.contains("update its url in feeds.toml"), "{line}");
    let temporary = round.feeds.iter().find(|f| f.name == "temporary").unwrap();
    assert_eq!(temporary.moved_to, None);

    ws.poll().await;
    assert_eq!(
        server.seen("/old").len(),
        1,
        "the old URL is not asked again"
    );
    assert_eq!(server.seen("/new").len(), 2);
    assert_eq!(
        server.seen("/temp").len(),
        2,
        "a temporary redirect is not remembered"
    );

    // Once the editor updates feeds.toml to the new URL, the feed keeps its row and stories.
    ws.write_config("", &[("moved", &server.url("/new")), ("temporary", &temp)]);
    ws.poll().await;
    let store = ws.store().await;
    let (n, moved_to): (i64, Option<String>) =
        sqlx::query_as("SELECT COUNT(*), MAX(moved_to) FROM feeds WHERE name = 'moved'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((n, moved_to), (1, None));
}

#[tokio::test]
async fn rate_limits_are_honoured_and_not_counted_as_failures() {
    let server = Server::start();
    let ws = Workspace::new();
    let limited = server.route(
        "/429",
        Route::Raw {
            status: 429,
            headers: vec![("Retry-After".into(), "3600".into())],
            body: b"slow down".to_vec(),
        },
    );
    let busy = server.route("/503", Route::status(503, "busy"));
    ws.write_config("", &[("limited", &limited), ("busy", &busy)]);
    let round = ws.poll().await;
    match result_of(&round, "limited") {
        FeedResult::RetryLater {
            status: Some(429),
            until: Some(t),
        } => {
            let wait = *t - chrono::Utc::now();
            assert!(
                wait > chrono::Duration::minutes(55) && wait <= chrono::Duration::minutes(60),
                "{wait}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        result_of(&round, "busy"),
        FeedResult::RetryLater {
            status: Some(503),
            until: None
        }
    ));

    let round = ws.poll().await;
    assert!(
        matches!(result_of(&round, "limited"), FeedResult::Skipped(w) if w.contains("wait until"))
    );
    assert_eq!(server.seen("/429").len(), 1);
    // --force fetches anyway.
    let round = ws
        .poll_with(PollOptions {
            force: true,
            only: vec!["limited".into()],
        })
        .await;
    assert_eq!(round.feeds.len(), 1);
    assert_eq!(server.seen("/429").len(), 2);

    let store = ws.store().await;
    let failures: i64 =
        sqlx::query_scalar("SELECT consecutive_failures FROM feeds WHERE name = 'limited'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(failures, 0);
}

#[tokio::test]
async fn a_permanent_redirect_to_something_broken_is_not_adopted() {
    let server = Server::start();
    let ws = Workspace::new();
    let good = rss("P", &[("p1", "Parked?", "https://p.example/1", "x")]);
    server.route(
        "/parked",
        Route::typed(
            "<!DOCTYPE html><html><body>This domain is for sale</body></html>",
            "text/html",
        ),
    );
    let url = server.route(
        "/feed",
        Route::Redirect {
            status: 301,
            location: "/parked".into(),
        },
    );
    ws.write_config("", &[("P", &url)]);
    let round = ws.poll().await;
    let report = round.feeds.iter().find(|f| f.name == "P").unwrap();
    assert!(matches!(report.result, FeedResult::Failed(_)));
    assert_eq!(report.moved_to, None);
    // The publisher fixes the redirect: the configured URL is asked again and works.
    server.route("/feed", Route::feed(good));
    let round = ws.poll().await;
    assert!(
        matches!(result_of(&round, "P"), FeedResult::Stored { .. }),
        "{:?}",
        round.feeds
    );
    assert_eq!(server.seen("/feed").len(), 2);
    assert_eq!(server.seen("/parked").len(), 1);
}

#[tokio::test]
async fn adding_a_redirect_target_as_its_own_feed_keeps_both_rows() {
    let server = Server::start();
    let ws = Workspace::new();
    server.route(
        "/new",
        Route::feed(rss("N", &[("n1", "New home", "https://n.example/1", "x")])),
    );
    let old = server.route(
        "/old",
        Route::Redirect {
            status: 301,
            location: "/new".into(),
        },
    );
    ws.write_config("", &[("Old", &old)]);
    ws.poll().await;
    ws.write_config("", &[("Old", &old), ("New", &server.url("/new"))]);
    ws.poll().await;
    ws.poll().await;
    let store = ws.store().await;
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, url FROM feeds ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].1.as_str(), rows[1].1.as_str()), ("Old", "New"));
    let story = &ws.stories().await[0];
    let mut sources = story.sources.clone();
    sources.sort();
    assert_eq!(sources, ["New", "Old"]);
}
