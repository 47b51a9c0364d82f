//! The candidate list, assembled from the stories of a window. Pure: the caller loads the pool
//! (stories with their base scores and decisions) and the ledger, and passes `as_of`, which is
//! the only "now" used (for decay and for how long a used Events/Jobs link may repeat).
//!
//! 1. Drop vetoed and unscored stories.
//! 2. Group near-duplicates (`neardup`); a group with a pending decision (picked for the next
//!    issue, or rejected), a snoozed member, or a link in the ledger leaves the list — except
//!    that Events and Jobs links may come back for `repeat_days` after their use. A story
//!    back from a snooze ages (decays) from the snooze's end.
//! 3. A group's candidate is its best-scoring member; the others become "also at" links, their
//!    feeds join the sources.
//! 4. Sections: the editor's (none yet for candidates), else the owning feed's, else the rules
//!    in `sections`. Sections are listed in the configured order, unknown ones after; within a
//!    section by score (then newest, then id), at most `per_section`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::model::{PoolRow, WindowRow};
use crate::neardup;
use crate::score::{self, Explanation};

/// One entry of `why`: a matched term, or another factor of the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Why {
    Term {
        term: String,
        field: String,
        contribution: f64,
    },
    Factor {
        factor: String,
        value: f64,
    },
}

/// One candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The story id: what `pick`, `reject` and `explain` take.
    pub id: i64,
    pub title: String,
    pub url: Option<String>,
    /// Other URLs of the same story (near-duplicates).
    pub also_at: Vec<String>,
    pub sources: Vec<String>,
    pub section: String,
    /// Publication date (first seen, for undated stories): what the decay is measured from.
    pub published: Option<DateTime<Utc>>,
    pub score: f64,
    pub why: Vec<Why>,
    pub excerpt: String,
    /// Ids of the near-duplicates grouped under this candidate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_ids: Vec<i64>,
}

/// Filters from the command line.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub section: Option<String>,
    pub limit: Option<usize>,
}

/// The `why` list of an explanation at a given decay.
pub fn why(e: &Explanation, decay: f64) -> Vec<Why> {
    let mut out: Vec<Why> = e
        .terms
        .iter()
        .map(|t| Why::Term {
            term: t.term.clone(),
            field: t.field.clone(),
            contribution: t.contribution,
        })
        .collect();
    if e.feed_weight != 1.0 {
        out.push(Why::Factor {
            factor: format!("feed weight ({})", e.feed.as_deref().unwrap_or("-")),
            value: e.feed_weight,
        });
    }
    if e.host_weight != 1.0 {
        out.push(Why::Factor {
            factor: format!("host weight ({})", e.host.as_deref().unwrap_or("-")),
            value: e.host_weight,
        });
    }
    if e.multi_source_bonus != 0.0 {
        out.push(Why::Factor {
            factor: format!("in {} feeds", e.sources),
            value: e.multi_source_bonus,
        });
    }
    out.push(Why::Factor {
        factor: "recency decay".into(),
        value: score::round(decay),
    });
    out
}

/// What a story's recency decay counts from at `now` (Unix seconds): its date, or — when it
/// came back from a snooze (`(until, at)`) by then — the snooze's end, or it would come back
/// only to rank last.
pub fn aged_from(date: i64, snooze: Option<(i64, i64)>, now: i64) -> i64 {
    match snooze {
        Some((until, at)) if at <= now && until <= now => date.max(until),
        _ => date,
    }
}

/// The date a story's age is measured from: published, else first seen.
pub fn date_of(row: &PoolRow) -> DateTime<Utc> {
    row.story.published.unwrap_or(row.story.first_seen)
}

/// A ranked group of near-duplicates: what the list shows, before the text of its stories is
/// read (see [`assemble`]). Indices are into the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The best-scoring member: the candidate.
    pub best: usize,
    /// The other members, in window order.
    pub others: Vec<usize>,
    pub section: String,
    pub score: f64,
    pub decay: f64,
}

/// The text of a story, read for the listed candidates alone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Details {
    pub title: String,
    pub url: Option<String>,
    /// Feed names, first one first.
    pub sources: Vec<String>,
    pub excerpt: String,
    /// JSON of `score::Explanation`.
    pub explanation: Option<String>,
}

/// The story ids whose [`Details`] the groups need.
pub fn needed(window: &[WindowRow], groups: &[Group]) -> Vec<i64> {
    groups
        .iter()
        .flat_map(|g| std::iter::once(g.best).chain(g.others.iter().copied()))
        .map(|i| window[i].id)
        .collect()
}

fn secs_to_time(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// Steps 1–4 of the module doc on the window's ranking data (scores, fingerprints,
/// sections, decisions, uses): the groups to list, in order, capped and filtered.
pub fn rank(
    window: &[WindowRow],
    config: &Config,
    as_of: DateTime<Utc>,
    filter: &Filter,
) -> Vec<Group> {
    let half_life = config.scoring.half_life;
    let repeat = i64::from(config.output.repeat_days) * 86_400;
    let now = as_of.timestamp();
    // A used link stays out, except that Events and Jobs links may repeat for a while.
    let blocked = |r: &WindowRow| {
        r.decided
            .is_some_and(|(at, published)| !published && at <= now)
            || r.used
                .is_some_and(|(at, repeats)| !(repeats && now < at + repeat))
            || r.snooze.is_some_and(|(until, at)| at <= now && now < until)
    };

    let live: Vec<usize> = (0..window.len())
        .filter(|&i| window[i].base.is_some() && !window[i].vetoed)
        .collect();
    let prints: Vec<&neardup::Fingerprint> = live.iter().map(|&i| &window[i].print).collect();
    let roots = neardup::group_refs(&prints);
    drop(prints);
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (k, g) in roots.iter().enumerate() {
        members.entry(*g).or_default().push(live[k]);
    }

    let scored = |r: &WindowRow| {
        let from = aged_from(r.date, r.snooze, now);
        let decay = score::decay(secs_to_time(from), as_of, half_life);
        (score::round(r.base.unwrap_or(0.0) * decay), decay)
    };
    let mut out = Vec::new();
    for idx in members.values() {
        // Pending picks and rejects leave the list; published picks are the ledger's business
        // (so a used Jobs or Events link may come back for a while).
        if idx.iter().any(|&i| blocked(&window[i])) {
            continue;
        }
        let best = *idx
            .iter()
            .max_by(|&&a, &&b| {
                scored(&window[a])
                    .0
                    .total_cmp(&scored(&window[b]).0)
                    .then_with(|| window[b].id.cmp(&window[a].id))
            })
            .expect("groups are not empty");
        let (score, decay) = scored(&window[best]);
        out.push(Group {
            best,
            others: idx.iter().copied().filter(|&i| i != best).collect(),
            section: window[best].section.to_string(),
            score,
            decay,
        });
    }

    let order = |s: &str| {
        config
            .output
            .sections
            .iter()
            .position(|c| c.eq_ignore_ascii_case(s))
            .unwrap_or(usize::MAX)
    };
    out.sort_by(|a, b| {
        order(&a.section)
            .cmp(&order(&b.section))
            .then_with(|| a.section.cmp(&b.section))
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| window[b.best].date.cmp(&window[a.best].date))
            .then_with(|| window[a.best].id.cmp(&window[b.best].id))
    });
    let mut per: HashMap<String, usize> = HashMap::new();
    out.retain(|g| {
        let n = per.entry(g.section.clone()).or_default();
        *n += 1;
        *n <= config.output.per_section
    });
    if let Some(s) = &filter.section {
        out.retain(|g| g.section.eq_ignore_ascii_case(s));
    }
    if let Some(l) = filter.limit {
        out.truncate(l);
    }
    out
}

/// Step 3's text: each group's candidate with its excerpt and reasons, and the other members'
/// links and feeds.
pub fn assemble(
    window: &[WindowRow],
    groups: &[Group],
    details: &HashMap<i64, Details>,
) -> Vec<Candidate> {
    let none = Details::default();
    let of = |i: usize| details.get(&window[i].id).unwrap_or(&none);
    groups
        .iter()
        .map(|g| {
            let best = of(g.best);
            let explanation: Option<Explanation> = best
                .explanation
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok());
            let mut sources = best.sources.clone();
            let mut also_at = Vec::new();
            let mut also_ids = Vec::new();
            for &i in &g.others {
                let r = of(i);
                also_ids.push(window[i].id);
                if let Some(u) = &r.url
                    && Some(u) != best.url.as_ref()
                    && !also_at.contains(u)
                {
                    also_at.push(u.clone());
                }
                for s in &r.sources {
                    if !sources.contains(s) {
                        sources.push(s.clone());
                    }
                }
            }
            Candidate {
                id: window[g.best].id,
                title: best.title.clone(),
                url: best.url.clone(),
                also_at,
                sources,
                section: g.section.clone(),
                published: Some(secs_to_time(window[g.best].date)),
                score: g.score,
                why: explanation
                    .as_ref()
                    .map(|e| why(e, g.decay))
                    .unwrap_or_default(),
                excerpt: best.excerpt.clone(),
                also_ids,
            }
        })
        .collect()
}
