//! The candidate list, assembled from the stories of a window. Pure: the caller loads the pool
//! (stories with their base scores and decisions) and the ledger, and passes `as_of`, which is
//! the only "now" used (for decay and for how long a used Events/Jobs link may repeat).
//!
//! 1. Drop vetoed and unscored stories.
//! 2. Group near-duplicates (`neardup`); a group with a pending decision (picked for the next
//!    issue, or rejected) or with a link in the ledger leaves the list — except that Events
//!    and Jobs links may come back for `repeat_days` after their use.
//! 3. A group's candidate is its best-scoring member; the others become "also at" links, their
//!    feeds join the sources.
//! 4. Sections: the editor's (none yet for candidates), else the owning feed's, else the rules
//!    in `sections`. Sections are listed in the configured order, unknown ones after; within a
//!    section by score (then newest, then id), at most `per_section`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::model::{LedgerRow, PoolRow};
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

/// The date a story's age is measured from.
pub fn date_of(row: &PoolRow) -> DateTime<Utc> {
    row.story.published.unwrap_or(row.story.first_seen)
}

/// A ranked group of near-duplicates: what the list shows, before the text of its stories is
/// read (see [`assemble`]). Indices are into the pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The best-scoring member: the candidate.
    pub best: usize,
    /// The other members, in pool order.
    pub others: Vec<usize>,
    pub section: String,
    pub score: f64,
    pub decay: f64,
}

/// The text of a story that only the listed candidates need: read for them alone, so a window
/// of two weeks of stories is held without it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Details {
    /// Feed names, first one first.
    pub sources: Vec<String>,
    pub excerpt: String,
    /// JSON of `score::Explanation`.
    pub explanation: Option<String>,
}

/// Builds the ranked candidate list from pool rows that carry their text (sources, excerpt,
/// explanation): [`rank`], then [`assemble`].
pub fn build(
    pool: &[PoolRow],
    ledger: &[LedgerRow],
    config: &Config,
    as_of: DateTime<Utc>,
    filter: &Filter,
) -> Vec<Candidate> {
    let groups = rank(pool, ledger, config, as_of, filter);
    let details: HashMap<i64, Details> = groups
        .iter()
        .flat_map(|g| std::iter::once(g.best).chain(g.others.iter().copied()))
        .map(|i| {
            let r = &pool[i];
            (
                r.story.id,
                Details {
                    sources: r.story.sources.clone(),
                    excerpt: r.story.excerpt.clone(),
                    explanation: r.explanation.clone(),
                },
            )
        })
        .collect();
    assemble(pool, &groups, &details)
}

/// The story ids whose [`Details`] the groups need.
pub fn needed(pool: &[PoolRow], groups: &[Group]) -> Vec<i64> {
    groups
        .iter()
        .flat_map(|g| std::iter::once(g.best).chain(g.others.iter().copied()))
        .map(|i| pool[i].story.id)
        .collect()
}

/// Steps 1–4 of the module doc on the pool's ranking data alone (titles, links, scores,
/// dates, decisions): the groups to list, in order, capped and filtered.
pub fn rank(
    pool: &[PoolRow],
    ledger: &[LedgerRow],
    config: &Config,
    as_of: DateTime<Utc>,
    filter: &Filter,
) -> Vec<Group> {
    let half_life = config.scoring.half_life;
    let repeat = chrono::Duration::days(i64::from(config.output.repeat_days));
    // Replays: only links used by `as_of` count.
    let used: HashMap<&str, &LedgerRow> = ledger
        .iter()
        .filter(|l| l.used_at <= as_of)
        .map(|l| (l.canonical_url.as_str(), l))
        .collect();
    let blocked_url = |url: &str| {
        used.get(url).is_some_and(|l| {
            let repeats = matches!(l.section.as_deref(), Some("Events" | "Jobs"));
            !(repeats && as_of < l.used_at + repeat)
        })
    };

    let live: Vec<usize> = (0..pool.len())
        .filter(|&i| pool[i].base.is_some() && pool[i].vetoed_by.is_none())
        .collect();
    let prints: Vec<neardup::Fingerprint> = live
        .iter()
        .map(|&i| {
            let r = &pool[i];
            let mut f =
                neardup::fingerprint(&r.story.title, "", r.story.url.as_deref(), Some(r.simhash));
            f.body_len = r.body_len.max(0) as usize;
            f
        })
        .collect();
    let roots = neardup::group(&prints);
    drop(prints);
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (k, g) in roots.iter().enumerate() {
        members.entry(*g).or_default().push(live[k]);
    }

    let scored = |r: &PoolRow| {
        let decay = score::decay(date_of(r), as_of, half_life);
        (score::round(r.base.unwrap_or(0.0) * decay), decay)
    };
    let mut out = Vec::new();
    for idx in members.values() {
        // Pending picks and rejects leave the list; published picks are the ledger's business
        // (so a used Jobs or Events link may come back for a while).
        if idx.iter().map(|&i| &pool[i]).any(|r| {
            r.decision
                .as_ref()
                .is_some_and(|d| d.issue.is_none() && d.decided_at <= as_of)
                || r.story.canonical_url.as_deref().is_some_and(blocked_url)
        }) {
            continue;
        }
        let best = *idx
            .iter()
            .max_by(|&&a, &&b| {
                scored(&pool[a])
                    .0
                    .total_cmp(&scored(&pool[b]).0)
                    .then_with(|| pool[b].story.id.cmp(&pool[a].story.id))
            })
            .expect("groups are not empty");
        let (score, decay) = scored(&pool[best]);
        let b = &pool[best];
        out.push(Group {
            best,
            others: idx.iter().copied().filter(|&i| i != best).collect(),
            section: crate::sections::suggest(
                b.feed_section.as_deref(),
                b.story.url.as_deref(),
                &b.story.title,
            ),
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
            .then_with(|| date_of(&pool[b.best]).cmp(&date_of(&pool[a.best])))
            .then_with(|| pool[a.best].story.id.cmp(&pool[b.best].story.id))
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
    pool: &[PoolRow],
    groups: &[Group],
    details: &HashMap<i64, Details>,
) -> Vec<Candidate> {
    let none = Details::default();
    let of = |i: usize| details.get(&pool[i].story.id).unwrap_or(&none);
    groups
        .iter()
        .map(|g| {
            let best = &pool[g.best];
            let d = of(g.best);
            let explanation: Option<Explanation> = d
                .explanation
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok());
            let mut sources = d.sources.clone();
            let mut also_at = Vec::new();
            let mut also_ids = Vec::new();
            for &i in &g.others {
                let r = &pool[i];
                also_ids.push(r.story.id);
                if let Some(u) = &r.story.url
                    && Some(u) != best.story.url.as_ref()
                    && !also_at.contains(u)
                {
                    also_at.push(u.clone());
                }
                for s in &of(i).sources {
                    if !sources.contains(s) {
                        sources.push(s.clone());
                    }
                }
            }
            Candidate {
                id: best.story.id,
                title: best.story.title.clone(),
                url: best.story.url.clone(),
                also_at,
                sources,
                section: g.section.clone(),
                published: Some(date_of(best)),
                score: g.score,
                why: explanation
                    .as_ref()
                    .map(|e| why(e, g.decay))
                    .unwrap_or_default(),
                excerpt: d.excerpt.clone(),
                also_ids,
            }
        })
        .collect()
}
