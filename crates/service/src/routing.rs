//! Where a device's request goes: a media offer to the media anchor, everything
//! else to the exchange. Split once here, so that neither has an arm for requests
//! that belong to the other.

use callpark_wire::RequestBody;

#[derive(Debug)]
pub enum Route {
    Media {
        sdp: String,
    },
    Exchange {
        request: SignalingRequest,
        /// The request's `type`, for logs.
        kind: &'static str,
    },
}

/// A request the exchange carries out: every request but a media offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignalingRequest {
    /// `resume`: the token of the last welcome, to come back as the same device.
    Hello {
        protocol: u32,
        resume: Option<String>,
    },
    Dial {
        to: String,
    },
    Answer {
        call: u64,
    },
    Decline {
        call: u64,
    },
    Hangup {
        call: u64,
    },
    Park {
        call: u64,
    },
    Retrieve {
        code: String,
    },
    AcknowledgeParkEnded {
        call: u64,
    },
    SubscribeParked,
    UnsubscribeParked,
    SubscribePeople,
    Ping,
}

pub fn route(body: RequestBody) -> Route {
    let kind = body.kind();
    let request = match body {
        RequestBody::MediaOffer { sdp } => return Route::Media { sdp },
        RequestBody::Hello { protocol, resume, .. } => SignalingRequest::Hello { protocol, resume },
        RequestBody::Dial { to } => SignalingRequest::Dial { to },
        RequestBody::Answer { call } => SignalingRequest::Answer { call },
        RequestBody::Decline { call } => SignalingRequest::Decline { call },
        RequestBody::Hangup { call } => SignalingRequest::Hangup { call },
        RequestBody::Park { call } => SignalingRequest::Park { call },
        RequestBody::Retrieve { code } => SignalingRequest::Retrieve { code },
        RequestBody::AcknowledgeParkEnded { call } => {
            SignalingRequest::AcknowledgeParkEnded { call }
        }
        RequestBody::SubscribeParked => SignalingRequest::SubscribeParked,
        RequestBody::UnsubscribeParked => SignalingRequest::UnsubscribeParked,
        RequestBody::SubscribePeople => SignalingRequest::SubscribePeople,
        RequestBody::Ping => SignalingRequest::Ping,
    };
    Route::Exchange { request, kind }
}
