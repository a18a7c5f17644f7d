//! What a person (or the media link) asks of the service, each with the type of its
//! outcome: a park gives a [`Parked`], not a reply to match. The one place where a
//! reply is checked against its request is [`Intent::outcome`].

use callpark_wire::{ReplyBody, RequestBody, UserRef};
use serde::Serialize;

/// A request with a typed outcome.
pub trait Intent {
    type Outcome;

    /// The request as it goes on the wire.
    fn request(self) -> RequestBody;

    /// The outcome in a successful reply, or the reply back when it is not the kind
    /// this request is answered with.
    fn outcome(reply: ReplyBody) -> Result<Self::Outcome, ReplyBody>;

    /// Whether `reply` is the kind this request is answered with.
    fn fits(reply: &ReplyBody) -> bool {
        Self::outcome(reply.clone()).is_ok()
    }
}

/// A call parked from here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Parked {
    pub call: u64,
    pub code: u16,
    pub ringback_at_ms: u64,
}

/// A parked call picked up here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Retrieved {
    pub call: u64,
    pub code: u16,
    pub caller: UserRef,
    pub parked_by: UserRef,
}

/// Call a user by login name; the outcome is the new call's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dial {
    pub to: String,
}

/// Answer a call ringing here (an incoming call or a ringback).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answer {
    pub call: u64,
}

/// Decline a call ringing here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decline {
    pub call: u64,
}

/// Hang up, or stop calling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HangUp {
    pub call: u64,
}

/// Park the connected call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Park {
    pub call: u64,
}

/// Pick up a parked call by its code as the person typed it (the service checks it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retrieve {
    pub code: String,
}

/// I have seen how my park of `call` ended: the service forgets it, and my other
/// devices take it off their screens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcknowledgeParkEnded {
    pub call: u64,
}

/// The live parked-calls list: the session keeps it up across reconnects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchParked;

/// Stop the live parked-calls list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnwatchParked;

/// The live people list: the session keeps it up across reconnects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchPeople;

/// This device's WebRTC offer; the outcome is the service's SDP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaOffer {
    pub sdp: String,
}

/// A round trip to the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ping;

/// Intents the service answers with `done`.
macro_rules! answered_done {
    ($($intent:ty => $request:expr;)*) => {$(
        impl Intent for $intent {
            type Outcome = ();

            fn request(self) -> RequestBody {
                let build: fn($intent) -> RequestBody = $request;
                build(self)
            }

            fn outcome(reply: ReplyBody) -> Result<(), ReplyBody> {
                match reply {
                    ReplyBody::Done => Ok(()),
                    other => Err(other),
                }
            }
        }
    )*};
}

answered_done! {
    Answer => |Answer { call }| RequestBody::Answer { call };
    Decline => |Decline { call }| RequestBody::Decline { call };
    HangUp => |HangUp { call }| RequestBody::Hangup { call };
    AcknowledgeParkEnded => |AcknowledgeParkEnded { call }| RequestBody::AcknowledgeParkEnded { call };
    WatchParked => |_| RequestBody::SubscribeParked;
    UnwatchParked => |_| RequestBody::UnsubscribeParked;
    WatchPeople => |_| RequestBody::SubscribePeople;
}

impl Intent for Dial {
    type Outcome = u64;

    fn request(self) -> RequestBody {
        RequestBody::Dial { to: self.to }
    }

    fn outcome(reply: ReplyBody) -> Result<u64, ReplyBody> {
        match reply {
            ReplyBody::Dialing { call } => Ok(call),
            other => Err(other),
        }
    }
}

impl Intent for Park {
    type Outcome = Parked;

    fn request(self) -> RequestBody {
        RequestBody::Park { call: self.call }
    }

    fn outcome(reply: ReplyBody) -> Result<Parked, ReplyBody> {
        match reply {
            ReplyBody::Parked { call, code, ringback_at_ms } => {
                Ok(Parked { call, code, ringback_at_ms })
            }
            other => Err(other),
        }
    }
}

impl Intent for Retrieve {
    type Outcome = Retrieved;

    fn request(self) -> RequestBody {
        RequestBody::Retrieve { code: self.code }
    }

    fn outcome(reply: ReplyBody) -> Result<Retrieved, ReplyBody> {
        match reply {
            ReplyBody::Retrieved { call, code, caller, parked_by } => {
                Ok(Retrieved { call, code, caller, parked_by })
            }
            other => Err(other),
        }
    }
}

impl Intent for MediaOffer {
    type Outcome = String;

    fn request(self) -> RequestBody {
        RequestBody::MediaOffer { sdp: self.sdp }
    }

    fn outcome(reply: ReplyBody) -> Result<String, ReplyBody> {
        match reply {
            ReplyBody::MediaAnswer { sdp } => Ok(sdp),
            other => Err(other),
        }
    }
}

impl Intent for Ping {
    type Outcome = ();

    fn request(self) -> RequestBody {
        RequestBody::Ping
    }

    fn outcome(reply: ReplyBody) -> Result<(), ReplyBody> {
        match reply {
            ReplyBody::Pong => Ok(()),
            other => Err(other),
        }
    }
}
