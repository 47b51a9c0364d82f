//! Text a publisher's tools garbled on the way into the feed, repaired as feedparser repairs it.
//!
//! Two mistakes are common enough that feedparser undoes them in every text it reads:
//! - **UTF-8 read as Latin-1 (or Windows-1252) and encoded again** (`â€¦` for `…`,
//!   `don\u{e2}\u{80}\u{99}t`): when every character of a text fits in one Windows-1252 byte
//!   and those bytes are valid UTF-8, the UTF-8 reading is the text. feedparser does this with
//!   Latin-1 only; the Windows-1252 table also catches `€`, `™` and the smart quotes that
//!   Windows tools produce. Only documents that arrived as UTF-8 are repaired this way: in a
//!   document in another encoding those characters are what the publisher wrote.
//! - **Windows-1252 code points used as Unicode** (`don\u{92}t`): the C1 control characters
//!   U+0080–U+009F never appear in real text, so each becomes the Windows-1252 character with
//!   that byte (`’`), as browsers do for `&#146;`.

/// The repaired text (the same string when there was nothing to repair).
pub fn repair(text: String, utf8_source: bool) -> String {
    if text.is_ascii() {
        return text;
    }
    let text = match utf8_source.then(|| reread_as_utf8(&text)).flatten() {
        Some(fixed) => fixed,
        None => text,
    };
    if !text.chars().any(is_c1) {
        return text;
    }
    text.chars()
        .map(|c| match c {
            '\u{80}'..='\u{9f}' => html5ever::data::C1_REPLACEMENTS[c as usize - 0x80].unwrap_or(c),
            _ => c,
        })
        .collect()
}

fn is_c1(c: char) -> bool {
    ('\u{80}'..='\u{9f}').contains(&c)
}

/// The text's characters as Windows-1252 bytes (C1 controls as their own byte), read as UTF-8;
/// `None` when a character has no such byte, the bytes are not UTF-8, or nothing changes.
fn reread_as_utf8(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut high = false;
    for c in text.chars() {
        let b = match c as u32 {
            0..=0xff => c as u32 as u8,
            _ => windows_1252_byte(c)?,
        };
        high |= b >= 0x80;
        bytes.push(b);
    }
    if !high {
        return None;
    }
    String::from_utf8(bytes).ok().filter(|s| s != text)
}

/// The Windows-1252 byte (0x80–0x9F) of a character outside Latin-1.
fn windows_1252_byte(c: char) -> Option<u8> {
    html5ever::data::C1_REPLACEMENTS
        .iter()
        .position(|r| *r == Some(c))
        .map(|i| 0x80 + i as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_read_as_latin1_or_windows_1252_is_read_again() {
        // U+2026 … as UTF-8 bytes E2 80 A6, read as Latin-1 and as Windows-1252.
        assert_eq!(repair("\u{e2}\u{80}\u{a6}".into(), true), "\u{2026}");
        assert_eq!(
            repair("Wait\u{e2}\u{20ac}\u{a6}".into(), true),
            "Wait\u{2026}"
        );
        assert_eq!(repair("caf\u{c3}\u{a9}".into(), true), "caf\u{e9}");
        // Only in documents that came as UTF-8.
        assert_eq!(repair("caf\u{c3}\u{a9}".into(), false), "caf\u{c3}\u{a9}");
    }

    #[test]
    fn real_text_is_left_alone() {
        for s in [
            "café",
            "naïve façade",
            "Ærøskøbing",
            "日本語",
            "3 × 4 ≠ 11",
            "¿Qué?",
        ] {
            assert_eq!(repair(s.into(), true), s);
        }
    }

    #[test]
    fn windows_1252_code_points_become_their_characters() {
        assert_eq!(repair("don\u{92}t".into(), false), "don\u{2019}t");
        assert_eq!(
            repair("\u{93}quoted\u{94}".into(), true),
            "\u{201c}quoted\u{201d}"
        );
        // 0x81 has no Windows-1252 character: it stays.
        assert_eq!(repair("a\u{81}b".into(), false), "a\u{81}b");
    }
}
