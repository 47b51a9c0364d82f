//! `gleaner check`: what gleaner understood from the config, and the next runs.

use gleaner::output;

use super::{Ctx, Failure, say};

pub async fn check(ctx: &Ctx) -> Result<(), Failure> {
    let (config, db) = ctx.config()?;
    let now = ctx.now;
    say(output::check::render(
        &config,
        &ctx.config_path.display().to_string(),
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
