//! The candidate list, assembled from the stories of a window. Pure: the caller loads the pool
//! (stories with their base scores and decisions) and the ledger, and passes `as_of`, which is
//! the only "now" used (for how long a used Events/Jobs link may repeat), the window's start
//! and the model learned from the editor's decisions (`learn`), if any.
//!
//! A story's score is `(base + learned) × decay`: its keyword score, plus what the editor's
//! decisions say of stories like it (bounded, times `[learning] weight`), times a decay that
//! is 1 for every story dated inside the window — a weekly editor reads the whole week, so a
//! Tuesday post is not worth less than a Sunday one — and halves every `half_life` that a
//! story is older than the window's start (one the feeds brought late, or back from a snooze
//! that ended before the window: a snooze that ends inside it counts from its end).
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

use crate::config::Config;
use crate::learn::{self, Learned, Model};
use crate::model::{Candidate, Details, PoolRow, Sections, Why, WindowRow};
use crate::neardup;
use crate::score::{self, Explanation};

/// Filters from the command line.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub section: Option<String>,
    pub limit: Option<usize>,
}

/// The `why` list of an explanation, what was learned, and the decay.
pub fn why(e: &Explanation, learned: &Learned, decay: f64) -> Vec<Why> {
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
    if learned.value != 0.0 {
        out.push(Why::Factor {
            factor: "learned from your decisions".into(),
            value: learned.value,
        });
        for (feature, w) in learned.top.iter().take(3) {
            out.push(Why::Factor {
                factor: format!("learned: {}", learn::describe(feature)),
                value: *w,
            });
        }
    }
    out.push(Why::Factor {
        factor: "recency decay".into(),
        value: crate::text::round(decay),
    });
    out
}

/// What the model says of a window row, scaled by `[learning] weight` (nothing without a
/// model).
pub fn learned(row: &WindowRow, model: Option<&Model>, weight: f64) -> Learned {
    let Some(m) = model else {
        return Learned::default();
    };
    let l = m.score(&row.features, &row.section, row.base.unwrap_or(0.0));
    Learned {
        value: crate::text::round(l.value * weight),
        top: l.top,
    }
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
    /// What the model learned from the editor's decisions says of the candidate.
    pub learned: Learned,
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
    window_start: DateTime<Utc>,
    model: Option<&Model>,
    filter: &Filter,
) -> Vec<Group> {
    let half_life = config.scoring.half_life;
    let weight = config.learning.weight;
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
    let prints: Vec<&crate::model::Fingerprint> = live.iter().map(|&i| &window[i].print).collect();
    let roots = neardup::group_refs(&prints);
    drop(prints);
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (k, g) in roots.iter().enumerate() {
        members.entry(*g).or_default().push(live[k]);
    }

    // Learned once per row (the best of a group is chosen on the full score).
    let learned: HashMap<usize, Learned> = live
        .iter()
        .map(|&i| (i, self::learned(&window[i], model, weight)))
        .collect();
    let scored = |i: usize| {
        let r = &window[i];
        let from = aged_from(r.date, r.snooze, now);
        let decay = score::decay(secs_to_time(from), window_start, half_life);
        let l = learned.get(&i).map_or(0.0, |l| l.value);
        (
            crate::text::round((r.base.unwrap_or(0.0) + l) * decay),
            decay,
        )
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
                scored(a)
                    .0
                    .total_cmp(&scored(b).0)
                    .then_with(|| window[b].id.cmp(&window[a].id))
            })
            .expect("groups are not empty");
        let (score, decay) = scored(best);
        out.push(Group {
            best,
            others: idx.iter().copied().filter(|&i| i != best).collect(),
            section: window[best].section.to_string(),
            score,
            decay,
            learned: learned.get(&best).cloned().unwrap_or_default(),
        });
    }

    let sections = &config.output.sections;
    out.sort_by(|a, b| {
        sections
            .rank(&a.section)
            .cmp(&sections.rank(&b.section))
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
        out.retain(|g| Sections::same(&g.section, s));
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
                    .map(|e| why(e, &g.learned, g.decay))
                    .unwrap_or_default(),
                excerpt: best.excerpt.clone(),
                also_ids,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LearningExample;

    fn config() -> Config {
        Config::parse("[scoring]\nhalf_life = \"3d\"\n", std::path::Path::new(".")).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row(id: i64, date: &str, base: f64, features: &str) -> WindowRow {
        WindowRow {
            id,
            date: t(date).timestamp(),
            base: Some(base),
            vetoed: false,
            print: neardup::fingerprint(
                [
                    "Kafka consumer lag",
                    "Zero downtime Postgres",
                    "Cooking with cast iron",
                ][(id as usize - 1) % 3],
                "",
                Some(&format!("https://x.example/{id}")),
                Some((id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            ),
            section: "News".into(),
            decided: None,
            used: None,
            snooze: None,
            features: features.into(),
        }
    }

    const START: &str = "2026-11-23T00:00:00Z";
    const END: &str = "2026-11-29T18:00:00Z";

    #[test]
    fn inside_the_window_a_story_does_not_decay_before_it_it_does() {
        let window = [
            row(1, "2026-11-24T09:00:00Z", 4.0, ""), // Tuesday
            row(2, "2026-11-29T09:00:00Z", 3.0, ""), // Sunday
            row(3, "2026-11-20T00:00:00Z", 4.0, ""), // three days before the window
        ];
        let groups = rank(
            &window,
            &config(),
            t(END),
            t(START),
            None,
            &Filter::default(),
        );
        let score = |id: i64| {
            groups
                .iter()
                .find(|g| window[g.best].id == id)
                .unwrap()
                .score
        };
        // Tuesday's better story stays ahead of Sunday's.
        assert_eq!((score(1), score(2)), (4.0, 3.0));
        // One half-life older than the window: half.
        assert_eq!(score(3), 2.0);
        assert_eq!(groups[0].decay, 1.0);
    }

    #[test]
    fn what_was_learned_is_added_bounded_and_explained() {
        let vendor = "feed:acme_cloud w:webinar w:devops";
        let blog = "feed:ops_blog w:postmortem w:outage";
        let window = [
            row(1, "2026-11-24T09:00:00Z", 6.0, vendor),
            row(2, "2026-11-25T09:00:00Z", 2.0, blog),
        ];
        let c = config();
        let without = rank(&window, &c, t(END), t(START), None, &Filter::default());
        assert_eq!(window[without[0].best].id, 1);
        let examples: Vec<LearningExample> = (0..4)
            .flat_map(|_| {
                [(blog, true, 2.0), (vendor, false, 6.0)].map(|(f, positive, base)| {
                    LearningExample {
                        features: f.into(),
                        section: "News".into(),
                        positive,
                        weight: 1.0,
                        base,
                    }
                })
            })
            .collect();
        let model = Model::train(&examples).unwrap();
        let with = rank(
            &window,
            &c,
            t(END),
            t(START),
            Some(&model),
            &Filter::default(),
        );
        assert_eq!(window[with[0].best].id, 2, "{with:?}");
        for g in &with {
            assert!(g.learned.value.abs() <= learn::BOUND);
            assert_eq!(
                g.score,
                crate::text::round(window[g.best].base.unwrap() + g.learned.value)
            );
        }
        let e = Explanation {
            terms: vec![],
            keyword_score: 2.0,
            feed: None,
            feed_weight: 1.0,
            host: None,
            host_weight: 1.0,
            sources: 1,
            multi_source_bonus: 0.0,
            base: 2.0,
            vetoed_by: None,
        };
        let w = why(&e, &with[0].learned, 1.0);
        assert!(
            w.iter().any(|x| matches!(x, Why::Factor { factor, value } if factor == "learned from your decisions" && *value == with[0].learned.value)),
            "{w:?}"
        );
        assert!(
            w.iter().any(
                |x| matches!(x, Why::Factor { factor, .. } if factor.starts_with("learned: "))
            ),
            "{w:?}"
        );
        // `[learning] weight = 0` is the same as no model.
        let mut off = config();
        off.learning.weight = 0.0;
        let zero = rank(
            &window,
            &off,
            t(END),
            t(START),
            Some(&model),
            &Filter::default(),
        );
        assert_eq!(window[zero[0].best].id, 1);
    }
}
