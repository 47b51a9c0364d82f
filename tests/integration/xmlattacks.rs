//! XML attacks (`xml-attacks/` in the shared corpora) served by a real server and polled by the
//! real binary, one file per run: each is stored or rejected with a clear error, within a
//! bounded time and peak memory, fetches nothing it names (DTDs, external entities), and
//! expands no entity into what gleaner stores.

use std::time::{Duration, Instant};

use crate::support::{Route, Server, Workspace, stderr, stdout};

/// Peak RSS (KiB) and wall seconds of `gleaner ARGS` in `ws`, measured by GNU time when it is
/// installed (CI installs it).
fn measured(ws: &Workspace, args: &[&str]) -> (std::process::Output, Option<u64>, Duration) {
    let time = std::path::Path::new("/usr/bin/time");
    let report = ws.path("time.txt");
    let start = Instant::now();
    let out = if time.exists() {
        std::process::Command::new(time)
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(env!("CARGO_BIN_EXE_gleaner"))
            .args(args)
            .current_dir(ws.dir.path())
            .env("RUST_LOG", "off")
            .output()
            .unwrap()
    } else {
        ws.gleaner(args)
    };
    let elapsed = start.elapsed();
    let rss = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| t.lines().last()?.trim().parse().ok());
    (out, rss, elapsed)
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn xml_attacks_are_bounded_fetch_nothing_and_expand_nothing() {
    let Some(root) = crate::support::corpora::dir() else {
        return;
    };
    let server = Server::start();
    let ws = Workspace::new();
    let host = server.url("");
    let host = host
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut files: Vec<_> = std::fs::read_dir(root.join("xml-attacks"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 20, "only {} attack files", files.len());
    let mut feeds = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // What the attack would fetch points at this server, which records every request.
        let bytes = std::fs::read(path).unwrap();
        let encoding = match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Some("gzip"),
            Some("zz") => Some("deflate"),
            _ => None,
        };
        let body = if encoding.is_some() {
            bytes
        } else {
            replace_all(&bytes, b"127.0.0.1:9/", format!("{host}/").as_bytes())
        };
        let mut headers = vec![(
            "Content-Type".to_string(),
            "application/rss+xml".to_string(),
        )];
        if let Some(enc) = encoding {
            headers.push(("Content-Encoding".into(), enc.into()));
        }
        let url = server.route(
            &format!("/attack/{name}"),
            Route::Raw {
                status: 200,
                headers,
                body,
            },
        );
        feeds.push((name, url));
    }
    let mut config = String::from(
        "[storage]\npath = \"gleaner.db\"\n[fetch]\ntimeout = \"10s\"\nhost_delay = \"0s\"\n",
    );
    for (name, url) in &feeds {
        config.push_str(&format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\n"));
    }
    ws.write_config_text(&config);

    let mut report = Vec::new();
    let mut peak_max = 0;
    for (name, _) in &feeds {
        let (out, rss, elapsed) = measured(&ws, &["poll", "--feed", name]);
        let line = stdout(&out)
            .lines()
            .find(|l| l.starts_with(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("{name}: no report line in {}", stdout(&out)))
            .to_string();
        // A round whose only feed was rejected ran, but every feed failed: exit 4.
        let want = if line.contains(": error: ") { 4 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(want),
            "{name}: {line}\n{}",
            stderr(&out)
        );
        let stored = line.contains(": new ") || line.contains(": unchanged");
        assert!(
            stored || line.contains("error: "),
            "{name}: neither stored nor a clear error: {line}"
        );
        // Bounded: the largest attack inflates to 100 MiB; gleaner stops at its 15 MiB limit.
        assert!(
            elapsed < Duration::from_secs(20),
            "{name}: took {elapsed:?}"
        );
        if let Some(kib) = rss {
            assert!(kib < 300 * 1024, "{name}: peak RSS {kib} KiB");
            peak_max = peak_max.max(kib);
        }
        report.push(format!(
            "{name}\t{}\t{:.2}s\t{}",
            line.trim_start_matches(&format!("{name}: ")),
            elapsed.as_secs_f64(),
            rss.map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
        ));
    }
    eprintln!(
        "xml attacks (file, result, wall, peak RSS):\n{}",
        report.join("\n")
    );
    if let Some(out) = std::env::var_os("GLEANER_ATTACK_REPORT") {
        std::fs::write(out, report.join("\n") + "\n").unwrap();
    }

    // Nothing named by a DTD or an entity was fetched: the only requests were the feeds.
    for (name, _) in &feeds {
        assert_eq!(server.seen(&format!("/attack/{name}")).len(), 1, "{name}");
    }
    for path in ["/xxe-canary", "/rss.dtd", "/evil.dtd"] {
        assert!(server.seen(path).is_empty(), "{path} was fetched");
    }

    // No entity was expanded into what was stored.
    let out = ws.gleaner(&["entries", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(entries.len() > 20_000, "only {} stories", entries.len());
    let hostname = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let hostname = hostname.trim();
    for e in &entries {
        for field in ["title", "excerpt", "content_html", "author"] {
            let v = e[field].as_str().unwrap_or("");
            assert!(
                !v.contains("lollollol"),
                "billion laughs expanded: {field} {v:.80}"
            );
            assert!(!v.contains("root:x:0:0"), "/etc/passwd leaked into {field}");
            assert!(
                hostname.len() < 4 || !v.contains(hostname),
                "/etc/hostname leaked into {field}: {v:.80}"
            );
            assert!(
                !v.contains("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&a;"),
                "{field}"
            );
        }
        let html = e["content_html"].as_str().unwrap_or("");
        let f = crate::support::markup::findings(html);
        assert!(
            f.is_empty(),
            "executable markup stored: {f:?} in {html:.200}"
        );
    }
    eprintln!(
        "xml attacks: {} files, {} stories stored, peak RSS at most {:.1} MiB",
        feeds.len(),
        entries.len(),
        peak_max as f64 / 1024.0
    );
}
