//! The candidate list and the files made from it: ranking the window (`ranking`) with the
//! stories' text, `candidates.md`/`.json`, and the curated feeds.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::ranking::{self, Filter};
use super::scoring::{learned_model, rescore, window_start};
use super::{DeskError, write};
use crate::config::Config;
use crate::model::{Candidate, DecisionRow, PoolRow};
use crate::output;
use crate::store::Store;

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
    let groups = ranking::rank(&window, config, as_of, start, model.as_ref(), filter);
    let t_rank = t.elapsed();
    let details = store
        .story_details(&ranking::needed(&window, &groups))
        .await?;
    let list = ranking::assemble(&window, &groups, &details);
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

pub(super) async fn refresh_with(
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
    match super::candidates_md::parse(md) {
        Ok(marks) => marks.iter().any(|m| {
            m.action != super::candidates_md::Action::Nothing
                || m.blurb.is_some()
                || m.reason.is_some()
        }),
        Err(_) => true,
    }
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
pub(super) async fn is_candidate(
    config: &Config,
    store: &Store,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DeskError> {
    let (cands, _) = candidates(config, store, now, None, &Filter::default(), now).await?;
    Ok(cands.iter().any(|c| c.id == id || c.also_ids.contains(&id)))
}

/// The other URLs of a story's near-duplicate group, as the candidate list shows them now.
pub(super) async fn also_at(
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
pub(super) fn also_at_in(cands: &[Candidate], id: i64, own: Option<&str>) -> Vec<String> {
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
