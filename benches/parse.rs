//! Parse + clean throughput, on one thread.
//!
//!     GLEANER_CORPORA=../shared/corpora cargo bench --bench parse          # the shared corpora
//!     GLEANER_BENCH_CORPUS=/tmp/corpus/www cargo bench --bench parse        # a generated corpus
//!
//! Runs `poll::prepare` (charset → feed-rs → repairs → sanitize → excerpt → keys) over every
//! feed file, several rounds, on one thread, and prints MB/s and stories/s. With
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
    let mut best = f64::MAX;
    let mut stories = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        stories = 0;
        for d in &docs {
            if let Ok((s, _, _, _)) = gleaner::poll::prepare(d, None, &base, None) {
                stories += s.len();
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "parse+clean: {} files, {:.1} MB, {stories} stories; best of {rounds}: {:.3} s = {:.1} MB/s, {:.0} stories/s (one thread)",
        docs.len(),
        bytes as f64 / 1e6,
        best,
        bytes as f64 / 1e6 / best,
        stories as f64 / best
    );
}
