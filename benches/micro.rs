//! Micro figures for BENCHMARKS.md (nothing here is asserted):
//!
//!     cargo bench --bench micro                  # all
//!     cargo bench --bench micro -- scoring       # scoring 1,000,000 stories × 1,000 keywords
//!     cargo bench --bench micro -- render        # candidates and digest from 1,000,000 stories
//!
//! `scoring` builds 1,000 keywords (phrases and prefixes) and scores 1,000,000 synthetic
//! stories, once with excerpt-sized bodies (~300 characters: what re-ranking a candidate list
//! reads) and once with article-sized bodies (~2,000 characters), on every core.
//! `render` fills a SQLite database with 1,000,000 stories over a year (10 feeds, scored), then
//! times `desk::candidates` (the last 7 days) and `desk::digest` (one ISO week) from it, and
//! reports the database's bytes per story; then times the candidates again with a learned
//! ranking (2,000 decisions and 500 past issue items). The database is written to
//! $GLEANER_BENCH_DIR (default a temp dir).

use std::path::Path;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use gleaner::config::Config;
use gleaner::score::{Scorer, StoryText};

const WORDS: &[&str] = &[
    "kubernetes",
    "deploy",
    "latency",
    "postgres",
    "incident",
    "review",
    "scaling",
    "cache",
    "queue",
    "observability",
    "tracing",
    "rollout",
    "canary",
    "terraform",
    "release",
    "network",
    "storage",
    "cluster",
    "outage",
    "budget",
    "error",
    "service",
    "mesh",
    "container",
    "runtime",
    "kernel",
    "memory",
    "profiling",
    "database",
    "replica",
    "shard",
    "index",
    "vacuum",
    "backup",
    "restore",
    "pipeline",
    "build",
    "artifact",
    "registry",
    "policy",
    "security",
    "token",
];

/// Ordinary words around the keywords: real text is mostly not keywords.
const FILLER: &[&str] = &[
    "the",
    "and",
    "that",
    "with",
    "this",
    "from",
    "they",
    "have",
    "were",
    "when",
    "what",
    "which",
    "their",
    "there",
    "about",
    "would",
    "these",
    "other",
    "into",
    "more",
    "some",
    "could",
    "time",
    "than",
    "then",
    "them",
    "only",
    "over",
    "also",
    "after",
    "first",
    "because",
    "most",
    "through",
    "team",
    "system",
    "change",
    "during",
    "every",
    "before",
    "while",
    "without",
    "again",
    "week",
    "users",
    "traffic",
    "requests",
    "seconds",
    "numbers",
    "results",
    "approach",
    "problem",
    "solution",
    "design",
    "engineers",
    "production",
    "customers",
    "graph",
    "metrics",
    "alerts",
];

/// Text with about one keyword in ten words.
fn rng_words(seed: &mut u64, n: usize) -> String {
    let mut out = String::with_capacity(n * 8);
    for _ in 0..n {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let w = if (*seed).is_multiple_of(10) {
            WORDS[((*seed >> 8) % WORDS.len() as u64) as usize]
        } else {
            FILLER[((*seed >> 8) % FILLER.len() as u64) as usize]
        };
        out.push_str(w);
        out.push(if (*seed).is_multiple_of(11) { '.' } else { ' ' });
    }
    out
}

fn keywords_config(n: usize) -> Config {
    let mut toml = String::from("[keywords]\n");
    for i in 0..n {
        let w = WORDS[i % WORDS.len()];
        let term = match i % 3 {
            0 => format!("{w}{i}"),
            1 => format!("{} {w}", WORDS[(i / WORDS.len()) % WORDS.len()]),
            _ => format!("{w}{}*", i % 97),
        };
        toml.push_str(&format!("\"{term}\" = {}\n", (i % 7) as i64 - 2));
    }
    for (i, w) in WORDS.iter().enumerate() {
        toml.push_str(&format!("\"{w}\" = {}\n", i % 5));
    }
    Config::parse(&toml, Path::new(".")).unwrap()
}

fn scoring() {
    let config = keywords_config(1000 - WORDS.len());
    let scorer = Scorer::new(&config);
    let sources = vec!["Feed".to_string()];
    for (label, words) in [
        ("excerpt-sized bodies (~300 chars)", 40usize),
        ("article-sized bodies (~2,000 chars)", 260),
    ] {
        let n = 1_000_000usize;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // 10,000 distinct stories, scored in turn: generating text is not what is measured.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let stories: Vec<(String, String)> = (0..10_000)
            .map(|_| (rng_words(&mut seed, 8), rng_words(&mut seed, words)))
            .collect();
        let t = Instant::now();
        let total: f64 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|k| {
                    let scorer = &scorer;
                    let sources = &sources;
                    let stories = &stories;
                    s.spawn(move || {
                        let mut sum = 0.0;
                        for i in (k..n).step_by(threads) {
                            let (title, body) = &stories[i % stories.len()];
                            let e = scorer.score(&StoryText {
                                title,
                                body,
                                sources,
                                url: None,
                            });
                            sum += e.base;
                        }
                        sum
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        let secs = t.elapsed().as_secs_f64();
        println!(
            "scoring: 1,000,000 stories × 1,000 keywords, {label}: {secs:.2} s on {threads} threads — checksum {total:.0}"
        );
    }
}

async fn render() {
    let dir = std::env::var_os("GLEANER_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("gleaner-micro"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("million.db");
    let cfg_text = format!(
        "[storage]\npath = \"{}\"\n[output]\ndir = \"{}\"\n[keywords]\nkubernetes = 3\npostgres = 2\n\"deploy*\" = 1\n{}",
        db.display(),
        dir.join("out").display(),
        (0..10)
            .map(|i| format!(
                "[[feeds]]\nname = \"Feed {i}\"\nurl = \"https://f{i}.example/feed\"\n"
            ))
            .collect::<String>()
    );
    let config = Config::parse(&cfg_text, &dir).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
    let fresh = !db.exists();
    let store = gleaner::store::Store::open(&db).await.unwrap();
    if fresh {
        let t = Instant::now();
        store.sync_feeds(&config.feeds, now).await.unwrap();
        let pool = store.pool();
        let mut seed = 7u64;
        for batch in 0..1000i64 {
            let mut tx = pool.begin().await.unwrap();
            let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
                "INSERT INTO stories (id, feed_id, canonical_url, url, title, published, excerpt, first_seen, last_changed) ",
            );
            let rows: Vec<(i64, String, String)> = (0..1000i64)
                .map(|i| {
                    (
                        batch * 1000 + i + 1,
                        rng_words(&mut seed, 8),
                        rng_words(&mut seed, 40),
                    )
                })
                .collect();
            q.push_values(&rows, |mut b, (id, title, excerpt)| {
                let published = now.timestamp() - (id * 31_536_000 / 1_000_000);
                let url = format!("https://f{}.example/p/{id}", id % 10);
                b.push_bind(*id)
                    .push_bind(id % 10 + 1)
                    .push_bind(url.clone())
                    .push_bind(url)
                    .push_bind(title.clone())
                    .push_bind(published)
                    .push_bind(excerpt.clone())
                    .push_bind(published)
                    .push_bind(published);
            });
            q.build().execute(&mut *tx).await.unwrap();
            let mut q: sqlx::QueryBuilder<sqlx::Sqlite> =
                sqlx::QueryBuilder::new("INSERT INTO story_html (story_id, html) ");
            q.push_values(&rows, |mut b, (id, _, excerpt)| {
                b.push_bind(*id).push_bind(format!("<p>{excerpt}</p>"));
            });
            q.build().execute(&mut *tx).await.unwrap();
            let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
                "INSERT INTO story_sources (feed_id, entry_key, story_id, entry_url, content_hash, first_seen) ",
            );
            q.push_values(&rows, |mut b, (id, _, _)| {
                b.push_bind(id % 10 + 1)
                    .push_bind(format!("id:{id}"))
                    .push_bind(*id)
                    .push_bind(format!("https://f{}.example/p/{id}", id % 10))
                    .push_bind(format!("{id:032x}"))
                    .push_bind(now.timestamp() - (id * 31_536_000 / 1_000_000));
            });
            q.build().execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }
        println!(
            "render: filled 1,000,000 stories in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    // Every story's score, explanation and features, recomputed (what a change of the
    // scoring config costs).
    let t = Instant::now();
    let n = gleaner::desk::rescore(&config, &store, true, now)
        .await
        .unwrap();
    println!(
        "render: scored {n} stories (full rescore) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let (cands, _) =
        gleaner::desk::candidates(&config, &store, now, None, &Default::default(), now)
            .await
            .unwrap();
    let md = gleaner::output::candidates::markdown(&cands, now - chrono::Duration::days(7), now);
    println!(
        "render: candidates of the last 7 days from 1,000,000 stories: {:.2} s ({} candidates, {} KB of Markdown)",
        t.elapsed().as_secs_f64(),
        cands.len(),
        md.len() / 1024
    );
    let t = Instant::now();
    let (_, html) = gleaner::desk::digest(
        &config,
        &store,
        "2026-W47",
        gleaner::desk::DigestFormat::Html,
        now,
    )
    .await
    .unwrap();
    println!(
        "render: digest of 2026-W47 from 1,000,000 stories: {:.2} s ({} KB of HTML)",
        t.elapsed().as_secs_f64(),
        html.len() / 1024
    );
    learning(&config, &store, now).await;
    store.close().await;
    let bytes = std::fs::metadata(&db).unwrap().len();
    println!(
        "render: database {:.1} MB for 1,000,000 stories (scored, one source each): {} bytes per story",
        bytes as f64 / 1e6,
        bytes / 1_000_000
    );
}

/// The candidates with a learned ranking: 2,000 decisions (400 picks, 1,600 rejects) on stories
/// of the 8 weeks before, and 500 items of imported past issues, so every call trains the model
/// on them (and on up to 2,000 unpicked stories as weak negatives). They are taken out again
/// afterwards: the database stays as `render` expects it.
async fn learning(config: &Config, store: &gleaner::store::Store, now: chrono::DateTime<Utc>) {
    let pool = store.pool();
    let start = (now - chrono::Duration::weeks(8)).timestamp();
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM stories WHERE published >= ?1 AND published < ?2 ORDER BY id LIMIT 2000",
    )
    .bind(start)
    .bind((now - chrono::Duration::days(7)).timestamp())
    .fetch_all(pool)
    .await
    .unwrap();
    let mut tx = pool.begin().await.unwrap();
    for (k, id) in ids.iter().enumerate() {
        sqlx::query(
            "INSERT OR REPLACE INTO decisions (story_id, decision, decided_at) VALUES (?1, ?2, ?3)",
        )
        .bind(id)
        .bind(if k % 5 == 0 { "pick" } else { "reject" })
        .bind(start + k as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let mut seed = 11u64;
    for k in 0..500i64 {
        let blurb = rng_words(&mut seed, 30);
        let url = format!("https://past{}.example/item/{k}", k % 40);
        let features = gleaner::learn::features(&gleaner::learn::Source {
            text: &blurb,
            host: Some(&format!("past{}.example", k % 40)),
            ..Default::default()
        });
        sqlx::query(
            "INSERT INTO catalogue (issue, section, url, canonical_url, blurb, features, imported_at)
             VALUES (?1, 'News', ?2, ?2, ?3, ?4, ?5)",
        )
        .bind(1 + k / 14)
        .bind(&url)
        .bind(&blurb)
        .bind(&features)
        .bind(start)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let t = Instant::now();
    let (cands, _) = gleaner::desk::candidates(config, store, now, None, &Default::default(), now)
        .await
        .unwrap();
    println!(
        "render: candidates of the last 7 days from 1,000,000 stories, learning from {} decisions and 500 past items: {:.2} s ({} candidates)",
        ids.len(),
        t.elapsed().as_secs_f64(),
        cands.len()
    );
    let t = Instant::now();
    let model = gleaner::desk::learned_model(config, store, now, now - chrono::Duration::days(7))
        .await
        .unwrap()
        .unwrap();
    println!(
        "render: of which loading the examples and training alone: {:.2} s ({} positive, {} negative examples)",
        t.elapsed().as_secs_f64(),
        model.positives,
        model.negatives
    );
    sqlx::query("DELETE FROM decisions")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM catalogue")
        .execute(pool)
        .await
        .unwrap();
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let all = which.is_empty();
    if all || which.iter().any(|w| w == "scoring") {
        scoring();
    }
    if all || which.iter().any(|w| w == "render") {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(render());
    }
}
