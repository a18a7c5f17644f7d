//! Keeping voicemail: each finished recording becomes an Ogg Opus file (RFC 7845)
//! in the data directory and a row in the store, and its owner's devices are told.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use callpark_wire::Event;
use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use tokio::sync::mpsc;

use crate::exchange::ExchangeHandle;
use crate::media::recorder::{Finished, Recording};
use crate::store::{NewVoicemail, Store};

/// Under the data directory.
pub const VOICEMAIL_DIR: &str = "voicemail";
/// Samples the decoder drops at the start (the usual Opus encoder delay at 48 kHz).
const PRE_SKIP: u16 = 312;
const SAMPLES_PER_PACKET: u64 = 960;
const STREAM_SERIAL: u32 = 0x4341_4c4c;

/// The recording as an Ogg Opus file: mono, 48 kHz, 20 ms packets.
pub fn ogg_opus(packets: &[Vec<u8>]) -> Result<Vec<u8>, std::io::Error> {
    let mut file = Cursor::new(Vec::new());
    let mut writer = PacketWriter::new(&mut file);
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1); // version
    head.push(1); // channels
    head.extend_from_slice(&PRE_SKIP.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes()); // input sample rate
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family: mono/stereo
    writer.write_packet(head, STREAM_SERIAL, PacketWriteEndInfo::EndPage, 0)?;
    let vendor = concat!("callpark ", env!("CARGO_PKG_VERSION"));
    let mut tags = Vec::new();
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&u32::try_from(vendor.len()).unwrap_or(0).to_le_bytes());
    tags.extend_from_slice(vendor.as_bytes());
    tags.extend_from_slice(&0u32.to_le_bytes()); // no user comments
    writer.write_packet(tags, STREAM_SERIAL, PacketWriteEndInfo::EndPage, 0)?;
    let last = packets.len().saturating_sub(1);
    for (index, packet) in packets.iter().enumerate() {
        let granule = u64::from(PRE_SKIP) + SAMPLES_PER_PACKET * (index as u64 + 1);
        let end = if index == last {
            PacketWriteEndInfo::EndStream
        } else if (index + 1) % 50 == 0 {
            PacketWriteEndInfo::EndPage // a page a second keeps seeking cheap
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        writer.write_packet(packet.as_slice(), STREAM_SERIAL, end, granule)?;
    }
    drop(writer);
    Ok(file.into_inner())
}

/// Stores every recording that comes in, until the anchor is gone.
pub fn spawn_keeper(
    mut recordings: mpsc::UnboundedReceiver<Recording>,
    store: Store,
    exchange: ExchangeHandle,
    directory: PathBuf,
) {
    tokio::spawn(async move {
        while let Some(recording) = recordings.recv().await {
            if recording.finished == Finished::TooLong {
                exchange.voicemail_finished(recording.call).await;
            }
            if recording.packets.is_empty() {
                tracing::info!(call = recording.call.0, "caller left no message");
                continue;
            }
            if let Err(error) = keep(&recording, &store, &exchange, &directory).await {
                tracing::error!(call = recording.call.0, %error, "voicemail could not be kept");
            }
        }
    });
}

async fn keep(
    recording: &Recording,
    store: &Store,
    exchange: &ExchangeHandle,
    directory: &Path,
) -> Result<(), String> {
    let caller = exchange.user_ref(recording.caller).await;
    let name = format!("{}-call{}.opus", recording.owner.0, recording.call.0);
    let path = directory.join(&name);
    let file = ogg_opus(&recording.packets).map_err(|error| error.to_string())?;
    let directory = directory.to_owned();
    tokio::task::spawn_blocking(move || {
        crate::private_files::create_dir(&directory)?;
        crate::private_files::write(&path, &file)
    })
    .await
    .map_err(|error| error.to_string())?
    .map_err(|error| format!("cannot write {name}: {error}"))?;
    let new = NewVoicemail {
        owner: recording.owner,
        caller_id: caller.as_ref().map(|caller| caller.id),
        caller_name: caller.map(|caller| caller.name),
        call: recording.call,
        recorded_at: exchange.now(),
        duration_ms: u64::try_from(recording.duration().as_millis()).unwrap_or(u64::MAX),
        file: name,
    };
    let entry = store.save_voicemail(&new).await.map_err(|error| error.to_string())?;
    tracing::info!(owner = recording.owner.0, voicemail = entry.id, "voicemail kept");
    exchange.notify_user(recording.owner, Event::VoicemailLeft { voicemail: entry }).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_ogg_opus_with_head_tags_and_every_packet() {
        let packets: Vec<Vec<u8>> = (0..120u8).map(|n| vec![0x78, n]).collect();
        let file = ogg_opus(&packets).unwrap();
        let mut reader = ogg::PacketReader::new(Cursor::new(file));
        let head = reader.read_packet_expected().unwrap();
        assert!(head.data.starts_with(b"OpusHead"));
        assert_eq!(head.data[9], 1, "mono");
        let tags = reader.read_packet_expected().unwrap();
        assert!(tags.data.starts_with(b"OpusTags"));
        let mut read = Vec::new();
        let mut last_granule = 0;
        while let Some(packet) = reader.read_packet().unwrap() {
            last_granule = packet.absgp_page();
            read.push(packet.data);
        }
        assert_eq!(read, packets);
        assert_eq!(last_granule, 312 + 120 * 960);
    }
}
