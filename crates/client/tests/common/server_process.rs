//! The real `callpark-server` binary as a child process: `--demo`, its own data
//! directory, a free port of 127.0.0.1, stopped by PID (SIGTERM or `kill -9`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use callpark_client::ServiceAddress;

/// The server binary: `CALLPARK_SERVER`, or the one the workspace build put beside
/// this test or bench (`target/<profile>/callpark-server`; `cargo nextest run
/// --workspace` builds it, or `cargo build -p callpark-service`).
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CALLPARK_SERVER") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> → target/<profile>/callpark-server
    let profile_dir = exe.parent().and_then(Path::parent).expect("a test under target/");
    profile_dir.join(format!("callpark-server{}", std::env::consts::EXE_SUFFIX))
}

pub struct ServerProcess {
    child: Child,
    pub address: String,
    pub service: ServiceAddress,
    data: PathBuf,
}

impl ServerProcess {
    /// Starts the server on a free port of 127.0.0.1 with `data` as its data
    /// directory, and waits until it is healthy.
    pub async fn start(data: &Path) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("127.0.0.1:{port}");
        let service = ServiceAddress::parse(&format!("http://{address}")).unwrap();
        let child = spawn(&address, data);
        let server = ServerProcess { child, address, service, data: data.to_owned() };
        server.wait_until_healthy().await;
        server
    }

    /// Stops the server (SIGTERM when `graceful`, else `kill -9`) and waits for it
    /// to exit.
    pub fn stop(&mut self, graceful: bool) {
        if graceful {
            let pid = self.child.id().to_string();
            assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        } else {
            self.child.kill().unwrap();
        }
        self.child.wait().unwrap();
    }

    /// Starts it again at once on the same port and data directory (not waiting
    /// until it is healthy: clients find out by reconnecting).
    pub fn start_again(&mut self) {
        self.child = spawn(&self.address, &self.data);
    }

    pub async fn wait_until_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("http://{}/healthz", self.address);
        while !reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) {
            assert!(Instant::now() < deadline, "callpark-server did not become healthy");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Quiet, unless `CALLPARK_SERVER_LOG` names a log filter (then the server logs
/// to this process's output).
fn spawn(address: &str, data: &Path) -> Child {
    let log = std::env::var("CALLPARK_SERVER_LOG").ok();
    Command::new(server_binary())
        .args(["--demo", "--listen", address])
        .arg("--data-dir")
        .arg(data)
        .env("CALLPARK_LOG", log.as_deref().unwrap_or("warn"))
        .stdout(if log.is_some() { Stdio::inherit() } else { Stdio::null() })
        .stderr(if log.is_some() { Stdio::inherit() } else { Stdio::null() })
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "{}: {error} (build it with `cargo build -p callpark-service`)",
                server_binary().display()
            )
        })
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
