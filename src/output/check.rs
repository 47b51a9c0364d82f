//! `gleaner check`: what gleaner understood from the config.

use std::fmt::Write;

use crate::config::Config;

/// A readable account of the config. `db_override` is `--db` when given.
pub fn render(config: &Config, source: &str, db: &std::path::Path) -> String {
    let f = &config.fetch;
    let mut out = String::new();
    let _ = writeln!(out, "config:   {source} (valid)");
    let _ = writeln!(out, "database: {}", db.display());
    let _ = writeln!(
        out,
        "fetch:    timeout {}, connect timeout {}, max body {}, {} at a time, {} per host",
        humantime::format_duration(f.timeout),
        humantime::format_duration(f.connect_timeout),
        bytesize::ByteSize(f.max_bytes),
        f.concurrency,
        f.per_host,
    );
    let n = config.feeds.len();
    let _ = writeln!(out, "{n} feed{}:", if n == 1 { "" } else { "s" });
    let width = config
        .feeds
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0);
    for feed in &config.feeds {
        let section = feed.section.as_deref().unwrap_or("-");
        let _ = writeln!(out, "  {:<width$}  {:<8}  {}", feed.name, section, feed.url);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn lists_settings_and_feeds() {
        let c = Config::parse(
            "[[feeds]]\nname = \"A blog\"\nurl = \"https://a.example/feed\"\nsection = \"News\"\n[[feeds]]\nname = \"B\"\nurl = \"https://b.example/rss\"\n",
            Path::new("."),
        )
        .unwrap();
        let out = render(&c, "feeds.toml", Path::new("gleaner.db"));
        assert_eq!(
            out,
            "config:   feeds.toml (valid)\n\
             database: gleaner.db\n\
             fetch:    timeout 20s, connect timeout 10s, max body 15.0 MiB, 16 at a time, 2 per host\n\
             2 feeds:\n  \
             A blog  News      https://a.example/feed\n  \
             B       -         https://b.example/rss\n"
        );
    }
}
