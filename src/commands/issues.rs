//! The newsletter's issues and digest: `draft`, `publish`, `digest [--send]`, `import issues`.

use gleaner::output;

use super::{Ctx, Failure, print, say};
use crate::cli;

pub async fn draft(ctx: &Ctx, args: &cli::DraftArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let d = gleaner::desk::draft(&config, &store, args.issue, ctx.now).await?;
    say(&format!("issue {} drafted: {}", d.number, d.path.display()));
    store.close().await;
    Ok(())
}

pub async fn publish(ctx: &Ctx, args: &cli::PublishArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let p = gleaner::desk::publish(&config, &store, args.number, ctx.now).await?;
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

pub async fn digest(ctx: &Ctx, args: &cli::DigestArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let week = args
        .week
        .clone()
        .unwrap_or_else(|| gleaner::desk::week_of(ctx.now));
    if args.send {
        let to = (!args.to.is_empty()).then_some(args.to.as_slice());
        let outcomes =
            gleaner::deliver::send_week(&config, &store, &week, to, args.dry_run, ctx.now).await;
        store.close().await;
        let outcomes = outcomes?;
        for o in &outcomes {
            say(&output::deliveries::outcome_line(o));
        }
        let failed = outcomes
            .iter()
            .filter(|o| matches!(o.result, gleaner::model::Sent::Failed { .. }))
            .count();
        return match failed {
            0 => Ok(()),
            n => Err(Failure::Failed(format!(
                "{n} of {} channel{} failed (recorded; `gleaner run` tries again)",
                outcomes.len(),
                if outcomes.len() == 1 { "" } else { "s" }
            ))),
        };
    }
    let format = match args.format {
        cli::DigestFormatArg::Md => gleaner::desk::DigestFormat::Markdown,
        cli::DigestFormatArg::Html => gleaner::desk::DigestFormat::Html,
    };
    let (_, text) = gleaner::desk::digest(&config, &store, &week, format, ctx.now).await?;
    print(&text);
    store.close().await;
    Ok(())
}

pub async fn import_issues(ctx: &Ctx, args: &cli::ImportIssuesArgs) -> Result<(), Failure> {
    let (config, store) = ctx.open().await?;
    let report =
        gleaner::desk::import_issues(&config, &store, &args.files, args.dry_run, ctx.now).await;
    store.close().await;
    say(output::import_issues::text(&report?).trim_end());
    Ok(())
}
