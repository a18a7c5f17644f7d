//! A TCP relay the test controls, between a client and the service: it forwards
//! bytes both ways until told to cut. A cut breaks every connection through it (both
//! sides see the connection end, with no close frame) and refuses new ones until it
//! ends: a network drop as a device sees it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Relay {
    pub address: SocketAddr,
    /// Bumped by each cut: connections made before it end.
    generation: watch::Sender<u64>,
    /// Until when new connections are refused.
    refuse_until: Arc<Mutex<Option<Instant>>>,
    accepting: JoinHandle<()>,
}

impl Relay {
    /// Relays 127.0.0.1:<free port> to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (generation, _) = watch::channel(0u64);
        let refuse_until: Arc<Mutex<Option<Instant>>> = Arc::default();
        let accepting =
            tokio::spawn(accept(listener, upstream, generation.subscribe(), refuse_until.clone()));
        Relay { address, generation, refuse_until, accepting }
    }

    /// Breaks every connection now and refuses new ones for `length`.
    pub fn cut(&self, length: Duration) {
        *self.refuse_until.lock().unwrap() = Some(Instant::now() + length);
        self.generation.send_modify(|generation| *generation += 1);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accepting.abort();
        self.generation.send_modify(|generation| *generation += 1);
    }
}

async fn accept(
    listener: TcpListener,
    upstream: SocketAddr,
    generation: watch::Receiver<u64>,
    refuse_until: Arc<Mutex<Option<Instant>>>,
) {
    while let Ok((client, _)) = listener.accept().await {
        let refusing = refuse_until.lock().unwrap().is_some_and(|until| Instant::now() < until);
        if refusing {
            drop(client);
            continue;
        }
        let mut cut = generation.clone();
        cut.borrow_and_update();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(upstream).await else { return };
            let (mut client, mut server) = (client, server);
            // On a cut both sockets are dropped: each side sees its connection end
            // with no WebSocket close frame.
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = cut.changed() => {}
            }
        });
    }
}
