//! `callpark-server`: the park service.

use std::net::SocketAddr;
use std::process::ExitCode;

use callpark_park::{Config, Switchboard};
use callpark_service::demo::{DEMO_USERS, demo_tenant};
use callpark_service::{Accounts, AppState, spawn};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// The Callpark park service.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "CALLPARK_LISTEN", default_value = "127.0.0.1:7300")]
    listen: SocketAddr,
    /// Start with a demo tenant: users alice, bob, carol (front desk, park on) and
    /// dave (park off); passwords are "<login>-demo".
    #[arg(long, env = "CALLPARK_DEMO")]
    demo: bool,
    /// TEST ONLY: divide park timeouts and unanswered delays by this, so UI tests see
    /// a ringback without waiting minutes. Policies keep their 120–1800 s values.
    #[arg(long, env = "CALLPARK_TEST_CLOCK_SPEEDUP", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    test_clock_speedup: u32,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CALLPARK_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if args.test_clock_speedup > 1 {
        tracing::warn!(
            speedup = args.test_clock_speedup,
            "TEST CLOCK: park timers run faster than real time"
        );
    }
    let switchboard =
        Switchboard::new(Config { clock_speedup: args.test_clock_speedup, ..Config::default() });
    let (switchboard, logins, accounts) = if args.demo {
        match demo_tenant(switchboard) {
            Ok(tenant) => {
                let logins: Vec<&str> = DEMO_USERS.iter().map(|(login, _, _)| *login).collect();
                tracing::info!(users = ?logins, password = "<login>-demo", "demo tenant ready");
                (tenant.switchboard, tenant.logins, tenant.accounts)
            }
            Err(error) => {
                eprintln!("callpark-server: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        (switchboard, Default::default(), Accounts::default())
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("callpark-server: cannot listen on {}: {error}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let exchange = spawn(switchboard, logins);
    match callpark_service::run(listener, AppState::new(exchange, accounts), shutdown_signal())
        .await
    {
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
