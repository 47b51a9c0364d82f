//! The editorial orchestrator: scoring, the candidate list, decisions, drafts, publishing, the
//! digest and the curated feed, in that order of data. Like `poll`, it is the only place that
//! knows the order; the stages it calls (`score`, `candidates`, `output::*`) are pure, and the
//! store does the I/O. Every function takes its "now" (or `as_of`) as an argument.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::candidates::{self, Filter};
use crate::clean;
use crate::config::Config;
use crate::model::{Candidate, ImportReport, ImportedFile};
use crate::model::{DecisionRow, PoolRow, ScoreRow, Verdict};
use crate::output::{self, atomic_write};
use crate::score::{self, Scorer, StoryText};
use crate::store::{Store, StoreError};

/// Errors of editorial commands, written for the editor.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no story with id {0} (ids are shown by `gleaner candidates`)")]
    NoStory(i64),
    /// A feed name that is not in the config (the message lists the names that are).
    #[error("{0}")]
    NoFeed(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: nothing applied, {} problem{}:\n{}", .errors.len(), if .errors.len() == 1 { "" } else { "s" }, .errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Apply {
        path: PathBuf,
        errors: Vec<output::candidates::MarkError>,
    },
    #[error("cannot pick {url}: {reason}")]
    Link { url: String, reason: String },
}

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

/// The ranked candidates of the window ending at `as_of` (stale scores are refreshed first,
/// stamped `now`). With `as_of` in the past the list is what it was then: stories first seen
/// later, decisions taken later and links used later are left out.
pub async fn candidates(
    config: &Config,
    store: &Store,
    as_of: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
    filter: &Filter,
    now: DateTime<Utc>,
) -> Result<(Vec<Candidate>, DateTime<Utc>), DeskError> {
    let t = std::time::Instant::now();
    let rescored = rescore(config, store, false, now).await?;
    let t_rescore = t.elapsed();
    let start = window_start(config, store, as_of, since).await?;
    let late = chrono::Duration::days(i64::from(config.output.window_days));
    let window = store.window(start, as_of, start - late, true).await?;
    let model = learned_model(config, store, as_of, start).await?;
    let t_pool = t.elapsed();
    // Rank on the window's ranking data; read the text of the listed stories only.
    let groups = candidates::rank(&window, config, as_of, start, model.as_ref(), filter);
    let t_rank = t.elapsed();
    let details = store
        .story_details(&candidates::needed(&window, &groups))
        .await?;
    let list = candidates::assemble(&window, &groups, &details);
    tracing::debug!(
        rescored,
        window = window.len(),
        listed = list.len(),
        rescore = ?t_rescore,
        pool = ?(t_pool - t_rescore),
        rank = ?(t_rank - t_pool),
        details = ?(t.elapsed() - t_rank),
        "candidates"
    );
    Ok((list, start))
}

/// What [`refresh`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    pub files: Vec<PathBuf>,
    /// `candidates.md` held ticks or blurbs not applied yet: it was left alone and the fresh
    /// list went here instead.
    pub held_back: Option<PathBuf>,
}

/// Rewrites every output file: `candidates.md`, `candidates.json`, `curated.atom` (+ `.rss`, `.json`). Called after
/// each poll, after the daemon stores new stories, and after every decision. A `candidates.md`
/// with ticks, blurbs or reasons not yet applied is never overwritten: the fresh list goes to
/// `candidates.new.md`.
pub async fn refresh(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Refreshed, DeskError> {
    refresh_with(config, store, now, false).await
}

/// [`refresh`] after a polling round, when it changed stories or the outputs were never
/// written; `None` when nothing needed rewriting.
pub async fn refresh_after_round(
    config: &Config,
    store: &Store,
    round: &crate::model::RoundReport,
    now: DateTime<Utc>,
) -> Result<Option<Refreshed>, DeskError> {
    let missing = !config.output.dir.join("candidates.md").exists();
    if !round.stories_changed() && !missing {
        return Ok(None);
    }
    refresh(config, store, now).await.map(Some)
}

async fn refresh_with(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
    edits_applied: bool,
) -> Result<Refreshed, DeskError> {
    let (cands, since) = candidates(config, store, now, None, &Filter::default(), now).await?;
    let dir = &config.output.dir;
    let mut md = dir.join("candidates.md");
    let mut held_back = None;
    if !edits_applied
        && let Ok(existing) = std::fs::read_to_string(&md)
        && has_edits(&existing)
    {
        md = dir.join("candidates.new.md");
        held_back = Some(md.clone());
    }
    let json = dir.join("candidates.json");
    write(&md, &output::candidates::markdown(&cands, since, now))?;
    write(&json, &output::candidates::json(&cands))?;
    let atom = write_curated(config, store, now).await?;
    Ok(Refreshed {
        files: vec![md, json, atom],
        held_back,
    })
}

/// Whether an edited candidates file has anything `apply` would act on (or is mid-edit).
fn has_edits(md: &str) -> bool {
    match output::candidates::parse(md) {
        Ok(marks) => marks.iter().any(|m| {
            m.action != output::candidates::Action::Nothing
                || m.blurb.is_some()
                || m.reason.is_some()
        }),
        Err(_) => true,
    }
}

fn write(path: &Path, contents: &str) -> Result<(), DeskError> {
    atomic_write(path, contents).map_err(|source| DeskError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The curated feed's header and entries: the newest `curated_size` picks. One source for the
/// files ([`write_curated`]) and for the feeds `gleaner serve` answers with.
pub async fn curated(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<(output::atom::FeedInfo, Vec<output::atom::Entry>), DeskError> {
    let picked = store.all_picked(config.output.curated_size).await?;
    let entries: Vec<output::atom::Entry> = picked
        .iter()
        .map(|p| output::atom::Entry {
            story_id: p.story.id,
            title: p.story.title.clone(),
            url: p.story.url.clone(),
            also_at: p.decision.also_at.clone(),
            picked_at: p.decision.decided_at,
            published: p.story.published,
            summary: p
                .decision
                .blurb
                .clone()
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| p.story.excerpt.clone()),
            section: section_of(&p.decision, p.feed_section.as_deref(), &p.story),
            origin: p.origin.clone(),
        })
        .collect();
    let info = output::atom::FeedInfo {
        title: config.output.title.clone(),
        tag_authority: config.output.tag_authority.clone(),
        link: config.output.link.as_ref().map(|u| u.to_string()),
        updated: entries.first().map_or(now, |e| e.picked_at),
    };
    Ok((info, entries))
}

/// Rewrites `curated.atom`, `curated.rss` and `curated.json` from the picks.
pub async fn write_curated(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<PathBuf, DeskError> {
    let (info, entries) = curated(config, store, now).await?;
    // The same picks for every kind of reader: Atom, RSS 2.0 and JSON Feed 1.1.
    let dir = &config.output.dir;
    write(
        &dir.join("curated.rss"),
        &output::curated_rss::render(&info, &entries),
    )?;
    write(
        &dir.join("curated.json"),
        &output::curated_json::render(&info, &entries),
    )?;
    let path = dir.join("curated.atom");
    write(&path, &output::atom::render(&info, &entries))?;
    Ok(path)
}

/// The section a decision puts its story in: the editor's, else the suggested one.
pub fn section_of(
    d: &DecisionRow,
    feed_section: Option<&str>,
    story: &crate::model::StoryView,
) -> String {
    d.section.clone().unwrap_or_else(|| {
        crate::sections::suggest(feed_section, story.url.as_deref(), &story.title)
    })
}

/// Whether a story is on the current candidate list (itself or grouped under another).
async fn is_candidate(
    config: &Config,
    store: &Store,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DeskError> {
    let (cands, _) = candidates(config, store, now, None, &Filter::default(), now).await?;
    Ok(cands.iter().any(|c| c.id == id || c.also_ids.contains(&id)))
}

async fn story(store: &Store, id: i64) -> Result<PoolRow, DeskError> {
    store.pool_row(id).await?.ok_or(DeskError::NoStory(id))
}

/// The other URLs of a story's near-duplicate group, as the candidate list shows them now.
async fn also_at(
    config: &Config,
    store: &Store,
    row: &PoolRow,
    now: DateTime<Utc>,
) -> Result<Vec<String>, DeskError> {
    let (cands, _) = candidates(config, store, now, None, &Filter::default(), now).await?;
    Ok(also_at_in(&cands, row.story.id, row.story.url.as_deref()))
}

/// The other URLs of story `id`'s near-duplicate group in `cands`: the group's links but its
/// own (`own`: the story's link; it may be a member of the group, not the one listed).
fn also_at_in(cands: &[Candidate], id: i64, own: Option<&str>) -> Vec<String> {
    cands
        .iter()
        .find(|c| c.id == id || c.also_ids.contains(&id))
        .map(|c| {
            let mut urls: Vec<String> = Vec::new();
            for u in c.url.iter().chain(&c.also_at) {
                if Some(u.as_str()) != own && !urls.contains(u) {
                    urls.push(u.clone());
                }
            }
            urls
        })
        .unwrap_or_default()
}

/// The longest blurb `pick` takes, in characters: a generous paragraph.
pub const MAX_BLURB: usize = 4000;

/// Picks a story (with an optional section and blurb) and rewrites the outputs.
pub async fn pick(
    config: &Config,
    store: &Store,
    id: i64,
    section: Option<String>,
    blurb: Option<String>,
    now: DateTime<Utc>,
) -> Result<PoolRow, DeskError> {
    let row = story(store, id).await?;
    if let Some(issue) = row.decision.as_ref().and_then(|d| d.issue)
        && !is_candidate(config, store, id, now).await?
    {
        return Err(DeskError::Invalid(format!(
            "story {id} was published in issue {issue}"
        )));
    }
    // A published Events/Jobs story that is a candidate again starts a fresh decision.
    let keep = row
        .decision
        .as_ref()
        .filter(|d| d.verdict == Verdict::Pick && d.issue.is_none());
    if let Some(b) = &blurb
        && b.chars().count() > MAX_BLURB
    {
        return Err(DeskError::Invalid(format!(
            "the blurb is {} characters long; at most {MAX_BLURB} (a blurb is two or three sentences)",
            b.chars().count()
        )));
    }
    let decision = DecisionRow {
        story_id: id,
        verdict: Verdict::Pick,
        section: section.or_else(|| keep.and_then(|d| d.section.clone())),
        blurb: blurb.or_else(|| keep.and_then(|d| d.blurb.clone())),
        reason: None,
        // An edited pick is no candidate any more (picks leave the list): its group is the
        // one it was picked with.
        also_at: match keep {
            Some(d) => d.also_at.clone(),
            None => also_at(config, store, &row, now).await?,
        },
        // Editing a pick (its blurb or section) keeps its place: the draft lists picks in the
        // order they were made, and the curated feed dates them by it.
        decided_at: keep.map_or(now, |d| d.decided_at),
        issue: None,
    };
    store.decide(&decision, "pick", now).await?;
    refresh(config, store, now).await?;
    story(store, id).await
}

/// Rejects a story and rewrites the outputs.
pub async fn reject(
    config: &Config,
    store: &Store,
    id: i64,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<PoolRow, DeskError> {
    let row = story(store, id).await?;
    not_published(config, store, &row, now).await?;
    let decision = DecisionRow {
        story_id: id,
        verdict: Verdict::Reject,
        section: None,
        blurb: None,
        reason,
        also_at: Vec::new(),
        decided_at: now,
        issue: None,
    };
    store.decide(&decision, "reject", now).await?;
    refresh(config, store, now).await?;
    story(store, id).await
}

/// Refuses a story published in an issue, unless it is a candidate again (a used Events or
/// Jobs link may come back): rejecting or snoozing it would change nothing.
async fn not_published(
    config: &Config,
    store: &Store,
    row: &PoolRow,
    now: DateTime<Utc>,
) -> Result<(), DeskError> {
    let id = row.story.id;
    if row.decision.as_ref().is_some_and(|d| d.issue.is_some())
        && !is_candidate(config, store, id, now).await?
    {
        return Err(DeskError::Invalid(format!(
            "story {id} was already published"
        )));
    }
    Ok(())
}

/// Takes back an unpublished pick or reject; the story returns to the candidates.
pub async fn unpick(
    config: &Config,
    store: &Store,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DeskError> {
    story(store, id).await?;
    if !store.undecide(id, now).await? {
        return Err(DeskError::Invalid(format!(
            "story {id} has no decision to take back (or it was published)"
        )));
    }
    refresh(config, store, now).await?;
    Ok(())
}

/// Snoozes a story until `until`: it leaves the candidate list and comes back in the window
/// where the snooze ends (a pending pick or reject on it is taken back). Rewrites the outputs.
pub async fn snooze(
    config: &Config,
    store: &Store,
    id: i64,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PoolRow, DeskError> {
    let row = story(store, id).await?;
    if until <= now {
        return Err(DeskError::Invalid(format!(
            "cannot snooze until {}: that is not in the future",
            until.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    not_published(config, store, &row, now).await?;
    store.snooze(id, until, now).await?;
    refresh(config, store, now).await?;
    Ok(row)
}

/// Ends a snooze now: the story is a candidate again (if its window still holds it).
pub async fn unsnooze(
    config: &Config,
    store: &Store,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DeskError> {
    story(store, id).await?;
    if !store.unsnooze(id, now).await? {
        return Err(DeskError::Invalid(format!("story {id} is not snoozed")));
    }
    refresh(config, store, now).await?;
    Ok(())
}

/// Pauses (`pause`) or resumes the configured feeds named: a paused feed is not fetched by
/// the daemon or `poll` until resumed. Returns, per name, whether it changed anything. Every
/// name must be a configured feed, else nothing changes.
pub async fn pause_feeds(
    config: &Config,
    store: &Store,
    names: &[String],
    pause: bool,
    now: DateTime<Utc>,
) -> Result<Vec<bool>, DeskError> {
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| !config.feeds.iter().any(|f| &f.name == *n))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = config.feeds.iter().map(|f| f.name.as_str()).collect();
        return Err(DeskError::NoFeed(format!(
            "no feed named {} in the config (feeds: {})",
            unknown
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", "),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    // The database may not know a feed added to feeds.toml since the last poll or run.
    let mut rng = fastrand::Rng::new();
    crate::poll::sync(config, store, now, &mut rng).await?;
    let changed = store
        .set_paused(names, pause.then_some(now))
        .await?
        .into_iter()
        .map(|c| c.unwrap_or(false))
        .collect();
    Ok(changed)
}

/// Picks a link that is in no feed: fetches the page for its title and description, stores it
/// and picks it.
pub async fn pick_link(
    config: &Config,
    store: &Store,
    fetcher: &crate::poll::Fetcher,
    url: &str,
    section: Option<String>,
    blurb: Option<String>,
    now: DateTime<Utc>,
) -> Result<PoolRow, DeskError> {
    let err = |reason: String| DeskError::Link {
        url: url.to_string(),
        reason,
    };
    let parsed = url::Url::parse(url.trim()).map_err(|e| err(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(err("only http and https links can be picked".into()));
    }
    let fetched = crate::fetch::fetch(
        &fetcher.client,
        &fetcher.settings,
        &parsed,
        &Default::default(),
    )
    .await
    .map_err(|e| err(e.to_string()))?;
    let (html, final_url) = match fetched {
        crate::fetch::Fetched::Body(b) => {
            let text = crate::parse::charset::decode(&b.bytes, None)
                .text
                .into_owned();
            (text, b.meta.final_url)
        }
        other => {
            return Err(err(format!(
                "the server answered HTTP {}",
                other.meta().status
            )));
        }
    };
    let meta = crate::page::extract(&html);
    let link = meta
        .canonical
        .as_deref()
        .and_then(|c| final_url.join(c).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or_else(|| parsed.clone());
    let raw = crate::model::RawEntry {
        title: meta
            .title
            .map(|t| crate::model::RawText::new(t, crate::model::TextKind::Plain)),
        link: Some(link.to_string()),
        summary: meta
            .description
            .map(|d| crate::model::RawText::new(d, crate::model::TextKind::Plain)),
        published: meta
            .published
            .as_deref()
            .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
            .map(|d| d.with_timezone(&Utc)),
        ..Default::default()
    };
    let entry = clean::clean_entry(&raw, &final_url);
    let id = store.add_story(&entry, now).await?;
    pick(config, store, id, section, blurb, now).await
}

/// What `apply` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    pub picked: usize,
    pub rejected: usize,
    /// `[z]`: snoozed for [`output::candidates::SNOOZE_DAYS`] days.
    pub snoozed: usize,
    pub untouched: usize,
}

/// Applies the ticks of an edited candidates file, all or nothing: `[x]` picks, `[-]` rejects,
/// `[z]` snoozes for a week.
pub async fn apply(
    config: &Config,
    store: &Store,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Applied, DeskError> {
    let md = std::fs::read_to_string(path).map_err(|source| DeskError::Read {
        path: path.to_owned(),
        source,
    })?;
    let apply_err = |errors| DeskError::Apply {
        path: path.to_owned(),
        errors,
    };
    let marks = output::candidates::parse(&md).map_err(apply_err)?;
    let mut problems = Vec::new();
    let mut decisions = Vec::new();
    let mut snoozes = Vec::new();
    // Each marked story's own link, for its "also at" list.
    let mut urls: std::collections::HashMap<i64, Option<String>> = Default::default();
    let mut applied = Applied::default();
    for m in &marks {
        let verdict = match m.action {
            output::candidates::Action::Pick => Some(Verdict::Pick),
            output::candidates::Action::Reject => Some(Verdict::Reject),
            output::candidates::Action::Snooze => None,
            output::candidates::Action::Nothing => {
                applied.untouched += 1;
                continue;
            }
        };
        let Some(row) = store.pool_row(m.id).await? else {
            problems.push(output::candidates::MarkError {
                line: m.line,
                message: format!("no story with id {}", m.id),
            });
            continue;
        };
        if row.decision.as_ref().is_some_and(|d| d.issue.is_some())
            && !is_candidate(config, store, m.id, now).await?
        {
            problems.push(output::candidates::MarkError {
                line: m.line,
                message: format!("story {} was already published", m.id),
            });
            continue;
        }
        urls.insert(m.id, row.story.url.clone());
        let Some(verdict) = verdict else {
            applied.snoozed += 1;
            snoozes.push(m.id);
            continue;
        };
        let suggested = crate::sections::suggest(
            row.feed_section.as_deref(),
            row.story.url.as_deref(),
            &row.story.title,
        );
        let section = m.section.clone().filter(|s| *s != suggested);
        match verdict {
            Verdict::Pick => applied.picked += 1,
            Verdict::Reject => applied.rejected += 1,
        }
        decisions.push(DecisionRow {
            story_id: m.id,
            verdict,
            section: if verdict == Verdict::Pick {
                section
            } else {
                None
            },
            blurb: if verdict == Verdict::Pick {
                m.blurb.clone()
            } else {
                None
            },
            reason: if verdict == Verdict::Reject {
                m.reason.clone()
            } else {
                None
            },
            also_at: Vec::new(),
            decided_at: now,
            issue: None,
        });
    }
    if !problems.is_empty() {
        return Err(apply_err(problems));
    }
    // One candidate list for every pick (the decisions are written only after).
    if decisions.iter().any(|d| d.verdict == Verdict::Pick) {
        let (cands, _) = candidates(config, store, now, None, &Filter::default(), now).await?;
        for d in &mut decisions {
            if d.verdict == Verdict::Pick {
                let own = urls.get(&d.story_id).and_then(|u| u.as_deref());
                d.also_at = also_at_in(&cands, d.story_id, own);
            }
        }
    }
    let until = now + chrono::Duration::days(output::candidates::SNOOZE_DAYS);
    store.decide_all(&decisions, &snoozes, until, now).await?;
    let own_file = std::fs::canonicalize(path).ok()
        == std::fs::canonicalize(config.output.dir.join("candidates.md")).ok();
    refresh_with(config, store, now, own_file).await?;
    Ok(applied)
}

/// The number the next issue gets.
pub async fn next_issue(store: &Store) -> Result<i64, DeskError> {
    Ok(store.last_issue().await?.map_or(1, |(n, _)| n + 1))
}

/// What [`draft`] wrote, and the same draft as HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Drafted {
    pub number: i64,
    pub path: PathBuf,
    pub markdown: String,
    /// [`output::draft::html`]: to paste into a newsletter editor (not written to a file).
    pub html: String,
    pub items: usize,
}

/// Writes `out/issue-N.md`: the unpublished picks (or, for a published issue, its items).
pub async fn draft(
    config: &Config,
    store: &Store,
    issue: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Drafted, DeskError> {
    let number = match issue {
        Some(n) => n,
        None => next_issue(store).await?,
    };
    let published = store.issue_published_at(number).await?;
    let picked = store.picked(published.map(|_| number), None).await?;
    let mut items: Vec<output::draft::DraftItem> = picked
        .iter()
        .map(|p| output::draft::DraftItem {
            section: section_of(&p.decision, p.feed_section.as_deref(), &p.story),
            title: p.story.title.clone(),
            blurb: p.decision.blurb.clone(),
            excerpt: p.story.excerpt.clone(),
            url: p.story.url.clone(),
            also_at: p.decision.also_at.clone(),
        })
        .collect();
    // Oldest pick first within a section: the order the editor chose them.
    items.reverse();
    if published.is_none() {
        let ids: Vec<i64> = picked.iter().map(|p| p.story.id).collect();
        store.set_draft(number, &ids).await?;
    }
    let date = published.unwrap_or(now);
    let (title, sections) = (&config.output.title, &config.output.sections);
    let markdown = output::draft::render(title, number, date, sections, &items);
    let path = config.output.dir.join(format!("issue-{number}.md"));
    write(&path, &markdown)?;
    Ok(Drafted {
        number,
        path,
        markdown,
        html: output::draft::html(title, number, date, sections, &items),
        items: items.len(),
    })
}

/// What `publish` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    pub items: usize,
    /// Picks made after the draft was written: they wait for the next issue.
    pub held_for_next: usize,
}

/// Publishes issue `number`: its items are the picks in its draft (all unpublished picks when
/// no draft was written); their links enter the ledger; the next candidate window starts now.
pub async fn publish(
    config: &Config,
    store: &Store,
    number: i64,
    now: DateTime<Utc>,
) -> Result<Published, DeskError> {
    if number < 1 {
        return Err(DeskError::Invalid("issue numbers start at 1".into()));
    }
    if let Some(at) = store.issue_published_at(number).await? {
        return Err(DeskError::Invalid(format!(
            "issue {number} was already published on {}",
            at.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let pending = store.picked(None, None).await?;
    let drafted = store.draft_items(number).await?;
    let picked: Vec<_> = if drafted.is_empty() {
        pending.iter().collect()
    } else {
        pending
            .iter()
            .filter(|p| drafted.contains(&p.story.id))
            .collect()
    };
    if picked.is_empty() {
        return Err(DeskError::Invalid(
            "nothing to publish: pick stories (and write the draft) first".into(),
        ));
    }
    let mut ledger = Vec::new();
    for p in &picked {
        let section = section_of(&p.decision, p.feed_section.as_deref(), &p.story);
        let urls = p.story.canonical_url.iter().cloned().chain(
            p.decision
                .also_at
                .iter()
                .filter_map(|u| clean::canonical::canonicalize(u)),
        );
        for u in urls {
            ledger.push((u, p.story.id, Some(section.clone())));
        }
    }
    let ids: Vec<i64> = picked.iter().map(|p| p.story.id).collect();
    let n = store.publish(number, &ids, &ledger, now).await?;
    refresh(config, store, now).await?;
    Ok(Published {
        items: n as usize,
        held_for_next: pending.len() - picked.len(),
    })
}

/// Parses `2014-W15` into the Monday 00:00 UTC that starts it.
pub fn parse_week(s: &str) -> Result<DateTime<Utc>, String> {
    let bad = || format!("`{s}` is not an ISO week like 2014-W15");
    let (y, w) = s
        .trim()
        .split_once("-W")
        .or_else(|| s.trim().split_once("-w"))
        .ok_or_else(bad)?;
    // Four-digit years and one- or two-digit weeks, as ISO 8601 writes them (and as the
    // page's week picker does): chrono's range runs to ±262,143, where a week later overflows.
    if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !(1..=2).contains(&w.len()) || !w.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let w: u32 = w.parse().map_err(|_| bad())?;
    let d = NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon).ok_or_else(bad)?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
}

/// The ISO week label of a time.
pub fn week_of(t: DateTime<Utc>) -> String {
    let w = t.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Output format of the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestFormat {
    Markdown,
    Html,
}

/// Renders (and writes to `out/digest-YYYY-Www.md|html`) the digest of one ISO week.
pub async fn digest(
    config: &Config,
    store: &Store,
    week: &str,
    format: DigestFormat,
) -> Result<(PathBuf, String), DeskError> {
    let d = digest_of(config, store, week).await?;
    let (text, ext) = match format {
        DigestFormat::Markdown => (output::digest::markdown(&d), "md"),
        DigestFormat::Html => (output::digest::html(&d), "html"),
    };
    let path = config.output.dir.join(format!("digest-{}.{ext}", d.week));
    write(&path, &text)?;
    Ok((path, text))
}

/// The digest of one ISO week, to render (nothing is written).
pub async fn digest_of(
    config: &Config,
    store: &Store,
    week: &str,
) -> Result<output::digest::Digest, DeskError> {
    let since = parse_week(week).map_err(DeskError::Invalid)?;
    let until = since + chrono::Duration::days(7);
    digest_between(
        config,
        store,
        &week_of(since),
        since,
        until,
        None,
        Utc::now(),
    )
    .await
}

/// The digest of the stories of `[since, until)`, labelled `label` (an ISO week), with at most
/// `top` candidates per section (all that rank, up to `[output] per_section`, when `None`).
/// Stale scores are refreshed first, stamped `now`.
pub async fn digest_between(
    config: &Config,
    store: &Store,
    label: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    top: Option<usize>,
    now: DateTime<Utc>,
) -> Result<output::digest::Digest, DeskError> {
    rescore(config, store, false, now).await?;
    // The week as it was read: decisions and the ledger do not hide anything here.
    let mut window = store
        .window(since, until - chrono::Duration::seconds(1), since, false)
        .await?;
    for r in &mut window {
        r.decided = None;
    }
    let live = window
        .iter()
        .filter(|r| r.base.is_some() && !r.vetoed)
        .count();
    let model = learned_model(config, store, until, since).await?;
    let groups = candidates::rank(
        &window,
        config,
        until,
        since,
        model.as_ref(),
        &Filter::default(),
    );
    let details = store
        .story_details(&candidates::needed(&window, &groups))
        .await?;
    let cands = candidates::assemble(&window, &groups, &details);
    let grouped: usize = cands.iter().map(|c| c.also_ids.len()).sum();
    let shown: usize = cands.len();
    let near_duplicates = grouped.min(live.saturating_sub(shown));
    let mut sections: Vec<(String, Vec<Candidate>)> = Vec::new();
    for c in cands {
        match sections.iter_mut().find(|(s, _)| *s == c.section) {
            Some((_, v)) => v.push(c),
            None => sections.push((c.section.clone(), vec![c])),
        }
    }
    for s in &config.output.sections {
        if !sections.iter().any(|(x, _)| x.eq_ignore_ascii_case(s)) {
            sections.push((s.clone(), Vec::new()));
        }
    }
    let order = |s: &str| {
        config
            .output
            .sections
            .iter()
            .position(|c| c.eq_ignore_ascii_case(s))
            .unwrap_or(usize::MAX)
    };
    sections.sort_by_key(|(s, _)| order(s));
    if let Some(top) = top {
        for (_, v) in &mut sections {
            v.truncate(top);
        }
    }
    Ok(output::digest::Digest {
        newsletter: config.output.title.clone(),
        week: label.to_string(),
        since,
        until,
        activity: store.activity(since, until).await?,
        near_duplicates,
        sections,
    })
}

/// Why a story scored what it did, at `as_of`.
pub async fn explain(
    config: &Config,
    store: &Store,
    id: i64,
    as_of: DateTime<Utc>,
) -> Result<String, DeskError> {
    rescore(config, store, false, Utc::now()).await?;
    let row = story(store, id).await?;
    let e: Option<score::Explanation> = row
        .explanation
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok());
    let date = candidates::date_of(&row).timestamp();
    let snooze = store.snooze_of(id).await?;
    let from = candidates::aged_from(date, snooze, as_of.timestamp());
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

/// `gleaner import issues FILE…`: reads past issues (the Markdown `draft` writes, or a sent
/// issue's or an archive page's HTML), puts every link in the ledger (never suggested again)
/// and every item in the catalogue the ranking learns from. Idempotent. A file without an issue
/// number is reported and skipped; one without a date takes its modification time, but no
/// later than `window_days` before `now` (its date starts the next candidate window, which an
/// undated file copied today must not empty).
pub async fn import_issues(
    config: &Config,
    store: &Store,
    files: &[PathBuf],
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<ImportReport, DeskError> {
    let mut report_files = Vec::new();
    let mut issues: Vec<(i64, DateTime<Utc>)> = Vec::new();
    let mut items: Vec<crate::store::CatalogueItem> = Vec::new();
    let mut read_files = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|source| DeskError::Read {
            path: path.clone(),
            source,
        })?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        read_files.push(crate::past_issues::read(
            &String::from_utf8_lossy(&bytes),
            &name,
        ));
    }
    for (path, read) in files.iter().zip(read_files) {
        let Some(number) = read.number else {
            report_files.push(ImportedFile {
                path: path.clone(),
                issue: Err(
                    "no issue number (give it a `# … issue N` title, or name the file issue-N)"
                        .into(),
                ),
                sections: Vec::new(),
            });
            continue;
        };
        let date = read.date.unwrap_or_else(|| {
            let latest = now - chrono::Duration::days(i64::from(config.output.window_days));
            std::fs::metadata(path)
                .and_then(|m| m.modified())
                .map(DateTime::<Utc>::from)
                .map_or(latest, |m| m.min(latest))
        });
        let mut sections: Vec<(Option<String>, usize)> = Vec::new();
        for item in &read.items {
            let Some(canonical) = url::Url::parse(&item.url)
                .ok()
                .and_then(clean::canonical::canonicalize_url)
            else {
                continue;
            };
            match sections.iter_mut().find(|(s, _)| *s == item.section) {
                Some((_, n)) => *n += 1,
                None => sections.push((item.section.clone(), 1)),
            }
            let host = url::Url::parse(&item.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string));
            items.push(crate::store::CatalogueItem {
                issue: number,
                section: item.section.clone(),
                url: item.url.clone(),
                canonical_url: canonical,
                blurb: item.blurb.clone(),
                features: crate::learn::features(&crate::learn::Source {
                    text: &item.blurb,
                    host: host.as_deref(),
                    ..Default::default()
                }),
            });
        }
        issues.push((number, date));
        report_files.push(ImportedFile {
            path: path.clone(),
            issue: Ok((number, date)),
            sections,
        });
    }
    let links = items
        .iter()
        .map(|i| i.canonical_url.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let added = store
        .import_catalogue(&issues, &items, now, dry_run)
        .await?;
    Ok(ImportReport {
        files: report_files,
        items: items.len(),
        links,
        added,
        dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_iso_weeks_in_four_digit_years() {
        assert_eq!(
            parse_week("2014-W15").unwrap().to_rfc3339(),
            "2014-04-07T00:00:00+00:00"
        );
        assert_eq!(
            parse_week("2014-w1").unwrap().to_rfc3339(),
            "2013-12-30T00:00:00+00:00"
        );
        for bad in [
            "262143-W01",
            "-262143-W02",
            "-5-W01",
            "+2014-W1",
            "2014-W+1",
            "2014-W001",
            "2014-W54",
            "2014",
            "",
        ] {
            assert!(parse_week(bad).is_err(), "{bad}");
        }
        // The extremes a page may link to (a week either side) stay representable.
        let last = parse_week("9999-W52").unwrap();
        assert_eq!(week_of(last + chrono::Duration::days(7)), "10000-W01");
        let first = parse_week("0000-W01").unwrap();
        assert!(week_of(first - chrono::Duration::days(7)).starts_with('-'));
    }
}
