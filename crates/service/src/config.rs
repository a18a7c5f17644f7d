//! Service configuration: flags > `CALLPARK_*` environment > TOML file > defaults.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

use crate::server::DEFAULT_MAX_CONNECTIONS;
use crate::tls::TlsFiles;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7300";
pub const DEFAULT_DATA_DIR: &str = "callpark-data";
pub const DEFAULT_VOICEMAIL_MAX_SECONDS: u32 = 180;
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 90;
/// Audit lines may be kept 1 day to 10 years.
pub const AUDIT_RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3650;

/// The Callpark park service.
#[derive(Debug, Default, Parser)]
#[command(name = "callpark-server", version)]
pub struct Args {
    /// A TOML file with any of the settings below (flags and environment win).
    #[arg(long, env = "CALLPARK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:7300].
    #[arg(long, env = "CALLPARK_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the database [default: ./callpark-data].
    #[arg(long, env = "CALLPARK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// On an empty data directory, start with a demo tenant: alice (admin), bob and
    /// carol in the front desk group (park on) and dave (park off); passwords are
    /// "<login>-demo".
    #[arg(long, env = "CALLPARK_DEMO")]
    pub demo: bool,
    /// Password for the "admin" account created on an empty data directory (without
    /// it, a random one is written to <data-dir>/initial-admin-password).
    #[arg(long, env = "CALLPARK_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Most signaling connections served at once [default: 20000].
    #[arg(long, env = "CALLPARK_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// PEM certificate chain (leaf first); with --tls-key the service speaks only
    /// https and wss.
    #[arg(long, env = "CALLPARK_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "CALLPARK_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// UDP address for every device's audio [default: the listen address, same port].
    #[arg(long, env = "CALLPARK_MEDIA_LISTEN")]
    pub media_listen: Option<SocketAddr>,
    /// The address devices reach the media port at, when media_listen is 0.0.0.0 or
    /// [::] (behind NAT: the public address).
    #[arg(long, env = "CALLPARK_MEDIA_PUBLIC_IP")]
    pub media_public_ip: Option<IpAddr>,
    /// Longest voicemail message, in seconds (10–600) [default: 180].
    #[arg(long, env = "CALLPARK_VOICEMAIL_MAX_SECONDS", value_parser = clap::value_parser!(u32).range(10..=600))]
    pub voicemail_max_seconds: Option<u32>,
    /// How long audit lines are kept, in days (1–3650) [default: 90]; older ones are
    /// deleted in the background.
    #[arg(long, env = "CALLPARK_AUDIT_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub audit_retention_days: Option<u32>,
    /// How long a device whose connection dropped keeps its calls, in seconds
    /// (5–300) [default: 30].
    #[arg(long, env = "CALLPARK_RECONNECT_GRACE_SECONDS", value_parser = clap::value_parser!(u32).range(5..=300))]
    pub reconnect_grace_seconds: Option<u32>,
    /// After a restart, how long a parked caller has to come back before the park
    /// ends, in seconds (10–600) [default: 60].
    #[arg(long, env = "CALLPARK_PARKED_CALLER_GRACE_SECONDS", value_parser = clap::value_parser!(u32).range(10..=600))]
    pub parked_caller_grace_seconds: Option<u32>,
    /// TEST ONLY: divide park timeouts and unanswered delays by this, so UI tests see
    /// a ringback without waiting minutes. Policies keep their 120–1800 s values.
    #[arg(long, env = "CALLPARK_TEST_CLOCK_SPEEDUP", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub test_clock_speedup: Option<u32>,
    /// Web origins (scheme://host[:port]) besides the service's own whose pages may
    /// open the signaling socket; repeat, or separate with commas.
    #[arg(long = "allowed-origin", env = "CALLPARK_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

/// What the TOML file may hold. Unknown keys are refused, so typos do not go unseen.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub demo: Option<bool>,
    pub admin_password: Option<String>,
    pub max_connections: Option<usize>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub media_listen: Option<SocketAddr>,
    pub media_public_ip: Option<IpAddr>,
    pub voicemail_max_seconds: Option<u32>,
    pub audit_retention_days: Option<u32>,
    pub reconnect_grace_seconds: Option<u32>,
    pub parked_caller_grace_seconds: Option<u32>,
    pub allowed_origins: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub demo: bool,
    pub admin_password: Option<String>,
    pub max_connections: usize,
    /// `None`: plain http and ws.
    pub tls: Option<TlsFiles>,
    /// UDP address of the media anchor.
    pub media_listen: SocketAddr,
    pub media_public_ip: Option<IpAddr>,
    pub voicemail_max: Duration,
    /// Audit lines older than this are deleted.
    pub audit_retention: Duration,
    /// How long a dropped device keeps its calls.
    pub reconnect_grace: Duration,
    /// After a restart, how long a parked caller has to come back.
    pub parked_caller_grace: Duration,
    pub test_clock_speedup: u32,
    /// Origins besides the service's own allowed to open `/ws` from a web page.
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("voicemail_max_seconds is {0}; allowed: 10 to 600")]
    VoicemailLength(u32),
    #[error("audit_retention_days is {0}; allowed: 1 to 3650")]
    AuditRetention(u32),
    #[error("{name} is {value}; allowed: {min} to {max}")]
    OutOfRange { name: &'static str, value: u32, min: u32, max: u32 },
    #[error("max_connections must be at least 1")]
    NoConnections,
    #[error("{given} is set but {missing} is not: TLS needs both the certificate and the key")]
    HalfTls { given: &'static str, missing: &'static str },
}

impl ServiceConfig {
    /// Settings for a test service: listen anywhere free, data in `data_dir`.
    pub fn for_tests(data_dir: &Path) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_owned(),
            demo: true,
            admin_password: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            tls: None,
            media_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            media_public_ip: None,
            voicemail_max: Duration::from_secs(u64::from(DEFAULT_VOICEMAIL_MAX_SECONDS)),
            audit_retention: retention_days(DEFAULT_AUDIT_RETENTION_DAYS),
            reconnect_grace: callpark_park::DEFAULT_RECONNECT_GRACE,
            parked_caller_grace: callpark_park::DEFAULT_RESTORED_CALLER_GRACE,
            test_clock_speedup: 1,
            allowed_origins: Vec::new(),
        }
    }

    pub fn resolve(args: Args) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let default_listen = SocketAddr::from(([127, 0, 0, 1], 7300));
        let max_connections =
            args.max_connections.or(file.max_connections).unwrap_or(DEFAULT_MAX_CONNECTIONS);
        if max_connections == 0 {
            return Err(ConfigError::NoConnections);
        }
        let tls = match (args.tls_cert.or(file.tls_cert), args.tls_key.or(file.tls_key)) {
            (Some(certificate), Some(key)) => Some(TlsFiles { certificate, key }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::HalfTls { given: "tls_cert", missing: "tls_key" });
            }
            (None, Some(_)) => {
                return Err(ConfigError::HalfTls { given: "tls_key", missing: "tls_cert" });
            }
        };
        let listen = args.listen.or(file.listen).unwrap_or(default_listen);
        let voicemail_max_seconds = args
            .voicemail_max_seconds
            .or(file.voicemail_max_seconds)
            .unwrap_or(DEFAULT_VOICEMAIL_MAX_SECONDS);
        if !(10..=600).contains(&voicemail_max_seconds) {
            return Err(ConfigError::VoicemailLength(voicemail_max_seconds));
        }
        let audit_retention_days = args
            .audit_retention_days
            .or(file.audit_retention_days)
            .unwrap_or(DEFAULT_AUDIT_RETENTION_DAYS);
        if !AUDIT_RETENTION_DAYS.contains(&audit_retention_days) {
            return Err(ConfigError::AuditRetention(audit_retention_days));
        }
        let seconds = |name, given: Option<u32>, default: Duration, (min, max): (u32, u32)| {
            let value = given.unwrap_or(u32::try_from(default.as_secs()).unwrap_or(u32::MAX));
            if (min..=max).contains(&value) {
                Ok(Duration::from_secs(u64::from(value)))
            } else {
                Err(ConfigError::OutOfRange { name, value, min, max })
            }
        };
        let reconnect_grace = seconds(
            "reconnect_grace_seconds",
            args.reconnect_grace_seconds.or(file.reconnect_grace_seconds),
            callpark_park::DEFAULT_RECONNECT_GRACE,
            (5, 300),
        )?;
        let parked_caller_grace = seconds(
            "parked_caller_grace_seconds",
            args.parked_caller_grace_seconds.or(file.parked_caller_grace_seconds),
            callpark_park::DEFAULT_RESTORED_CALLER_GRACE,
            (10, 600),
        )?;
        Ok(Self {
            listen,
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            demo: args.demo || file.demo.unwrap_or(false),
            admin_password: args.admin_password.or(file.admin_password),
            max_connections,
            tls,
            media_listen: args.media_listen.or(file.media_listen).unwrap_or(listen),
            media_public_ip: args.media_public_ip.or(file.media_public_ip),
            voicemail_max: Duration::from_secs(u64::from(voicemail_max_seconds)),
            audit_retention: retention_days(audit_retention_days),
            reconnect_grace,
            parked_caller_grace,
            test_clock_speedup: args.test_clock_speedup.unwrap_or(1),
            allowed_origins: if args.allowed_origins.is_empty() {
                file.allowed_origins.unwrap_or_default()
            } else {
                args.allowed_origins
            },
        })
    }
}

fn retention_days(days: u32) -> Duration {
    Duration::from_secs(u64::from(days) * 24 * 60 * 60)
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
    toml::from_str(&text)
        .map_err(|error| ConfigError::Invalid { path: path.to_owned(), message: error.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("callpark.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn defaults_when_nothing_is_given() {
        let config = ServiceConfig::resolve(Args::default()).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        assert!(!config.demo);
        assert_eq!(config.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(config.test_clock_speedup, 1);
        assert_eq!(
            config.media_listen.to_string(),
            DEFAULT_LISTEN,
            "media shares the port number, over UDP"
        );
        assert_eq!(config.voicemail_max, Duration::from_secs(180));
        assert_eq!(config.audit_retention, Duration::from_secs(90 * 24 * 60 * 60));
    }

    #[test]
    fn audit_retention_comes_from_the_file_and_is_checked() {
        let (_dir, path) = write("audit_retention_days = 30\n");
        let config =
            ServiceConfig::resolve(Args { config: Some(path), ..Args::default() }).unwrap();
        assert_eq!(config.audit_retention, Duration::from_secs(30 * 24 * 60 * 60));
        let (_dir, path) = write("audit_retention_days = 0\n");
        let error =
            ServiceConfig::resolve(Args { config: Some(path), ..Args::default() }).unwrap_err();
        assert!(error.to_string().contains("1 to 3650"), "{error}");
    }

    #[test]
    fn grace_periods_default_come_from_the_file_and_are_checked() {
        let config = ServiceConfig::resolve(Args::default()).unwrap();
        assert_eq!(
            (config.reconnect_grace, config.parked_caller_grace),
            (Duration::from_secs(30), Duration::from_secs(60))
        );
        let (_dir, path) = write(
            "reconnect_grace_seconds = 10
parked_caller_grace_seconds = 120
",
        );
        let config =
            ServiceConfig::resolve(Args { config: Some(path), ..Args::default() }).unwrap();
        assert_eq!(
            (config.reconnect_grace, config.parked_caller_grace),
            (Duration::from_secs(10), Duration::from_secs(120))
        );
        let (_dir, path) = write(
            "reconnect_grace_seconds = 1
",
        );
        let error =
            ServiceConfig::resolve(Args { config: Some(path), ..Args::default() }).unwrap_err();
        assert_eq!(error.to_string(), "reconnect_grace_seconds is 1; allowed: 5 to 300");
    }

    #[test]
    fn a_voicemail_length_out_of_range_is_refused_with_the_range() {
        let (_dir, path) = write("voicemail_max_seconds = 5\n");
        let error =
            ServiceConfig::resolve(Args { config: Some(path), ..Args::default() }).unwrap_err();
        assert_eq!(error.to_string(), "voicemail_max_seconds is 5; allowed: 10 to 600");
    }

    #[test]
    fn the_file_fills_in_what_flags_do_not_say() {
        let (_dir, path) = write(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/var/lib/callpark\"\nmax_connections = 50\n",
        );
        let args = Args {
            config: Some(path),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Args::default()
        };
        let config = ServiceConfig::resolve(args).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9100", "the flag wins");
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/callpark"));
        assert_eq!(config.max_connections, 50);
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_problem() {
        let (_dir, path) = write("listen = \"127.0.0.1:9000\"\nlisten_port = 3\n");
        let error =
            ServiceConfig::resolve(Args { config: Some(path), ..Args::default() }).unwrap_err();
        assert!(error.to_string().contains("listen_port"), "{error}");
        let missing = ServiceConfig::resolve(Args {
            config: Some(PathBuf::from("/nonexistent/callpark.toml")),
            ..Args::default()
        })
        .unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/callpark.toml"), "{missing}");
    }

    #[test]
    fn tls_needs_both_files() {
        let (_dir, path) = write("tls_cert = \"/etc/callpark/cert.pem\"\n");
        let error = ServiceConfig::resolve(Args { config: Some(path.clone()), ..Args::default() })
            .unwrap_err();
        assert!(error.to_string().contains("tls_key is not"), "{error}");
        let config = ServiceConfig::resolve(Args {
            config: Some(path),
            tls_key: Some(PathBuf::from("/etc/callpark/key.pem")),
            ..Args::default()
        })
        .unwrap();
        assert_eq!(
            config.tls,
            Some(TlsFiles {
                certificate: PathBuf::from("/etc/callpark/cert.pem"),
                key: PathBuf::from("/etc/callpark/key.pem"),
            })
        );
    }
}
