//! Writing feeds in batches must give exactly what writing them one by one gives: the store
//! tracks in memory what earlier feeds of a batch changed (new stories, owners, titles) and
//! reads the database again when a change escapes that view. These tests drive the store
//! with generated rounds — shared links, ownership takeovers, re-keyed entries, edits that
//! move a story's link — and compare every row of both databases.

use chrono::{TimeZone, Utc};
use gleaner::config::Config;
use gleaner::model::{
    CleanEntry, FeedMeta, FeedRow, FetchRecord, Outcome, ScoreRow, Story, Validators,
};
use gleaner::schedule::Plan;
use gleaner::store::{FetchWrite, Store};
use sqlx::Row;

/// Hosts the feeds live on; feed `i` is on `HOSTS[i % 3]`, and links point at all of them,
/// so some feeds are the publisher of a story another feed brought first.
const HOSTS: [&str; 3] = ["alpha.example", "beta.example", "gamma.example"];

fn config(feeds: usize) -> Config {
    let mut toml = String::from("[storage]\npath = \"unused.db\"\n");
    for i in 0..feeds {
        toml.push_str(&format!(
            "[[feeds]]\nname = \"f{i}\"\nurl = \"https://{}/feed{i}.xml\"\n",
            HOSTS[i % 3]
        ));
    }
    Config::parse(&toml, std::path::Path::new("/")).unwrap()
}

fn story(key: &str, url: &str, title: &str, body: &str, scored: bool) -> Story {
    Story {
        key: key.to_string(),
        content_hash: format!("{title}|{url}|{body}"),
        entry: CleanEntry {
            title: title.to_string(),
            url: Some(url.to_string()),
            canonical_url: gleaner::clean::canonical::canonicalize(url),
            author: body.len().is_multiple_of(2).then(|| "someone".to_string()),
            published: Some(
                Utc.timestamp_opt(1_790_000_000 + body.len() as i64, 0)
                    .unwrap(),
            ),
            updated: None,
            excerpt: if body.len().is_multiple_of(5) {
                String::new()
            } else {
                body.chars().take(20).collect()
            },
            content_html: if body.len().is_multiple_of(7) {
                String::new()
            } else {
                format!("<p>{body}</p>")
            },
        },
        score: scored.then(|| ScoreRow {
            story_id: 0,
            version: "v".into(),
            sources: 1,
            base: body.len() as f64,
            vetoed_by: None,
            simhash: body.len() as u64,
            body_len: body.len() as i64,
            explanation: "{}".into(),
            print: Vec::new(),
            section: "News".into(),
            features: String::new(),
        }),
    }
}

/// One round of generated fetches: per feed, its entries this time.
fn round(rng: &mut fastrand::Rng, feeds: usize, round: usize) -> Vec<Vec<Story>> {
    (0..feeds)
        .map(|f| {
            let n = rng.usize(0..8);
            (0..n)
                .map(|e| {
                    // Links from a small pool, so feeds share stories; the pool grows with
                    // the rounds, so later rounds bring new ones too.
                    let link = rng.usize(0..6 + round * 3);
                    let host = HOSTS[link % 3];
                    let variant = match rng.usize(0..4) {
                        0 => "?utm_source=x",
                        1 => "/",
                        _ => "",
                    };
                    let url = format!("https://{host}/post/{link}{variant}");
                    // Keys: mostly stable per (feed, link); sometimes a new key for a known
                    // link (re-keyed), sometimes a key whose link moves (edited link).
                    let key = match rng.usize(0..10) {
                        0 => format!("id:f{f}-r{round}-e{e}"),
                        1 => format!("id:f{f}-moving-{}", e % 2),
                        _ => format!("id:f{f}-l{link}"),
                    };
                    let title = if rng.bool() {
                        format!("Post {link}")
                    } else {
                        format!("Post {link} (r{})", rng.usize(0..2))
                    };
                    let body = "text ".repeat(rng.usize(1..12)) + &format!("{link}");
                    story(&key, &url, &title, &body, rng.usize(0..5) != 0)
                })
                // A feed's keys are unique (`dedup::identify` sees to it for real feeds).
                .fold(Vec::<Story>::new(), |mut v, s| {
                    if !v.iter().any(|o| o.key == s.key) {
                        v.push(s);
                    }
                    v
                })
        })
        .collect()
}

fn parsed(stories: Vec<Story>, site: Option<String>) -> FetchRecord {
    FetchRecord {
        started_at: Utc::now(),
        duration_ms: 1,
        status: Some(200),
        moved_to: None,
        bytes: Some(1),
        outcome: Outcome::Parsed {
            stories,
            validators: Validators::default(),
            body_hash: "h".into(),
            feed: FeedMeta {
                site_url: site,
                ..FeedMeta::default()
            },
            truncated: None,
        },
    }
}

/// Writes the rounds; `batch` feeds per transaction (1: one by one).
async fn write(
    dir: &std::path::Path,
    rounds: &[Vec<Vec<Story>>],
    feeds: usize,
    batch: usize,
) -> Store {
    let store = Store::open(&dir.join(format!("b{batch}.db")))
        .await
        .unwrap();
    let config = config(feeds);
    let t0 = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
    let rows: Vec<FeedRow> = store.sync_feeds(&config.feeds, t0).await.unwrap();
    let plan = Plan {
        next_due: None,
        state: gleaner::model::FeedState::Active,
    };
    for (r, round) in rounds.iter().enumerate() {
        let now = t0 + chrono::Duration::hours(r as i64);
        let records: Vec<FetchRecord> = round
            .iter()
            .enumerate()
            .map(|(i, stories)| {
                // Every third feed says its site is the host of its links: a publisher.
                let site = (i % 3 == 0).then(|| format!("https://{}/", HOSTS[i % 3]));
                parsed(stories.clone(), site)
            })
            .collect();
        let writes: Vec<FetchWrite<'_>> = rows
            .iter()
            .zip(&records)
            .map(|(feed, rec)| FetchWrite {
                feed,
                rec,
                plan: &plan,
                schedule: "every 1h",
            })
            .collect();
        for chunk in writes.chunks(batch) {
            store.record_fetches(chunk, now).await.unwrap();
        }
    }
    store
}

async fn dump(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for (table, order) in [
        (
            "SELECT id, feed_id, canonical_url, url, title, author, published, updated, excerpt, (SELECT html FROM story_html WHERE story_id = id), first_seen, last_changed FROM stories",
            "id",
        ),
        (
            "SELECT feed_id, entry_key, story_id, entry_url, content_hash, first_seen FROM story_sources",
            "feed_id, entry_key",
        ),
        (
            "SELECT story_id, version, sources, base, simhash, body_len FROM scores",
            "story_id",
        ),
        ("SELECT story_id, seq FROM score_queue", "story_id"),
        (
            "SELECT feed_id, outcome, new_count, updated_count FROM fetch_log",
            "id",
        ),
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{table} ORDER BY {order}")))
            .fetch_all(store.pool())
            .await
            .unwrap();
        for r in rows {
            let cols: Vec<String> = (0..r.len())
                .map(|i| {
                    r.try_get::<Option<String>, _>(i)
                        .map(|v| format!("{v:?}"))
                        .or_else(|_| r.try_get::<Option<i64>, _>(i).map(|v| format!("{v:?}")))
                        .or_else(|_| r.try_get::<Option<f64>, _>(i).map(|v| format!("{v:?}")))
                        .unwrap()
                })
                .collect();
            out.push(format!("{}: {}", &table[7..30], cols.join(" | ")));
        }
    }
    out
}

#[tokio::test]
async fn batches_write_exactly_what_one_feed_at_a_time_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    // Extra sources, stories whose publisher took them over, feeds with updated entries.
    let mut exercised = (0, 0, 0);
    for seed in 0..32u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let feeds = 4 + (seed as usize % 5);
        let rounds: Vec<_> = (0..5).map(|r| round(&mut rng, feeds, r)).collect();
        let one = write(&dir.path().join(format!("s{seed}")), &rounds, feeds, 1).await;
        let all = write(&dir.path().join(format!("s{seed}")), &rounds, feeds, feeds).await;
        let (a, b) = (dump(&one).await, dump(&all).await);
        assert!(!a.is_empty());
        if a != b {
            let diff: Vec<String> = a
                .iter()
                .zip(&b)
                .filter(|(x, y)| x != y)
                .take(5)
                .map(|(x, y)| format!("one by one: {x}\n   batched: {y}"))
                .collect();
            panic!(
                "seed {seed}: {} vs {} rows; first differences:\n{}",
                a.len(),
                b.len(),
                diff.join("\n")
            );
        }
        checked += a.len();
        let (joined, taken_over, moved): (i64, i64, i64) = sqlx::query_as(
            "SELECT
                 (SELECT COUNT(*) FROM story_sources) - (SELECT COUNT(*) FROM stories),
                 (SELECT COUNT(*) FROM stories s WHERE s.feed_id != (SELECT ss.feed_id FROM
                     story_sources ss WHERE ss.story_id = s.id ORDER BY ss.first_seen, ss.feed_id LIMIT 1)),
                 (SELECT COUNT(*) FROM fetch_log WHERE updated_count > 0)",
        )
        .fetch_one(one.pool())
        .await
        .unwrap();
        exercised.0 += joined;
        exercised.1 += taken_over;
        exercised.2 += moved;
        one.close().await;
        all.close().await;
    }
    // The generator must exercise what the batch view has to get right.
    assert!(checked > 1000, "only {checked} rows compared");
    assert!(
        exercised.0 > 50 && exercised.1 > 5 && exercised.2 > 20,
        "the rounds did not exercise joins, takeovers and updates: {exercised:?}"
    );
}
