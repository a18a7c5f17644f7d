//! `callpark-server`: the park service.

use std::process::ExitCode;
use std::time::Duration;

use callpark_service::config::{Args, ServiceConfig};
use callpark_service::startup::start;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// How long shutdown waits for the last store writes.
const FLUSH_WAIT: Duration = Duration::from_secs(3);

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CALLPARK_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = match ServiceConfig::resolve(Args::parse()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("callpark-server: {error}");
            return ExitCode::from(2);
        }
    };
    if config.test_clock_speedup > 1 {
        tracing::warn!(
            speedup = config.test_clock_speedup,
            "TEST CLOCK: park timers run faster than real time"
        );
    }
    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("callpark-server: cannot listen on {}: {error}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let started = match start(&config).await {
        Ok(started) => started,
        Err(error) => {
            eprintln!("callpark-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(data_dir = %config.data_dir.display(), "store open");
    let scheme = if started.tls.is_some() { "https" } else { "http" };
    if callpark_service::web_app::is_built() {
        // A wildcard listen address is not one a browser can open; this machine is.
        let mut shown = config.listen;
        if shown.ip().is_unspecified() {
            shown.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        println!("Callpark web app: {scheme}://{shown}/");
    } else {
        tracing::warn!("built without the web app (ui/dist-web); `/` says how to add it");
    }
    let served =
        callpark_service::run(listener, started.tls, started.state, shutdown_signal()).await;
    if !matches!(tokio::time::timeout(FLUSH_WAIT, started.exchange.flush()).await, Ok(true)) {
        tracing::warn!("the last store writes could not be confirmed before exit");
    }
    drop(started.writer);
    started.store.close().await;
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("callpark-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted; shutting down"),
        () = terminate => tracing::info!("terminated; shutting down"),
    }
}
