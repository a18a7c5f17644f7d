//! The anchor's side of the offer/answer: one Opus track, ICE-lite with one host
//! candidate, and an answer that advertises only what the anchor does (no trickle:
//! its one candidate is in the answer and it learns the device's address from the
//! device's checks; no transport-wide congestion control feedback for fixed-rate
//! voice).

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::SdpAnswer;
use str0m::format::CodecConfig;
use str0m::{Candidate, Rtc, RtcError};

/// Packets written but not yet polled out that str0m may hold (each write is one
/// packet and is polled out at once; a few spare).
const SEND_BUFFER_PACKETS: usize = 4;
/// A peer connection as the anchor keeps one per device.
pub(super) fn anchor_rtc(now: Instant, candidate_address: SocketAddr) -> Result<Rtc, RtcError> {
    let mut config = Rtc::builder()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .clear_codecs()
        .enable_opus(true, false)
        // Per-packet work the anchor has no use for: no header extensions (no
        // transport-wide congestion control for fixed-rate Opus, no audio level),
        // and no buffer of sent packets for retransmission, which voice never asks for.
        .clear_extension_map()
        .set_send_buffer_audio(SEND_BUFFER_PACKETS)
        .set_stats_interval(None);
    let opus_without_feedback = (config.codec_config().params().iter().cloned())
        .map(|mut params| {
            params.set_fb_transport_cc(false);
            params
        })
        .collect();
    *config.codec_config() = CodecConfig::new_from_payload_params(opus_without_feedback);
    let mut rtc = config.build(now);
    rtc.add_local_candidate(Candidate::host(candidate_address, "udp")?);
    Ok(rtc)
}

/// The answer as sent: without the `ice-options:trickle` line str0m always writes
/// (the anchor never sends or takes candidates after the answer).
pub(super) fn answer_text(answer: &SdpAnswer) -> String {
    answer
        .to_sdp_string()
        .split_inclusive("\r\n")
        .filter(|line| !line.starts_with("a=ice-options:trickle"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use str0m::change::SdpOffer;
    use str0m::media::{Direction, MediaKind};

    #[test]
    fn the_answer_advertises_opus_and_one_candidate_and_no_trickle_or_transport_cc() {
        let now = Instant::now();
        // A browser-like offer: str0m's defaults (Opus with transport-cc feedback,
        // header extensions) and trickle.
        let mut device = Rtc::builder().build(now);
        let mut changes = device.sdp_api();
        changes.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = changes.apply().unwrap();
        let offer_text = offer.to_sdp_string();
        assert!(offer_text.contains("transport-cc"), "{offer_text}");
        let offer = SdpOffer::from_sdp_string(&offer_text).unwrap();

        let mut anchor = anchor_rtc(now, "127.0.0.1:40000".parse().unwrap()).unwrap();
        let answer = answer_text(&anchor.sdp_api().accept_offer(offer).unwrap());
        assert!(answer.contains("opus/48000/2"), "{answer}");
        assert!(answer.contains("a=candidate:") && answer.contains("127.0.0.1 40000"), "{answer}");
        assert!(answer.contains("a=ice-lite"), "{answer}");
        assert!(!answer.contains("trickle"), "{answer}");
        assert!(!answer.contains("transport-cc"), "{answer}");
        assert!(!answer.contains("a=extmap:"), "{answer}");
        // What is left is still an answer the device takes.
        let answer = str0m::change::SdpAnswer::from_sdp_string(&answer).unwrap();
        device.sdp_api().accept_answer(pending, answer).unwrap();
    }
}
