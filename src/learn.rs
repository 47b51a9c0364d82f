//! What the editor's decisions teach the ranking (issue 15). Pure: the desk loads the examples
//! and passes them in; nothing here reads the clock or the store.
//!
//! **Features.** A story is described by a small set of tokens ([`features`]): the words of
//! its title and of the start of its text (`w:`), the two-word phrases of its title (`p:`), the
//! feeds that carried it (`feed:`), its host (`host:`), its author (`by:`) and, added when
//! ranking, its section (`s:`). An item of a past issue is described the same way from its
//! blurb, link and section.
//!
//! **Model.** Naive Bayes over feature presence, in log-odds: for each feature seen in the
//! examples, `w = ln((P_f + α) / (P + 2α)) − ln((N_f + α) / (N + 2α))`, where `P_f`/`N_f` are the
//! (weighted) positive and negative examples that have it and `P`/`N` all of them. Positives
//! are the editor's picks (published or not) and the items of imported past issues; negatives
//! the rejects, plus, as weak negatives, a sample of what the feeds brought before the window
//! that nobody picked (so that picks alone, without a single reject, still tell the usual
//! stream from what the editor takes). The keyword profile seeds the positive side: a
//! keyword counts as `weight × SEED` positive examples for its word or phrase.
//!
//! Why naive Bayes: it learns from a handful of decisions (a logistic regression needs many
//! more to beat its regularization), trains in one pass with no iteration or learning rate,
//! is deterministic, and every weight is a plain log-odds a person can read in `explain`.
//!
//! **Contribution.** A story's learned value is the sum of the weights of its features,
//! divided by the square root of how many of them the model knows (a long text must not win
//! by length alone), then bounded smoothly: `weight × BOUND × tanh(sum / BOUND)`. It is added
//! to the keyword score. No examples, no model: nothing changes.

use std::collections::{BTreeMap, HashMap};

use crate::model::LearningExample;
use crate::score;

/// How far the learned value can move a story, before `[learning] weight` (keyword scores
/// of real stories run from 0 to about 20).
pub const BOUND: f64 = 8.0;
/// Additive smoothing of the counts.
const ALPHA: f64 = 1.0;
/// How many positive examples one unit of keyword weight is worth.
const SEED: f64 = 0.5;
/// What a story that was merely shown, and not picked, weighs as a negative example.
pub const WEAK: f64 = 0.25;
/// Features seen in fewer (weighted) examples are ignored: one decision is not a rule.
const MIN_SUPPORT: f64 = 1.5;
/// Words of a story's text read for features (its title is read whole).
const TEXT_CHARS: usize = 1_500;
/// Features kept per story.
const MAX_FEATURES: usize = 160;

/// Words too common to tell stories apart.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been",
    "but", "by", "can", "could", "do", "does", "for", "from", "get", "has", "have", "how", "i",
    "if", "in", "into", "is", "it", "its", "just", "like", "more", "most", "new", "not", "now",
    "of", "on", "one", "or", "our", "out", "over", "so", "some", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "to", "up", "us", "was", "we", "what",
    "when", "which", "who", "why", "will", "with", "you", "your",
];

/// A story as features are read from it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Source<'a> {
    pub title: &'a str,
    /// Plain text (the body, else the excerpt; a past issue's blurb).
    pub text: &'a str,
    pub feeds: &'a [String],
    pub host: Option<&'a str>,
    pub author: Option<&'a str>,
}

/// The features of a story: sorted, unique tokens joined by spaces (how they are stored).
pub fn features(s: &Source) -> String {
    let mut out: Vec<String> = Vec::new();
    let title_words = words(s.title);
    for w in &title_words {
        out.push(format!("w:{w}"));
    }
    for pair in title_words.windows(2) {
        out.push(format!("p:{}_{}", pair[0], pair[1]));
    }
    for w in words(score::truncate_at_char(s.text, TEXT_CHARS)) {
        out.push(format!("w:{w}"));
    }
    for f in s.feeds {
        out.push(format!("feed:{}", token(f)));
    }
    if let Some(h) = s.host.filter(|h| !h.is_empty()) {
        out.push(format!(
            "host:{}",
            h.trim_start_matches("www.").to_lowercase()
        ));
    }
    if let Some(a) = s.author.map(token).filter(|a| !a.is_empty()) {
        out.push(format!("by:{a}"));
    }
    out.sort_unstable();
    out.dedup();
    // Sources first when cutting: they are the strongest signal and there are few of them.
    if out.len() > MAX_FEATURES {
        let (mut keep, rest): (Vec<String>, Vec<String>) =
            out.into_iter().partition(|f| !f.starts_with("w:"));
        keep.extend(
            rest.into_iter()
                .take(MAX_FEATURES.saturating_sub(keep.len())),
        );
        keep.sort_unstable();
        out = keep;
    }
    out.join(" ")
}

/// The section feature (the section a story ends up in is decided when ranking).
fn section_feature(section: &str) -> String {
    format!("s:{}", token(section))
}

/// Lower-cased words of `text` worth a feature: no stopwords, no lone digits, no one-letter
/// words (`ci` and `k8s` stay).
fn words(text: &str) -> Vec<String> {
    score::normalize(text)
        .split(' ')
        .filter(|w| w.len() >= 2 && !w.bytes().all(|b| b.is_ascii_digit()))
        .filter(|w| !STOPWORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// A name as one token (`Netflix TechBlog` → `netflix_techblog`).
fn token(name: &str) -> String {
    score::normalize(name).trim().replace(' ', "_")
}

/// The learned weights.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    weights: HashMap<String, f64>,
    /// How many examples (of each kind) it learned from, for `explain`.
    pub positives: usize,
    pub negatives: usize,
}

/// What the model says of one story.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Learned {
    /// Bounded, before `[learning] weight`.
    pub value: f64,
    /// The features that moved it most, with their weights, strongest first (at most 5).
    pub top: Vec<(String, f64)>,
}

impl Model {
    /// Learns from `examples`, seeded by the keyword profile (`(term, weight)`). `None` when
    /// there is no decision and no past issue to learn from: the ranking is then the keyword
    /// score alone.
    pub fn train<'a>(
        examples: &[LearningExample],
        keywords: impl IntoIterator<Item = (&'a str, f64)>,
    ) -> Option<Model> {
        let strong = examples.iter().filter(|e| e.weight >= 1.0).count();
        if strong == 0 {
            return None;
        }
        let (mut p, mut n) = (0.0, 0.0);
        // BTreeMap: the sums are the same whatever order the examples came in.
        let sections: Vec<String> = examples
            .iter()
            .map(|e| section_feature(&e.section))
            .collect();
        let mut counts: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for (e, section) in examples.iter().zip(&sections) {
            if e.positive {
                p += e.weight;
            } else {
                n += e.weight;
            }
            let section = (!e.section.is_empty()).then_some(section.as_str());
            for f in e
                .features
                .split(' ')
                .filter(|f| !f.is_empty())
                .chain(section)
            {
                let c = counts.entry(f).or_default();
                if e.positive {
                    c.0 += e.weight;
                } else {
                    c.1 += e.weight;
                }
            }
        }
        let seeds: Vec<(String, f64)> = keywords
            .into_iter()
            .filter(|(_, w)| *w > 0.0)
            .filter_map(|(term, w)| {
                let ws = words(term.trim_end_matches('*'));
                let feature = match ws.as_slice() {
                    [one] => format!("w:{one}"),
                    [a, b] => format!("p:{a}_{b}"),
                    _ => return None,
                };
                Some((feature, w * SEED))
            })
            .collect();
        let mut seeded: BTreeMap<&str, f64> = BTreeMap::new();
        for (f, s) in &seeds {
            *seeded.entry(f.as_str()).or_default() += s;
        }
        let mut weights = HashMap::new();
        for (&f, &(pf, nf)) in &counts {
            let pf = pf + seeded.get(f).copied().unwrap_or(0.0);
            if pf + nf < MIN_SUPPORT {
                continue;
            }
            let w =
                ((pf + ALPHA) / (p + 2.0 * ALPHA)).ln() - ((nf + ALPHA) / (n + 2.0 * ALPHA)).ln();
            if w.abs() >= 0.05 {
                weights.insert(f.to_string(), w);
            }
        }
        let positives = examples
            .iter()
            .filter(|e| e.positive && e.weight >= 1.0)
            .count();
        Some(Model {
            weights,
            positives,
            negatives: strong - positives,
        })
    }

    /// What the model says of a story with these (stored, space-separated) features in this
    /// section.
    pub fn score(&self, features: &str, section: &str) -> Learned {
        let section = section_feature(section);
        let mut hits: Vec<(&str, f64)> = features
            .split(' ')
            .chain(std::iter::once(section.as_str()))
            .filter_map(|f| self.weights.get_key_value(f).map(|(k, &w)| (k.as_str(), w)))
            .collect();
        if hits.is_empty() {
            return Learned::default();
        }
        hits.sort_by(|a, b| a.0.cmp(b.0));
        hits.dedup_by(|a, b| a.0 == b.0);
        let sum: f64 = hits.iter().map(|(_, w)| w).sum::<f64>() / (hits.len() as f64).sqrt();
        let value = BOUND * (sum / BOUND).tanh();
        hits.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(b.0)));
        Learned {
            value: score::round(value),
            top: hits
                .into_iter()
                .take(5)
                .map(|(f, w)| (f.to_string(), score::round(w)))
                .collect(),
        }
    }

    /// The weight of one feature, if the model has it.
    pub fn weight(&self, feature: &str) -> Option<f64> {
        self.weights.get(feature).copied()
    }
}

/// A feature as a reader says it: `w:postmortem` → `“postmortem”`, `feed:acme_blog` →
/// `feed acme_blog`.
pub fn describe(feature: &str) -> String {
    match feature.split_once(':') {
        Some(("w", w)) => format!("\u{201c}{w}\u{201d}"),
        Some(("p", p)) => format!("\u{201c}{}\u{201d}", p.replace('_', " ")),
        Some(("feed", f)) => format!("feed {f}"),
        Some(("host", h)) => format!("site {h}"),
        Some(("by", a)) => format!("author {a}"),
        Some(("s", s)) => format!("section {s}"),
        _ => feature.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(title: &str, text: &str, feed: &str, host: &str) -> String {
        features(&Source {
            title,
            text,
            feeds: &[feed.to_string()],
            host: Some(host),
            author: None,
        })
    }

    fn ex(f: &str, positive: bool) -> LearningExample {
        LearningExample {
            section: "News".into(),
            features: f.to_string(),
            positive,
            weight: 1.0,
        }
    }

    #[test]
    fn features_are_words_title_phrases_and_sources() {
        let f = story(
            "How we cut our Kubernetes bill",
            "The cluster autoscaler and the bill.",
            "Acme Engineering",
            "www.eng.acme.example",
        );
        for want in [
            "w:kubernetes",
            "w:bill",
            "w:cut",
            "w:cluster",
            "w:autoscaler",
            "p:cut_kubernetes",
            "p:kubernetes_bill",
            "feed:acme_engineering",
            "host:eng.acme.example",
        ] {
            assert!(f.split(' ').any(|x| x == want), "{want} in {f}");
        }
        assert!(!f.contains("w:how") && !f.contains("w:the"), "{f}");
        // Sorted, unique: stored as it will be read.
        let parts: Vec<&str> = f.split(' ').collect();
        let mut sorted = parts.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(parts, sorted);
    }

    #[test]
    fn no_decision_no_model() {
        assert_eq!(Model::train(&[], [("kubernetes", 3.0)]), None);
        // Weak negatives alone teach nothing either.
        let weak = LearningExample {
            weight: WEAK,
            ..ex("w:x", false)
        };
        assert_eq!(Model::train(&[weak], []), None);
    }

    #[test]
    fn picks_and_rejects_move_their_features() {
        let picked = story(
            "Our outage postmortem",
            "What broke.",
            "Ops Blog",
            "ops.example",
        );
        let rejected = story(
            "Webinar: DevOps for leaders",
            "Register now.",
            "Vendor",
            "vendor.example",
        );
        let examples: Vec<LearningExample> = (0..3)
            .flat_map(|_| [ex(&picked, true), ex(&rejected, false)])
            .collect();
        let m = Model::train(&examples, []).unwrap();
        assert!(m.weight("w:postmortem").unwrap() > 0.0);
        assert!(m.weight("feed:vendor").unwrap() < 0.0);
        let good = m.score(
            &story("Another postmortem", "", "Ops Blog", "ops.example"),
            "News",
        );
        let bad = m.score(
            &story("Webinar recording", "", "Vendor", "vendor.example"),
            "News",
        );
        assert!(good.value > 0.0 && bad.value < 0.0, "{good:?} {bad:?}");
        assert!(good.value <= BOUND && bad.value >= -BOUND);
        assert!(
            good.top.iter().any(|(f, _)| f == "feed:ops_blog"),
            "{good:?}"
        );
        // A story with nothing the model knows is not moved.
        assert_eq!(
            m.score("w:unrelated host:else.example", "Elsewhere"),
            Learned::default()
        );
    }

    #[test]
    fn the_keyword_profile_seeds_the_positive_side() {
        let a = story("Terraform modules at scale", "", "Blog", "b.example");
        let b = story("Cooking with cast iron", "", "Food", "f.example");
        let examples = [ex(&a, true), ex(&b, false)];
        let plain = Model::train(&examples, []).unwrap();
        let seeded = Model::train(&examples, [("terraform", 3.0)]).unwrap();
        assert!(seeded.weight("w:terraform") > plain.weight("w:terraform"));
    }

    #[test]
    fn training_is_deterministic_whatever_the_order() {
        let xs: Vec<LearningExample> = (0..20)
            .map(|i| {
                ex(
                    &story(
                        &format!("post {i} kubernetes"),
                        "",
                        &format!("f{}", i % 3),
                        "h.example",
                    ),
                    i % 2 == 0,
                )
            })
            .collect();
        let mut ys = xs.clone();
        ys.reverse();
        let (m1, m2) = (
            Model::train(&xs, []).unwrap(),
            Model::train(&ys, []).unwrap(),
        );
        let f = story("kubernetes again", "", "f1", "h.example");
        assert_eq!(m1.score(&f, "News"), m2.score(&f, "News"));
    }

    #[test]
    fn features_are_described_for_people() {
        assert_eq!(describe("w:postmortem"), "\u{201c}postmortem\u{201d}");
        assert_eq!(
            describe("p:incident_review"),
            "\u{201c}incident review\u{201d}"
        );
        assert_eq!(describe("feed:acme_blog"), "feed acme_blog");
        assert_eq!(describe("host:acme.example"), "site acme.example");
    }
}
