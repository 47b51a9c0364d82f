//! Raw feed bytes → UTF-8 text, whatever the document's charset.
//!
//! XML parsers decode with the charset named in the prolog and fail on a single invalid byte.
//! Real feeds lie about their charset in both directions, so gleaner decides here and hands the
//! readers UTF-8 with the prolog rewritten to say so. The order, as Miniflux and browsers do:
//!
//! 1. a byte-order mark (UTF-8, UTF-16LE/BE) wins;
//! 2. UTF-16 without a BOM is recognised from the `<?` pattern;
//! 3. valid UTF-8 is UTF-8, whatever the labels say (latin-1 text is almost never valid UTF-8);
//! 4. otherwise the charset declared in the XML prolog, then the HTTP `Content-Type` charset;
//! 5. otherwise: UTF-8 if the text has real multi-byte UTF-8 sequences, each byte that is not
//!    UTF-8 read as Windows-1252 (a `don\x92t` or `caf\xe9` pasted into a UTF-8 feed, as
//!    feedparser repairs it; the five bytes Windows-1252 leaves undefined become U+FFFD), else
//!    windows-1252 throughout (undeclared latin-1).
//!
//! Characters XML 1.0 forbids (C0 controls other than tab, CR, LF) are removed.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The document as UTF-8, and the encoding it was read with.
pub struct Decoded<'b> {
    /// Borrowed from the body in the common case (valid UTF-8, nothing to change).
    pub text: Cow<'b, str>,
    pub encoding: &'static Encoding,
    /// True when bytes had to be replaced or the declared charset was wrong.
    pub repaired: bool,
}

/// Decodes `bytes`, using `http_charset` (from `Content-Type`) as a hint.
pub fn decode<'b>(bytes: &'b [u8], http_charset: Option<&str>) -> Decoded<'b> {
    // The common case, valid UTF-8 without a BOM, is validated once and borrowed, not copied.
    let (text, encoding, repaired) = match std::str::from_utf8(bytes) {
        Ok(text) if !text.starts_with('\u{feff}') => (Cow::Borrowed(text), UTF_8, false),
        _ => {
            let (encoding, body, repaired) = choose(bytes, http_charset);
            if encoding == UTF_8 {
                let (text, lossy) = utf8_with_windows_1252(body);
                (text, encoding, repaired || lossy)
            } else {
                let (text, had_errors) = encoding.decode_without_bom_handling(body);
                (text, encoding, repaired || had_errors)
            }
        }
    };
    let mut text = strip_forbidden_controls(text);
    if let Some(fixed) = rewrite_declared_encoding(&text) {
        text = Cow::Owned(fixed);
    }
    if let Some(fixed) = drop_foreign_declarations(&text) {
        text = Cow::Owned(fixed);
    }
    Decoded {
        text,
        encoding,
        repaired,
    }
}

/// Picks the encoding; returns it with the body (BOM removed) and whether a label was overruled.
fn choose<'b>(bytes: &'b [u8], http_charset: Option<&str>) -> (&'static Encoding, &'b [u8], bool) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return (enc, &bytes[bom_len..], false);
    }
    if bytes.starts_with(b"<\0?\0") {
        return (UTF_16LE, bytes, false);
    }
    if bytes.starts_with(b"\0<\0?") {
        return (UTF_16BE, bytes, false);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return (UTF_8, bytes, false);
    }
    let declared = prolog_encoding(bytes)
        .and_then(|l| Encoding::for_label(l.as_bytes()))
        .or_else(|| http_charset.and_then(|l| Encoding::for_label(l.trim().as_bytes())));
    match declared {
        // A UTF-16 label on bytes that are ASCII-compatible is wrong; fall through.
        Some(enc) if enc != UTF_8 && enc != UTF_16LE && enc != UTF_16BE => (enc, bytes, false),
        _ if has_multibyte_utf8(bytes) => (UTF_8, bytes, true),
        _ => (WINDOWS_1252, bytes, true),
    }
}

/// The `encoding="…"` of an XML declaration at the very start of the document.
fn prolog_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(512)];
    let head = String::from_utf8_lossy(head);
    let decl = declaration(head.trim_start())?;
    let value = attr_value(decl, "encoding")?;
    Some(value.to_string())
}

/// The `<?xml … ?>` declaration, when the text starts with one.
fn declaration(text: &str) -> Option<&str> {
    if !text.starts_with("<?xml") {
        return None;
    }
    let end = text.find("?>")?;
    Some(&text[..end + 2])
}

/// A pseudo-attribute value in an XML declaration.
fn attr_value<'a>(decl: &'a str, name: &str) -> Option<&'a str> {
    let at = decl.find(name)?;
    let rest = decl[at + name.len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    let end = rest.find(quote)?;
    Some(&rest[..end])
}

/// Rewrites the declaration's encoding to `utf-8`, since the text now is.
fn rewrite_declared_encoding(text: &str) -> Option<String> {
    let lead = text.len() - text.trim_start().len();
    let decl = declaration(&text[lead..])?;
    let value = attr_value(decl, "encoding")?;
    if value.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let value_start = lead + (value.as_ptr() as usize - decl.as_ptr() as usize);
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..value_start]);
    out.push_str("utf-8");
    out.push_str(&text[value_start + value.len()..]);
    Some(out)
}

/// Removes every XML declaration that still names an encoding other than UTF-8: one inside the
/// document (two feeds glued together, a declaration pasted into an item), or a leading one too
/// odd for [`rewrite_declared_encoding`]. The text is UTF-8 by now, and a declaration that says
/// otherwise lies; under feed-rs, which handed each declared encoding to quick-xml, one made
/// quick-xml panic when the encoding changed after the first 64 bytes (quick-xml 0.42
/// `DecodingReader::set_encoding`; found by fuzzing, issue 6). CDATA sections and comments are
/// left alone: a declaration there is text.
fn drop_foreign_declarations(text: &str) -> Option<String> {
    // The common case, one leading UTF-8 declaration and no other, costs one substring search.
    let lead = text.len() - text.trim_start().len();
    let from = match declaration_len(&text[lead..]) {
        Some(len) if !names_foreign_encoding(&text[lead..lead + len]) => lead + len,
        _ => 0,
    };
    if !text[from..].contains("<?xml") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut pos = from;
    while let Some(k) = text[pos..].find('<') {
        let at = pos + k;
        let rest = &text[at..];
        let skip_past = |open: &str, close: &str| {
            rest[open.len()..]
                .find(close)
                .map_or(text.len(), |e| at + open.len() + e + close.len())
        };
        pos = if rest.starts_with("<![CDATA[") {
            skip_past("<![CDATA[", "]]>")
        } else if rest.starts_with("<!--") {
            skip_past("<!--", "-->")
        } else if let Some(len) = declaration_len(rest)
            && names_foreign_encoding(&rest[..len])
        {
            out.push_str(&text[copied..at]);
            copied = at + len;
            copied
        } else {
            at + 1
        };
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// The length of the XML declaration `text` starts with, as quick-xml delimits one: `<?xml`,
/// then whitespace or the end `?>`.
fn declaration_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("<?xml")?;
    if !(rest.starts_with("?>") || rest.starts_with([' ', '\t', '\r', '\n'])) {
        return None;
    }
    Some(text.find("?>")? + 2)
}

/// Whether quick-xml reads an encoding other than UTF-8 in this declaration.
fn names_foreign_encoding(decl: &str) -> bool {
    match quick_xml::Reader::from_str(decl).read_event() {
        Ok(quick_xml::events::Event::Decl(d)) => d
            .encoding()
            .and_then(Result::ok)
            .and_then(|label| Encoding::for_label(label.as_bytes()))
            .is_some_and(|e| e != UTF_8),
        _ => false,
    }
}

/// UTF-8, with every byte that is not part of a UTF-8 sequence read as Windows-1252; and
/// whether there was such a byte.
fn utf8_with_windows_1252(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(text), false);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            let c = match b {
                0x80..=0x9f => html5ever::data::C1_REPLACEMENTS[usize::from(b - 0x80)],
                _ => Some(char::from(b)),
            };
            out.push(c.unwrap_or('\u{fffd}'));
        }
    }
    (Cow::Owned(out), true)
}

fn has_multibyte_utf8(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => return !s.is_ascii(),
            Err(e) => {
                let valid = &rest[..e.valid_up_to()];
                if !valid.is_ascii() {
                    return true;
                }
                let skip = e.error_len().unwrap_or(rest.len() - e.valid_up_to());
                rest = &rest[e.valid_up_to() + skip..];
            }
        }
    }
}

/// XML 1.0 forbids C0 controls other than tab, LF and CR (and NUL); real feeds contain them.
fn strip_forbidden_controls(text: Cow<'_, str>) -> Cow<'_, str> {
    let forbidden = |c: char| c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r');
    // In UTF-8 a byte below 0x20 is always that control character: a byte scan decides.
    if !text
        .bytes()
        .any(|b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return text;
    }
    Cow::Owned(text.replace(forbidden, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_through() {
        let d = decode("<rss version=\"2.0\">é</rss>".as_bytes(), None);
        assert_eq!(d.text, "<rss version=\"2.0\">é</rss>");
        assert_eq!(d.encoding, UTF_8);
        assert!(!d.repaired);
    }

    #[test]
    fn latin1_declared_in_prolog_is_transcoded_and_relabelled() {
        // Windows-1252's punctuation in a document that says ISO-8859-1 (`don\x92t`) is read as
        // Windows-1252, as browsers and feedparser read it.
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss>caf\xe9 don\x92t</rss>";
        let d = decode(bytes, None);
        assert_eq!(
            d.text,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>café don\u{2019}t</rss>"
        );
    }

    #[test]
    fn http_charset_used_when_prolog_is_silent() {
        let d = decode(b"<rss>\xe0\xe9</rss>", Some("windows-1251"));
        assert_eq!(d.text, "<rss>ай</rss>");
    }

    #[test]
    fn valid_utf8_beats_a_wrong_label() {
        let bytes = "<?xml version='1.0' encoding='iso-8859-1'?><rss>é</rss>".as_bytes();
        let d = decode(bytes, Some("iso-8859-1"));
        assert_eq!(d.text, "<?xml version='1.0' encoding='utf-8'?><rss>é</rss>");
    }

    #[test]
    fn stray_bytes_in_utf8_are_read_as_windows_1252_not_fatal() {
        let d = decode(b"<rss>caf\xc3\xa9, don\x92t, \xff and \x81</rss>", None);
        assert_eq!(d.text, "<rss>café, don\u{2019}t, \u{ff} and \u{fffd}</rss>");
        assert!(d.repaired);
    }

    #[test]
    fn undeclared_latin1_falls_back_to_windows_1252() {
        let d = decode(b"<rss>caf\xe9 \x93quoted\x94</rss>", None);
        assert_eq!(d.text, "<rss>café \u{201c}quoted\u{201d}</rss>");
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let s = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss>ü</rss>";
        let le: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let mut with_bom = vec![0xff, 0xfe];
        with_bom.extend_from_slice(&le);
        for bytes in [le, with_bom] {
            let d = decode(&bytes, None);
            assert_eq!(
                d.text,
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>ü</rss>"
            );
        }
    }

    /// Found by fuzzing (issue 6): a declaration naming another encoding inside the document
    /// made quick-xml panic under feed-rs.
    #[test]
    fn a_foreign_declaration_inside_the_document_is_dropped() {
        assert_eq!(
            decode(b"<rss><?xml &=\"0\"encoding=\"iso8859-1\"?>", None).text,
            "<rss>"
        );
        let glued = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><item/>\n<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss/></rss>";
        assert_eq!(
            decode(glued.as_bytes(), None).text,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><item/>\n<rss/></rss>"
        );
        // A leading declaration too odd to relabel goes too; UTF-8 ones and text stay.
        assert_eq!(
            decode(b"<?xml v='encoding' encoding='latin1'?><rss/>", None).text,
            "<rss/>"
        );
        for kept in [
            "<?xml version=\"1.0\"?><rss><?xml version=\"1.0\" encoding=\"UTF-8\"?></rss>",
            "<rss><![CDATA[<?xml version=\"1.0\" encoding=\"latin1\"?>]]><!-- <?xml encoding='koi8-r'?> --></rss>",
            "<rss><?xml-stylesheet href=\"s.xsl\"?><?xmlfoo encoding='latin1'?></rss>",
        ] {
            assert_eq!(decode(kept.as_bytes(), None).text, kept);
        }
    }

    #[test]
    fn control_characters_are_removed() {
        let d = decode(b"<rss>a\x00b\x0bc\td</rss>", None);
        assert_eq!(d.text, "<rss>abc\td</rss>");
    }
}
