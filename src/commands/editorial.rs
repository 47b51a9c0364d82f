//! The editor's decisions: `candidates`, `pick`, `reject`, `unpick`, `snooze`, `unsnooze`,
//! `apply`, `explain`, `rescore`.

use gleaner::ingest::Fetcher;
use gleaner::output;

use super::{Ctx, Failure, print, say};
use crate::cli;

pub async fn candidates(ctx: &Ctx, args: &cli::CandidatesArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let now = ctx.now;
    let as_of = args.as_of.unwrap_or(now);
    let filter = gleaner::desk::Filter {
        section: args.section.clone(),
        limit: args.limit,
    };
    let (cands, since) =
        gleaner::desk::candidates(&config, &store, as_of, args.since, &filter, now).await?;
    // A typo in --section shows as an error, not as an empty list.
    if let Some(section) = &args.section
        && cands.is_empty()
        && !config.knows_section(section)
    {
        store.close().await;
        return Err(Failure::Config(format!(
            "no section named \"{section}\" (sections: {})",
            config.output.sections.join(", ")
        )));
    }
    if args.as_of.is_none() && args.since.is_none() {
        gleaner::desk::refresh(&config, &store, now).await?;
    }
    let text = if args.json {
        output::candidates::json(&cands)
    } else {
        output::candidates::markdown(&cands, since, as_of)
    };
    print(&text);
    store.close().await;
    Ok(())
}

pub async fn pick(ctx: &Ctx, args: &cli::PickArgs) -> Result<(), Failure> {
    let (config, db) = ctx.config()?;
    let target = args.target.trim();
    let id = if target.bytes().all(|b| b.is_ascii_digit()) {
        Some(
            target
                .parse::<i64>()
                .map_err(|_| Failure::Config(format!("`{target}` is not a story id")))?,
        )
    } else if target.contains("://") {
        None
    } else {
        return Err(Failure::Config(format!(
            "`{target}` is neither a story id (from `gleaner candidates`) nor a link (https://…)"
        )));
    };
    let store = ctx.open_store(&db).await?;
    let now = ctx.now;
    let (section, blurb) = (args.section.clone(), args.blurb.clone());
    let row = match id {
        Some(id) => gleaner::desk::pick(&config, &store, id, section, blurb, now).await,
        // A link in no feed: fetched, stored and picked.
        None => {
            let fetcher = Fetcher::new(&config.fetch)
                .map_err(|e| Failure::Failed(format!("cannot build the HTTP client: {e}")))?;
            gleaner::desk::pick_link(&config, &store, &fetcher, target, section, blurb, now).await
        }
    }?;
    say(&format!("picked #{} {}", row.story.id, row.story.title));
    store.close().await;
    Ok(())
}

pub async fn reject(ctx: &Ctx, args: &cli::RejectArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let row = gleaner::desk::reject(&config, &store, args.id, args.reason.clone(), ctx.now).await?;
    say(&format!("rejected #{} {}", row.story.id, row.story.title));
    store.close().await;
    Ok(())
}

pub async fn unpick(ctx: &Ctx, args: &cli::IdArg) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    gleaner::desk::unpick(&config, &store, args.id, ctx.now).await?;
    say(&format!("#{} is a candidate again", args.id));
    store.close().await;
    Ok(())
}

pub async fn snooze(ctx: &Ctx, args: &cli::SnoozeArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let now = ctx.now;
    let until = match args.until {
        Some(u) => u,
        None => chrono::Duration::from_std(args.for_)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(|| {
                Failure::Failed(format!(
                    "--for {}: too far in the future",
                    humantime::format_duration(args.for_)
                ))
            })?,
    };
    let row = gleaner::desk::snooze(&config, &store, args.id, until, now).await?;
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

pub async fn unsnooze(ctx: &Ctx, args: &cli::IdArg) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    gleaner::desk::unsnooze(&config, &store, args.id, ctx.now).await?;
    say(&format!("#{} is awake: a candidate again", args.id));
    store.close().await;
    Ok(())
}

pub async fn apply(ctx: &Ctx, args: &cli::ApplyArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let a = gleaner::desk::apply(&config, &store, &args.file, ctx.now).await?;
    say(&format!(
        "applied: {} picked, {} rejected, {} snoozed, {} left as candidates",
        a.picked, a.rejected, a.snoozed, a.untouched
    ));
    store.close().await;
    Ok(())
}

pub async fn explain(ctx: &Ctx, args: &cli::ExplainArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let text = gleaner::desk::explain(
        &config,
        &store,
        args.id,
        args.as_of.unwrap_or(ctx.now),
        ctx.now,
    )
    .await?;
    say(text.trim_end());
    store.close().await;
    Ok(())
}

pub async fn rescore(ctx: &Ctx) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let now = ctx.now;
    let n = gleaner::desk::rescore(&config, &store, true, now).await?;
    gleaner::desk::refresh(&config, &store, now).await?;
    say(&format!("rescored {n} stories"));
    store.close().await;
    Ok(())
}
