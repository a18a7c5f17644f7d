//! Telling the datagrams on a WebRTC media port apart without decrypting them.

/// RTP rather than RTCP (RFC 5761: payload types 64–95 are RTCP), STUN or DTLS (RFC
/// 7983: RTP and RTCP start with 128–191). SRTP leaves this header in the clear.
pub fn is_rtp(datagram: &[u8]) -> bool {
    datagram.len() >= 12
        && (128..=191).contains(&datagram[0])
        && !(64..=95).contains(&(datagram[1] & 0x7F))
}

/// RTCP (SRTCP alike): first byte 128–191, packet type 192–223 (RFC 5761).
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 8
        && (128..=191).contains(&datagram[0])
        && (64..=95).contains(&(datagram[1] & 0x7F))
}

/// The RTP sequence number (in the clear in SRTP too).
pub fn sequence_number(datagram: &[u8]) -> Option<u16> {
    is_rtp(datagram).then(|| u16::from_be_bytes([datagram[2], datagram[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_is_told_from_rtcp_stun_and_dtls() {
        let mut rtp = [0u8; 12];
        rtp[0] = 0x80;
        rtp[1] = 111;
        rtp[2..4].copy_from_slice(&513u16.to_be_bytes());
        assert!(is_rtp(&rtp));
        assert_eq!(sequence_number(&rtp), Some(513));
        assert!(!is_rtcp(&rtp));
        rtp[1] = 200; // a sender report
        assert!(!is_rtp(&rtp));
        assert!(is_rtcp(&rtp));
        rtp[1] = 201; // a receiver report
        assert!(is_rtcp(&rtp));
        assert!(!is_rtp(&[0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "STUN");
        assert!(!is_rtcp(&[0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "STUN");
        assert!(!is_rtcp(&[22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "DTLS");
        assert!(!is_rtp(&[22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0]), "DTLS");
        assert!(!is_rtp(&[0x80, 111, 0]), "too short");
    }
}
