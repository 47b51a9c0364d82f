//! The fingerprint near-duplicate detection compares (`neardup` computes it): hashed title
//! words, versions, names and product, the link's host, the body's SimHash and length, and its
//! compact encoding in the scores table.

/// What near-duplicate detection compares. Words are kept as 64-bit hashes, in sorted and
/// deduplicated runs of one allocation: a candidate window holds every story of two weeks,
/// and the title part is computed once, when the story is scored, and stored
/// ([`Fingerprint::encode`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    /// Words, then versions, then names, then product; see the accessors.
    hashes: Box<[u64]>,
    /// Where words, versions and names end in `hashes`.
    ends: [u16; 3],
    /// Hash of the link's host (without `www.`).
    pub host: u64,
    pub simhash: u64,
    pub body_len: usize,
}

impl Fingerprint {
    /// Significant title words, versions included.
    pub fn words(&self) -> &[u64] {
        &self.hashes[..usize::from(self.ends[0])]
    }

    pub fn versions(&self) -> &[u64] {
        &self.hashes[usize::from(self.ends[0])..usize::from(self.ends[1])]
    }

    /// Title words plus GitHub repository words, versions excluded.
    pub fn names(&self) -> &[u64] {
        &self.hashes[usize::from(self.ends[1])..usize::from(self.ends[2])]
    }

    /// What the story is about: its first title word, and a GitHub repository's name.
    pub fn product(&self) -> &[u64] {
        &self.hashes[usize::from(self.ends[2])..]
    }

    /// The title part (everything but SimHash and length) as bytes, for the scores table:
    /// host, then words, versions, the names that are not title words (a GitHub
    /// repository's), and product, each run counted. Names are mostly the title's words, so
    /// they are not written twice.
    pub fn encode(&self) -> Vec<u8> {
        let extra: Vec<u64> = self
            .names()
            .iter()
            .filter(|n| self.words().binary_search(n).is_err())
            .copied()
            .collect();
        let runs: [&[u64]; 4] = [self.words(), self.versions(), &extra, self.product()];
        let mut out = Vec::with_capacity(14 + 8 * runs.iter().map(|r| r.len()).sum::<usize>());
        out.extend_from_slice(&self.host.to_le_bytes());
        for r in &runs[..3] {
            out.extend_from_slice(&(r.len() as u16).to_le_bytes());
        }
        for r in runs {
            for h in r {
                out.extend_from_slice(&h.to_le_bytes());
            }
        }
        out
    }

    /// The fingerprint of a story with no title, link or body: what a story scored before
    /// fingerprints were stored is compared as (equal to `neardup::fingerprint("", "", None,
    /// Some(simhash))`, tested there; the host hash is that of the empty word).
    pub fn untitled(simhash: u64) -> Fingerprint {
        build(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            0x243f_6a88_85a3_08d3,
            simhash,
            0,
        )
    }

    /// The inverse of [`Fingerprint::encode`]; `None` for bytes it did not write.
    pub fn decode(bytes: &[u8], simhash: u64, body_len: usize) -> Option<Fingerprint> {
        let host = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
        let count = |i: usize| -> Option<usize> {
            Some(usize::from(u16::from_le_bytes(
                bytes.get(8 + 2 * i..10 + 2 * i)?.try_into().ok()?,
            )))
        };
        let (nw, nv, ne) = (count(0)?, count(1)?, count(2)?);
        let rest = bytes.get(14..)?;
        if rest.len() % 8 != 0 || rest.len() / 8 < nw + nv + ne {
            return None;
        }
        let all: Vec<u64> = rest
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("eight bytes")))
            .collect();
        let (words, rest) = all.split_at(nw);
        let (versions, rest) = rest.split_at(nv);
        let (extra, product) = rest.split_at(ne);
        let names: Vec<u64> = words
            .iter()
            .filter(|w| versions.binary_search(w).is_err())
            .chain(extra)
            .copied()
            .collect();
        Some(build(
            words.to_vec(),
            versions.to_vec(),
            set(names),
            product.to_vec(),
            host,
            simhash,
            body_len,
        ))
    }
}

/// Packs the runs (each already sorted and deduplicated) into a fingerprint.
pub(crate) fn build(
    words: Vec<u64>,
    versions: Vec<u64>,
    names: Vec<u64>,
    product: Vec<u64>,
    host: u64,
    simhash: u64,
    body_len: usize,
) -> Fingerprint {
    // Titles are bounded by the parser, but a run's end must fit its u16.
    let cap = |mut v: Vec<u64>| {
        v.truncate(4096);
        v
    };
    let (words, versions, names, product) = (cap(words), cap(versions), cap(names), cap(product));
    let ends = [
        words.len() as u16,
        (words.len() + versions.len()) as u16,
        (words.len() + versions.len() + names.len()) as u16,
    ];
    let hashes: Box<[u64]> = words
        .into_iter()
        .chain(versions)
        .chain(names)
        .chain(product)
        .collect();
    Fingerprint {
        hashes,
        ends,
        host,
        simhash,
        body_len,
    }
}

pub(crate) fn set(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v.dedup();
    v
}
