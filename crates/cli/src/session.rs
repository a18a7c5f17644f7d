//! The saved session: which service, and the token from `callpark login`.

use std::path::PathBuf;

use callpark_client::{AdminClient, ServiceAddress, Trust};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncBufReadExt;

use crate::{Failure, Out};

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7300";

/// The service named on the command line (or in the environment), if any.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub server: Option<String>,
    pub ca_file: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub server: String,
    /// The CA file the service's certificate is checked against, if not the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    pub login: String,
    pub token: String,
    pub expires_at_ms: u64,
}

/// `CALLPARK_SESSION`, or `callpark/session.json` in the user's config directory.
fn path() -> Result<PathBuf, Failure> {
    if let Some(path) = std::env::var_os("CALLPARK_SESSION") {
        return Ok(PathBuf::from(path));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .ok_or_else(|| {
            Failure::Usage("set CALLPARK_SESSION to where the session is kept".into())
        })?;
    Ok(config.join("callpark").join("session.json"))
}

impl Session {
    /// The saved session; the target's server, if given, must be the one it is for,
    /// and its CA file, if given, replaces the saved one.
    pub fn load(target: &Target) -> Result<Session, Failure> {
        let path = path()?;
        let text = std::fs::read_to_string(&path).map_err(|_| {
            Failure::NotSignedIn("Not signed in: run `callpark login <login>` first.".into())
        })?;
        let mut session: Session = serde_json::from_str(&text).map_err(|error| {
            Failure::NotSignedIn(format!(
                "The saved session {} is unreadable ({error}); sign in again.",
                path.display()
            ))
        })?;
        if let Some(server) = &target.server
            && server.trim_end_matches('/') != session.server.trim_end_matches('/')
        {
            return Err(Failure::NotSignedIn(format!(
                "Signed in to {}, not {server}: run `callpark login` for that service.",
                session.server
            )));
        }
        if target.ca_file.is_some() {
            session.ca_file.clone_from(&target.ca_file);
        }
        Ok(session)
    }

    pub fn service(&self) -> Result<ServiceAddress, Failure> {
        Ok(ServiceAddress::new(&self.server, &Trust::from_ca_file(self.ca_file.clone()))?)
    }

    pub fn admin(&self) -> Result<AdminClient, Failure> {
        Ok(AdminClient::new(&self.service()?, &self.token))
    }
}

pub async fn login(
    target: &Target,
    login: &str,
    password: Option<String>,
    out: &Out,
) -> Result<(), Failure> {
    let server = target.server.as_deref().unwrap_or(DEFAULT_SERVER);
    let service = ServiceAddress::new(server, &Trust::from_ca_file(target.ca_file.clone()))?;
    let password = match password {
        Some(password) => password,
        None => {
            let mut line = String::new();
            tokio::io::BufReader::new(tokio::io::stdin())
                .read_line(&mut line)
                .await
                .map_err(|error| Failure::Usage(format!("cannot read the password: {error}")))?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let reply = callpark_client::login(&service, login, &password).await?;
    // Saved absolute, so later commands from another directory still find it.
    let ca_file = target
        .ca_file
        .as_deref()
        .map(std::path::absolute)
        .transpose()
        .map_err(|error| Failure::Usage(format!("cannot resolve the CA file path: {error}")))?;
    let session = Session {
        server: service.base().to_owned(),
        ca_file,
        login: reply.login.clone(),
        token: reply.token.clone(),
        expires_at_ms: reply.expires_at_ms,
    };
    let path = path()?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|error| Failure::Usage(format!("cannot create {}: {error}", dir.display())))?;
    }
    let text = serde_json::to_string_pretty(&session)
        .map_err(|error| Failure::Usage(error.to_string()))?;
    write_private(&path, &text).map_err(|error| {
        Failure::Usage(format!("cannot save the session to {}: {error}", path.display()))
    })?;
    let shown = serde_json::json!({"login": reply.login, "user": reply.user, "admin": reply.admin,
        "server": session.server, "expires_at_ms": reply.expires_at_ms});
    out.print(&shown, || {
        let role = if reply.admin { " (admin)" } else { "" };
        format!("Signed in to {} as {}{role}.", session.server, reply.login)
    });
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

/// Ends the sign-in at the service (the token stops working everywhere), then
/// forgets it here. A service that cannot be reached leaves the token valid until it
/// expires: said, and the local copy is kept so that logout can be tried again.
pub async fn logout(target: &Target, out: &Out) -> Result<(), Failure> {
    let path = path()?;
    let Ok(session) = Session::load(target) else {
        out.print(&serde_json::json!({"signed_out": false}), || "Not signed in.".into());
        return Ok(());
    };
    match session.admin()?.logout().await {
        Ok(()) => {}
        // Expired or revoked already: nothing left to end at the service.
        Err(error) if error.code() == "unauthorized" => {}
        Err(error) => {
            return Err(Failure::Usage(format!(
                "Could not sign out at {} ({error}); the token stays valid until it expires. \
                 Try again when the service is reachable.",
                session.server
            )));
        }
    }
    std::fs::remove_file(&path).map_err(|error| {
        Failure::Usage(format!("signed out, but cannot remove {}: {error}", path.display()))
    })?;
    out.print(&serde_json::json!({"signed_out": true}), || "Signed out.".into());
    Ok(())
}
