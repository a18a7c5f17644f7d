//! Connection lost and back: the app says it is reconnecting, and is online again
//! when the service can be reached. The network is a proxy the test cuts.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::parties::Service;
use crate::support::Desktop;

/// A TCP proxy to the service; dropping it closes every connection through it.
struct Link {
    _tasks: JoinSet<()>,
}

impl Link {
    async fn up(listen: SocketAddr, service: SocketAddr) -> Link {
        let listener = TcpListener::bind(listen).await.expect("the proxy's port");
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut upstream) = TcpStream::connect(service).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        Link { _tasks: tasks }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_shows_reconnecting_and_comes_back_online() {
    let service = Service::start().await;
    let upstream: SocketAddr =
        service.address.trim_start_matches("http://").parse().expect("the service address");
    let listen: SocketAddr =
        format!("127.0.0.1:{}", crate::support::free_port()).parse().expect("an address");
    let link = Link::up(listen, upstream).await;
    Desktop::launch("connection")
        .await
        .run(async |app| {
            app.sign_in(&format!("http://{listen}"), "bob").await?;
            drop(link);
            app.wait_for_text_containing("connection-status", "Connection lost — reconnecting")
                .await?;
            app.screenshot("reconnecting").await;
            let _back = Link::up(listen, upstream).await;
            app.wait_for_text("connection-status", "Online").await?;
            app.wait_for_text_containing("parked-policy", "Front desk").await?;
            Ok(())
        })
        .await;
}
