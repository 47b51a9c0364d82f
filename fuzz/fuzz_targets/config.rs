//! Any text → `Config::parse`: never panics; a rejected config has at least one problem, each
//! with a message and a location inside the text; an accepted one has only http(s) feeds.
#![no_main]

use std::path::Path;

use gleaner::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(text, Path::new("/srv/gleaner")) {
        Ok(config) => {
            for f in &config.feeds {
                assert!(
                    matches!(f.url.scheme(), "http" | "https"),
                    "feed {:?} has URL {}",
                    f.name,
                    f.url
                );
                assert!(!f.name.trim().is_empty(), "a feed without a name");
            }
        }
        Err(errors) => {
            assert!(!errors.problems.is_empty(), "rejected without a problem");
            let lines = text.matches('\n').count() + 1;
            for p in &errors.problems {
                assert!(
                    !p.message.trim().is_empty(),
                    "a problem without a message: {p:?}"
                );
                if let Some((line, col)) = p.line_col {
                    assert!(
                        (1..=lines).contains(&line) && col >= 1,
                        "{p:?} is outside the {lines} lines of the text"
                    );
                }
            }
            assert!(!errors.to_string().is_empty());
        }
    }
});
