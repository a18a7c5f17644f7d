//! Signed-in devices that lose the service to a restart and come back as the apps
//! do: each waits a jittered backoff (the session's own schedule) between attempts
//! and says hello with its resume token. Reports when the first connection was lost,
//! when the last device was greeted again, and the spread in between.

use std::time::{Duration, Instant};

use callpark_session::{backoff, jittered};
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use crate::device::Device;
use crate::setup::LoadUser;
use crate::stats::Samples;
use crate::{CONCURRENT_CONNECTS, LoadError};

/// How long a device keeps trying before the run gives up on it.
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

/// When one device lost its connection and when it was greeted again.
struct Back {
    lost: Instant,
    greeted: Instant,
    attempts: u32,
}

/// A random number per device and attempt (splitmix64): spreads the retries the
/// way each app's own random seed does.
fn random(device: usize, attempt: u32) -> u64 {
    let mut z = (device as u64) << 32 ^ u64::from(attempt);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub async fn reconnect(
    websocket_url: &str,
    users: &[LoadUser],
    connections: usize,
) -> Result<(), LoadError> {
    let opened = Instant::now();
    let devices: Vec<(usize, Device, String)> =
        futures_util::stream::iter((0..connections).map(|n| {
            let token = users[n % users.len()].token.clone();
            async move {
                let (device, resume) =
                    Device::connect_resuming(websocket_url, &token, "reconnect", None).await?;
                Ok::<_, LoadError>((n, device, resume))
            }
        }))
        .buffer_unordered(CONCURRENT_CONNECTS)
        .try_collect()
        .await?;
    println!(
        "reconnect: {} devices connected in {:.1} s; restart the service now",
        devices.len(),
        opened.elapsed().as_secs_f64()
    );
    let (report, mut backs) = mpsc::unbounded_channel();
    for (n, device, resume) in devices {
        let token = users[n % users.len()].token.clone();
        let url = websocket_url.to_owned();
        let report = report.clone();
        tokio::spawn(async move {
            device.closed().await;
            let lost = Instant::now();
            let mut attempt = 0;
            while lost.elapsed() < GIVE_UP_AFTER {
                tokio::time::sleep(jittered(backoff(attempt), random(n, attempt))).await;
                attempt += 1;
                let resuming = Some(resume.clone());
                if let Ok((device, _)) =
                    Device::connect_resuming(&url, &token, "reconnect", resuming).await
                {
                    let _ = report.send(Back { lost, greeted: Instant::now(), attempts: attempt });
                    // Held open until the run ends, as an app would stay connected.
                    device.closed().await;
                    return;
                }
            }
        });
    }
    drop(report);
    let mut all = Vec::with_capacity(connections);
    while all.len() < connections {
        match tokio::time::timeout(GIVE_UP_AFTER * 2, backs.recv()).await {
            Ok(Some(back)) => all.push(back),
            Ok(None) | Err(_) => break,
        }
    }
    let (Some(first_lost), Some(last_greeted)) =
        (all.iter().map(|back| back.lost).min(), all.iter().map(|back| back.greeted).max())
    else {
        return Err(LoadError::Protocol("no device came back".into()));
    };
    let mut downtime = Samples::default();
    for back in &all {
        downtime.record(back.greeted - back.lost);
    }
    let mut attempts: Vec<u32> = all.iter().map(|back| back.attempts).collect();
    attempts.sort_unstable();
    println!(
        "reconnect: {} of {connections} devices back; first loss to last greeting {:.0} ms",
        all.len(),
        (last_greeted - first_lost).as_secs_f64() * 1000.0
    );
    println!("per device, loss -> greeted again: {}", downtime.summary());
    println!(
        "connection attempts per device: median {}, max {}",
        attempts[attempts.len() / 2],
        attempts[attempts.len() - 1]
    );
    if all.len() < connections {
        return Err(LoadError::Protocol(format!(
            "{} devices did not come back within {} s",
            connections - all.len(),
            GIVE_UP_AFTER.as_secs()
        )));
    }
    Ok(())
}
