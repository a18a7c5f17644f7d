//! `callpark`: a headless softphone and the admin commands, on the client engine.
//!
//! Exit codes: 0 done; 1 the service refused (message and code on stderr); 2 bad
//! usage; 3 cannot reach the service or not signed in; 4 timed out waiting.

mod admin;
mod phone;
mod session;
mod table;

use std::process::ExitCode;

use callpark_client::ClientError;
use clap::{Parser, Subcommand};

pub use session::{Session, Target};

/// Callpark from the command line: sign in, call, park, pick up, and administer
/// call park policies, users and groups.
#[derive(Debug, Parser)]
#[command(name = "callpark", version)]
pub struct Cli {
    /// The service, as http://host:port or https://host:port.
    #[arg(long, global = true, env = "CALLPARK_SERVER")]
    server: Option<String>,
    /// Trust only the certificate authorities in this PEM file for an https:// service
    /// (default: the system's trust store). `login` remembers it.
    #[arg(long, global = true, env = "CALLPARK_CA_FILE")]
    ca_file: Option<std::path::PathBuf>,
    /// Print results as JSON instead of tables: one object per line.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in and remember the session for later commands.
    Login {
        login: String,
        /// The password (default: read one line from standard input).
        #[arg(long, env = "CALLPARK_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Forget the saved session.
    Logout,
    /// Call a user; stays in the call (type "park" or "hangup") until it ends.
    Call {
        login: String,
        /// Park the call as soon as it is connected, print the code and exit.
        #[arg(long)]
        park: bool,
        #[command(flatten)]
        audio: phone::AudioArgs,
    },
    /// Wait for a call and answer it; then as `call`.
    Answer {
        #[arg(long)]
        park: bool,
        /// Give up after this many seconds without a call.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        #[command(flatten)]
        audio: phone::AudioArgs,
    },
    /// Pick up a parked call by its code; stays in the call until it ends.
    Retrieve {
        /// The pickup code, or the `callpark://pickup/<code>` link the parker shared.
        code: String,
        /// Hang up this many seconds after connecting (default: stay).
        #[arg(long)]
        hangup_after: Option<u64>,
        #[command(flatten)]
        audio: phone::AudioArgs,
    },
    /// Show the parked calls of your park group, live (or once).
    Parked {
        #[arg(long)]
        once: bool,
    },
    /// Show the people of your organisation and whether they can take a call, live
    /// (or once).
    People {
        #[arg(long)]
        once: bool,
    },
    /// How your parked calls ended (picked up, rung back, lost in a restart, …):
    /// kept, on every device, until you dismiss them here or in the app.
    Ended {
        /// Dismiss the outcome of this call (the CALL column).
        #[arg(long, value_name = "CALL", conflicts_with = "dismiss_all")]
        dismiss: Option<u64>,
        /// Dismiss every outcome listed.
        #[arg(long)]
        dismiss_all: bool,
    },
    /// Print every event for your account as it happens.
    Watch,
    /// List the microphones and speakers (for --mic and --speaker).
    Devices,
    /// Call park policies (the *-CsTeamsCallParkPolicy cmdlets).
    #[command(subcommand)]
    Policy(admin::PolicyCommand),
    /// User accounts.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Park groups and membership.
    #[command(subcommand)]
    Group(admin::GroupCommand),
    /// The park audit log, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only this kind (parked, retrieved, retrieve_refused, rang_back, fell_back, ...).
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        policy: Option<String>,
    },
}

/// Why a command failed, and the exit code that says so.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Client(#[from] ClientError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NotSignedIn(String),
    #[error("{0}")]
    TimedOut(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Client(ClientError::Refused(_)) => 1,
            Failure::Client(ClientError::BadUrl(_) | ClientError::CaFile { .. })
            | Failure::Usage(_) => 2,
            Failure::Client(ClientError::Timeout(_)) | Failure::TimedOut(_) => 4,
            Failure::Client(_) | Failure::NotSignedIn(_) => 3,
        }
    }

    fn code(&self) -> &str {
        match self {
            Failure::Client(error) => error.code(),
            Failure::Usage(_) => "usage",
            Failure::NotSignedIn(_) => "not_signed_in",
            Failure::TimedOut(_) => "timeout",
        }
    }
}

/// Prints a result as a table or as JSON.
#[derive(Debug)]
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn print<T: serde::Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.json {
            match serde_json::to_string(value) {
                Ok(text) => println!("{text}"),
                Err(error) => eprintln!("error: cannot print as JSON: {error}"),
            }
        } else {
            let text = human();
            if !text.is_empty() {
                println!("{}", text.trim_end());
            }
        }
    }
}

/// How long a finished command waits for work still running (see `main`).
const FINISHING_WORK: std::time::Duration = std::time::Duration::from_secs(2);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run_and_report());
    // The softphone reads commands from standard input on a blocking thread; a read
    // still waiting must not keep the finished command from exiting. Work that is
    // finishing (a recording's file being closed) gets this long.
    runtime.shutdown_timeout(FINISHING_WORK);
    code
}

async fn run_and_report() -> ExitCode {
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    match run(cli, &out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if out.json {
                let body =
                    serde_json::json!({"code": failure.code(), "message": failure.to_string()});
                eprintln!("{body}");
            } else {
                eprintln!("error: {failure} ({})", failure.code());
                if failure.to_string().contains("UnknownIssuer") {
                    eprintln!(
                        "hint: the service's certificate is not signed by an authority this \
                         machine trusts; if it uses a private CA, pass --ca-file <ca.pem>"
                    );
                }
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

async fn run(cli: Cli, out: &Out) -> Result<(), Failure> {
    let target = Target { server: cli.server, ca_file: cli.ca_file };
    match cli.command {
        Command::Login { login, password } => session::login(&target, &login, password, out).await,
        Command::Logout => session::logout(&target, out).await,
        Command::Call { login, park, audio } => {
            phone::call(&Session::load(&target)?, &login, park, &audio, out).await
        }
        Command::Answer { park, timeout, audio } => {
            phone::answer(&Session::load(&target)?, park, timeout, &audio, out).await
        }
        Command::Retrieve { code, hangup_after, audio } => {
            phone::retrieve(&Session::load(&target)?, &code, hangup_after, &audio, out).await
        }
        Command::Parked { once } => phone::parked(&Session::load(&target)?, once, out).await,
        Command::People { once } => phone::people(&Session::load(&target)?, once, out).await,
        Command::Ended { dismiss, dismiss_all } => {
            let which = match (dismiss, dismiss_all) {
                (Some(call), _) => phone::Dismiss::One(call),
                (None, true) => phone::Dismiss::All,
                (None, false) => phone::Dismiss::None,
            };
            phone::ended(&Session::load(&target)?, which, out).await
        }
        Command::Watch => phone::watch(&Session::load(&target)?, out).await,
        Command::Devices => phone::devices(out),
        Command::Policy(command) => {
            admin::policy(&Session::load(&target)?.admin()?, command, out).await
        }
        Command::User(command) => {
            admin::user(&Session::load(&target)?.admin()?, command, out).await
        }
        Command::Group(command) => {
            admin::group(&Session::load(&target)?.admin()?, command, out).await
        }
        Command::Audit { limit, kind, policy } => {
            let client = Session::load(&target)?.admin()?;
            let lines = client.audit(limit, kind.as_deref(), policy.as_deref()).await?;
            out.print(&lines, || table::audit(&lines));
            Ok(())
        }
    }
}
