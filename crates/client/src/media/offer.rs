//! The start of every audio link to the service's anchor: a str0m peer with one
//! Opus track on a local UDP address, its SDP offer, and taking the answer.

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::{Candidate, Rtc};

use super::media_error;
use crate::ClientError;

/// An offered peer, waiting for the service's answer.
#[derive(Debug)]
pub struct AudioOffer {
    rtc: Rtc,
    mid: Mid,
    pending: SdpPendingOffer,
    /// The offer to send as `media_offer`.
    pub sdp: String,
}

impl AudioOffer {
    /// A peer (full ICE agent, controlling) for packets from `local`.
    pub fn new(local: SocketAddr, now: Instant) -> Result<Self, ClientError> {
        let mut rtc = Rtc::builder()
            .clear_codecs()
            .enable_opus(true, false)
            // Reordering is the jitter buffer's job; str0m hands packets over at once.
            .set_reordering_size_audio(0)
            .set_stats_interval(None)
            .build(now);
        let candidate =
            Candidate::host(local, "udp").map_err(|error| media_error("candidate", error))?;
        rtc.add_local_candidate(candidate);
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) =
            change.apply().ok_or_else(|| ClientError::Media("nothing to offer".into()))?;
        Ok(Self { rtc, mid, pending, sdp: offer.to_sdp_string() })
    }

    /// Applies the service's `media_answer`: the peer and its audio track.
    pub fn accept(mut self, answer: &str) -> Result<(Rtc, Mid), ClientError> {
        let answer =
            SdpAnswer::from_sdp_string(answer).map_err(|error| media_error("answer", error))?;
        self.rtc
            .sdp_api()
            .accept_answer(self.pending, answer)
            .map_err(|error| media_error("answer", error))?;
        Ok((self.rtc, self.mid))
    }
}
