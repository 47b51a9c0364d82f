//! Crashes, a full disk and concurrent use: kill -9 during ingest, scoring, picking and
//! publishing; editor commands and readers beside the writing daemon; writes that run out of
//! space. After each: `PRAGMA integrity_check` is ok, nothing committed is lost, nothing is
//! duplicated, and every output file is whole.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Route, Server, Workspace, rss, stderr};

fn config(head: &str, feeds: &[(String, String)]) -> String {
    let mut s = format!(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\nhost_delay = \"0s\"\nper_host = 16\ntimeout = \"5s\"\n[daemon]\ngrace = \"2s\"\n[keywords]\nitem = 2\nkubernetes = 3\n[output]\nper_section = 200\n{head}\n"
    );
    for (name, url) in feeds {
        s.push_str(&format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    s
}

fn spawn(ws: &Workspace, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args)
        .current_dir(ws.dir.path())
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs a command to the end; true when it succeeded (its effect is then committed).
fn finish(ws: &Workspace, args: &[&str]) -> bool {
    let out = ws.gleaner(args);
    let err = stderr(&out);
    assert!(
        !err.contains("locked") && !err.contains("busy"),
        "{args:?}: {err}"
    );
    out.status.success()
}

async fn scalar(ws: &Workspace, sql: &'static str) -> i64 {
    let store = ws.store().await;
    let n = sqlx::query_scalar(sql)
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    n
}

async fn ids(ws: &Workspace, sql: &'static str) -> Vec<i64> {
    let store = ws.store().await;
    let v = sqlx::query_scalar(sql)
        .fetch_all(store.pool())
        .await
        .unwrap();
    store.close().await;
    v
}

/// Every output file present is whole: JSON parses, the Atom feed is well-formed XML to its
/// last tag, Markdown ends with a newline.
fn outputs_are_whole(ws: &Workspace, round: usize) {
    let out = ws.path("out");
    let Ok(dir) = std::fs::read_dir(&out) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temp file a killed writer left: never read, replaced next time
        }
        let bytes = std::fs::read(entry.path()).unwrap();
        if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("round {round}: {name} is not whole JSON: {e}"));
        } else if name.ends_with(".atom") {
            let mut reader = quick_xml::Reader::from_reader(&bytes[..]);
            let mut buf = Vec::new();
            let mut depth = 0i64;
            loop {
                match reader.read_event_into(&mut buf) {
                    Ok(quick_xml::events::Event::Start(_)) => depth += 1,
                    Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("round {round}: {name} is not whole XML: {e}"),
                }
                buf.clear();
            }
            assert_eq!(depth, 0, "round {round}: {name} ends inside an element");
            assert!(bytes.ends_with(b"</feed>\n") || bytes.ends_with(b"</feed>"));
        } else if name.ends_with(".md") || name.ends_with(".html") {
            assert!(
                bytes.is_empty() || bytes.ends_with(b"\n"),
                "round {round}: {name} is cut short"
            );
        }
    }
}

/// The invariants that must hold after any crash.
async fn consistent(ws: &Workspace, round: usize) {
    assert_eq!(
        ids(
            ws,
            "SELECT 0 FROM pragma_integrity_check WHERE integrity_check != 'ok'"
        )
        .await
        .len(),
        0,
        "round {round}: integrity_check"
    );
    let dupes = scalar(
        ws,
        "SELECT COUNT(*) - COUNT(DISTINCT canonical_url) FROM stories",
    )
    .await;
    assert_eq!(dupes, 0, "round {round}: duplicate stories");
    let orphans = scalar(
        ws,
        "SELECT COUNT(*) FROM stories WHERE id NOT IN (SELECT story_id FROM story_sources)",
    )
    .await;
    assert_eq!(orphans, 0, "round {round}: a story without its source");
    // Scoring is never half done: a story has a score, or is queued for one.
    let unscored = scalar(
        ws,
        "SELECT COUNT(*) FROM stories s WHERE NOT EXISTS (SELECT 1 FROM scores c WHERE c.story_id = s.id) AND NOT EXISTS (SELECT 1 FROM score_queue q WHERE q.story_id = s.id)",
    )
    .await;
    assert_eq!(
        unscored, 0,
        "round {round}: stories neither scored nor queued"
    );
    // A published issue has its ledger; a published pick points at an issue that exists.
    let bad_issues = scalar(
        ws,
        "SELECT COUNT(*) FROM issues i WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.issue = i.number)",
    )
    .await;
    assert_eq!(bad_issues, 0, "round {round}: an issue without its links");
    let dangling = scalar(
        ws,
        "SELECT COUNT(*) FROM decisions d WHERE d.issue IS NOT NULL AND d.issue NOT IN (SELECT number FROM issues)",
    )
    .await;
    assert_eq!(
        dangling, 0,
        "round {round}: a pick in an issue that does not exist"
    );
    outputs_are_whole(ws, round);
}

#[tokio::test]
async fn kill_9_during_ingest_scoring_picking_and_publishing_loses_nothing() {
    let server = Server::start();
    let ws = Workspace::new();
    let feeds: Vec<(String, String)> = (0..8)
        .map(|i| {
            let url = server.route(&format!("/grow{i}"), Route::Growing { per_request: 4 });
            (format!("grow{i}"), url)
        })
        .collect();
    ws.write_config_text(&config(
        "[schedule]\nevery = \"1s\"\njitter = \"0%\"\n",
        &feeds,
    ));
    let loops: usize = std::env::var("GLEANER_KILL_LOOPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let seed = std::env::var("GLEANER_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut picked: BTreeSet<i64> = BTreeSet::new();
    let mut rejected: BTreeSet<i64> = BTreeSet::new();
    let mut published = 0i64;
    let mut stories_before = 0i64;
    let mut killed_editor = [0usize; 5];
    for round in 0..loops {
        let mut d = ws.start_daemon();
        tokio::time::sleep(Duration::from_millis(rng.u64(300..1200))).await;

        // Editor commands that run to the end beside the daemon: their effect is committed.
        let fresh = ids(
            &ws,
            "SELECT id FROM stories WHERE id NOT IN (SELECT story_id FROM decisions) ORDER BY id DESC LIMIT 3",
        )
        .await;
        if let Some(&id) = fresh.first()
            && finish(&ws, &["pick", &id.to_string(), "--blurb", "Kept."])
        {
            picked.insert(id);
        }
        if let Some(&id) = fresh.get(1)
            && finish(&ws, &["reject", &id.to_string(), "--reason", "no"])
        {
            rejected.insert(id);
        }
        if round % 3 == 2 {
            let next = (scalar(&ws, "SELECT COUNT(*) FROM issues").await + 1).to_string();
            if finish(&ws, &["draft"]) && finish(&ws, &["publish", &next]) {
                published += 1;
            }
        }
        // One more, killed at a random moment with the daemon: it may or may not commit.
        let kind = rng.usize(0..5);
        let victim = fresh.get(2).copied().unwrap_or(1).to_string();
        let args: Vec<&str> = match kind {
            0 => vec!["pick", &victim],
            1 => vec!["rescore"],
            2 => vec!["draft"],
            3 => vec!["publish", "1"],
            _ => vec!["candidates"],
        };
        let mut child = spawn(&ws, &args);
        tokio::time::sleep(Duration::from_millis(rng.u64(0..80))).await;
        let _ = child.kill();
        let _ = child.wait();
        killed_editor[kind] += 1;
        let committed = scalar(&ws, "SELECT COUNT(*) FROM stories").await;
        d.signal("KILL");
        d.wait(Duration::from_secs(10)).await.expect("killed");

        consistent(&ws, round).await;
        let stories = scalar(&ws, "SELECT COUNT(*) FROM stories").await;
        assert!(
            stories >= committed && stories >= stories_before,
            "round {round}: {stories} stories after kill -9, {committed} were committed"
        );
        stories_before = stories;
        // Every pick and reject that finished is still there (a pick may since be published).
        let picks: BTreeSet<i64> = ids(
            &ws,
            "SELECT story_id FROM decisions WHERE decision = 'pick'",
        )
        .await
        .into_iter()
        .collect();
        let rejects: BTreeSet<i64> = ids(
            &ws,
            "SELECT story_id FROM decisions WHERE decision = 'reject'",
        )
        .await
        .into_iter()
        .collect();
        assert!(picks.is_superset(&picked), "round {round}: lost a pick");
        assert!(
            rejects.is_superset(&rejected),
            "round {round}: lost a reject"
        );
        let issues = scalar(&ws, "SELECT COUNT(*) FROM issues").await;
        assert!(issues >= published, "round {round}: lost an issue");
    }
    eprintln!(
        "kill -9: {loops} rounds, {stories_before} stories, {} picks, {} rejects, {published} issues published; editor commands killed: pick {}, rescore {}, draft {}, publish {}, candidates {}",
        picked.len(),
        rejected.len(),
        killed_editor[0],
        killed_editor[1],
        killed_editor[2],
        killed_editor[3],
        killed_editor[4]
    );
    assert!(stories_before > 0 && !picked.is_empty() && published > 0);
    // A clean run afterwards carries on.
    let mut d = ws.start_daemon();
    tokio::time::sleep(Duration::from_secs(2)).await;
    d.signal("TERM");
    assert!(
        d.wait(Duration::from_secs(15))
            .await
            .is_some_and(|s| s.success())
    );
    consistent(&ws, loops).await;
    assert!(scalar(&ws, "SELECT COUNT(*) FROM stories").await > stories_before);
    // The temp files of killed writers are gone once outputs are written again.
    let temps: Vec<String> = std::fs::read_dir(ws.path("out"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[tokio::test]
async fn readers_and_editor_commands_beside_the_writing_daemon_never_see_a_locked_database() {
    let server = Server::start();
    let ws = Workspace::new();
    let feeds: Vec<(String, String)> = (0..20)
        .map(|i| {
            let url = server.route(&format!("/grow{i}"), Route::Growing { per_request: 5 });
            (format!("grow{i}"), url)
        })
        .collect();
    ws.write_config_text(&config("[schedule]\nevery = \"1s\"\n", &feeds));
    let mut d = ws.start_daemon();
    let deadline = Instant::now() + Duration::from_secs(8);
    let (mut reads, mut writes) = (0, 0);
    while Instant::now() < deadline {
        // Three readers at once, then editor commands, all while the daemon writes.
        let readers: Vec<Child> = [
            &["status", "--json"][..],
            &["entries", "--json", "--limit", "5"][..],
            &["candidates", "--json"][..],
        ]
        .iter()
        .map(|a| spawn(&ws, a))
        .collect();
        for r in readers {
            let out = r.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{err}");
            assert!(!err.contains("locked") && !err.contains("busy"), "{err}");
            reads += 1;
        }
        let fresh = ids(
            &ws,
            "SELECT id FROM stories WHERE id NOT IN (SELECT story_id FROM decisions) ORDER BY id DESC LIMIT 2",
        )
        .await;
        if let [a, b] = fresh[..] {
            assert!(finish(&ws, &["pick", &a.to_string()]));
            assert!(finish(&ws, &["reject", &b.to_string()]));
            assert!(finish(&ws, &["unpick", &b.to_string()]));
            writes += 3;
        }
    }
    d.signal("TERM");
    assert!(
        d.wait(Duration::from_secs(15))
            .await
            .is_some_and(|s| s.success())
    );
    assert!(!d.log().contains("locked"), "{}", d.log());
    eprintln!("concurrency: {reads} reader runs and {writes} editor commands beside the daemon");
    assert!(reads > 10 && writes > 0, "{reads} reads, {writes} writes");
    consistent(&ws, 0).await;
}

/// Feeds big enough to outgrow a small file size limit.
fn big_feed(name: &str, items: usize) -> String {
    let filler = "Kubernetes operators reconcile desired state. ".repeat(80);
    let owned: Vec<(String, String, String, String)> = (0..items)
        .map(|i| {
            (
                format!("{name}-{i}"),
                format!("{name} story {i}"),
                format!("https://{name}.example/{i}"),
                format!("{i} {filler}"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str, &str)> = owned
        .iter()
        .map(|(a, b, c, e)| (a.as_str(), b.as_str(), c.as_str(), e.as_str()))
        .collect();
    rss(name, &refs)
}

#[tokio::test]
async fn a_full_disk_is_a_clear_error_loses_nothing_and_the_daemon_retries() {
    let server = Server::start();
    let ws = Workspace::new();
    let small = server.route("/small", Route::feed(big_feed("small", 2)));
    ws.write_config_text(&config("", &[("small".into(), small.clone())]));
    assert!(finish(&ws, &["poll"]));
    let before = scalar(&ws, "SELECT COUNT(*) FROM stories").await;
    assert_eq!(before, 2);

    let mut feeds = vec![("small".to_string(), small)];
    for i in 0..12 {
        let url = server.route(
            &format!("/big{i}"),
            Route::feed(big_feed(&format!("big{i}"), 40)),
        );
        feeds.push((format!("big{i}"), url));
    }
    ws.write_config_text(&config("", &feeds));
    // `gleaner poll` with the database capped at 1 MiB more than it has (a file size limit,
    // as a full disk would): a clear error, a non-zero exit, the database intact.
    let size_kib = std::fs::metadata(ws.db_path()).unwrap().len() / 1024;
    let limit = format!("ulimit -S -f {}", (size_kib + 1024) * 2); // 512-byte blocks
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{limit} && exec \"$0\" poll"))
        .arg(env!("CARGO_BIN_EXE_gleaner"))
        .current_dir(ws.dir.path())
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("a file size limit was reached"), "{err}");
    consistent(&ws, 0).await;
    let after_poll = scalar(&ws, "SELECT COUNT(*) FROM stories").await;
    assert!(
        after_poll >= before,
        "lost stories: {after_poll} < {before}"
    );

    // The daemon under the same limit: it reports the failure, keeps running, and once there
    // is room again it stores everything.
    let mut d = ws.start_daemon_under(Some(&limit));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !d.log().contains("cannot write the database") {
        assert!(d.is_running(), "the daemon died: {}", d.log());
        assert!(Instant::now() < deadline, "no write error: {}", d.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(d.log().contains("fetching again in"), "{}", d.log());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(d.is_running(), "the daemon died: {}", d.log());
    consistent(&ws, 1).await;
    // Room again (raise the running process's limit).
    let status = Command::new("prlimit")
        .args(["--pid", &d.child.id().to_string(), "--fsize=unlimited:"])
        .status()
        .unwrap();
    assert!(status.success());
    let want = 2 + 12 * 40;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = scalar(&ws, "SELECT COUNT(*) FROM stories").await;
        if n == want {
            break;
        }
        assert!(d.is_running(), "the daemon died: {}", d.log());
        assert!(
            Instant::now() < deadline,
            "{n} of {want} stories: {}",
            d.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    d.signal("TERM");
    assert!(
        d.wait(Duration::from_secs(15))
            .await
            .is_some_and(|s| s.success()),
        "{}",
        d.log()
    );
    consistent(&ws, 2).await;
}
