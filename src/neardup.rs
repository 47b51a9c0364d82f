//! Near-duplicates: the same story at different URLs — a syndicated copy, a retitled repost, a
//! GitHub release and the blog post announcing it — grouped under one candidate. Pure.
//!
//! Each story gets a [`Fingerprint`]: its significant title words (lower-cased, stop words
//! dropped, `v1.2` read as `1.2`), the version numbers among them, the owner and repository
//! names when the link is a GitHub URL, and a 64-bit SimHash of its body's word 3-shingles.
//! Two stories are the same when one of these holds (thresholds tested on realistic pairs and
//! non-pairs below):
//!
//! | rule | condition |
//! |---|---|
//! | same title | title-word Jaccard ≥ 0.8, with at least 3 significant words in the shorter title |
//! | same text | SimHash Hamming distance ≤ 3 and both bodies ≥ 500 characters |
//! | similar both | title Jaccard ≥ 0.5 and SimHash distance ≤ 10, both bodies ≥ 200 characters |
//! | release | a shared version number, and one story's product word (its first title word, or its GitHub repository's name) among the other's title or repository words; different hosts |
//!
//! Groups are the connected components of these pairs.

use crate::model::Fingerprint;
use crate::model::{build_fingerprint as build, hash_set as set};

/// Words too common to identify a story.
const STOP: &[&str] = &[
    "a",
    "an",
    "and",
    "announcing",
    "are",
    "as",
    "at",
    "be",
    "by",
    "for",
    "from",
    "has",
    "have",
    "how",
    "in",
    "introducing",
    "is",
    "it",
    "its",
    "new",
    "now",
    "of",
    "on",
    "or",
    "our",
    "out",
    "released",
    "release",
    "releases",
    "the",
    "this",
    "to",
    "we",
    "what",
    "why",
    "with",
    "you",
    "your",
    "available",
    "version",
];

/// Computes the fingerprint of a story; `simhash` may be passed in when stored.
pub fn fingerprint(
    title: &str,
    body: &str,
    url: Option<&str>,
    simhash: Option<u64>,
) -> Fingerprint {
    let parsed = url.and_then(|u| url::Url::parse(u).ok());
    fingerprint_url(
        title,
        parsed.as_ref(),
        simhash.unwrap_or_else(|| self::simhash(body)),
        body.chars().count(),
    )
}

/// [`fingerprint`] with the link already parsed and the body's SimHash and length known.
pub fn fingerprint_url(
    title: &str,
    parsed: Option<&url::Url>,
    simhash: u64,
    body_len: usize,
) -> Fingerprint {
    let mut words = Vec::new();
    let mut versions = Vec::new();
    let mut product = Vec::new();
    for w in crate::text::normalize_keep_dots(title).split(' ') {
        let w = w.trim_matches('.');
        if w.is_empty() {
            continue;
        }
        let v = w.strip_prefix('v').unwrap_or(w);
        if is_version(v) {
            versions.push(word_hash(v));
            words.push(word_hash(v));
        } else if w.len() > 1 && !STOP.contains(&w) {
            if product.is_empty() && !w.bytes().all(|b| b.is_ascii_digit()) {
                product.push(word_hash(w));
            }
            words.push(word_hash(w));
        }
    }
    let words = set(words);
    let versions = set(versions);
    let mut names: Vec<u64> = words
        .iter()
        .filter(|w| versions.binary_search(w).is_err())
        .copied()
        .collect();
    let host = parsed
        .and_then(|u| u.host_str())
        .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
        .unwrap_or_default();
    // github.com/<owner>/<repo>/…: the repository names the product; the owner does not
    // (HashiCorp owns Terraform and Vault).
    if host == "github.com"
        && let Some(repo) = parsed
            .and_then(|u| u.path_segments())
            .and_then(|mut s| s.nth(1))
    {
        for w in crate::text::normalize(repo).split_whitespace() {
            if w.len() > 1 && !STOP.contains(&w) {
                names.push(word_hash(w));
                product.push(word_hash(w));
            }
        }
    }
    build(
        words,
        versions,
        set(names),
        set(product),
        word_hash(&host),
        simhash,
        body_len,
    )
}

fn is_version(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// 64-bit SimHash of word 3-shingles (FNV-1a hashed), over at most the first 5,000 words.
pub fn simhash(text: &str) -> u64 {
    simhash_normalized(&crate::text::normalize(text))
}

/// [`simhash`] of text already normalized by `text::normalize`.
///
/// Each word is hashed once (FNV-1a) and a shingle's hash mixes its three word hashes; each
/// bit of the result is set when more than half of the shingle hashes have it set. The
/// per-bit counts are kept eight to a `u64` (one byte per bit) and added a byte of hash at a
/// time through a table: eight additions per shingle instead of sixty-four. This runs for
/// every story stored; [`simhash_reference`] is the plain loop it is tested against.
/// Changing the function changes stored values: bump [`crate::score::TEXT_VERSION`].
pub fn simhash_normalized(norm: &str) -> u64 {
    // Normalized text separates words by single ASCII spaces.
    let words: Vec<u64> = norm
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(5000)
        .map(word_hash)
        .collect();
    if words.is_empty() {
        return 0;
    }
    // SPREAD[b]: byte i of the result is bit i of b.
    static SPREAD: std::sync::LazyLock<[u64; 256]> = std::sync::LazyLock::new(|| {
        let mut t = [0u64; 256];
        for (b, slot) in t.iter_mut().enumerate() {
            for i in 0..8 {
                if b >> i & 1 == 1 {
                    *slot |= 1 << (8 * i);
                }
            }
        }
        t
    });
    let spread = &*SPREAD;
    // packed[k] byte i counts bit 8k+i; flushed into `ones` before a byte can overflow.
    let mut packed = [0u64; 8];
    let mut ones = [0u32; 64];
    let mut pending = 0u32;
    let mut n = 0u32;
    let flush = |packed: &mut [u64; 8], ones: &mut [u32; 64]| {
        for (k, p) in packed.iter_mut().enumerate() {
            for i in 0..8 {
                ones[8 * k + i] += (*p >> (8 * i) & 0xff) as u32;
            }
            *p = 0;
        }
    };
    let mut add = |h: u64| {
        for (k, p) in packed.iter_mut().enumerate() {
            *p += spread[(h >> (8 * k) & 0xff) as usize];
        }
        n += 1;
        pending += 1;
        if pending == 255 {
            flush(&mut packed, &mut ones);
            pending = 0;
        }
    };
    if words.len() < 3 {
        add(shingle_hash(&words));
    } else {
        for w in words.windows(3) {
            add(shingle_hash(w));
        }
    }
    flush(&mut packed, &mut ones);
    // A bit is kept when set in more than half of the shingles (2 × ones > n).
    ones.iter().enumerate().fold(
        0u64,
        |h, (bit, &c)| if 2 * c > n { h | 1 << bit } else { h },
    )
}

/// The plain SimHash loop that [`simhash_normalized`] must agree with.
#[cfg(test)]
fn simhash_reference(norm: &str) -> u64 {
    let words: Vec<u64> = norm.split_whitespace().take(5000).map(word_hash).collect();
    if words.is_empty() {
        return 0;
    }
    let mut acc = [0i32; 64];
    let shingles: Vec<&[u64]> = if words.len() < 3 {
        vec![&words[..]]
    } else {
        words.windows(3).collect()
    };
    for sh in shingles {
        let h = shingle_hash(sh);
        for (bit, a) in acc.iter_mut().enumerate() {
            *a += if h >> bit & 1 == 1 { 1 } else { -1 };
        }
    }
    acc.iter()
        .enumerate()
        .fold(0u64, |h, (bit, a)| if *a > 0 { h | 1 << bit } else { h })
}

/// A word's hash, eight bytes at a time (most words are one step).
fn word_hash(w: &str) -> u64 {
    let bytes = w.as_bytes();
    let mut h = 0x243f_6a88_85a3_08d3u64 ^ bytes.len() as u64;
    for chunk in bytes.chunks(8) {
        let mut x = [0u8; 8];
        x[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(x)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 32;
    }
    h
}

/// A shingle's hash from its words' hashes (order matters), finished with SplitMix64's mixer
/// so that every bit depends on every word.
fn shingle_hash(words: &[u64]) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64;
    for w in words {
        h = (h.rotate_left(23) ^ w).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
    h ^= h >> 31;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 29)
}

/// How many values two sorted, deduplicated vectors share.
fn common(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let inter = common(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

/// Why two stories are the same, or `None`.
pub fn same_story(a: &Fingerprint, b: &Fingerprint) -> Option<&'static str> {
    let title = jaccard(a.words(), b.words());
    let distance = (a.simhash ^ b.simhash).count_ones();
    if title >= 0.8 && a.words().len().min(b.words().len()) >= 3 {
        return Some("same title");
    }
    if distance <= 3 && a.body_len.min(b.body_len) >= 500 {
        return Some("same text");
    }
    if title >= 0.5 && distance <= 10 && a.body_len.min(b.body_len) >= 200 {
        return Some("similar title and text");
    }
    // A release and its announcement: the same version of the same product (one side's
    // product word among the other's names), from different hosts.
    if a.host != b.host
        && common(a.versions(), b.versions()) > 0
        && (common(a.product(), b.names()) > 0 || common(b.product(), a.names()) > 0)
    {
        return Some("same release");
    }
    None
}

/// Groups stories: returns, for each input, the index of its group's first member.
///
/// Only pairs that share a blocking key are compared: a title word or version (the title and
/// release rules need one), or one of four 16-bit bands of the SimHash (a distance ≤ 3 leaves
/// at least one band equal). A word in more than [`COMMON_WORD`] titles is too common to pair
/// stories on its own (it would make the work quadratic); stories still pair through their
/// rarer words and their text.
pub fn group(prints: &[Fingerprint]) -> Vec<usize> {
    group_refs(&prints.iter().collect::<Vec<_>>())
}

/// [`group`] over borrowed fingerprints.
pub fn group_refs(prints: &[&Fingerprint]) -> Vec<usize> {
    use std::collections::HashMap;
    let mut parent: Vec<usize> = (0..prints.len()).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    // Title words (and names) block apart from SimHash bands: the common-word cutoff is for
    // words only.
    let mut words: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut bands: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, f) in prints.iter().enumerate() {
        let mut keys: Vec<u64> = f.words().iter().chain(f.names()).copied().collect();
        keys.sort_unstable();
        keys.dedup();
        for w in keys {
            words.entry(w).or_default().push(i as u32);
        }
        if f.body_len >= 200 {
            for band in 0..4u32 {
                let bits = ((f.simhash >> (band * 16)) & 0xffff) as u32;
                bands.entry(band << 16 | bits).or_default().push(i as u32);
            }
        }
    }
    let blocks = words
        .values()
        .filter(|m| m.len() <= COMMON_WORD)
        .chain(bands.values());
    for members in blocks {
        if members.len() < 2 {
            continue;
        }
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (i, j) = (i as usize, j as usize);
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                if a == b {
                    continue;
                }
                if same_story(prints[i], prints[j]).is_some() {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    (0..prints.len()).map(|i| find(&mut parent, i)).collect()
}

/// Titles a word may appear in and still pair stories (see [`group`]).
pub const COMMON_WORD: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(title: &str, body: &str, url: &str) -> Fingerprint {
        fingerprint(title, body, Some(url), None)
    }

    const ARTICLE: &str = "Our team moved the build farm from a fleet of long-lived Jenkins agents to \
        ephemeral runners on Kubernetes. Each job now starts in a clean pod, pulls a cached image \
        layer, and exits; the queue time dropped from minutes to seconds and flaky state between \
        builds disappeared. We describe the autoscaler settings, the cache warmers, the cost \
        model and the three outages we caused on the way, including the night the registry ran \
        out of inodes. The post ends with the checklist we now use before every migration of \
        shared infrastructure, and what we would do differently next time.";

    #[test]
    fn a_syndicated_copy_with_another_title_is_the_same_story() {
        let a = fp(
            "Ephemeral CI runners on Kubernetes",
            ARTICLE,
            "https://eng.acme.example/ci",
        );
        let b = fp(
            "Acme's CI story",
            ARTICLE,
            "https://medium.example/@acme/ci",
        );
        assert_eq!(same_story(&a, &b), Some("same text"));
        // With a footer added and a longer retitle, title and text together still match.
        let c = fp(
            "How Acme made CI ephemeral with Kubernetes",
            &format!("{ARTICLE} Originally published on the Acme blog."),
            "https://medium.example/@acme/ci",
        );
        assert_eq!(same_story(&a, &c), Some("similar title and text"));
    }

    #[test]
    fn title_variants_are_the_same_story() {
        let a = fp(
            "Kubernetes 1.30: Uwubernetes",
            "Release notes.",
            "https://kubernetes.example/blog/1.30",
        );
        let b = fp(
            "Kubernetes v1.30 Uwubernetes released",
            "Short summary.",
            "https://news.example/k8s-130",
        );
        assert_eq!(same_story(&a, &b), Some("same title"));
    }

    #[test]
    fn a_github_release_and_its_announcement_are_the_same_story() {
        let a = fp(
            "v2.53.0 / 2024-06-16",
            "Changelog: native histograms …",
            "https://github.com/prometheus/prometheus/releases/tag/v2.53.0",
        );
        let b = fp(
            "Prometheus 2.53.0 brings native histograms",
            "The Prometheus team announces 2.53.0 …",
            "https://prometheus.example/blog/2-53",
        );
        assert_eq!(same_story(&a, &b), Some("same release"));
    }

    #[test]
    fn different_stories_stay_apart() {
        let pairs = [
            // Consecutive releases of one project.
            (
                fp(
                    "Kubernetes 1.30 released",
                    "notes",
                    "https://k8s.example/130",
                ),
                fp(
                    "Kubernetes 1.29 released",
                    "notes",
                    "https://k8s.example/129",
                ),
            ),
            // Two job ads from one board sharing a boilerplate half.
            (
                fp(
                    "Senior SRE at Acme",
                    &format!(
                        "Acme runs payments for small shops; you will own the on-call rotation, the Terraform estate and our Postgres fleet. {BOILER}"
                    ),
                    "https://jobs.example/1",
                ),
                fp(
                    "Senior SRE at Globex",
                    &format!(
                        "Globex builds satellite ground stations; you will automate antenna scheduling and keep the telemetry pipeline alive. {BOILER}"
                    ),
                    "https://jobs.example/2",
                ),
            ),
            // Same topic, different articles.
            (
                fp("Postgres vacuum explained", ARTICLE, "https://a.example/1"),
                fp(
                    "Postgres vacuum tuning at scale",
                    "A different article entirely about autovacuum thresholds and bloat, with graphs from production and a comparison of settings across versions.",
                    "https://b.example/2",
                ),
            ),
            // A release of another project with the same version number.
            (
                fp(
                    "Terraform 1.5.0",
                    "x",
                    "https://github.com/hashicorp/terraform/releases/tag/v1.5.0",
                ),
                fp("Vault 1.5.0 released", "y", "https://vault.example/blog"),
            ),
            // Same version, same owner, different products; same version, generic shared word.
            (
                fp(
                    "Terraform 1.5.0",
                    "x",
                    "https://github.com/hashicorp/terraform/releases/tag/v1.5.0",
                ),
                fp(
                    "HashiCorp Vault 1.5.0 adds new secrets engines",
                    "y",
                    "https://vault.example/blog",
                ),
            ),
            (
                fp(
                    "Grafana 11.2 improves alerting",
                    "x",
                    "https://grafana.example/blog",
                ),
                fp("Loki 11.2 alerting", "y", "https://loki.example/news"),
            ),
            // Short generic titles.
            (
                fp("Weekly notes", "a", "https://a.example/n"),
                fp("Weekly notes", "b", "https://b.example/n"),
            ),
        ];
        for (a, b) in &pairs {
            assert_eq!(
                same_story(a, b),
                None,
                "{:?} vs {:?}, distance {}",
                a.words(),
                b.words(),
                (a.simhash ^ b.simhash).count_ones()
            );
        }
    }

    const BOILER: &str = "We offer a competitive salary, equity, 30 days of paid leave, a yearly \
        learning budget, remote work within European time zones and a team that values written \
        communication, blameless postmortems and sustainable on-call. Apply with a CV and a short \
        note; we answer every application within two weeks.";

    #[test]
    fn groups_are_connected_components() {
        let prints = [
            fp("Kubernetes 1.30: Uwubernetes", "", "https://a.example/1"),
            fp("Unrelated post about caching", "", "https://b.example/2"),
            fp(
                "Kubernetes v1.30 Uwubernetes released",
                "",
                "https://c.example/3",
            ),
            fp("Uwubernetes: Kubernetes 1.30", "", "https://d.example/4"),
        ];
        assert_eq!(group(&prints), vec![0, 1, 0, 0]);
    }

    #[test]
    fn blocking_finds_the_same_groups_as_comparing_every_pair() {
        // Below the common-word threshold (64 titles) blocking skips nothing, so it must find
        // exactly the pairs a full comparison finds: copies by text, retitles, releases.
        let mut prints = Vec::new();
        for i in 0..46 {
            let body = match i % 4 {
                0 => ARTICLE.to_string(),
                1 => format!("{ARTICLE} {BOILER}"),
                _ => format!("{BOILER} variant {i} {}", "filler ".repeat(i)),
            };
            let title = format!("Story {i} on topic {}", i % 6);
            prints.push(fp(
                &title,
                &body,
                &format!("https://s{}.example/{i}", i % 5),
            ));
        }
        prints.push(fp(
            "Kubernetes 1.30: Uwubernetes",
            "",
            "https://a.example/k",
        ));
        prints.push(fp(
            "Kubernetes v1.30 Uwubernetes released",
            "",
            "https://b.example/k",
        ));
        let fast = group(&prints);
        let mut slow: Vec<usize> = (0..prints.len()).collect();
        for i in 0..prints.len() {
            for j in i + 1..prints.len() {
                if same_story(&prints[i], &prints[j]).is_some() {
                    let (a, b) = (slow[i], slow[j]);
                    let (lo, hi) = (a.min(b), a.max(b));
                    for g in slow.iter_mut() {
                        if *g == hi {
                            *g = lo;
                        }
                    }
                }
            }
        }
        assert_eq!(fast, slow);
        assert_eq!(fast[47], fast[46]);
        assert!(
            fast.iter().collect::<std::collections::HashSet<_>>().len() > 2,
            "{fast:?}"
        );
    }

    #[test]
    fn fingerprints_survive_encoding() {
        for (title, url) in [
            (
                "Terraform 1.8.0 released with provider functions",
                "https://github.com/hashicorp/terraform/releases/tag/v1.8.0",
            ),
            ("", "https://blog.example/"),
            (
                "Why we moved our queue to Postgres",
                "https://www.blog.example/queue",
            ),
        ] {
            let f = fingerprint(title, "some body text", Some(url), None);
            let back = Fingerprint::decode(&f.encode(), f.simhash, f.body_len).unwrap();
            assert_eq!(back, f);
        }
        assert_eq!(Fingerprint::decode(&[1, 2, 3], 0, 0), None);
        let mut bad = fingerprint("a b c", "", None, None).encode();
        bad[8] = 200; // more words than hashes
        assert_eq!(Fingerprint::decode(&bad, 0, 0), None);
    }

    #[test]
    fn packed_simhash_equals_the_plain_loop() {
        let mut rng = fastrand::Rng::with_seed(7);
        let vocab = [
            "a",
            "b",
            "c",
            "kubernetes",
            "deploy",
            "é",
            "日本",
            "x1",
            "y2",
            "z",
        ];
        for len in [0, 1, 2, 3, 4, 254, 255, 256, 257, 600, 5200] {
            for _ in 0..5 {
                let text: Vec<&str> = (0..len).map(|_| vocab[rng.usize(..vocab.len())]).collect();
                let norm = crate::text::normalize(&text.join(" "));
                assert_eq!(
                    simhash_normalized(&norm),
                    simhash_reference(&norm),
                    "{len} words"
                );
            }
        }
        let norm = crate::text::normalize(ARTICLE);
        assert_eq!(simhash_normalized(&norm), simhash_reference(&norm));
    }

    #[test]
    fn simhash_is_stable_and_close_for_close_texts() {
        assert_eq!(simhash(ARTICLE), simhash(ARTICLE));
        let near = (simhash(ARTICLE) ^ simhash(&ARTICLE.replace("inodes", "disk"))).count_ones();
        let far = (simhash(ARTICLE) ^ simhash(BOILER)).count_ones();
        assert!(near < 10 && far > 15, "near {near}, far {far}");
    }

    #[test]
    fn an_untitled_fingerprint_is_that_of_an_empty_story() {
        for simhash in [0, 1, 0xdead_beef_u64, u64::MAX] {
            assert_eq!(
                Fingerprint::untitled(simhash),
                fingerprint("", "", None, Some(simhash))
            );
        }
    }
}
