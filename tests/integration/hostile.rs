//! Servers that misbehave on purpose (issue 6): each bad feed fails with a clear, specific
//! error within its timeout, the process's memory stays bounded, and every good feed in the
//! same round is stored. The rounds that measure memory run the real binary (`gleaner poll`)
//! and read its peak RSS. Everything stays on loopback: the "public" addresses in the SSRF
//! test are TEST-NET ones that only ever reach the test server, acting as the HTTP proxy.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gleaner::model::FeedResult;

use crate::support::{Route, Server, Workspace, result_of, rss};

/// A 100 MiB compression bomb from the shared corpora (`xml-attacks/`), or, without them,
/// 64 MiB of zeros compressed here the same way (`gzip`, or zlib for `deflate`).
fn bomb(file: &str, encoding: &str) -> Vec<u8> {
    let dir = std::env::var_os("GLEANER_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
    if let Ok(bytes) = std::fs::read(dir.join("xml-attacks").join(file)) {
        return bytes;
    }
    let zeros = vec![0u8; 1 << 20];
    let level = flate2::Compression::best();
    if encoding == "gzip" {
        let mut w = flate2::write::GzEncoder::new(Vec::new(), level);
        for _ in 0..64 {
            w.write_all(&zeros).unwrap();
        }
        w.finish().unwrap()
    } else {
        let mut w = flate2::write::ZlibEncoder::new(Vec::new(), level);
        for _ in 0..64 {
            w.write_all(&zeros).unwrap();
        }
        w.finish().unwrap()
    }
}

fn feed_body(name: &str) -> Vec<u8> {
    rss(
        name,
        &[(
            &format!("{name}-1"),
            &format!("Story of {name}"),
            &format!("https://good.example/{name}"),
            "text",
        )],
    )
    .into_bytes()
}

/// 64 MiB of zeros, brotli-compressed to a few kilobytes.
fn brotli_bomb() -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 1 << 16, 5, 22);
        for _ in 0..64 {
            w.write_all(&zeros).unwrap();
        }
    }
    out
}

fn encoded(body: Vec<u8>, encoding: &str) -> Route {
    Route::Raw {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/rss+xml".into()),
            ("Content-Encoding".into(), encoding.into()),
        ],
        body,
    }
}

/// What one `gleaner poll` run left behind, per feed: its last error, how long its fetch
/// took, and the bytes it read.
#[derive(Debug)]
struct Row {
    error: Option<String>,
    duration: Duration,
    bytes: Option<i64>,
}

async fn rows(ws: &Workspace) -> HashMap<String, Row> {
    let store = ws.store().await;
    let rows: Vec<(String, Option<String>, i64, Option<i64>)> = sqlx::query_as(
        "SELECT f.name, f.last_error, l.duration_ms, l.bytes
         FROM feeds f JOIN fetch_log l ON l.feed_id = f.id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    store.close().await;
    rows.into_iter()
        .map(|(name, error, ms, bytes)| {
            let duration = Duration::from_millis(ms as u64);
            (
                name,
                Row {
                    error,
                    duration,
                    bytes,
                },
            )
        })
        .collect()
}

/// A finished run of the binary: exit status, stdout, wall time and peak RSS.
struct Run {
    status: std::process::ExitStatus,
    stdout: String,
    wall: Duration,
    peak_rss_kib: u64,
}

/// Runs `gleaner poll` in `ws` and measures its peak resident memory: with GNU time when it
/// is installed (CI installs it), else by reading the child's VmHWM (its high-water mark)
/// from /proc until it exits.
async fn poll_measured(ws: &Workspace, limit: Duration) -> Run {
    let bin = env!("CARGO_BIN_EXE_gleaner");
    let gnu_time = Path::new("/usr/bin/time");
    let report = ws.path("time.txt");
    let mut cmd = if gnu_time.exists() {
        let mut c = std::process::Command::new(gnu_time);
        c.arg("-f").arg("%M").arg("-o").arg(&report).arg(bin);
        c
    } else {
        std::process::Command::new(bin)
    };
    let out = ws.path("poll.out");
    let started = Instant::now();
    let mut child = cmd
        .arg("poll")
        .current_dir(ws.dir.path())
        .env("RUST_LOG", "off")
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(ws.path("poll.err")).unwrap())
        .spawn()
        .unwrap();
    let mut hwm_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if !gnu_time.exists()
            && let Ok(s) = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            && let Some(kib) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            hwm_kib = kib;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gleaner poll did not finish within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = started.elapsed();
    let peak_rss_kib = if gnu_time.exists() {
        let text = std::fs::read_to_string(&report).unwrap();
        text.lines()
            .filter_map(|l| l.trim().parse().ok())
            .next_back()
            .unwrap_or_else(|| panic!("no peak RSS in {text:?}"))
    } else {
        hwm_kib
    };
    Run {
        status,
        stdout: std::fs::read_to_string(&out).unwrap(),
        wall,
        peak_rss_kib,
    }
}

#[tokio::test]
async fn every_hostile_server_fails_clearly_within_its_timeout_and_memory_stays_bounded() {
    let server = Server::start();
    let (tls, cert) = Server::start_tls();
    let ws = Workspace::new();
    let timeout = Duration::from_secs(3);

    let mut feeds: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, url: String| feeds.push((name.to_string(), url));
    add(
        "good1",
        server.route("/good1", Route::feed(feed_body("good1"))),
    );
    add(
        "drip",
        server.route(
            "/drip",
            Route::Drip {
                body: feed_body("drip"),
                every: Duration::from_secs(1),
                head_first: false,
            },
        ),
    );
    add(
        "drip-body",
        server.route(
            "/drip-body",
            Route::Drip {
                body: feed_body("drip-body"),
                every: Duration::from_secs(1),
                head_first: true,
            },
        ),
    );
    add("head-only", server.route("/head-only", Route::HeadOnly));
    add(
        "endless-chunked",
        server.route("/endless-chunked", Route::EndlessChunked),
    );
    add(
        "gzip-bomb",
        server.route(
            "/gzip-bomb",
            encoded(bomb("gzip-bomb-100MiB.rss.xml.gz", "gzip"), "gzip"),
        ),
    );
    add(
        "deflate-bomb",
        server.route(
            "/deflate-bomb",
            encoded(bomb("deflate-bomb-100MiB.rss.xml.zz", "deflate"), "deflate"),
        ),
    );
    add(
        "br-bomb",
        server.route("/br-bomb", encoded(brotli_bomb(), "br")),
    );
    let long = feed_body("long-body");
    add(
        "length-over",
        server.route(
            "/length-over",
            Route::WrongLength {
                declared: long.len() + 5000,
                body: long.clone(),
            },
        ),
    );
    add(
        "length-under",
        server.route(
            "/length-under",
            Route::WrongLength {
                declared: long.len() / 2,
                body: long.clone(),
            },
        ),
    );
    let big: Vec<u8> = [
        b"<rss version=\"2.0\"><channel><title>big</title><description>".as_slice(),
        &vec![b'x'; 8000],
        b"</description></channel></rss>",
    ]
    .concat();
    add(
        "reset",
        server.route(
            "/reset",
            Route::Reset {
                body: big,
                after: 2000,
            },
        ),
    );
    // 100 KB of headers, as a thousand lines (past hyper's 100 lines) and as fifty 2 KB lines
    // (past gleaner's own 64 KiB).
    let headers = |n: usize, len: usize| Route::Raw {
        status: 200,
        headers: (0..n)
            .map(|i| (format!("X-Pad-{i}"), "p".repeat(len)))
            .chain([("Content-Type".into(), "application/rss+xml".into())])
            .collect(),
        body: feed_body("headers"),
    };
    add(
        "headers-many",
        server.route("/headers-many", headers(1000, 90)),
    );
    add(
        "headers-big",
        server.route("/headers-big", headers(50, 2048)),
    );
    for i in 0..50 {
        server.route(
            &format!("/chain{i}"),
            Route::Redirect {
                status: 302,
                location: format!("/chain{}", i + 1),
            },
        );
    }
    server.route("/chain50", Route::feed(feed_body("chain")));
    add("chain50", server.url("/chain0"));
    server.route(
        "/loop-a",
        Route::Redirect {
            status: 301,
            location: "/loop-b".into(),
        },
    );
    add(
        "loop",
        server.route(
            "/loop-b",
            Route::Redirect {
                status: 301,
                location: "/loop-a".into(),
            },
        ),
    );
    add(
        "self-signed",
        tls.route("/feed", Route::feed(feed_body("tls"))),
    );
    add(
        "good2",
        server.route("/good2", Route::feed(feed_body("good2"))),
    );

    let mut config = format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\ntimeout = \"{}s\"\nmax_bytes = \"4MiB\"\n\
         concurrency = 32\nper_host = 32\nhost_delay = \"0s\"\n",
        timeout.as_secs()
    );
    for (name, url) in &feeds {
        config.push_str(&format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    ws.write_config_text(&config);

    let run = poll_measured(&ws, Duration::from_secs(60)).await;
    assert!(run.status.success(), "{:?}\n{}", run.status, run.stdout);
    let peak_mib = run.peak_rss_kib as f64 / 1024.0;
    println!(
        "hostile round: {} feeds in {:.2?}, peak RSS {peak_mib:.1} MiB",
        feeds.len(),
        run.wall
    );
    // The three bombs alone inflate to 264 MiB and the endless bodies have no end: what stays
    // is the runtime, the database and at most one 4 MiB body per feed in flight.
    assert!(
        peak_mib < 96.0,
        "peak RSS {peak_mib:.1} MiB; stdout:\n{}",
        run.stdout
    );
    // Every fetch runs at once (concurrency 32): the round is one timeout, plus start-up.
    assert!(
        run.wall < timeout + Duration::from_secs(5),
        "{:?}",
        run.wall
    );

    let rows = rows(&ws).await;
    let timed_out = format!("timed out after {}s", timeout.as_secs());
    let expect: &[(&str, &str)] = &[
        ("drip", &timed_out),
        ("drip-body", &timed_out),
        ("head-only", &timed_out),
        ("endless-chunked", "body larger than the limit of 4.0 MiB"),
        ("gzip-bomb", "body larger than the limit of 4.0 MiB"),
        ("deflate-bomb", "body larger than the limit of 4.0 MiB"),
        ("br-bomb", "body larger than the limit of 4.0 MiB"),
        (
            "length-over",
            &format!(
                "the server closed the connection after {} of the {} bytes it announced (Content-Length)",
                long.len(),
                long.len() + 5000
            ),
        ),
        ("length-under", "not a feed: "),
        // How much of the body arrived before the reset depends on the scheduling of both
        // ends (2,000 bytes here, normally).
        ("reset", "the server reset the connection after "),
        (
            "headers-many",
            "response headers too large: more than 100 header lines",
        ),
        ("headers-big", "response headers too large: "),
        ("chain50", "more than 10 redirects (last: "),
        ("loop", "redirect loop at "),
        (
            "self-signed",
            "rejected: it is not signed by a trusted certificate authority (a self-signed certificate",
        ),
    ];
    for (name, want) in expect {
        let row = &rows[*name];
        let error = row
            .error
            .as_deref()
            .unwrap_or_else(|| panic!("{name}: no error: {row:?}"));
        assert!(
            error.contains(want),
            "{name}: {error:?} does not contain {want:?}"
        );
        println!("  {name:16} {:>6} ms  {error}", row.duration.as_millis());
        if *want == timed_out {
            assert!(
                row.duration >= timeout && row.duration < timeout + Duration::from_secs(2),
                "{name}: {:?}",
                row.duration
            );
        } else {
            assert!(row.duration < timeout, "{name}: {:?}", row.duration);
        }
    }
    assert!(
        rows["headers-big"]
            .error
            .as_deref()
            .unwrap()
            .contains("over the limit of 64.0 KiB")
    );
    // The message ended where Content-Length said, the rest was not read as body.
    assert_eq!(rows["length-under"].bytes, Some((long.len() / 2) as i64));
    // Ten hops were followed, the eleventh refused: no request went further down the chain.
    assert_eq!(server.seen("/chain10").len(), 1);
    assert!(server.seen("/chain11").is_empty());
    for good in ["good1", "good2"] {
        assert_eq!(rows[good].error, None, "{good}");
    }
    let stories = ws.stories().await;
    let mut titles: Vec<&str> = stories.iter().map(|s| s.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["Story of good1", "Story of good2"]);

    // The certificate was refused during the handshake: no request reached the TLS
    // server's HTTP layer, and the server saw the client abort.
    assert_eq!(tls.accepted(), 1, "gleaner connected once");
    assert!(tls.all_seen().is_empty(), "{:?}", tls.all_seen());
    let failures = tls.tls_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].contains("UnknownCA") || failures[0].contains("BadCertificate"),
        "{failures:?}"
    );
    // The server itself works: a client that trusts this very certificate gets the feed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_der(&cert).unwrap()])
        .build()
        .unwrap();
    let resp = trusting.get(tls.url("/feed")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(tls.all_seen().len(), 1);
}

/// The hostname, when the system resolver maps it to loopback only (as /etc/hosts does on
/// these machines): a name gleaner cannot know to be private without resolving it.
async fn loopback_hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() || name == "localhost" || name.ends_with(".localhost") {
        return None;
    }
    let addrs: Vec<_> = tokio::net::lookup_host((name.as_str(), 80))
        .await
        .ok()?
        .collect();
    (!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())).then_some(name)
}

#[tokio::test]
async fn a_public_feed_is_never_led_into_private_space() {
    // The test server is the proxy: every request reaches it, in absolute form, whatever
    // address its URL names; it answers from its routes by path.
    let server = Server::start();
    let ws = Workspace::new();
    let port = server.addr.port();
    server.route("/secret", Route::feed(feed_body("secret")));
    server.route("/latest/meta-data/", Route::feed(feed_body("metadata")));
    let targets = [
        (
            "loopback",
            format!("http://127.0.0.1:{port}/secret"),
            "127.0.0.1 is a loopback address",
        ),
        (
            "metadata",
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254 is a link-local address",
        ),
        (
            "v6-loopback",
            "http://[::1]/secret".to_string(),
            "::1 is a loopback address",
        ),
        (
            "localhost",
            "http://localhost/secret".to_string(),
            "localhost is a loopback name",
        ),
        (
            "decimal",
            "http://2130706433/secret".to_string(),
            "127.0.0.1 is a loopback address",
        ),
        (
            "ten",
            "http://10.0.0.1/secret".to_string(),
            "10.0.0.1 is a private address",
        ),
        (
            "v4-mapped",
            "http://[::ffff:127.0.0.1]/secret".to_string(),
            "::ffff:127.0.0.1 is a loopback address",
        ),
        (
            "cgnat",
            "http://100.100.100.200/secret".to_string(),
            "a carrier-grade NAT address",
        ),
        (
            "ula",
            "http://[fd00::1]/secret".to_string(),
            "a unique local address",
        ),
    ];
    let mut feeds: Vec<(String, String)> = Vec::new();
    for (name, to, _) in &targets {
        server.route(
            &format!("/to-{name}"),
            Route::Redirect {
                status: 302,
                location: to.clone(),
            },
        );
        feeds.push((name.to_string(), format!("http://203.0.113.10/to-{name}")));
    }
    // Public to public is fine, and so is the configured public feed itself.
    server.route("/public", Route::feed(feed_body("public")));
    server.route(
        "/hop",
        Route::Redirect {
            status: 301,
            location: "http://198.51.100.7/public-target".into(),
        },
    );
    server.route("/public-target", Route::feed(feed_body("hop")));
    feeds.push(("public".into(), "http://203.0.113.10/public".into()));
    feeds.push(("public-hop".into(), "http://203.0.113.10/hop".into()));
    // A configured private URL goes where it likes in private space.
    server.route(
        "/local",
        Route::Redirect {
            status: 302,
            location: format!("http://localhost:{port}/local-target"),
        },
    );
    server.route("/local-target", Route::feed(feed_body("local")));
    feeds.push(("local".into(), server.url("/local")));
    // A public feed the user allowed in: followed into loopback.
    server.route(
        "/opt-in",
        Route::Redirect {
            status: 302,
            location: format!("http://127.0.0.1:{port}/opt-in-secret"),
        },
    );
    server.route("/opt-in-secret", Route::feed(feed_body("opted-in")));

    let mut config = format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nproxy = \"http://127.0.0.1:{port}\"\n\
         host_delay = \"0s\"\nper_host = 16\ntimeout = \"5s\"\n"
    );
    for (name, url) in &feeds {
        config.push_str(&format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    config.push_str(
        "[[feeds]]\nname = \"opted-in\"\nurl = \"http://203.0.113.20/opt-in\"\nallow_private = true\n",
    );
    ws.write_config_text(&config);
    let round = ws.poll().await;

    for (name, to, reason) in &targets {
        let FeedResult::Failed(e) = result_of(&round, name) else {
            panic!("{name}: {:?}", result_of(&round, name));
        };
        let parsed = url::Url::parse(to).unwrap();
        let target = if parsed.as_str() == to {
            format!("refused the redirect to {to}: ")
        } else {
            format!("refused the redirect to `{to}` ({parsed}): ")
        };
        assert!(e.starts_with(&target), "{name}: {e}");
        assert!(e.contains(reason), "{name}: {e:?} does not name {reason:?}");
        assert!(e.contains("allow_private = true"), "{name}: {e}");
        println!("  {name:12} {e}");
    }
    assert!(
        server.seen("/secret").is_empty(),
        "{:?}",
        server.seen("/secret")
    );
    assert!(server.seen("/latest/meta-data/").is_empty());
    for name in ["public", "public-hop", "local", "opted-in"] {
        assert!(
            matches!(result_of(&round, name), FeedResult::Stored { counts, .. } if counts.new == 1),
            "{name}: {:?}",
            result_of(&round, name)
        );
    }
    // They went through the proxy, which was asked for the public addresses.
    let public = server.seen("/public");
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].target, "http://203.0.113.10/public");
    assert_eq!(server.seen("/opt-in-secret").len(), 1);
    // The refusal is recorded on the feed, as every failure is.
    let store = ws.store().await;
    let error: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM feeds WHERE name = 'metadata'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    store.close().await;
    assert!(error.is_some_and(|e| e.contains("link-local")));

    // Without a proxy gleaner resolves names itself, and checks what they resolve to.
    let Some(host) = loopback_hostname().await else {
        println!("the hostname does not resolve to loopback only: DNS-level check not run");
        return;
    };
    let direct = Server::start();
    let ws = Workspace::new();
    let port = direct.addr.port();
    direct.route("/by-name", Route::feed(feed_body("by-name")));
    direct.route("/allowed-by-name", Route::feed(feed_body("allowed")));
    direct.route("/via-localhost", Route::feed(feed_body("via-localhost")));
    ws.write_config_text(&format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\n\
         [[feeds]]\nname = \"by-name\"\nurl = \"http://{host}:{port}/by-name\"\n\
         [[feeds]]\nname = \"allowed\"\nurl = \"http://{host}:{port}/allowed-by-name\"\nallow_private = true\n\
         [[feeds]]\nname = \"localhost\"\nurl = \"http://localhost:{port}/via-localhost\"\n"
    ));
    let round = ws.poll().await;
    let FeedResult::Failed(e) = result_of(&round, "by-name") else {
        panic!("{:?}", round.feeds);
    };
    assert!(
        e.starts_with(&format!(
            "refused http://{host}:{port}/by-name: {host} resolves to 127.0.0.1, a loopback address; "
        )),
        "{e}"
    );
    assert!(direct.seen("/by-name").is_empty());
    for name in ["allowed", "localhost"] {
        assert!(
            matches!(result_of(&round, name), FeedResult::Stored { .. }),
            "{name}: {:?}",
            result_of(&round, name)
        );
    }
}

#[tokio::test]
async fn a_thousand_slow_responses_finish_in_bounded_time_and_memory() {
    // 100 loopback addresses with ten slow feeds each (per-host limits stay realistic), and
    // one more address for the fast feeds.
    let hosts = 100;
    let ips: Vec<IpAddr> = (0..=hosts)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i as u8)))
        .collect();
    let server = Server::start_on(&ips);
    let ws = Workspace::new();
    let timeout = Duration::from_secs(3);
    let (slow, fast) = (1000, 10);
    let mut config = format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\ntimeout = \"{}s\"\nconcurrency = 1024\n\
         per_host = 10\nhost_delay = \"0s\"\n",
        timeout.as_secs()
    );
    // Odd feeds answer within the timeout, even ones past it. Starting a thousand fetches
    // takes the client up to a second on two cores: the answers come late enough for all of
    // them to be waiting at once, and early enough to beat the deadline.
    for i in 0..slow {
        let delay = if i % 2 == 1 {
            Duration::from_millis(1500)
        } else {
            Duration::from_secs(10)
        };
        server.route(
            &format!("/slow{i}"),
            Route::Slow {
                delay,
                body: feed_body(&format!("slow{i}")),
            },
        );
        let url = server.url_at(i % hosts, &format!("/slow{i}"));
        config.push_str(&format!("[[feeds]]\nname = \"slow{i}\"\nurl = \"{url}\"\n"));
    }
    for i in 0..fast {
        server.route(
            &format!("/fast{i}"),
            Route::feed(feed_body(&format!("fast{i}"))),
        );
        let url = server.url_at(hosts, &format!("/fast{i}"));
        config.push_str(&format!("[[feeds]]\nname = \"fast{i}\"\nurl = \"{url}\"\n"));
    }
    ws.write_config_text(&config);

    let run = poll_measured(&ws, Duration::from_secs(60)).await;
    assert!(run.status.success(), "{:?}", run.status);
    let peak_mib = run.peak_rss_kib as f64 / 1024.0;
    let feeds = slow + fast;
    let waves = feeds.div_ceil(1024) as u32;
    println!(
        "{feeds} feeds, at most {} slow responses at once: {:.2?}, peak RSS {peak_mib:.1} MiB",
        server.max_in_flight(),
        run.wall
    );
    // Concurrent, not a few at a time (80%: a loaded machine starts them more slowly).
    assert!(
        server.max_in_flight() >= slow * 8 / 10,
        "{}",
        server.max_in_flight()
    );
    assert!(
        run.wall < timeout * waves + Duration::from_secs(5),
        "{:?}",
        run.wall
    );
    // A thousand connections in flight: tasks, sockets, hyper's buffers.
    assert!(peak_mib < 128.0, "peak RSS {peak_mib:.1} MiB");
    assert!(
        run.stdout.contains(&format!("polled {feeds} feeds")),
        "{}",
        run.stdout
    );

    let rows = rows(&ws).await;
    assert_eq!(rows.len(), feeds);
    let timed_out = format!("timed out after {}s", timeout.as_secs());
    for (name, row) in &rows {
        let i: Option<usize> = name.strip_prefix("slow").map(|n| n.parse().unwrap());
        match i {
            Some(i) if i % 2 == 0 => {
                assert_eq!(row.error.as_deref(), Some(timed_out.as_str()), "{name}");
                // Five hundred deadlines fire at once on two cores.
                assert!(
                    row.duration >= timeout && row.duration < timeout + Duration::from_secs(2),
                    "{name}: {:?}",
                    row.duration
                );
            }
            _ => assert_eq!(row.error, None, "{name}"),
        }
    }
    assert_eq!(ws.stories().await.len(), slow / 2 + fast);
}
