//! Scores and the learned model: rescoring stale stories, the candidate window's start, the
//! model trained on the decisions, and `explain`.

use chrono::{DateTime, Utc};

use super::ranking::{self};
use super::{DeskError, story};
use crate::clean;
use crate::config::Config;
use crate::model::ScoreRow;
use crate::output;
use crate::score::{self, Scorer, StoryText};
use crate::store::Store;

/// Scores stories whose score is missing or stale (all of them with `all`); returns how many.
pub async fn rescore(
    config: &Config,
    store: &Store,
    all: bool,
    now: DateTime<Utc>,
) -> Result<usize, DeskError> {
    let scorer = std::sync::Arc::new(Scorer::new(config));
    let mut after = 0;
    let mut total = 0;
    // A page at a time: memory stays bounded however many stories are stale.
    loop {
        let inputs = store
            .score_inputs(&scorer.version, all, after, RESCORE_PAGE)
            .await?;
        let Some(last) = inputs.last() else {
            return Ok(total);
        };
        after = last.story_id;
        let queued: Vec<(i64, i64)> = inputs
            .iter()
            .filter_map(|i| i.queued.map(|q| (i.story_id, q)))
            .collect();
        let scorer = scorer.clone();
        // Text extraction and matching are CPU work: off the async workers, on every core.
        let rows = tokio::task::spawn_blocking(move || {
            // Threads only for a full page: a handful of queued stories is scored faster
            // here than threads start (and each new thread grows its own malloc arena).
            let threads = if inputs.len() < RESCORE_PAGE {
                1
            } else {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            };
            if threads == 1 {
                return inputs.iter().map(|i| score_one(&scorer, i)).collect();
            }
            let chunk = inputs.len().div_ceil(threads).max(1);
            std::thread::scope(|s| {
                let handles: Vec<_> = inputs
                    .chunks(chunk)
                    .map(|part| {
                        let scorer = &scorer;
                        s.spawn(move || {
                            part.iter()
                                .map(|i| score_one(scorer, i))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("scoring threads do not panic"))
                    .collect::<Vec<_>>()
            })
        })
        .await
        .map_err(|e| DeskError::Invalid(format!("scoring failed: {e}")))?;
        store.write_scores(&rows, &queued, now).await?;
        total += rows.len();
    }
}

/// Stories scored per page by [`rescore`].
const RESCORE_PAGE: usize = 250;

fn score_one(scorer: &Scorer, i: &crate::model::ScoreInput) -> ScoreRow {
    let body = clean::html::text_of_sanitized(&i.content_html);
    scorer.score_row(
        i.story_id,
        &StoryText {
            title: &i.title,
            body: &body,
            sources: &i.sources,
            url: i.url.as_deref(),
        },
        &i.excerpt,
        i.author.as_deref(),
    )
}

/// The candidate window ending at `as_of`: from `since` if given, else from the last issue
/// published at or before `as_of` (so a replay sees the window it had), else `window_days`
/// back.
pub async fn window_start(
    config: &Config,
    store: &Store,
    as_of: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
) -> Result<DateTime<Utc>, DeskError> {
    if let Some(s) = since {
        return Ok(s);
    }
    let fallback = as_of - chrono::Duration::days(i64::from(config.output.window_days));
    Ok(match store.last_issue_before(as_of).await? {
        Some((_, at)) => at,
        None => fallback,
    })
}

/// At most how many of the latest decisions, past issues' items and stories before the window
/// that nobody picked (weak negatives) the model learns from: years of decisions, and what
/// training costs, stay bounded (BENCHMARKS.md).
const LEARNING_LIMITS: crate::store::LearningLimits = crate::store::LearningLimits {
    decisions: 5_000,
    catalogue: 5_000,
    background: 2_000,
};

/// The model learned from the decisions taken and the past issues imported by `as_of` (`None`
/// when `[learning]` is off or there is nothing to learn from yet).
pub async fn learned_model(
    config: &Config,
    store: &Store,
    as_of: DateTime<Utc>,
    window_start: DateTime<Utc>,
) -> Result<Option<crate::learn::Model>, DeskError> {
    if !config.learning.enabled || config.learning.weight == 0.0 {
        return Ok(None);
    }
    let rows = store
        .learning_examples(as_of, window_start, LEARNING_LIMITS, crate::learn::WEAK)
        .await?;
    // A past issue's item whose story is not stored: its keyword score is its blurb's, and
    // the feeds whose stories live at its host are its feeds (so that it is described as
    // those feeds' stories are).
    let scorer = Scorer::new(config);
    let mut hosts: Vec<String> = rows
        .iter()
        .filter_map(|(_, b)| b.as_ref())
        .filter_map(|(_, u)| url::Url::parse(u).ok()?.host_str().map(str::to_string))
        .collect();
    hosts.sort();
    hosts.dedup();
    let feeds_at = store.feeds_at_hosts(&hosts).await?;
    let examples: Vec<crate::model::LearningExample> = rows
        .into_iter()
        .map(|(mut e, blurb)| {
            if let Some((blurb, url)) = blurb {
                e.base = scorer
                    .score(&StoryText {
                        title: "",
                        body: &blurb,
                        sources: &[],
                        url: Some(&url),
                    })
                    .base;
                let host = url::Url::parse(&url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string));
                for feed in host.and_then(|h| feeds_at.get(&h)).into_iter().flatten() {
                    e.features.push(' ');
                    e.features.push_str(&crate::learn::feed_feature(feed));
                }
            }
            e
        })
        .collect();
    Ok(crate::learn::Model::train(&examples))
}

/// Why a story scored what it did, at `as_of`.
pub async fn explain(
    config: &Config,
    store: &Store,
    id: i64,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, DeskError> {
    rescore(config, store, false, now).await?;
    let row = story(store, id).await?;
    let e: Option<score::Explanation> = row
        .explanation
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let date = ranking::date_of(&row).timestamp();
    let snooze = store.snooze_of(id).await?;
    let from = ranking::aged_from(date, snooze, as_of.timestamp());
    let from_t = DateTime::from_timestamp(from, 0).unwrap_or(as_of);
    let woke = (from != date).then_some(from_t);
    let start = window_start(config, store, as_of, None).await?;
    let decay = score::decay(from_t, start, config.scoring.half_life);
    let section = crate::sections::suggest(
        row.feed_section.as_deref(),
        row.story.url.as_deref(),
        &row.story.title,
    );
    let model = learned_model(config, store, as_of, start).await?;
    let learned = model.as_ref().map(|m| {
        let l = m.score(&row.features, &section, e.as_ref().map_or(0.0, |e| e.base));
        (
            crate::learn::Learned {
                value: crate::text::round(l.value * config.learning.weight),
                top: l.top,
            },
            (m.positives, m.negatives),
        )
    });
    Ok(output::explain::render(
        &row,
        e.as_ref(),
        &output::explain::Context {
            decay,
            woke,
            window_start: start,
            section: &section,
            half_life: config.scoring.half_life,
            learned: learned.as_ref().map(|(l, n)| (l, *n)),
            learning_weight: config.learning.weight,
        },
    ))
}
