//! Parse + clean throughput, on one thread.
//!
//!     GLEANER_CORPORA=../shared/corpora cargo bench --bench parse          # the shared corpora
//!     GLEANER_BENCH_CORPUS=/tmp/corpus/www cargo bench --bench parse        # a generated corpus
//!
//! Runs `ingest::prepare` (charset → gleaner's XML reader, or feed-rs for JSON Feed → sanitize →
//! excerpt → keys; then again with scoring, as a round does it) over every feed file, several
//! rounds, on one thread, and prints MB/s and stories/s; as references in the same minute,
//! feed-rs alone, feed-rs + the sanitizer, and `parse::parse` alone (charset and reader). With
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

/// feed-rs on the raw bytes, as the reference; a document it rejects or panics on (quick-xml's
/// encoding switch panics on a few corpus files) counts for nothing.
fn feed_rs(base: &url::Url, doc: &[u8]) -> Option<feed_rs::model::Feed> {
    std::panic::catch_unwind(|| gleaner::parse::feed_rs_parser(base).parse(doc).ok())
        .ok()
        .flatten()
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
    let mb = bytes as f64 / 1e6;
    // The reference: feed-rs alone. The host here is shared, so absolute MB/s drift by a third
    // between minutes; the ratio of gleaner's figure to this one, taken in the same minute,
    // does not. The reference's panics are caught; their messages would drown the figures
    // (gleaner's own stages below run with the default hook again).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (best, _) = best_of(rounds, || {
        docs.iter()
            .map(|d| feed_rs(&base, d).map_or(0, |f| f.entries.len()))
            .sum()
    });
    let reference = mb / best;
    println!(
        "feed-rs alone: {} files, {mb:.1} MB; best of {rounds}: {best:.3} s = {reference:.1} MB/s (one thread)",
        docs.len(),
    );
    // The ceiling for any pipeline built on these two crates: feed-rs, then gleaner's ammonia
    // policy over each entry's body (content, else summary), nothing else.
    let (best, _) = best_of(rounds, || {
        let mut out = 0usize;
        for feed in docs.iter().filter_map(|d| feed_rs(&base, d)) {
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
        out
    });
    println!(
        "feed-rs + ammonia: best of {rounds}: {best:.3} s = {:.1} MB/s (one thread); {:.2} of feed-rs alone",
        mb / best,
        mb / best / reference
    );
    std::panic::set_hook(default_hook);
    // gleaner's reading alone (charset, then its XML reader or feed-rs for JSON Feed), the
    // stage that replaced feed-rs for XML (issue 14).
    let (best, entries) = best_of(rounds, || {
        docs.iter()
            .filter_map(|d| gleaner::parse::parse(d, None, &base).ok())
            .map(|f| f.entries.len())
            .sum()
    });
    println!(
        "parse (charset + reader): {entries} entries; best of {rounds}: {best:.3} s = {:.1} MB/s (one thread); {:.2} of feed-rs alone",
        mb / best,
        mb / best / reference
    );
    for (label, scoring) in [
        ("parse+clean", None),
        ("parse+clean+score", Some((&scorer, "bench"))),
    ] {
        let (best, stories) = best_of(rounds, || {
            docs.iter()
                .filter_map(|d| gleaner::ingest::prepare(d, None, &base, scoring).ok())
                .map(|p| p.stories.len())
                .sum()
        });
        println!(
            "{label}: {} files, {mb:.1} MB, {stories} stories; best of {rounds}: {best:.3} s = {:.1} MB/s, {:.0} stories/s (one thread); {:.2} of feed-rs alone",
            docs.len(),
            mb / best,
            stories as f64 / best,
            mb / best / reference
        );
    }
}

/// The best time of `rounds` runs of `work`, and what its last run counted.
fn best_of(rounds: usize, mut work: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut counted = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        counted = std::hint::black_box(work());
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, counted)
}
