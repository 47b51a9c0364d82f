//! The `gleaner` binary: parse the command line, set up logging, dispatch, map errors to exit
//! codes (0 ran; 1 other failure; 2 unusable config; 3 unusable database).

mod cli;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use cli::{Cli, Command, LogFormat};
use gleaner::config::Config;
use gleaner::output;
use gleaner::poll::{self, Fetcher, PollOptions};
use gleaner::store::{Store, StoryFilter};

const EXIT_FAILURE: u8 = 1;
const EXIT_CONFIG: u8 = 2;
const EXIT_DATABASE: u8 = 3;

/// `GLEANER_NOW`, read once: the time one-shot commands take as now.
static FIXED_NOW: std::sync::OnceLock<Option<chrono::DateTime<chrono::Utc>>> =
    std::sync::OnceLock::new();

/// "Now" for a one-shot command: the clock, or `GLEANER_NOW` (RFC 3339) when it is set, so that
/// a past week can be replayed exactly, decisions included (the relevance benchmark does). The
/// daemon and the desk always run on the clock.
fn now() -> chrono::DateTime<chrono::Utc> {
    FIXED_NOW
        .get()
        .copied()
        .flatten()
        .unwrap_or_else(chrono::Utc::now)
}

/// Reads `GLEANER_NOW`; a value that is not an RFC 3339 time is an error.
fn fixed_now() -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    match std::env::var("GLEANER_NOW") {
        Err(_) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => chrono::DateTime::parse_from_rfc3339(v.trim())
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|e| format!("GLEANER_NOW={v:?} is not an RFC 3339 time ({e})")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match fixed_now() {
        Ok(t) => {
            let _ = FIXED_NOW.set(t);
        }
        Err(e) => {
            eprintln!("gleaner: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    }
    // The daemon reports what it does; one-shot commands print results and log only problems.
    let default_level = if matches!(cli.command, Command::Run(_) | Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }

    // Parsing runs on the blocking pool; a small pool keeps memory bounded (every extra
    // thread gets its own malloc arena) and there are only so many cores to parse on. The
    // async side only moves bytes and waits on the database: one worker (besides the main
    // thread, which runs the writer) is enough, and one arena fewer (measured: the 2,000-feed
    // round's peak RSS fell by 2–10 MB, its time did not change).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(cores.max(2))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gleaner: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("gleaner: {message}");
            ExitCode::from(code)
        }
    }
}

type Failure = (u8, String);

/// The config at `path`; a missing file has the defaults (`add` and `import` create it).
fn config_or_defaults(path: &std::path::Path) -> Result<Config, Failure> {
    match Config::load(path) {
        Ok(c) => Ok(c),
        Err(gleaner::config::LoadError::Read { .. }) if !path.exists() => {
            Config::parse("", std::path::Path::new(".")).map_err(|e| (EXIT_FAILURE, e.to_string()))
        }
        Err(e) => Err((EXIT_CONFIG, e.to_string())),
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
        } => (EXIT_CONFIG, e.to_string()),
        other => (EXIT_FAILURE, other.to_string()),
    })
}

/// `gleaner add URL`: finds the feeds of a site or page and appends the chosen one to the
/// config file (created if missing), keeping its comments and layout.
async fn add_source(config_path: &std::path::Path, args: &cli::AddArgs) -> Result<(), Failure> {
    use gleaner::feeds_file::{self, NewFeed, Outcome};
    // The fetch limits come from the config.
    let config = config_or_defaults(config_path)?;
    let url = url::Url::parse(args.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            (
                EXIT_CONFIG,
                format!("`{}` is not an http(s) address", args.url.trim()),
            )
        })?;
    let fetcher = Fetcher::new(&config.fetch)
        .map_err(|e| (EXIT_FAILURE, format!("cannot build the HTTP client: {e}")))?;
    let found = gleaner::discover::discover(&fetcher, &url)
        .await
        .map_err(|e| (EXIT_FAILURE, e.to_string()))?;
    say(&output::discovery::text(&url, &found));
    if found.found.is_empty() {
        return Err((EXIT_FAILURE, format!("no feed found for {url}")));
    }
    let n = args.choose.unwrap_or(1);
    let Some(chosen) = n.checked_sub(1).and_then(|i| found.found.get(i)) else {
        return Err((
            EXIT_CONFIG,
            format!(
                "--choose {n}: there {} {} feed{} (1 to {})",
                if found.found.len() == 1 { "is" } else { "are" },
                found.found.len(),
                if found.found.len() == 1 { "" } else { "s" },
                found.found.len()
            ),
        ));
    };
    let name = chosen.feed_name(args.name.as_deref());
    let feed = NewFeed {
        name,
        url: chosen.url.to_string(),
        section: args.section.clone(),
    };
    let note = format!("Added by `gleaner add {url}`.");
    let appended = append_feeds(config_path, &[feed], &note, args.dry_run)?;
    let report = &appended.reports[0];
    say(&feeds_file::report_line(report, args.dry_run));
    let config = config_path.display();
    match &report.outcome {
        Outcome::Invalid { .. } => Err((EXIT_FAILURE, format!("{config} not changed"))),
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
fn import_opml(config_path: &std::path::Path, args: &cli::ImportOpmlArgs) -> Result<(), Failure> {
    use gleaner::feeds_file::{self, NewFeed};
    let file = args.file.display();
    let bytes = std::fs::read(&args.file)
        .map_err(|e| (EXIT_FAILURE, format!("cannot read {file}: {e}")))?;
    let doc = gleaner::opml::parse(&bytes).map_err(|e| (EXIT_FAILURE, format!("{file}: {e}")))?;
    // Sections are matched against the config's.
    let sections = config_or_defaults(config_path)?.output.sections;
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
    let appended = append_feeds(config_path, &feeds, &note, args.dry_run)?;
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
    let config = config_path.display();
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

/// `gleaner inspect FILE…`: parse → clean → dedup each document as a poll would, and print
/// what would be stored. Nothing is opened but the files.
fn inspect(args: &cli::InspectArgs) -> Result<(), Failure> {
    use output::inspect::Inspected;
    use std::io::Read;
    let mut unreadable = 0;
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        let name = path.display().to_string();
        let bytes = if name == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| (EXIT_FAILURE, format!("cannot read standard input: {e}")))?
        } else {
            std::fs::read(path).map_err(|e| (EXIT_FAILURE, format!("cannot read {name}: {e}")))?
        };
        let base = match &args.base {
            Some(b) => b.clone(),
            None => std::path::absolute(path)
                .ok()
                .and_then(|p| url::Url::from_file_path(p).ok())
                .unwrap_or_else(|| url::Url::parse("file:///").expect("a valid URL")),
        };
        let text = match poll::prepare(&bytes, args.content_type.as_deref(), &base, None) {
            Ok(prepared) => render_inspected(&Inspected::read(&name, &prepared), args.json),
            Err(e) => {
                unreadable += 1;
                let error = e.to_string();
                render_inspected(&Inspected::failed(&name, &error), args.json)
            }
        };
        // A closed pipe (`| head`) is not an error worth reporting.
        if out.write_all(text.as_bytes()).is_err() {
            return Ok(());
        }
    }
    match unreadable {
        0 => Ok(()),
        n => Err((
            EXIT_FAILURE,
            format!(
                "{n} of {} documents could not be read as a feed",
                args.files.len()
            ),
        )),
    }
}

fn render_inspected(doc: &output::inspect::Inspected, json: bool) -> String {
    if json {
        output::inspect::json_line(doc)
    } else {
        output::inspect::text(doc)
    }
}

/// Writes a line to stdout. A closed pipe (`gleaner poll | head`) must not abort a poll half
/// way, so write errors are ignored: the database, not the terminal, is the record.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

fn load_config(cli: &Cli) -> Result<(Config, PathBuf), Failure> {
    let config = Config::load(&cli.config).map_err(|e| (EXIT_CONFIG, e.to_string()))?;
    let db = cli
        .db
        .clone()
        .unwrap_or_else(|| config.storage.path.clone());
    Ok((config, db))
}

/// Binds the web desk's address and says where it is (tests and the editor read this line).
async fn bind_desk(
    config: &Config,
    listen: std::net::SocketAddr,
) -> Result<gleaner::serve::Listener, Failure> {
    use gleaner::serve::ServeError;
    let listener = gleaner::serve::bind(config, listen)
        .await
        .map_err(|e| match e {
            ServeError::NeedsToken(_) => (EXIT_CONFIG, e.to_string()),
            other => (EXIT_FAILURE, other.to_string()),
        })?;
    let addr = listener.local_addr();
    eprintln!("gleaner: serving on http://{addr}");
    Ok(listener)
}

fn desk_failure(e: gleaner::desk::DeskError) -> Failure {
    use gleaner::desk::DeskError;
    match e {
        DeskError::Store(e) => (EXIT_DATABASE, e.to_string()),
        other => (EXIT_FAILURE, other.to_string()),
    }
}

async fn open_store(db: &std::path::Path) -> Result<Store, Failure> {
    Store::open(db)
        .await
        .map_err(|e| (EXIT_DATABASE, e.to_string()))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    // A write past a file size limit (`ulimit -f`) must fail with EFBIG, which SQLite turns
    // into an error it rolls back, rather than kill the process with SIGXFSZ. Registering a
    // handler replaces the default action for the life of the process.
    let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::from_raw(
        rustix::process::Signal::XFSZ.as_raw(),
    ));
    match &cli.command {
        Command::Check => {
            let (config, db) = load_config(&cli)?;
            let now = now();
            say(output::check::render(
                &config,
                &cli.config.display().to_string(),
                &db,
                now,
                &config
                    .digest
                    .as_ref()
                    .map(gleaner::deliver::problems)
                    .unwrap_or_default(),
            )
            .trim_end());
            Ok(())
        }
        Command::Inspect(args) => inspect(args),
        Command::Run(args) => {
            let (mut config, db) = load_config(&cli)?;
            config.storage.path = db.clone();
            // Bind before anything runs: a refused or taken address stops the start.
            let listener = match args.serve {
                true => Some(bind_desk(&config, args.listen).await?),
                false => None,
            };
            let store = open_store(&db).await?;
            let control = gleaner::daemon::install_signal_handlers()
                .map_err(|e| (EXIT_FAILURE, format!("cannot install signal handlers: {e}")))?;
            // The desk stops with the daemon (the same shutdown token) and follows its
            // config reloads.
            let (adopted, configs) = tokio::sync::watch::channel(Arc::new(config.clone()));
            let reloader = control.reloader();
            let server = listener.map(|l| {
                tokio::spawn(gleaner::serve::serve(
                    l,
                    configs,
                    cli.config.clone(),
                    store.clone(),
                    control.shutdown.clone(),
                    reloader,
                ))
            });
            let shutdown = control.shutdown.clone();
            let daemon =
                gleaner::daemon::run(config, cli.config.clone(), store, control, Some(adopted))
                    .await
                    .map_err(|e| match e {
                        gleaner::daemon::DaemonError::Store(e) => (EXIT_DATABASE, e.to_string()),
                        other => (EXIT_FAILURE, other.to_string()),
                    });
            shutdown.cancel();
            if let Some(server) = server {
                // Idle keep-alive connections are closed by the graceful shutdown; a request
                // still running after a few seconds is abandoned.
                match tokio::time::timeout(std::time::Duration::from_secs(5), server).await {
                    Ok(Ok(Err(e))) => eprintln!("gleaner: {e}"),
                    Ok(_) => {}
                    Err(_) => tracing::warn!("the web desk did not stop in time"),
                }
            }
            daemon
        }
        Command::Serve(args) => {
            let (mut config, db) = load_config(&cli)?;
            config.storage.path = db.clone();
            let listener = bind_desk(&config, args.listen).await?;
            let store = open_store(&db).await?;
            let mut control = gleaner::daemon::install_signal_handlers()
                .map_err(|e| (EXIT_FAILURE, format!("cannot install signal handlers: {e}")))?;
            // SIGHUP re-reads the config, as for the daemon: an invalid file is logged and the
            // running config stays.
            let (adopted, configs) = tokio::sync::watch::channel(Arc::new(config));
            let path = cli.config.clone();
            let reloader = control.reloader();
            tokio::spawn(async move {
                while control.reload.recv().await.is_some() {
                    let current = adopted.borrow().clone();
                    if let Some(new) = gleaner::daemon::reload(&path, &current) {
                        adopted.send_replace(Arc::new(new));
                        tracing::info!("reloaded {}", path.display());
                    }
                }
            });
            let result = gleaner::serve::serve(
                listener,
                configs,
                cli.config.clone(),
                store.clone(),
                control.shutdown,
                reloader,
            )
            .await
            .map_err(|e| (EXIT_FAILURE, e.to_string()));
            store.close().await;
            result
        }
        Command::Status(args) => {
            let config = match &cli.db {
                Some(_) if !cli.config.exists() => None,
                _ => Some(load_config(&cli)?),
            };
            let db = match (&cli.db, &config) {
                (Some(db), _) => db.clone(),
                (None, Some((_, db))) => db.clone(),
                (None, None) => unreachable!("without --db the config is loaded"),
            };
            let store = open_store(&db).await?;
            let rows = store
                .feed_status()
                .await
                .map_err(|e| (EXIT_DATABASE, e.to_string()))?;
            let now = now();
            let rows = match &config {
                Some((config, _)) => output::status::with_unseen(rows, config, now),
                None => rows,
            };
            let text = if args.json {
                output::status::json(&rows, now)
            } else {
                let mut text = output::status::text(&rows, now);
                let deliveries = store
                    .deliveries(8)
                    .await
                    .map_err(|e| (EXIT_DATABASE, e.to_string()))?;
                let next = match &config {
                    Some((config, _)) => gleaner::deliver::next_check(config, &store, now)
                        .await
                        .map_err(desk_failure)?,
                    None => None,
                };
                text.push_str(&output::deliveries::status(&deliveries, next));
                text
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            store.close().await;
            Ok(())
        }
        Command::Poll(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            for name in &args.feeds {
                if !config.feeds.iter().any(|f| &f.name == name) {
                    return Err((
                        EXIT_CONFIG,
                        format!("no feed named \"{name}\" in the config"),
                    ));
                }
            }
            if config.feeds.is_empty() {
                println!(
                    "no feeds in {}: add [[feeds]] entries (see README)",
                    cli.config.display()
                );
                return Ok(());
            }
            let fetcher = Fetcher::new(&config.fetch)
                .map(std::sync::Arc::new)
                .map_err(|e| (EXIT_FAILURE, format!("cannot build the HTTP client: {e}")))?;
            let opts = PollOptions {
                force: args.force,
                only: args.feeds.clone(),
            };
            let total = if opts.only.is_empty() {
                config.feeds.len()
            } else {
                opts.only.len()
            };
            // A progress bar on a terminal; plain lines when piped.
            let bar = std::io::stdout().is_terminal().then(|| {
                let bar = ProgressBar::new(total as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {pos}/{len} feeds  {wide_msg}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.enable_steady_tick(std::time::Duration::from_millis(120));
                bar
            });
            let now = now();
            let round = poll::poll_once(&config, &store, &fetcher, now, &opts, |report| {
                let line = output::round::feed_line(report);
                match &bar {
                    Some(bar) => {
                        bar.suspend(|| say(&line));
                        bar.set_message(report.name.clone());
                        bar.inc(1);
                    }
                    None => say(&line),
                }
            })
            .await
            .map_err(|e| (EXIT_DATABASE, e.to_string()))?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            say(&output::round::summary(&round));
            // Outputs change only when stories do (or when none were written yet).
            let changed = round.feeds.iter().any(|f| {
                matches!(&f.result, gleaner::model::FeedResult::Stored { counts, .. } if counts.new + counts.updated + counts.also_elsewhere > 0)
            });
            let missing = !config.output.dir.join("candidates.md").exists();
            if !changed && !missing {
                say("no new stories: outputs unchanged");
                store.close().await;
                return Ok(());
            }
            match gleaner::desk::refresh(&config, &store, now).await {
                Ok(r) => {
                    say(&format!(
                        "candidates and curated feed written to {}",
                        config.output.dir.display()
                    ));
                    if let Some(new) = r.held_back {
                        say(&format!(
                            "candidates.md has ticks or blurbs not applied yet: left alone; the fresh list is in {} (run `gleaner apply` first)",
                            new.display()
                        ));
                    }
                }
                Err(e) => eprintln!("gleaner: outputs not written: {e}"),
            }
            store.close().await;
            Ok(())
        }
        Command::Candidates(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let now = now();
            let as_of = args.as_of.unwrap_or(now);
            let filter = gleaner::candidates::Filter {
                section: args.section.clone(),
                limit: args.limit,
            };
            let (cands, since) =
                gleaner::desk::candidates(&config, &store, as_of, args.since, &filter, now)
                    .await
                    .map_err(desk_failure)?;
            // A typo in --section shows as an error, not as an empty list.
            if let Some(section) = &args.section
                && cands.is_empty()
                && !config
                    .output
                    .sections
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(section))
                && !config.feeds.iter().any(|f| {
                    f.section
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(section))
                })
            {
                store.close().await;
                return Err((
                    EXIT_CONFIG,
                    format!(
                        "no section named \"{section}\" (sections: {})",
                        config.output.sections.join(", ")
                    ),
                ));
            }
            if args.as_of.is_none() && args.since.is_none() {
                gleaner::desk::refresh(&config, &store, now)
                    .await
                    .map_err(desk_failure)?;
            }
            let text = if args.json {
                output::candidates::json(&cands)
            } else {
                output::candidates::markdown(&cands, since, as_of)
            };
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            store.close().await;
            Ok(())
        }
        Command::Pick(args) => {
            let (config, db) = load_config(&cli)?;
            let target = args.target.trim();
            let id = if target.bytes().all(|b| b.is_ascii_digit()) {
                Some(
                    target
                        .parse::<i64>()
                        .map_err(|_| (EXIT_CONFIG, format!("`{target}` is not a story id")))?,
                )
            } else if target.contains("://") {
                None
            } else {
                return Err((
                    EXIT_CONFIG,
                    format!(
                        "`{target}` is neither a story id (from `gleaner candidates`) nor a link (https://…)"
                    ),
                ));
            };
            let store = open_store(&db).await?;
            let now = now();
            let (section, blurb) = (args.section.clone(), args.blurb.clone());
            let row = match id {
                Some(id) => gleaner::desk::pick(&config, &store, id, section, blurb, now).await,
                // A link in no feed: fetched, stored and picked.
                None => {
                    let fetcher = Fetcher::new(&config.fetch).map_err(|e| {
                        (EXIT_FAILURE, format!("cannot build the HTTP client: {e}"))
                    })?;
                    gleaner::desk::pick_link(&config, &store, &fetcher, target, section, blurb, now)
                        .await
                }
            }
            .map_err(desk_failure)?;
            say(&format!("picked #{} {}", row.story.id, row.story.title));
            store.close().await;
            Ok(())
        }
        Command::Reject(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let row = gleaner::desk::reject(&config, &store, args.id, args.reason.clone(), now())
                .await
                .map_err(desk_failure)?;
            say(&format!("rejected #{} {}", row.story.id, row.story.title));
            store.close().await;
            Ok(())
        }
        Command::Unpick(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            gleaner::desk::unpick(&config, &store, args.id, now())
                .await
                .map_err(desk_failure)?;
            say(&format!("#{} is a candidate again", args.id));
            store.close().await;
            Ok(())
        }
        Command::Snooze(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let now = now();
            let until = match args.until {
                Some(u) => u,
                None => chrono::Duration::from_std(args.for_)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .ok_or_else(|| {
                        (
                            EXIT_FAILURE,
                            format!(
                                "--for {}: too far in the future",
                                humantime::format_duration(args.for_)
                            ),
                        )
                    })?,
            };
            let row = gleaner::desk::snooze(&config, &store, args.id, until, now)
                .await
                .map_err(desk_failure)?;
            let undone = match row.decision.as_ref().filter(|d| d.issue.is_none()) {
                Some(d) => format!(" (its {} was taken back)", d.verdict.as_str()),
                None => String::new(),
            };
            say(&format!(
                "snoozed #{} {} until {}{undone}",
                row.story.id,
                row.story.title,
                until.format("%Y-%m-%d %H:%M UTC")
            ));
            store.close().await;
            Ok(())
        }
        Command::Unsnooze(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            gleaner::desk::unsnooze(&config, &store, args.id, now())
                .await
                .map_err(desk_failure)?;
            say(&format!("#{} is awake: a candidate again", args.id));
            store.close().await;
            Ok(())
        }
        Command::Pause(args) | Command::Resume(args) => {
            let pause = matches!(cli.command, Command::Pause(_));
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let changed = gleaner::desk::pause_feeds(&config, &store, &args.names, pause, now())
                .await
                .map_err(desk_failure)?;
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
        Command::Add(args) => add_source(&cli.config, args).await,
        Command::Apply(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let a = gleaner::desk::apply(&config, &store, &args.file, now())
                .await
                .map_err(desk_failure)?;
            say(&format!(
                "applied: {} picked, {} rejected, {} snoozed, {} left as candidates",
                a.picked, a.rejected, a.snoozed, a.untouched
            ));
            store.close().await;
            Ok(())
        }
        Command::Explain(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let text =
                gleaner::desk::explain(&config, &store, args.id, args.as_of.unwrap_or_else(now))
                    .await
                    .map_err(desk_failure)?;
            say(text.trim_end());
            store.close().await;
            Ok(())
        }
        Command::Rescore => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let now = now();
            let n = gleaner::desk::rescore(&config, &store, true, now)
                .await
                .map_err(desk_failure)?;
            gleaner::desk::refresh(&config, &store, now)
                .await
                .map_err(desk_failure)?;
            say(&format!("rescored {n} stories"));
            store.close().await;
            Ok(())
        }
        Command::Draft(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let d = gleaner::desk::draft(&config, &store, args.issue, now())
                .await
                .map_err(desk_failure)?;
            say(&format!("issue {} drafted: {}", d.number, d.path.display()));
            store.close().await;
            Ok(())
        }
        Command::Publish(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let p = gleaner::desk::publish(&config, &store, args.number, now())
                .await
                .map_err(desk_failure)?;
            say(&format!(
                "issue {} published with {} item{}; the next window starts now",
                args.number,
                p.items,
                if p.items == 1 { "" } else { "s" }
            ));
            if p.held_for_next > 0 {
                say(&format!(
                    "{} made after the draft was written {} for the next issue",
                    if p.held_for_next == 1 {
                        "1 pick".to_string()
                    } else {
                        format!("{} picks", p.held_for_next)
                    },
                    if p.held_for_next == 1 {
                        "waits"
                    } else {
                        "wait"
                    }
                ));
            }
            store.close().await;
            Ok(())
        }
        Command::Digest(args) => {
            let (config, db) = load_config(&cli)?;
            let store = open_store(&db).await?;
            let week = args
                .week
                .clone()
                .unwrap_or_else(|| gleaner::desk::week_of(now()));
            if args.send {
                let to = (!args.to.is_empty()).then_some(args.to.as_slice());
                let outcomes =
                    gleaner::deliver::send_week(&config, &store, &week, to, args.dry_run, now())
                        .await;
                store.close().await;
                let outcomes = outcomes.map_err(desk_failure)?;
                for o in &outcomes {
                    say(&output::deliveries::outcome_line(o));
                }
                let failed = outcomes
                    .iter()
                    .filter(|o| matches!(o.result, gleaner::model::Sent::Failed { .. }))
                    .count();
                return match failed {
                    0 => Ok(()),
                    n => Err((
                        EXIT_FAILURE,
                        format!(
                            "{n} of {} channel{} failed (recorded; `gleaner run` tries again)",
                            outcomes.len(),
                            if outcomes.len() == 1 { "" } else { "s" }
                        ),
                    )),
                };
            }
            let format = match args.format {
                cli::DigestFormatArg::Md => gleaner::desk::DigestFormat::Markdown,
                cli::DigestFormatArg::Html => gleaner::desk::DigestFormat::Html,
            };
            let (_, text) = gleaner::desk::digest(&config, &store, &week, format)
                .await
                .map_err(desk_failure)?;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            store.close().await;
            Ok(())
        }
        Command::Import(args) => match &args.format {
            cli::ImportFormat::Opml(args) => import_opml(&cli.config, args),
            cli::ImportFormat::Issues(args) => {
                let (config, db) = load_config(&cli)?;
                let store = open_store(&db).await?;
                let report =
                    gleaner::desk::import_issues(&config, &store, &args.files, args.dry_run, now())
                        .await;
                store.close().await;
                say(output::import_issues::text(&report.map_err(desk_failure)?).trim_end());
                Ok(())
            }
        },
        Command::Export(args) => match &args.format {
            cli::ExportFormat::Opml(args) => {
                let (config, _) = load_config(&cli)?;
                let text = gleaner::opml::render(
                    &config.feeds,
                    &config.output.sections,
                    &format!("feeds read for {}", config.output.title),
                    now(),
                );
                match &args.output {
                    Some(path) => {
                        output::atomic_write(path, &text).map_err(|e| {
                            (
                                EXIT_FAILURE,
                                format!("cannot write {}: {e}", path.display()),
                            )
                        })?;
                        say(&format!(
                            "{} feeds written to {}",
                            config.feeds.len(),
                            path.display()
                        ));
                    }
                    None => {
                        let _ = std::io::stdout().lock().write_all(text.as_bytes());
                    }
                }
                Ok(())
            }
        },
        Command::Entries(args) => {
            // Reading needs only the database: with --db, the config may be absent.
            let db = match &cli.db {
                Some(db) if !cli.config.exists() => db.clone(),
                _ => load_config(&cli)?.1,
            };
            let store = open_store(&db).await?;
            let filter = StoryFilter {
                since: args.since,
                feed: args.feed.clone(),
                limit: args.limit,
            };
            let stories = store
                .stories(&filter)
                .await
                .map_err(|e| (EXIT_DATABASE, e.to_string()))?;
            if let Some(name) = &args.feed
                && stories.is_empty()
            {
                let known = store
                    .all_feeds()
                    .await
                    .map_err(|e| (EXIT_DATABASE, e.to_string()))?;
                if !known.iter().any(|f| &f.name == name) {
                    store.close().await;
                    return Err((
                        EXIT_CONFIG,
                        format!("no feed named \"{name}\" in the database"),
                    ));
                }
            }
            let text = if args.json {
                output::entries::json(&stories)
            } else {
                output::entries::text(&stories)
            };
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes());
            store.close().await;
            Ok(())
        }
    }
}
