//! Keyword scoring with reasons. Pure: a [`Scorer`] is compiled once from the config and scores
//! stories deterministically; recency decay is applied separately, at an explicit `as_of` time.
//!
//! Matching is case-insensitive on word boundaries: text and terms are lower-cased and every run
//! of characters that are not letters or digits becomes one space, so `continuous delivery`
//! matches `Continuous-Delivery` and `Continuous delivery.`; `deploy*` matches any word that
//! starts with `deploy`. All terms (global, per-feed, veto) go into one Aho–Corasick automaton,
//! so thousands of keywords cost one pass over the text.
//!
//! The score of a story, before decay (its *base*):
//!
//! ```text
//! keyword score = Σ over matched terms: weight × title_weight        (if in the title; once)
//!                                     + weight × body_weight × min(hits in body, body_cap)
//! base          = keyword score × feed weight × host weight + multi_source_bonus × (sources − 1)
//! score         = base × 0.5^(age / half_life)          (age at `as_of`; never negative)
//! ```
//!
//! The feed weight is the highest weight among the feeds that carried the story; the host weight
//! is that of the story's host or its nearest listed parent domain. A veto term anywhere hides
//! the story. Every part is kept in an [`Explanation`].

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::text::{normalize, round, truncate_at_char};

/// The version of the text features stored with every score (normalization, SimHash). It is
/// part of [`Scorer::version`], so changing how they are computed rescored every story once.
pub const TEXT_VERSION: &str = "text-3";

/// Longest body text scored, in bytes: a 1 MB post cannot cost more than this.
pub const MAX_BODY: usize = 64 * 1024;

/// What a configured term searches for.
fn pattern(term: &str) -> (String, bool) {
    let t = term.trim();
    match t.strip_suffix('*') {
        // Prefix: a word boundary before, anything after.
        Some(prefix) => (format!(" {}", normalize(prefix).trim()), true),
        None => (normalize(t), false),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Keyword,
    Veto,
}

#[derive(Debug, Clone)]
struct Term {
    label: String,
    weight: f64,
    kind: Kind,
    /// `None`: applies to every story; else only to stories from this feed.
    feed: Option<String>,
}

/// One matched term and what it added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermHit {
    pub term: String,
    /// `title` or `body`.
    pub field: String,
    pub hits: u32,
    pub contribution: f64,
    /// Set for a feed's own keyword.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub feed: Option<String>,
}

/// Why a story scored what it did (before decay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub terms: Vec<TermHit>,
    pub keyword_score: f64,
    /// The feed whose weight applied, and the weight.
    pub feed: Option<String>,
    pub feed_weight: f64,
    pub host: Option<String>,
    pub host_weight: f64,
    pub sources: u32,
    pub multi_source_bonus: f64,
    pub base: f64,
    pub vetoed_by: Option<String>,
}

/// A story as scoring sees it.
#[derive(Debug, Clone, Copy)]
pub struct StoryText<'a> {
    pub title: &'a str,
    /// Plain text of the body.
    pub body: &'a str,
    /// Names of the feeds that carried it.
    pub sources: &'a [String],
    pub url: Option<&'a str>,
}

/// The compiled scoring config.
#[derive(Debug)]
pub struct Scorer {
    matcher: Option<AhoCorasick>,
    terms: Vec<Term>,
    feed_weights: HashMap<String, f64>,
    hosts: Vec<(String, f64)>,
    title_weight: f64,
    body_weight: f64,
    body_cap: u32,
    bonus: f64,
    /// A short hash of everything above: stored scores with another version are stale.
    pub version: String,
}

impl Scorer {
    pub fn new(config: &Config) -> Scorer {
        let s = &config.scoring;
        let mut terms = Vec::new();
        let mut patterns = Vec::new();
        let mut add = |label: &str, weight: f64, kind: Kind, feed: Option<&str>| {
            patterns.push(pattern(label).0);
            terms.push(Term {
                label: label.trim().to_string(),
                weight,
                kind,
                feed: feed.map(str::to_string),
            });
        };
        for (k, w) in &s.keywords {
            add(k, *w, Kind::Keyword, None);
        }
        for v in &s.veto {
            add(v, 0.0, Kind::Veto, None);
        }
        for f in &config.feeds {
            for (k, w) in &f.keywords {
                add(k, *w, Kind::Keyword, Some(&f.name));
            }
        }
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                // A DFA: the fastest search, affordable for thousands of short patterns.
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&patterns)
                .expect("keyword patterns are plain strings")
        });
        let feed_weights: HashMap<String, f64> = config
            .feeds
            .iter()
            .map(|f| (f.name.clone(), f.weight))
            .collect();
        let mut h = Sha256::new();
        h.update(TEXT_VERSION);
        h.update(format!(
            "{:?}|{:?}|{:?}|{}|{}|{}|{}",
            terms
                .iter()
                .map(|t| (&t.label, t.weight, t.kind as u8, &t.feed))
                .collect::<Vec<_>>(),
            {
                let mut w: Vec<_> = feed_weights.iter().collect();
                w.sort_by(|a, b| a.0.cmp(b.0));
                w
            },
            s.hosts,
            s.title_weight,
            s.body_weight,
            s.body_cap,
            s.multi_source_bonus
        ));
        let version = crate::text::hex(&h.finalize()[..8]);
        Scorer {
            matcher,
            terms,
            feed_weights,
            hosts: s.hosts.clone(),
            title_weight: s.title_weight,
            body_weight: s.body_weight,
            body_cap: s.body_cap,
            bonus: s.multi_source_bonus,
            version,
        }
    }

    /// Per-term hit counts in normalized text (overlapping matches count, so `kubernetes` and
    /// `kubernetes operator` both match "kubernetes operator").
    ///
    /// Returns `(term, hits in title, hits in body)` for matched terms only, in term order: the
    /// work per story follows the matches, not the size of the keyword list.
    fn count(&self, title: &str, body: &str) -> Vec<(usize, u32, u32)> {
        let Some(m) = &self.matcher else {
            return Vec::new();
        };
        let mut found: Vec<(usize, bool)> = m
            .find_overlapping_iter(title)
            .map(|h| (h.pattern().as_usize(), true))
            .chain(
                m.find_overlapping_iter(body)
                    .map(|h| (h.pattern().as_usize(), false)),
            )
            .collect();
        found.sort_unstable();
        let mut out: Vec<(usize, u32, u32)> = Vec::new();
        for (term, in_title) in found {
            match out.last_mut() {
                Some(last) if last.0 == term => {
                    if in_title {
                        last.1 += 1;
                    } else {
                        last.2 += 1;
                    }
                }
                _ => out.push((term, u32::from(in_title), u32::from(!in_title))),
            }
        }
        out
    }

    /// Scores one story (before decay).
    pub fn score(&self, story: &StoryText) -> Explanation {
        let body = normalize(truncate_at_char(story.body, MAX_BODY));
        self.score_normalized(story, &body)
    }

    /// [`Scorer::score`] with the body already normalized (it is shared with SimHash).
    pub fn score_normalized(&self, story: &StoryText, body: &str) -> Explanation {
        let parsed = story.url.and_then(|u| url::Url::parse(u).ok());
        self.score_parsed(story, body, parsed.as_ref())
    }

    /// [`Scorer::score_normalized`] with the story's link already parsed.
    fn score_parsed(
        &self,
        story: &StoryText,
        body: &str,
        parsed: Option<&url::Url>,
    ) -> Explanation {
        let title = normalize(story.title);

        let mut hits = Vec::new();
        let mut keyword_score = 0.0;
        let mut vetoed_by = None;
        for (i, t, b) in self.count(&title, body) {
            let term = &self.terms[i];
            if let Some(feed) = &term.feed
                && !story.sources.iter().any(|s| s == feed)
            {
                continue;
            }
            if term.kind == Kind::Veto {
                vetoed_by.get_or_insert_with(|| term.label.clone());
                continue;
            }
            if t > 0 {
                let c = term.weight * self.title_weight;
                keyword_score += c;
                hits.push(TermHit {
                    term: term.label.clone(),
                    field: "title".into(),
                    hits: t,
                    contribution: round(c),
                    feed: term.feed.clone(),
                });
            }
            if b > 0 {
                let c = term.weight * self.body_weight * f64::from(b.min(self.body_cap));
                keyword_score += c;
                hits.push(TermHit {
                    term: term.label.clone(),
                    field: "body".into(),
                    hits: b,
                    contribution: round(c),
                    feed: term.feed.clone(),
                });
            }
        }

        let (feed, feed_weight) = story
            .sources
            .iter()
            .map(|s| (s, self.feed_weights.get(s).copied().unwrap_or(1.0)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map_or((None, 1.0), |(s, w)| (Some(s.clone()), w));
        let host = parsed.and_then(|u| {
            u.host_str()
                .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
        });
        let host_weight = host.as_deref().map_or(1.0, |h| self.host_weight(h));
        let sources = story.sources.len() as u32;
        let bonus = self.bonus * f64::from(sources.saturating_sub(1));
        let base = keyword_score * feed_weight * host_weight + bonus;
        Explanation {
            terms: hits,
            keyword_score: round(keyword_score),
            feed,
            feed_weight,
            host,
            host_weight,
            sources,
            multi_source_bonus: round(bonus),
            base: round(base),
            vetoed_by,
        }
    }

    /// A story's stored score: keyword matches over its title and body text (its excerpt
    /// when the body has none), SimHash and length of that text, and the features the learned
    /// ranking reads (`learn::features`). `body_text` is the plain text
    /// of the sanitized body (`clean::html::text_of_sanitized`). The same function scores at
    /// ingest and when rescoring, so both give the same row.
    pub fn score_row(
        &self,
        story_id: i64,
        story: &StoryText,
        excerpt: &str,
        author: Option<&str>,
    ) -> crate::model::ScoreRow {
        let body = if story.body.is_empty() {
            excerpt
        } else {
            story.body
        };
        let normalized = normalize(truncate_at_char(body, MAX_BODY));
        // The link is parsed once, for the host weight, the fingerprint and the section.
        let parsed = story.url.and_then(|u| url::Url::parse(u).ok());
        let e = self.score_parsed(&StoryText { body, ..*story }, &normalized, parsed.as_ref());
        let simhash = crate::neardup::simhash_normalized(&normalized);
        let body_len = body.chars().count();
        crate::model::ScoreRow {
            story_id,
            version: self.version.clone(),
            sources: story.sources.len() as i64,
            base: e.base,
            vetoed_by: e.vetoed_by.clone(),
            simhash,
            body_len: body_len as i64,
            explanation: serde_json::to_string(&e).expect("explanations serialize"),
            print: crate::neardup::fingerprint_url(story.title, parsed.as_ref(), simhash, body_len)
                .encode(),
            section: crate::sections::suggest_url(None, parsed.as_ref(), story.title),
            features: crate::learn::features(&crate::learn::Source {
                title: story.title,
                text: body,
                feeds: story.sources,
                host: parsed.as_ref().and_then(|u| u.host_str()),
                author,
            }),
        }
    }

    /// The weight of `host` or of its nearest listed parent (`github.com` for `gist.github.com`).
    fn host_weight(&self, host: &str) -> f64 {
        let mut h = host;
        loop {
            if let Some((_, w)) = self.hosts.iter().find(|(name, _)| name == h) {
                return *w;
            }
            match h.split_once('.') {
                Some((_, parent)) if parent.contains('.') => h = parent,
                _ => return 1.0,
            }
        }
    }
}

/// Recency decay at `as_of` for a story dated `date`: 1 when new (or dated in the future), ½
/// after one half-life.
pub fn decay(date: DateTime<Utc>, as_of: DateTime<Utc>, half_life: std::time::Duration) -> f64 {
    let age = (as_of - date).num_seconds().max(0) as f64;
    let hl = half_life.as_secs_f64().max(1.0);
    0.5f64.powf(age / hl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scorer(toml: &str) -> Scorer {
        Scorer::new(&Config::parse(toml, Path::new("/")).unwrap())
    }

    fn sources(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn phrases_prefixes_and_word_boundaries() {
        let s = scorer(
            "[keywords]\n\"continuous delivery\" = 5\n\"deploy*\" = 2\ngo = 1\n[scoring]\ntitle_weight = 3\nbody_weight = 1\n",
        );
        let src = sources(&["Blog"]);
        let e = s.score(&StoryText {
            title: "Continuous-Delivery at Acme",
            body: "We deployed. Deployments are boring. Go go gopher; golang is not go-ing.",
            sources: &src,
            url: None,
        });
        let got: Vec<(&str, &str, u32, f64)> = e
            .terms
            .iter()
            .map(|h| (h.term.as_str(), h.field.as_str(), h.hits, h.contribution))
            .collect();
        assert_eq!(
            got,
            [
                ("continuous delivery", "title", 1, 15.0),
                ("deploy*", "body", 2, 4.0),
                // "go", "go", and "go" in "go-ing"; "gopher" and "golang" do not match.
                ("go", "body", 3, 3.0),
            ]
        );
        assert_eq!(e.keyword_score, 22.0);
        assert_eq!(e.base, 22.0);
    }

    #[test]
    fn weights_bonus_veto_and_feed_keywords() {
        let s = scorer(
            r#"
[keywords]
kubernetes = 2
crypto = -4
[scoring]
title_weight = 3
multi_source_bonus = 1.5
veto = ["sponsored post"]
[scoring.hosts]
"github.com" = 2
[[feeds]]
name = "Releases"
url = "https://github.com/k/k/releases.atom"
weight = 1.5
keywords = { helm = 1 }
[[feeds]]
name = "Other"
url = "https://o.example/feed"
"#,
        );
        let two = sources(&["Other", "Releases"]);
        let e = s.score(&StoryText {
            title: "Kubernetes and Helm",
            body: "crypto",
            sources: &two,
            url: Some("https://gist.github.com/x"),
        });
        // (2×3 + 1×3 − 4×1) × 1.5 (Releases) × 2 (github.com via gist.github.com) + 1.5 × 1
        assert_eq!(e.keyword_score, 5.0);
        assert_eq!(
            (e.feed.as_deref(), e.feed_weight, e.host_weight),
            (Some("Releases"), 1.5, 2.0)
        );
        assert_eq!(e.base, 16.5);
        // A feed's own keyword applies only to its stories.
        let one = sources(&["Other"]);
        let e = s.score(&StoryText {
            title: "Helm",
            body: "",
            sources: &one,
            url: None,
        });
        assert!(e.terms.is_empty());
        let e = s.score(&StoryText {
            title: "A Sponsored-Post about k8s",
            body: "",
            sources: &one,
            url: None,
        });
        assert_eq!(e.vetoed_by.as_deref(), Some("sponsored post"));
    }

    #[test]
    fn decay_halves_per_half_life_from_as_of() {
        let hl = std::time::Duration::from_secs(3 * 86400);
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            decay(t("2026-11-20T00:00:00Z"), t("2026-11-20T00:00:00Z"), hl),
            1.0
        );
        assert_eq!(
            decay(t("2026-11-17T00:00:00Z"), t("2026-11-20T00:00:00Z"), hl),
            0.5
        );
        assert_eq!(
            decay(t("2026-11-14T00:00:00Z"), t("2026-11-20T00:00:00Z"), hl),
            0.25
        );
        assert_eq!(
            decay(t("2026-11-25T00:00:00Z"), t("2026-11-20T00:00:00Z"), hl),
            1.0
        );
    }

    #[test]
    fn versions_change_with_the_config_and_only_then() {
        let a = scorer("[keywords]\nk8s = 1\n");
        let b = scorer("[keywords]\nk8s = 1\n");
        let c = scorer("[keywords]\nk8s = 2\n");
        assert_eq!(a.version, b.version);
        assert_ne!(a.version, c.version);
    }

    #[test]
    fn bad_terms_in_the_config_are_rejected() {
        assert!(Config::parse("[keywords]\n\"a*b\" = 1\nx = \"high\"\n", Path::new("/")).is_err());
    }

    #[test]
    fn thousands_of_keywords_compile_into_one_matcher() {
        let mut toml = String::from("[keywords]\n");
        for i in 0..3000 {
            toml.push_str(&format!("\"term{i}\" = 1\n"));
        }
        let s = scorer(&toml);
        let src = sources(&["x"]);
        let e = s.score(&StoryText {
            title: "term1 term2999",
            body: "term17",
            sources: &src,
            url: None,
        });
        assert_eq!(e.terms.len(), 3);
    }
}
