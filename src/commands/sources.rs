//! The feeds themselves: `add`, `import opml`, `export opml`, `pause`, `resume`.

use gleaner::config::Config;
use gleaner::ingest::Fetcher;
use gleaner::output;

use super::{Ctx, Failure, print, say};
use crate::cli;

pub async fn pause(ctx: &Ctx, args: &cli::FeedNames, pause: bool) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let changed = gleaner::desk::pause_feeds(&config, &store, &args.names, pause, ctx.now).await?;
    for (name, changed) in args.names.iter().zip(changed) {
        say(&match (pause, changed) {
            (true, true) => format!("paused {name}"),
            (true, false) => format!("{name} was already paused"),
            (false, true) => format!("resumed {name}: due now"),
            (false, false) => format!("{name} was not paused"),
        });
    }
    store.close().await;
    Ok(())
}

/// The config at `path`; a missing file has the defaults (`add` and `import` create it).
fn config_or_defaults(path: &std::path::Path) -> Result<Config, Failure> {
    match Config::load(path) {
        Ok(c) => Ok(c),
        Err(gleaner::config::LoadError::Read { .. }) if !path.exists() => {
            Config::parse("", std::path::Path::new(".")).map_err(|e| Failure::Failed(e.to_string()))
        }
        Err(e) => Err(Failure::Config(e.to_string())),
    }
}

/// Appends feeds to the config file; a config that is already broken is a config error.
fn append_feeds(
    path: &std::path::Path,
    feeds: &[gleaner::feeds_file::NewFeed],
    note: &str,
    dry_run: bool,
) -> Result<gleaner::feeds_file::Appended, Failure> {
    use gleaner::feeds_file::{AppendError, FileError};
    gleaner::feeds_file::append_to_file(path, feeds, Some(note), dry_run).map_err(|e| match e {
        FileError::Append {
            source: AppendError::Invalid(_),
            ..
        } => Failure::Config(e.to_string()),
        other => Failure::Failed(other.to_string()),
    })
}

/// `gleaner add URL`: finds the feeds of a site or page and appends the chosen one to the
/// config file (created if missing), keeping its comments and layout.
pub async fn add(ctx: &Ctx, args: &cli::AddArgs) -> Result<(), Failure> {
    use gleaner::feeds_file::{self, NewFeed, Outcome};
    // The fetch limits come from the config.
    let config = config_or_defaults(&ctx.config_path)?;
    let url = url::Url::parse(args.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            Failure::Config(format!("`{}` is not an http(s) address", args.url.trim()))
        })?;
    let fetcher = Fetcher::new(&config.fetch)
        .map_err(|e| Failure::Failed(format!("cannot build the HTTP client: {e}")))?;
    let found = gleaner::discover::discover(&fetcher, &url)
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    say(&output::discovery::text(&url, &found));
    if found.found.is_empty() {
        return Err(Failure::Failed(format!("no feed found for {url}")));
    }
    let n = args.choose.unwrap_or(1);
    let Some(chosen) = n.checked_sub(1).and_then(|i| found.found.get(i)) else {
        return Err(Failure::Config(format!(
            "--choose {n}: there {} {} feed{} (1 to {})",
            if found.found.len() == 1 { "is" } else { "are" },
            found.found.len(),
            if found.found.len() == 1 { "" } else { "s" },
            found.found.len()
        )));
    };
    let name = chosen.feed_name(args.name.as_deref());
    let feed = NewFeed {
        name,
        url: chosen.url.to_string(),
        section: args.section.clone(),
    };
    let note = format!("Added by `gleaner add {url}`.");
    let appended = append_feeds(&ctx.config_path, &[feed], &note, args.dry_run)?;
    let report = &appended.reports[0];
    say(&feeds_file::report_line(report, args.dry_run));
    let config = ctx.config_path.display();
    match &report.outcome {
        Outcome::Invalid { .. } => Err(Failure::Failed(format!("{config} not changed"))),
        _ if args.dry_run => {
            say(&format!("dry run: {config} not changed"));
            Ok(())
        }
        Outcome::Duplicate { .. } => {
            say(&format!("{config} not changed: the feed is already there"));
            Ok(())
        }
        Outcome::Added { .. } => {
            say(&format!(
                "{config} updated; `gleaner poll` fetches it now (a running daemon after SIGHUP)"
            ));
            Ok(())
        }
    }
}

/// `gleaner import opml FILE`: read the OPML, append its feeds to the config file, report.
pub fn import_opml(ctx: &Ctx, args: &cli::ImportOpmlArgs) -> Result<(), Failure> {
    use gleaner::feeds_file::{self, NewFeed};
    let file = args.file.display();
    let bytes = std::fs::read(&args.file)
        .map_err(|e| Failure::Failed(format!("cannot read {file}: {e}")))?;
    let doc = gleaner::opml::parse(&bytes).map_err(|e| Failure::Failed(format!("{file}: {e}")))?;
    // Sections are matched against the config's.
    let sections = config_or_defaults(&ctx.config_path)?.output.sections;
    let items = gleaner::opml::new_feeds(&doc, &sections);
    let feeds: Vec<NewFeed> = items
        .iter()
        .filter_map(|i| i.as_ref().ok())
        .cloned()
        .collect();
    let file_name = args
        .file
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    let note = format!("Imported from {file_name} by `gleaner import opml`.");
    let appended = append_feeds(&ctx.config_path, &feeds, &note, args.dry_run)?;
    // In the document's order: the reports follow the feeds, which follow the items.
    let mut reports = appended.reports.iter();
    let mut unreadable = 0;
    for item in &items {
        match item {
            Ok(_) => {
                if let Some(r) = reports.next() {
                    say(&feeds_file::report_line(r, args.dry_run));
                }
            }
            Err((name, why)) => {
                unreadable += 1;
                say(&format!("invalid \"{name}\": {why}"));
            }
        }
    }
    let (added, dups, bad) = (
        appended.added(),
        appended.duplicates(),
        appended.invalid() + unreadable,
    );
    let config = ctx.config_path.display();
    let tail = if args.dry_run {
        format!("dry run: {config} not changed")
    } else if added > 0 {
        format!("{config} updated")
    } else {
        format!("{config} unchanged")
    };
    let total = added + dups + bad;
    say(&format!(
        "{total} feed{} in {file}: {added} {}added, {dups} skipped as duplicates, {bad} invalid; {tail}",
        if total == 1 { "" } else { "s" },
        if args.dry_run { "would be " } else { "" },
    ));
    Ok(())
}

pub fn export_opml(ctx: &Ctx, args: &cli::ExportOpmlArgs) -> Result<(), Failure> {
    let (config, _) = ctx.config()?;
    let text = gleaner::opml::render(
        &config.feeds,
        &config.output.sections,
        &format!("feeds read for {}", config.output.title),
        ctx.now,
    );
    match &args.output {
        Some(path) => {
            output::atomic_write(path, &text)
                .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", path.display())))?;
            say(&format!(
                "{} feeds written to {}",
                config.feeds.len(),
                path.display()
            ));
        }
        None => {
            print(&text);
        }
    }
    Ok(())
}
