//! What the editor's decisions teach the ranking (issue 15). Pure: the desk loads the examples
//! and passes them in; nothing here reads the clock or the store.
//!
//! **Features.** A story is described by a small set of tokens ([`features`]): the words of
//! its title and of the start of its text (`w:`), the two-word phrases of its title (`p:`), the
//! feeds that carried it (`feed:`), its host (`host:`), its author (`by:`) and, added when
//! ranking, its section (`s:`). An item of a past issue is described the same way from its
//! blurb, link and section (and, by the desk, from its story when it is stored, or the feeds
//! at its host).
//!
//! **Examples.** Positives: the editor's picks (published or not) and the items of imported
//! past issues. Negatives: the rejects, and, weighing [`WEAK`], up to a few thousand stories of
//! the four weeks before the window that nobody picked (so that picks alone, without a single
//! reject, still tell the usual stream from what the editor takes).
//!
//! **Model.** A logistic regression that starts from the keyword profile: the log-odds of a
//! pick are `k × keyword score + Σ w_f x_f + b`, with `k` starting at [`SCALE`] and pulled back
//! towards it, and the feature weights `w_f` pulled towards 0 (L2). So with few decisions the
//! ranking is the keyword score, and each decision moves it only as far as the evidence goes;
//! the model learns both which features the editor favours or avoids and how far the keyword
//! score itself can be trusted (keyword-stuffed vendor posts teach it that). A story's vector:
//! its words and phrases share one unit of length (a long text does not weigh more), its
//! sources and section count 1 each. Trained by full-batch gradient descent with per-feature
//! step sizes (AdaGrad) for a fixed number of rounds over the examples in a fixed order: the
//! same decisions always give the same ranking.
//!
//! Why a logistic regression rather than naive Bayes: the same words are in a story's title and
//! text, its feed and host go together, and keyword-stuffed posts are rejected *because* of
//! the words the profile counts; naive Bayes counts correlated features over and over and
//! cannot learn that the keyword score overrates some stories, a regression weighs each feature
//! given the others and the keyword score. Naive Bayes variants were tried first on the
//! relevance benchmark's development weeks (BENCHMARKS.md) and found fewer picks.
//!
//! **Contribution.** In keyword-score points: `(k − SCALE) × keyword score + Σ w_f x_f`, divided
//! by `SCALE`, bounded smoothly by `BOUND × tanh(value / BOUND)`, times `[learning] weight`;
//! added to the keyword score. The parts (the features that moved the story most, and
//! "keywords" for the trust in the profile) are what `why` and `explain` show. No examples, no
//! model: nothing changes.

use std::collections::HashMap;

use crate::model::LearningExample;

/// How far the learned value can move a story, in keyword-score points, before `[learning]
/// weight` (keyword scores of real stories run from 0 to about 40).
pub const BOUND: f64 = 40.0;
/// Log-odds of a pick per keyword-score point, where the model starts.
const SCALE: f64 = 0.2;
/// L2 pull of each feature weight towards 0 (per example).
const LAMBDA: f64 = 0.003;
/// L2 pull of the keyword-score weight towards [`SCALE`].
const LAMBDA_KEYWORDS: f64 = 0.01;
/// Step size and rounds of the gradient descent.
const STEP: f64 = 0.5;
const ROUNDS: usize = 500;
/// What a story that was merely shown, and not picked, weighs as a negative example.
pub const WEAK: f64 = 0.25;
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
    for w in words(crate::text::truncate_at_char(s.text, TEXT_CHARS)) {
        out.push(format!("w:{w}"));
    }
    for f in s.feeds {
        out.push(feed_feature(f));
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

/// The feature of a feed, by its name.
pub fn feed_feature(name: &str) -> String {
    format!("feed:{}", token(name))
}

/// The section feature (the section a story ends up in is decided when ranking).
fn section_feature(section: &str) -> String {
    format!("s:{}", token(section))
}

/// Lower-cased words of `text` worth a feature: no stopwords, no lone digits, no one-letter
/// words (`ci` and `k8s` stay).
fn words(text: &str) -> Vec<String> {
    crate::text::normalize(text)
        .split(' ')
        .filter(|w| w.len() >= 2 && !w.bytes().all(|b| b.is_ascii_digit()))
        .filter(|w| !STOPWORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// A name as one token (`Netflix TechBlog` → `netflix_techblog`).
fn token(name: &str) -> String {
    crate::text::normalize(name).trim().replace(' ', "_")
}

/// The part of a learned value that is the model's trust in the keyword score.
pub const KEYWORDS: &str = "keywords";

/// The learned weights.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// Per feature, in log-odds per unit of the story's (normalized) feature vector.
    weights: HashMap<String, f64>,
    /// The weight learned for the keyword score (it starts at `scale`).
    keyword: f64,
    /// How many examples (of each kind) it learned from, for `explain`.
    pub positives: usize,
    pub negatives: usize,
}

/// What the model says of one story.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Learned {
    /// Bounded, before `[learning] weight`, in keyword-score points.
    pub value: f64,
    /// The features that moved it most, with what each added (in points), strongest first
    /// (at most 5).
    pub top: Vec<(String, f64)>,
}

/// The value of each feature in a story's vector: its words and phrases share one unit of
/// length (a long text does not weigh more); its sources and section count 1 each.
fn values(fs: &[&str]) -> Vec<f64> {
    let is_text = |f: &str| f.starts_with("w:") || f.starts_with("p:");
    let text = fs.iter().filter(|f| is_text(f)).count().max(1) as f64;
    fs.iter()
        .map(|f| if is_text(f) { 1.0 / text.sqrt() } else { 1.0 })
        .collect()
}

/// The features of an example or story with its section's, sorted and unique.
fn with_section<'a>(features: &'a str, section: &'a str) -> Vec<&'a str> {
    let mut fs: Vec<&str> = features
        .split(' ')
        .filter(|f| !f.is_empty())
        .chain((!section.is_empty()).then_some(section))
        .collect();
    fs.sort_unstable();
    fs.dedup();
    fs
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Model {
    /// Learns from `examples` (see the module's doc). `None` when there is no decision and no
    /// past issue to learn from: the ranking is then the keyword score alone.
    pub fn train(examples: &[LearningExample]) -> Option<Model> {
        let strong = examples.iter().filter(|e| e.weight >= 1.0).count();
        if strong == 0 {
            return None;
        }
        // A fixed order, whatever order the examples came in: sums of floats depend on it.
        let mut examples: Vec<&LearningExample> = examples.iter().collect();
        examples.sort_by(|a, b| {
            (&a.features, &a.section, a.positive)
                .cmp(&(&b.features, &b.section, b.positive))
                .then(a.weight.total_cmp(&b.weight))
                .then(a.base.total_cmp(&b.base))
        });
        let sections: Vec<String> = examples
            .iter()
            .map(|e| {
                if e.section.is_empty() {
                    String::new()
                } else {
                    section_feature(&e.section)
                }
            })
            .collect();
        let lists: Vec<Vec<&str>> = examples
            .iter()
            .zip(&sections)
            .map(|(e, s)| with_section(&e.features, s))
            .collect();
        let mut names: Vec<&str> = lists.iter().flatten().copied().collect();
        names.sort_unstable();
        names.dedup();
        let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let rows: Vec<Vec<(usize, f64)>> = lists
            .iter()
            .map(|fs| {
                fs.iter()
                    .zip(values(fs))
                    .map(|(f, x)| (index[f], x))
                    .collect()
            })
            .collect();

        let total: f64 = examples.iter().map(|e| e.weight).sum();
        // The keyword-score weight's gradient is taken per point of the largest score, so that
        // its step is on the same footing as the others'.
        let top = examples.iter().map(|e| e.base.abs()).fold(1.0, f64::max);
        let (mut w, mut g2, mut grad) = (
            vec![0.0f64; names.len()],
            vec![0.0f64; names.len()],
            vec![0.0f64; names.len()],
        );
        let (mut bias, mut bias_g2) = (0.0f64, 0.0f64);
        let (mut k, mut k_g2) = (SCALE, 0.0f64);
        for _ in 0..ROUNDS {
            grad.iter_mut().for_each(|g| *g = 0.0);
            let (mut g_bias, mut g_k) = (0.0, 0.0);
            for (e, xs) in examples.iter().zip(&rows) {
                let z = k * e.base + bias + xs.iter().map(|&(i, x)| w[i] * x).sum::<f64>();
                let err = (sigmoid(z) - if e.positive { 1.0 } else { 0.0 }) * e.weight;
                g_bias += err;
                g_k += err * e.base / top;
                for &(i, x) in xs {
                    grad[i] += err * x;
                }
            }
            for i in 0..w.len() {
                let g = grad[i] / total + LAMBDA * w[i];
                g2[i] += g * g;
                w[i] -= STEP * g / (g2[i].sqrt() + 1e-9);
            }
            let g = g_bias / total;
            bias_g2 += g * g;
            bias -= STEP * g / (bias_g2.sqrt() + 1e-9);
            let g = g_k / total + LAMBDA_KEYWORDS * (k - SCALE) * top;
            k_g2 += g * g;
            k -= STEP * SCALE * g / (k_g2.sqrt() + 1e-9);
        }
        let weights = names
            .iter()
            .zip(&w)
            .filter(|(_, w)| w.abs() >= 1e-4)
            .map(|(n, w)| (n.to_string(), *w))
            .collect();
        let positives = examples
            .iter()
            .filter(|e| e.positive && e.weight >= 1.0)
            .count();
        Some(Model {
            weights,
            keyword: k,
            positives,
            negatives: strong - positives,
        })
    }

    /// What the model says of a story with these (stored, space-separated) features in this
    /// section and with this keyword score: in keyword-score points, bounded.
    pub fn score(&self, features: &str, section: &str, base: f64) -> Learned {
        let section = section_feature(section);
        let all = with_section(features, &section);
        let mut parts: Vec<(&str, f64)> = all
            .iter()
            .zip(values(&all))
            .filter_map(|(f, x)| {
                let (k, w) = self.weights.get_key_value(*f)?;
                Some((k.as_str(), w * x / SCALE))
            })
            .collect();
        let trust = (self.keyword - SCALE) * base / SCALE;
        if trust.abs() >= 0.005 {
            parts.push((KEYWORDS, trust));
        }
        if parts.is_empty() {
            return Learned::default();
        }
        let sum: f64 = parts.iter().map(|(_, p)| p).sum();
        let value = BOUND * (sum / BOUND).tanh();
        parts.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then_with(|| a.0.cmp(b.0)));
        Learned {
            value: crate::text::round(value),
            top: parts
                .into_iter()
                .take(5)
                .map(|(f, p)| (f.to_string(), crate::text::round(p)))
                .collect(),
        }
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
        _ if feature == KEYWORDS => "the keyword score".to_string(),
        _ => feature.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Model {
        /// How far the model trusts the keyword score, relative to where it started (1: as
        /// much).
        fn keyword_trust(&self) -> f64 {
            self.keyword / SCALE
        }

        /// The weight of one feature, if the model has it.
        fn weight(&self, feature: &str) -> Option<f64> {
            self.weights.get(feature).copied()
        }
    }

    fn story(title: &str, text: &str, feed: &str, host: &str) -> String {
        features(&Source {
            title,
            text,
            feeds: &[feed.to_string()],
            host: Some(host),
            author: None,
        })
    }

    fn ex(f: &str, positive: bool, base: f64) -> LearningExample {
        LearningExample {
            section: "News".into(),
            features: f.to_string(),
            positive,
            weight: 1.0,
            base,
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
        assert_eq!(Model::train(&[]), None);
        // Weak negatives alone teach nothing either.
        let weak = LearningExample {
            weight: WEAK,
            ..ex("w:x", false, 3.0)
        };
        assert_eq!(Model::train(&[weak]), None);
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
            .flat_map(|_| [ex(&picked, true, 2.0), ex(&rejected, false, 2.0)])
            .collect();
        let m = Model::train(&examples).unwrap();
        assert_eq!((m.positives, m.negatives), (3, 3));
        assert!(m.weight("w:postmortem").unwrap() > 0.0);
        assert!(m.weight("feed:vendor").unwrap() < 0.0);
        let good = m.score(
            &story("Another postmortem", "", "Ops Blog", "ops.example"),
            "News",
            2.0,
        );
        let bad = m.score(
            &story("Webinar recording", "", "Vendor", "vendor.example"),
            "News",
            2.0,
        );
        assert!(good.value > 0.0 && bad.value < 0.0, "{good:?} {bad:?}");
        assert!(good.value <= BOUND && bad.value >= -BOUND);
        assert!(
            good.top.iter().any(|(f, _)| f == "feed:ops_blog"),
            "{good:?}"
        );
        // The parts shown are what the value is made of (before the bound), strongest first.
        let sum: f64 = good.top.iter().map(|(_, p)| p).sum();
        assert!(good.top.len() < 5 || sum.abs() >= good.value.abs() * 0.5);
        assert!(good.top.windows(2).all(|w| w[0].1.abs() >= w[1].1.abs()));
        // A story with nothing the model knows, and no keyword score, is not moved.
        assert_eq!(
            m.score("w:unrelated host:else.example", "Elsewhere", 0.0),
            Learned::default()
        );
    }

    #[test]
    fn the_value_is_bounded_however_strong_the_evidence() {
        let picked = story("Kubernetes postmortem", "", "Ops Blog", "ops.example");
        let rejected = story("Kubernetes webinar", "", "Vendor", "vendor.example");
        let examples: Vec<LearningExample> = (0..400)
            .flat_map(|_| [ex(&picked, true, 0.0), ex(&rejected, false, 0.0)])
            .collect();
        let m = Model::train(&examples).unwrap();
        let (good, bad) = (
            m.score(&picked, "News", 0.0),
            m.score(&rejected, "News", 0.0),
        );
        assert!(good.value > 1.0 && good.value <= BOUND, "{good:?}");
        assert!(bad.value < -1.0 && bad.value >= -BOUND, "{bad:?}");
    }

    #[test]
    fn rejected_keyword_stuffing_lowers_the_trust_in_the_keyword_score() {
        // High keyword scores rejected, low ones picked, from sources that say nothing.
        let examples: Vec<LearningExample> = (0..12)
            .flat_map(|i| {
                let stuffed = story(&format!("stuffed {i}"), "", &format!("v{i}"), "v.example");
                let plain = story(&format!("plain {i}"), "", &format!("b{i}"), "b.example");
                [ex(&stuffed, false, 20.0), ex(&plain, true, 2.0)]
            })
            .collect();
        let m = Model::train(&examples).unwrap();
        assert!(m.keyword_trust() < 1.0, "{}", m.keyword_trust());
        // A new stuffed story is pulled down, and "the keyword score" is named as why.
        let s = m.score("w:unseen", "News", 20.0);
        assert!(s.value < 0.0, "{s:?}");
        assert!(s.top.iter().any(|(f, _)| f == KEYWORDS), "{s:?}");
        // Picks of high-scoring stories raise it instead.
        let examples: Vec<LearningExample> = (0..12)
            .flat_map(|i| {
                let good = story(&format!("good {i}"), "", &format!("v{i}"), "v.example");
                let dull = story(&format!("dull {i}"), "", &format!("b{i}"), "b.example");
                [ex(&good, true, 20.0), ex(&dull, false, 2.0)]
            })
            .collect();
        assert!(Model::train(&examples).unwrap().keyword_trust() > 1.0);
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
                    f64::from(i % 5),
                )
            })
            .collect();
        let mut ys = xs.clone();
        ys.reverse();
        let (m1, m2) = (Model::train(&xs).unwrap(), Model::train(&ys).unwrap());
        let f = story("kubernetes again", "", "f1", "h.example");
        assert_eq!(m1.score(&f, "News", 3.0), m2.score(&f, "News", 3.0));
        assert_eq!(m1, m2);
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
        assert_eq!(describe(KEYWORDS), "the keyword score");
    }
}
