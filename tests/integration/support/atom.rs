//! Checks on the curated Atom feed from outside gleaner: the RFC 4287 RELAX NG schema (xmllint)
//! and a real feed client (Python's feedparser, through `feedparser_dump.py`).

use std::path::Path;

/// Validates an Atom file against the RFC 4287 RELAX NG schema with xmllint. CI installs
/// xmllint and sets GLEANER_REQUIRE_XMLLINT=1; elsewhere the check is skipped with a note when
/// xmllint is missing.
pub fn validate_atom(path: &Path) {
    let schema = std::env::var_os("GLEANER_CORPORA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora"))
        .join("atom-schema/atom.rng");
    let required = std::env::var_os("GLEANER_REQUIRE_XMLLINT").is_some();
    let run = std::process::Command::new("xmllint")
        .args(["--noout", "--relaxng"])
        .arg(&schema)
        .arg(path)
        .output();
    match run {
        Ok(out) => assert!(
            out.status.success(),
            "{} does not validate against RFC 4287:\n{}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if !required => eprintln!("Atom schema check skipped: xmllint not available ({e})"),
        Err(e) => panic!("xmllint is required (GLEANER_REQUIRE_XMLLINT): {e}"),
    }
}

/// The feed as Python's feedparser reads it, with its own sanitizer off (so that it cannot hide
/// what gleaner wrote): `{"bozo", "version", "entries": [{"id", "values": [{"field", "type",
/// "value"}], "links": [href]}]}` (see `feedparser_dump.py`). None, with a note, when python3 or
/// feedparser is missing, unless GLEANER_REQUIRE_FEEDPARSER is set (CI sets it).
pub fn feedparser(path: &Path) -> Option<serde_json::Value> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/support/feedparser_dump.py");
    let required = std::env::var_os("GLEANER_REQUIRE_FEEDPARSER").is_some();
    let out = match std::process::Command::new("python3")
        .arg(&script)
        .arg(path)
        .output()
    {
        Ok(out) => out,
        Err(e) if !required => {
            eprintln!("feedparser check skipped: no python3 ({e})");
            return None;
        }
        Err(e) => panic!("python3 is required (GLEANER_REQUIRE_FEEDPARSER): {e}"),
    };
    // Exit status 3: feedparser is not installed.
    if out.status.code() == Some(3) && !required {
        eprintln!(
            "feedparser check skipped: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    assert!(
        out.status.success(),
        "feedparser_dump.py failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}
