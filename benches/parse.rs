//! Parse + clean throughput, on one thread.
//!
//!     GLEANER_CORPORA=../shared/corpora cargo bench --bench parse          # the shared corpora
//!     GLEANER_BENCH_CORPUS=/tmp/corpus/www cargo bench --bench parse        # a generated corpus
//!
//! Runs `poll::prepare` (charset → feed-rs → repairs → sanitize → excerpt → keys; then again
//! with scoring, as a round does it) over every feed file, several rounds, on one thread, and
//! prints MB/s and stories/s. With
//! `GLEANER_BENCH_CORPUS` it reads every file below that directory (`bench/gen_corpus.py`
//! writes one). The figures go in BENCHMARKS.md; nothing here is asserted.

use std::path::{Path, PathBuf};
use std::time::Instant;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("xml" | "atom" | "rss" | "rdf" | "json")
        ) && !p.to_string_lossy().ends_with(".serde.json")
        {
            out.push(p);
        }
    }
}

fn main() {
    let mut files = Vec::new();
    if let Some(dir) = std::env::var_os("GLEANER_BENCH_CORPUS") {
        walk(Path::new(&dir), &mut files);
    } else {
        let root = std::env::var_os("GLEANER_CORPORA")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"));
        for dir in [
            "feedparser",
            "feed-rs",
            "w3c-feedvalidator",
            "miniflux",
            "newsboat",
            "h5sc",
        ] {
            walk(&root.join(dir), &mut files);
        }
    }
    files.sort();
    let docs: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let bytes: usize = docs.iter().map(Vec::len).sum();
    let base = url::Url::parse("https://bench.example/feed.xml").unwrap();
    let rounds = if bytes > 50_000_000 { 3 } else { 5 };
    // What a round does per body besides fetching and storing: with the shipped feeds.toml's
    // keywords, every story is also scored (keywords, SimHash, fingerprint, section).
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml")).unwrap();
    let config = gleaner::config::Config::parse(&shipped, Path::new("/")).unwrap();
    let scorer = gleaner::score::Scorer::new(&config);
    // The reference: feed-rs alone. The host here is shared, so absolute MB/s drift by a third between minutes; the
    // ratio of gleaner's figure to this one, taken in the same minute, does not.
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut parsed = 0usize;
        for d in &docs {
            let feed = gleaner::parse::feed_rs_parser(&base).parse(&d[..]);
            parsed += feed.map(|f| f.entries.len()).unwrap_or(0);
        }
        std::hint::black_box(parsed);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let reference = bytes as f64 / 1e6 / best;
    println!(
        "feed-rs alone: {} files, {:.1} MB; best of {rounds}: {:.3} s = {reference:.1} MB/s (one thread)",
        docs.len(),
        bytes as f64 / 1e6,
        best,
    );
    // The ceiling for any pipeline built on these two crates: feed-rs, then gleaner's ammonia
    // policy over each entry's body (content, else summary), nothing else.
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut out = 0usize;
        for d in &docs {
            let Ok(feed) = gleaner::parse::feed_rs_parser(&base).parse(&d[..]) else {
                continue;
            };
            for e in &feed.entries {
                let body = e
                    .content
                    .as_ref()
                    .and_then(|c| c.body.as_deref())
                    .or(e.summary.as_ref().map(|s| s.content.as_str()));
                if let Some(b) = body {
                    out += gleaner::clean::html::sanitize(b, Some(&base)).len();
                }
            }
        }
        std::hint::black_box(out);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "feed-rs + ammonia: best of {rounds}: {:.3} s = {:.1} MB/s (one thread); {:.2} of feed-rs alone",
        best,
        bytes as f64 / 1e6 / best,
        bytes as f64 / 1e6 / best / reference
    );
    for (label, scoring) in [
        ("parse+clean", None),
        ("parse+clean+score", Some((&scorer, "bench"))),
    ] {
        let mut best = f64::MAX;
        let mut stories = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            stories = 0;
            for d in &docs {
                if let Ok(p) = gleaner::poll::prepare(d, None, &base, scoring) {
                    stories += p.stories.len();
                }
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{label}: {} files, {:.1} MB, {stories} stories; best of {rounds}: {:.3} s = {:.1} MB/s, {:.0} stories/s (one thread); {:.2} of feed-rs alone",
            docs.len(),
            bytes as f64 / 1e6,
            best,
            bytes as f64 / 1e6 / best,
            stories as f64 / best,
            bytes as f64 / 1e6 / best / reference
        );
    }
}
