//! The editor's decisions: pick (a candidate, or a link in no feed), reject, unpick, snooze,
//! pause a feed, and `apply` (the ticks of an edited candidates.md, all or nothing).

use std::path::Path;

use chrono::{DateTime, Utc};

use super::candidates::{also_at, also_at_in, candidates, is_candidate, refresh, refresh_with};
use super::ranking::Filter;
use super::{DeskError, story};
use crate::clean;
use crate::config::Config;
use crate::model::{DecisionRow, PoolRow, Verdict};
use crate::store::Store;

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
    crate::ingest::sync(config, store, now, &mut rng).await?;
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
    fetcher: &crate::ingest::Fetcher,
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
    let page = crate::ingest::fetch_page(fetcher, &parsed)
        .await
        .map_err(|e| err(e.to_string()))?;
    let final_url = page.url;
    let meta = crate::page::extract(&page.text);
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
    /// `[z]`: snoozed for [`super::candidates_md::SNOOZE_DAYS`] days.
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
    let marks = super::candidates_md::parse(&md).map_err(apply_err)?;
    let mut problems = Vec::new();
    let mut decisions = Vec::new();
    let mut snoozes = Vec::new();
    // Each marked story's own link, for its "also at" list.
    let mut urls: std::collections::HashMap<i64, Option<String>> = Default::default();
    let mut applied = Applied::default();
    for m in &marks {
        let verdict = match m.action {
            super::candidates_md::Action::Pick => Some(Verdict::Pick),
            super::candidates_md::Action::Reject => Some(Verdict::Reject),
            super::candidates_md::Action::Snooze => None,
            super::candidates_md::Action::Nothing => {
                applied.untouched += 1;
                continue;
            }
        };
        let Some(row) = store.pool_row(m.id).await? else {
            problems.push(super::candidates_md::MarkError {
                line: m.line,
                message: format!("no story with id {}", m.id),
            });
            continue;
        };
        if row.decision.as_ref().is_some_and(|d| d.issue.is_some())
            && !is_candidate(config, store, m.id, now).await?
        {
            problems.push(super::candidates_md::MarkError {
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
    let until = now + chrono::Duration::days(super::candidates_md::SNOOZE_DAYS);
    store.decide_all(&decisions, &snoozes, until, now).await?;
    let own_file = std::fs::canonicalize(path).ok()
        == std::fs::canonicalize(config.output.dir.join("candidates.md")).ok();
    refresh_with(config, store, now, own_file).await?;
    Ok(applied)
}
