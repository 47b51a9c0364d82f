//! Reading what is stored and what a document holds: `status`, `entries`, `inspect`.

use gleaner::output;
use gleaner::store::StoryFilter;

use super::{Ctx, Failure, print};
use crate::cli;

pub async fn status(ctx: &Ctx, args: &cli::StatusArgs) -> Result<(), Failure> {
    let (config, db) = ctx.config_if_any()?;
    let store = ctx.open_store(&db).await?;
    let rows = store.feed_status().await?;
    let now = ctx.now;
    let rows = match &config {
        Some(config) => output::status::with_unseen(rows, config, now),
        None => rows,
    };
    let text = if args.json {
        output::status::json(&rows, now)
    } else {
        let mut text = output::status::text(&rows, now);
        let deliveries = store.deliveries(8).await?;
        let next = match &config {
            Some(config) => gleaner::deliver::next_check(config, &store, now).await?,
            None => None,
        };
        text.push_str(&output::deliveries::status(&deliveries, next));
        text
    };
    print(&text);
    store.close().await;
    Ok(())
}

pub async fn entries(ctx: &Ctx, args: &cli::EntriesArgs) -> Result<(), Failure> {
    // Reading needs only the database: with --db, the config may be absent.
    let (_, db) = ctx.config_if_any()?;
    let store = ctx.open_store(&db).await?;
    let filter = StoryFilter {
        since: args.since,
        feed: args.feed.clone(),
        limit: args.limit,
    };
    let stories = store.stories(&filter).await?;
    if let Some(name) = &args.feed
        && stories.is_empty()
    {
        let known = store.all_feeds().await?;
        if !known.iter().any(|f| &f.name == name) {
            store.close().await;
            return Err(Failure::Config(format!(
                "no feed named \"{name}\" in the database"
            )));
        }
    }
    let text = if args.json {
        output::entries::json(&stories)
    } else {
        output::entries::text(&stories)
    };
    print(&text);
    store.close().await;
    Ok(())
}

/// `gleaner inspect FILE…`: parse → clean → dedup each document as a poll would, and print
/// what would be stored. Nothing is opened but the files.
pub fn inspect(args: &cli::InspectArgs) -> Result<(), Failure> {
    use output::inspect::Inspected;
    use std::io::Read;
    let mut unreadable = 0;
    for path in &args.files {
        let name = path.display().to_string();
        let bytes = if name == "-" {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map(|_| buf)
                .map_err(|e| Failure::Failed(format!("cannot read standard input: {e}")))?
        } else {
            std::fs::read(path).map_err(|e| Failure::Failed(format!("cannot read {name}: {e}")))?
        };
        let base = match &args.base {
            Some(b) => b.clone(),
            None => std::path::absolute(path)
                .ok()
                .and_then(|p| url::Url::from_file_path(p).ok())
                .unwrap_or_else(|| url::Url::parse("file:///").expect("a valid URL")),
        };
        let text = match gleaner::ingest::prepare(&bytes, args.content_type.as_deref(), &base, None)
        {
            Ok(prepared) => render_inspected(&Inspected::read(&name, &prepared), args.json),
            Err(e) => {
                unreadable += 1;
                let error = e.to_string();
                render_inspected(&Inspected::failed(&name, &error), args.json)
            }
        };
        // A closed pipe (`| head`): nobody reads the rest.
        if !print(&text) {
            return Ok(());
        }
    }
    match unreadable {
        0 => Ok(()),
        n => Err(Failure::Failed(format!(
            "{n} of {} documents could not be read as a feed",
            args.files.len()
        ))),
    }
}

fn render_inspected(doc: &output::inspect::Inspected, json: bool) -> String {
    if json {
        output::inspect::json_line(doc)
    } else {
        output::inspect::text(doc)
    }
}
