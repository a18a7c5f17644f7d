//! A signed-in softphone: the signaling engine, the device's audio link and the
//! REST client for one user, with one method per thing a person does. The desktop
//! app's commands forward to it.

use std::time::Duration;

use callpark_wire::UserRef;
use callpark_wire::admin::VoicemailEntry;

use crate::media::{Media, MediaStats, OpenAudio};
use crate::{
    AdminClient, ClientError, Connection, Engine, Parked, Retrieved, ServiceAddress, ViewModel,
    intent, login,
};

/// How long signing in waits for the signaling connection.
pub const SIGN_IN_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Softphone {
    engine: Engine,
    /// The device's audio link; none for a signaling-only device (a CLI list).
    media: Option<Media>,
    admin: AdminClient,
    login: String,
    user: UserRef,
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
        Softphone::resume(service, &reply.login, &reply.token, device_name, audio).await
    }

    /// A device for a sign-in made before (the CLI keeps its token between
    /// commands): as [`Softphone::sign_in`] from there on.
    pub async fn resume(
        service: &ServiceAddress,
        login_name: &str,
        token: &str,
        device_name: &str,
        audio: impl OpenAudio + 'static,
    ) -> Result<Softphone, ClientError> {
        let mut phone =
            Softphone::resume_without_audio(service, login_name, token, device_name).await?;
        phone.media = Some(Media::start(&phone.engine, service, audio));
        Ok(phone)
    }

    /// A signaling-only device for a sign-in made before: calls, lists and events,
    /// but no audio link (the CLI's `parked`, `people` and `watch`).
    pub async fn resume_without_audio(
        service: &ServiceAddress,
        login_name: &str,
        token: &str,
        device_name: &str,
    ) -> Result<Softphone, ClientError> {
        let engine = Engine::start(service, token, device_name);
        let user = match online_and_subscribed(&engine).await {
            Ok(user) => user,
            Err(error) => {
                engine.stop().await;
                return Err(error);
            }
        };
        let admin = AdminClient::new(service, token);
        tracing::info!(login = %login_name, user = user.id, "signed in");
        Ok(Softphone { engine, media: None, admin, login: login_name.to_owned(), user })
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

    /// The current call's statistics (always the defaults without an audio link).
    pub fn stats(&self) -> tokio::sync::watch::Receiver<MediaStats> {
        match &self.media {
            Some(media) => media.stats(),
            None => tokio::sync::watch::channel(MediaStats::default()).1,
        }
    }

    /// Waits until the audio link is up, at most `within`.
    pub async fn wait_audio_connected(&self, within: Duration) -> Result<(), ClientError> {
        match &self.media {
            Some(media) => media.wait_connected(within).await,
            None => Err(ClientError::Media("this device has no audio link".into())),
        }
    }

    pub async fn dial(&self, to: &str) -> Result<u64, ClientError> {
        self.engine.ask(intent::Dial { to: to.to_owned() }).await
    }

    pub async fn answer(&self, call: u64) -> Result<(), ClientError> {
        self.engine.ask(intent::Answer { call }).await
    }

    pub async fn decline(&self, call: u64) -> Result<(), ClientError> {
        self.engine.ask(intent::Decline { call }).await
    }

    pub async fn hang_up(&self, call: u64) -> Result<(), ClientError> {
        self.engine.ask(intent::HangUp { call }).await
    }

    pub async fn park(&self, call: u64) -> Result<Parked, ClientError> {
        self.engine.ask(intent::Park { call }).await
    }

    /// Picks up a parked call by its code as typed; the service checks it.
    pub async fn retrieve(&self, code: &str) -> Result<Retrieved, ClientError> {
        self.engine.ask(intent::Retrieve { code: code.to_owned() }).await
    }

    /// I have seen how my park of `call` ended: the service forgets it, and my
    /// other devices take it off their screens.
    pub async fn acknowledge_park_ended(&self, call: u64) -> Result<(), ClientError> {
        self.engine.ask(intent::AcknowledgeParkEnded { call }).await
    }

    pub fn set_muted(&self, muted: bool) {
        if let Some(media) = &self.media {
            media.set_muted(muted);
        }
    }

    /// Uses other audio: at once in a call, else from the next call on.
    pub fn replace_audio(&self, audio: impl OpenAudio + 'static) {
        if let Some(media) = &self.media {
            media.replace_audio(audio);
        }
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
        if let Some(media) = &self.media {
            media.stop();
        }
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
        (Connection::SignedOut { reason }, _) => return Err(ClientError::SignedOut(reason)),
        _ => return Err(ClientError::Protocol("signed in without a user".into())),
    };
    engine.ask(intent::WatchParked).await?;
    engine.ask(intent::WatchPeople).await?;
    Ok(user)
}
