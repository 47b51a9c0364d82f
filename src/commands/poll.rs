//! `gleaner poll`: one round over the configured feeds, a line per feed, and the outputs
//! refreshed when stories changed. Exits 4 when the round ran but every feed it fetched failed.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use gleaner::ingest::{self, Fetcher, PollOptions};
use gleaner::output;

use super::{Ctx, Failure, say};
use crate::cli;

pub async fn poll(ctx: &Ctx, args: &cli::PollArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    for name in &args.feeds {
        if !config.feeds.iter().any(|f| &f.name == name) {
            return Err(Failure::Config(format!(
                "no feed named \"{name}\" in the config"
            )));
        }
    }
    if config.feeds.is_empty() {
        say(&format!(
            "no feeds in {}: add [[feeds]] entries (see README)",
            ctx.config_path.display()
        ));
        return Ok(());
    }
    let fetcher = Fetcher::new(&config.fetch)
        .map(std::sync::Arc::new)
        .map_err(|e| Failure::Failed(format!("cannot build the HTTP client: {e}")))?;
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
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} feeds  {wide_msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let now = ctx.now;
    let round = ingest::poll_once(&config, &store, &fetcher, now, &opts, |report| {
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
    .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    say(&output::round::summary(&round));
    // Outputs change only when stories do (or when none were written yet).
    match gleaner::desk::refresh_after_round(&config, &store, &round, now).await {
        Ok(None) => say("no new stories: outputs unchanged"),
        Ok(Some(r)) => {
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
    match round.failures() {
        (n, failed) if n > 0 && failed == n => Err(Failure::EveryFeedFailed(format!(
            "every feed failed this round ({failed} of {n}; see the lines above)"
        ))),
        _ => Ok(()),
    }
}
