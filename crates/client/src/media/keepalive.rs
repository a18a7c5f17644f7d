//! How often an idle device's peer connection wakes: the one rule that decides what
//! 10,000 idle devices cost the anchor.
//!
//! str0m schedules an idle peer like a peer in a call: an ICE consent check about
//! every 3 s and RTCP reports every 5 s for each direction, about 1.5 datagrams a
//! second per device at the anchor with no audio at all. While a device is in no
//! call nobody needs those reports, and the path only has to stay known alive: a
//! check every [`IDLE_KEEPALIVE`] does that (RFC 8445 asks for a keep-alive at
//! least every 15 s; the anchor, ICE-lite, forgets a path it has not been checked on
//! for 15 s), and reports are not sent. A check that goes unanswered is retried at
//! str0m's own pace, so one lost datagram costs a retry 250 ms later, not the path.

use std::time::{Duration, Instant};

use str0m::Reason;

/// The interval between consent checks of a device that is in no call, while its
/// checks are answered.
pub const IDLE_KEEPALIVE: Duration = Duration::from_secs(10);

/// When an idle peer connection should next be woken, given what str0m asked for.
///
/// Only timers that keep an idle path alive (ICE checks, RTCP reports) are pushed
/// back to [`IDLE_KEEPALIVE`] after `now`; anything else (DTLS, a packet to send,
/// a retry of an unanswered check: `path_answered` false) keeps str0m's time.
pub fn idle_wake(asked: Instant, reason: Reason, now: Instant, path_answered: bool) -> Instant {
    let keep_alive_timer = matches!(reason, Reason::Ice | Reason::Feedback);
    if path_answered && keep_alive_timer && asked > now {
        asked.max(now + IDLE_KEEPALIVE)
    } else {
        asked
    }
}

/// Whether a peer in no call sends this datagram: everything but RTCP reports,
/// which have no media to report on in either direction (str0m makes them on its
/// schedule regardless).
pub fn sent_while_idle(datagram: &[u8]) -> bool {
    !callpark_wire::rtp::is_rtcp(datagram)
}

/// Whether the last consent check this peer sent has had an answer: a STUN binding
/// request out and nothing back since means the path may be failing, and str0m's
/// quick retries must run.
#[derive(Debug, Default, Clone, Copy)]
pub struct PathWatch {
    check_sent: Option<Instant>,
    last_received: Option<Instant>,
}

impl PathWatch {
    /// Notes a datagram this peer sends.
    pub fn sent(&mut self, datagram: &[u8], now: Instant) {
        if is_binding_request(datagram) {
            self.check_sent = Some(now);
        }
    }

    /// Notes a datagram that arrived from the service.
    pub fn received(&mut self, now: Instant) {
        self.last_received = Some(now);
    }

    pub fn answered(&self) -> bool {
        match (self.check_sent, self.last_received) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(sent), Some(received)) => received >= sent,
        }
    }
}

/// A STUN binding request (RFC 5389: message type 0x0001, magic cookie at byte 4).
fn is_binding_request(datagram: &[u8]) -> bool {
    datagram.len() >= 20
        && datagram[..2] == [0x00, 0x01]
        && datagram[4..8] == [0x21, 0x12, 0xA4, 0x42]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding_request() -> Vec<u8> {
        let mut datagram = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42];
        datagram.extend([7u8; 12]);
        datagram
    }

    #[test]
    fn an_answered_idle_path_is_checked_every_keepalive_interval() {
        let now = Instant::now();
        let asked = now + Duration::from_millis(2_900);
        assert_eq!(idle_wake(asked, Reason::Ice, now, true), now + IDLE_KEEPALIVE);
        assert_eq!(idle_wake(asked, Reason::Feedback, now, true), now + IDLE_KEEPALIVE);
    }

    #[test]
    fn an_unanswered_check_is_retried_when_str0m_asks() {
        let now = Instant::now();
        let asked = now + Duration::from_millis(250);
        assert_eq!(idle_wake(asked, Reason::Ice, now, false), asked);
    }

    #[test]
    fn other_timers_and_due_work_keep_their_time() {
        let now = Instant::now();
        let asked = now + Duration::from_millis(40);
        assert_eq!(idle_wake(asked, Reason::DTLS, now, true), asked);
        assert_eq!(idle_wake(now, Reason::Feedback, now, true), now, "due now: not postponed");
        let later = now + Duration::from_secs(30);
        assert_eq!(idle_wake(later, Reason::Ice, now, true), later, "never brought forward");
    }

    #[test]
    fn an_idle_peer_sends_checks_and_handshakes_but_no_reports() {
        assert!(sent_while_idle(&binding_request()));
        assert!(sent_while_idle(&[22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "DTLS");
        assert!(!sent_while_idle(&[0x80, 200, 0, 6, 0, 0, 0, 1]), "a sender report");
        assert!(!sent_while_idle(&[0x81, 201, 0, 7, 0, 0, 0, 1]), "a receiver report");
    }

    #[test]
    fn a_check_is_answered_by_anything_received_after_it() {
        let start = Instant::now();
        let mut watch = PathWatch::default();
        assert!(watch.answered(), "nothing sent yet");
        watch.sent(&[0x80, 0x78, 0, 1], start);
        assert!(watch.answered(), "RTP or RTCP is not a check");
        watch.sent(&binding_request(), start);
        assert!(!watch.answered());
        watch.received(start + Duration::from_millis(1));
        assert!(watch.answered());
        watch.sent(&binding_request(), start + Duration::from_secs(10));
        assert!(!watch.answered(), "an answer to an older check does not count");
    }
}
