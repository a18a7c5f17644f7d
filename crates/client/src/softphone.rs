//! A signed-in softphone: the signaling engine, the device's audio link and the
//! REST client for one user, with one method per thing a person does. The desktop
//! app's commands forward to it.

use std::time::Duration;

use callpark_wire::admin::VoicemailEntry;
use callpark_wire::{ReplyBody, RequestBody, UserRef};
use serde::Serialize;

use crate::media::{Media, MediaStats, OpenAudio};
use crate::{AdminClient, ClientError, Connection, Engine, ServiceAddress, ViewModel, login};

/// How long signing in waits for the signaling connection.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(10);

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

#[derive(Debug)]
pub struct Softphone {
    engine: Engine,
    media: Media,
    admin: AdminClient,
    login: String,
    user: UserRef,
}

fn unexpected(reply: &ReplyBody) -> ClientError {
    ClientError::Protocol(format!("unexpected reply from the service: {reply:?}"))
}

impl Softphone {
    /// Signs in with a password, connects signaling, subscribes to the parked-calls
    /// and people lists and starts the audio link; `audio` is opened for each call.
    pub async fn sign_in(
        service: &ServiceAddress,
        login_name: &str,
        password: &str,
        device_name: &str,
        audio: impl OpenAudio + 'static,
    ) -> Result<Softphone, ClientError> {
        let reply = login(service, login_name, password).await?;
        let engine = Engine::start(service, &reply.token, device_name);
        let user = match online_and_subscribed(&engine).await {
            Ok(user) => user,
            Err(error) => {
                engine.stop().await;
                return Err(error);
            }
        };
        let media = Media::start(&engine, service, audio);
        let admin = AdminClient::new(service, &reply.token);
        tracing::info!(login = %reply.login, user = user.id, "signed in");
        Ok(Softphone { engine, media, admin, login: reply.login, user })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn login(&self) -> &str {
        &self.login
    }

    /// This sign-in's bearer token (for the REST API).
    pub fn token(&self) -> &str {
        self.admin.token()
    }

    pub fn user(&self) -> &UserRef {
        &self.user
    }

    pub fn view(&self) -> ViewModel {
        self.engine.snapshots().borrow().clone()
    }

    pub fn stats(&self) -> tokio::sync::watch::Receiver<MediaStats> {
        self.media.stats()
    }

    pub async fn dial(&self, to: &str) -> Result<u64, ClientError> {
        match self.engine.request(RequestBody::Dial { to: to.to_owned() }).await? {
            ReplyBody::Dialing { call } => Ok(call),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn answer(&self, call: u64) -> Result<(), ClientError> {
        self.done(RequestBody::Answer { call }).await
    }

    pub async fn decline(&self, call: u64) -> Result<(), ClientError> {
        self.done(RequestBody::Decline { call }).await
    }

    pub async fn hang_up(&self, call: u64) -> Result<(), ClientError> {
        self.done(RequestBody::Hangup { call }).await
    }

    async fn done(&self, request: RequestBody) -> Result<(), ClientError> {
        match self.engine.request(request).await? {
            ReplyBody::Done => Ok(()),
            other => Err(unexpected(&other)),
        }
    }

    pub async fn park(&self, call: u64) -> Result<Parked, ClientError> {
        match self.engine.request(RequestBody::Park { call }).await? {
            ReplyBody::Parked { call, code, ringback_at_ms } => {
                Ok(Parked { call, code, ringback_at_ms })
            }
            other => Err(unexpected(&other)),
        }
    }

    /// Picks up a parked call by its code as typed; the service checks it.
    pub async fn retrieve(&self, code: &str) -> Result<Retrieved, ClientError> {
        match self.engine.request(RequestBody::Retrieve { code: code.to_owned() }).await? {
            ReplyBody::Retrieved { call, code, caller, parked_by } => {
                Ok(Retrieved { call, code, caller, parked_by })
            }
            other => Err(unexpected(&other)),
        }
    }

    pub fn set_muted(&self, muted: bool) {
        self.media.set_muted(muted);
    }

    /// Uses other audio: at once in a call, else from the next call on.
    pub fn replace_audio(&self, audio: impl OpenAudio + 'static) {
        self.media.replace_audio(audio);
    }

    pub async fn voicemails(&self) -> Result<Vec<VoicemailEntry>, ClientError> {
        self.admin.voicemails().await
    }

    /// One message's audio, as Ogg Opus.
    pub async fn voicemail_audio(&self, id: u64) -> Result<Vec<u8>, ClientError> {
        self.admin.voicemail_audio(id).await
    }

    /// Signs out: the token is ended at the service (it stops working everywhere),
    /// then the audio link and signaling stop.
    pub async fn sign_out(&self) {
        self.media.stop();
        self.engine.stop().await;
        match tokio::time::timeout(SIGN_IN_WAIT, self.admin.logout()).await {
            Ok(Ok(())) => tracing::info!(login = %self.login, "signed out"),
            // Ended already (expired, revoked, the account removed): nothing to do.
            Ok(Err(error)) if error.code() == "unauthorized" => {}
            Ok(Err(error)) => tracing::warn!(%error, "the service did not confirm the sign-out"),
            Err(_) => tracing::warn!("the service did not answer the sign-out"),
        }
    }
}

/// Waits for the engine to be online and subscribes to the parked calls and people;
/// the signed-in user, or why not.
async fn online_and_subscribed(engine: &Engine) -> Result<UserRef, ClientError> {
    let view = engine
        .wait_for(SIGN_IN_WAIT, |view| {
            matches!(view.connection, Connection::Online | Connection::SignedOut { .. })
        })
        .await?;
    let user = match (view.connection, view.user) {
        (Connection::Online, Some(user)) => user,
        (Connection::SignedOut { reason }, _) => {
            return Err(ClientError::Protocol(format!("the service refused the device: {reason}")));
        }
        _ => return Err(ClientError::Protocol("signed in without a user".into())),
    };
    engine.request(RequestBody::SubscribeParked).await?;
    engine.request(RequestBody::SubscribePeople).await?;
    Ok(user)
}
