//! The long-running commands: `run` (the daemon, `--serve` with the desk) and `serve`.

use std::sync::Arc;

use gleaner::config::Config;

use super::{Ctx, Failure};
use crate::cli;

pub async fn run(ctx: &Ctx, args: &cli::RunArgs) -> Result<(), Failure> {
    let (mut config, db) = ctx.config()?;
    config.storage.path = db.clone();
    // Bind before anything runs: a refused or taken address stops the start.
    let listener = match args.serve {
        true => Some(bind_desk(&config, args.listen).await?),
        false => None,
    };
    let store = ctx.open_store(&db).await?;
    let control = gleaner::daemon::install_signal_handlers()
        .map_err(|e| Failure::Failed(format!("cannot install signal handlers: {e}")))?;
    // The desk stops with the daemon (the same shutdown token) and follows its
    // config reloads.
    let (adopted, configs) = tokio::sync::watch::channel(Arc::new(config.clone()));
    let reloader = control.reloader();
    let server = listener.map(|l| {
        tokio::spawn(gleaner::serve::serve(
            l,
            configs,
            ctx.config_path.clone(),
            store.clone(),
            control.shutdown.clone(),
            reloader,
        ))
    });
    let shutdown = control.shutdown.clone();
    let daemon = gleaner::daemon::run(
        config,
        ctx.config_path.clone(),
        store,
        control,
        Some(adopted),
    )
    .await
    .map_err(|e| match e {
        gleaner::daemon::DaemonError::Store(e) => Failure::Database(e.to_string()),
        other => Failure::Failed(other.to_string()),
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

pub async fn serve(ctx: &Ctx, args: &cli::ServeArgs) -> Result<(), Failure> {
    let (mut config, db) = ctx.config()?;
    config.storage.path = db.clone();
    let listener = bind_desk(&config, args.listen).await?;
    let store = ctx.open_store(&db).await?;
    let control = gleaner::daemon::install_signal_handlers()
        .map_err(|e| Failure::Failed(format!("cannot install signal handlers: {e}")))?;
    // SIGHUP re-reads the config, as for the daemon.
    let (adopted, configs) = tokio::sync::watch::channel(Arc::new(config));
    let reloader = control.reloader();
    gleaner::daemon::follow_reloads(control.reload, adopted, ctx.config_path.clone());
    let result = gleaner::serve::serve(
        listener,
        configs,
        ctx.config_path.clone(),
        store.clone(),
        control.shutdown,
        reloader,
    )
    .await
    .map_err(|e| Failure::Failed(e.to_string()));
    store.close().await;
    result
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
            ServeError::NeedsToken(_) => Failure::Config(e.to_string()),
            other => Failure::Failed(other.to_string()),
        })?;
    let addr = listener.local_addr();
    eprintln!("gleaner: serving on http://{addr}");
    Ok(listener)
}
