//! Small text helpers shared by stages that must agree on them: escaping, hex, error chains,
//! and the word normalizer every matcher is built on (keywords, near-duplicates, sections,
//! learned features), with the check of a configured term. This is the base layer: it imports
//! nothing from the crate.

/// Escapes text for HTML and XML, in element content and in quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Lower-case hex, without a `format!` per byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// An error and its causes in one line, each said once (reqwest's " for url (…)" suffix,
/// which repeats what the caller names already, taken out).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let s = err.to_string();
        let s = match s.find(" for url (") {
            Some(i) => s[..i].to_string(),
            None => s,
        };
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

/// Text fit for XML 1.0 and for one line of Markdown: control characters (other than tab and
/// newline, which become spaces) and the noncharacters U+FFFE/U+FFFF are dropped.
pub fn clean_control(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() || matches!(c, '\u{fffe}' | '\u{ffff}') => None,
            c => Some(c),
        })
        .collect()
}

/// Escapes every `&` that does not start a character or entity reference, and writes `&#X…;`
/// as `&#x…;` (CDATA sections are left untouched).
pub fn escape_bare_ampersands(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let mut last = 0;
    let mut i = 0;
    let mut changed = false;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"<![CDATA[") {
            i = match text[i..].find("]]>") {
                Some(end) => i + end + 3,
                None => bytes.len(),
            };
            continue;
        }
        if bytes[i..].starts_with(b"&#X") && is_reference(&bytes[i + 1..]) {
            // XML only knows `&#x`; HTML-minded publishers write `&#X`.
            out.push_str(&text[last..i]);
            out.push_str("&#x");
            last = i + 3;
            changed = true;
            i += 3;
            continue;
        }
        if bytes[i] == b'&' && !is_reference(&bytes[i + 1..]) {
            out.push_str(&text[last..i]);
            out.push_str("&amp;");
            last = i + 1;
            changed = true;
        }
        i += 1;
    }
    if !changed {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// Whether the bytes after an `&` form `name;`, `#digits;` or `#xhex;`.
fn is_reference(rest: &[u8]) -> bool {
    let (body, valid): (&[u8], fn(u8) -> bool) = match rest {
        [b'#', b'x' | b'X', tail @ ..] => (tail, |b| b.is_ascii_hexdigit()),
        [b'#', tail @ ..] => (tail, |b| b.is_ascii_digit()),
        [first, ..] if first.is_ascii_alphabetic() || *first == b'_' || *first == b':' => {
            (rest, |b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.')
            })
        }
        _ => return false,
    };
    let len = body.iter().take(64).take_while(|b| valid(**b)).count();
    len > 0 && body.get(len) == Some(&b';')
}

/// Lower-cases `text` and turns every run of non-alphanumerics into one space, with a space at
/// both ends, so that word boundaries are spaces.
pub fn normalize(text: &str) -> String {
    normalize_with(text, |c| c.is_alphanumeric())
}

/// [`normalize`], keeping `.` inside words (so `1.30` and `v2.53.0` stay whole).
pub fn normalize_keep_dots(text: &str) -> String {
    normalize_with(text, |c| c.is_alphanumeric() || c == '.')
}

fn normalize_with(text: &str, keep: impl Fn(char) -> bool) -> String {
    // ASCII (most of every feed) goes through a byte table; other characters through `char`.
    let mut table = [0u8; 128];
    for b in 0..128u8 {
        if keep(b as char) {
            table[b as usize] = b.to_ascii_lowercase();
        }
    }
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len() + 2);
    out.push(b' ');
    let mut space = true;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            i += 1;
            let t = table[b as usize];
            if t != 0 {
                out.push(t);
                space = false;
            } else if !space {
                out.push(b' ');
                space = true;
            }
            continue;
        }
        let c = text[i..].chars().next().expect("in bounds");
        i += c.len_utf8();
        if keep(c) {
            let mut buf = [0u8; 4];
            for l in c.to_lowercase() {
                out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
            }
            space = false;
        } else if !space {
            out.push(b' ');
            space = true;
        }
    }
    if !space {
        out.push(b' ');
    }
    // Only whole characters were copied, and ASCII bytes map to ASCII bytes.
    String::from_utf8(out).expect("normalization keeps UTF-8 intact")
}

/// Whether a configured term can be matched: some letters or digits, `*` only at the end.
pub fn check_term(term: &str) -> Result<(), String> {
    let t = term.trim();
    let body = t.strip_suffix('*').unwrap_or(t);
    if body.contains('*') {
        return Err(format!("`{term}`: `*` may only end a term (prefix match)"));
    }
    if normalize(body).trim().is_empty() {
        return Err(format!("`{term}` has no letters or digits to match"));
    }
    Ok(())
}

/// Scores are shown and compared at 3 decimals: deterministic across platforms.
pub fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A URL as shown in messages and logs when its path may hold a secret (Slack-style webhook
/// URLs do): its scheme, host and port only.
pub fn url_without_path(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{}://{h}:{p}/…", url.scheme()),
        (Some(h), None) => format!("{}://{h}/…", url.scheme()),
        _ => "the URL".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_ampersands_are_escaped_references_kept() {
        let s = "<t>AT&T &amp; R&D &#38; &#x26; &#X26; &eacute; &</t><![CDATA[a & b]]>";
        assert_eq!(
            escape_bare_ampersands(s).unwrap(),
            "<t>AT&amp;T &amp; R&amp;D &#38; &#x26; &#x26; &eacute; &amp;</t><![CDATA[a & b]]>"
        );
        assert_eq!(escape_bare_ampersands("<t>&amp;</t>"), None);
    }
    #[test]
    fn normalization_makes_word_boundaries_spaces() {
        assert_eq!(
            normalize("Continuous-Delivery, at  SCALE!"),
            " continuous delivery at scale "
        );
        assert_eq!(normalize("Naïve Über"), " naïve über ");
        assert_eq!(normalize(""), " ");
    }

    #[test]
    fn bad_terms_are_rejected() {
        assert!(check_term("*").is_err());
        assert!(check_term("de*ploy").is_err());
        assert!(check_term("--").is_err());
        assert!(check_term("deploy*").is_ok());
    }
}
