//! The signed-in user of this window: the client engine's softphone, and the tasks
//! that push its state to the UI and raise notifications.

use std::sync::{Arc, Mutex, PoisonError};

use callpark_client::audio::{DeviceChoice, Direction, Playback, check_device};
use callpark_client::media::SoundDevices;
use callpark_client::{ServiceAddress, Softphone, Trust, ViewModel};
use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Runtime};

use crate::AppError;
use crate::notify;
use crate::settings::{Settings, SettingsFile};

/// The UI's event with the whole state, after every change.
pub const VIEW_EVENT: &str = "view";
const DEVICE_NAME: &str = "Callpark desktop";

/// Who is signed in where; sent with every view.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub server: String,
    pub login: String,
    pub user: callpark_wire::UserRef,
}

/// What the UI renders.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub account: Account,
    pub view: ViewModel,
    /// My park group as people name it ("Front desk"), when park is on for me.
    pub park_group: Option<String>,
    /// Chosen sound devices that do not exist (calls go on without them); what a
    /// call could not open comes with its statistics.
    pub sound_problems: Vec<String>,
}

struct SignedIn {
    phone: Arc<Softphone>,
    account: Account,
    sound_problems: Arc<Mutex<Vec<String>>>,
    tasks: Vec<JoinHandle<()>>,
}

pub struct AppState {
    signed_in: tokio::sync::Mutex<Option<SignedIn>>,
    settings: Mutex<Settings>,
    settings_file: SettingsFile,
    playback: Mutex<Option<Playback>>,
}

fn choice(device: Option<&String>) -> DeviceChoice {
    device.map_or(DeviceChoice::Default, |name| DeviceChoice::Named(name.clone()))
}

/// The devices chosen, and which of them the sound system does not have. Nothing
/// is opened: the microphone and speaker open only for calls.
fn sound_devices(
    microphone: Option<&String>,
    speaker: Option<&String>,
) -> (SoundDevices, Vec<String>) {
    let devices = SoundDevices { microphone: choice(microphone), speaker: choice(speaker) };
    let problems = [
        check_device(Direction::Microphone, &devices.microphone),
        check_device(Direction::Speaker, &devices.speaker),
    ]
    .into_iter()
    .filter_map(Result::err)
    .map(|problem| format!("Sound: {problem}."))
    .collect();
    (devices, problems)
}

impl AppState {
    pub fn new(settings_file: SettingsFile) -> Self {
        let settings = settings_file.load();
        Self {
            signed_in: tokio::sync::Mutex::new(None),
            settings: Mutex::new(settings),
            settings_file,
            playback: Mutex::new(None),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<(), AppError> {
        let saved = {
            // Settings are plain values, whole after any panic: keep using them.
            let mut settings = self.settings.lock().unwrap_or_else(PoisonError::into_inner);
            change(&mut settings);
            settings.clone()
        };
        self.settings_file.save(&saved)
    }

    pub async fn phone(&self) -> Result<Arc<Softphone>, AppError> {
        let signed_in = self.signed_in.lock().await;
        signed_in.as_ref().map(|s| s.phone.clone()).ok_or(AppError::NotSignedIn)
    }

    pub async fn snapshot(&self) -> Option<Snapshot> {
        let signed_in = self.signed_in.lock().await;
        signed_in.as_ref().map(|s| snapshot(&s.account, s.phone.view(), &s.sound_problems))
    }

    /// Signs in (signing out whoever was signed in), remembers the server and login,
    /// and starts pushing views and notifications.
    pub async fn sign_in<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        server: &str,
        login: &str,
        password: &str,
    ) -> Result<Account, AppError> {
        self.sign_out().await;
        let server = server.trim();
        let login = login.trim();
        if login.is_empty() {
            return Err(AppError::Invalid("Enter your login name.".into()));
        }
        let service = ServiceAddress::new(server, &Trust::System)?;
        let settings = self.settings();
        let (audio, problems) =
            sound_devices(settings.microphone.as_ref(), settings.speaker.as_ref());
        let phone = Softphone::sign_in(&service, login, password, DEVICE_NAME, audio).await?;
        let account = Account {
            server: service.base().to_owned(),
            login: phone.login().to_owned(),
            user: phone.user().clone(),
        };
        self.update_settings(|s| {
            s.server = Some(account.server.clone());
            s.login = Some(account.login.clone());
        })?;
        let phone = Arc::new(phone);
        let sound_problems = Arc::new(Mutex::new(problems));
        let tasks = vec![
            tauri::async_runtime::spawn(push_views(
                app.clone(),
                phone.clone(),
                account.clone(),
                sound_problems.clone(),
            )),
            tauri::async_runtime::spawn(notify::raise_notifications(app.clone(), phone.clone())),
        ];
        *self.signed_in.lock().await =
            Some(SignedIn { phone, account: account.clone(), sound_problems, tasks });
        Ok(account)
    }

    pub async fn sign_out(&self) {
        let Some(signed_in) = self.signed_in.lock().await.take() else { return };
        for task in &signed_in.tasks {
            task.abort();
        }
        signed_in.phone.sign_out().await;
    }

    /// Uses these devices from now on (in a call too) and remembers them.
    pub async fn choose_devices(
        &self,
        microphone: Option<String>,
        speaker: Option<String>,
    ) -> Result<Vec<String>, AppError> {
        let (audio, problems) = sound_devices(microphone.as_ref(), speaker.as_ref());
        if let Some(signed_in) = self.signed_in.lock().await.as_ref() {
            signed_in.phone.replace_audio(audio);
            if let Ok(mut shown) = signed_in.sound_problems.lock() {
                shown.clone_from(&problems);
            }
        }
        self.update_settings(|s| {
            s.microphone = microphone;
            s.speaker = speaker;
        })?;
        Ok(problems)
    }

    /// Plays audio on the chosen speaker, stopping what was playing.
    pub fn play(&self, samples: Vec<f32>) -> Result<u64, AppError> {
        let speaker = choice(self.settings().speaker.as_ref());
        let playback =
            Playback::start(&speaker, samples).map_err(|e| AppError::Sound(e.to_string()))?;
        let length_ms = u64::try_from(playback.length().as_millis()).unwrap_or(u64::MAX);
        if let Ok(mut playing) = self.playback.lock() {
            *playing = Some(playback);
        }
        Ok(length_ms)
    }

    pub fn stop_playing(&self) {
        if let Ok(mut playing) = self.playback.lock() {
            playing.take();
        }
    }
}

fn snapshot(account: &Account, view: ViewModel, problems: &Mutex<Vec<String>>) -> Snapshot {
    Snapshot {
        account: account.clone(),
        park_group: view.policy_name().map(str::to_owned),
        view,
        sound_problems: problems.lock().map(|p| p.clone()).unwrap_or_default(),
    }
}

/// Every change of the engine's view, as the `view` event.
async fn push_views<R: Runtime>(
    app: AppHandle<R>,
    phone: Arc<Softphone>,
    account: Account,
    problems: Arc<Mutex<Vec<String>>>,
) {
    let mut snapshots = phone.engine().snapshots();
    loop {
        let view = snapshots.borrow_and_update().clone();
        if let Err(error) = app.emit(VIEW_EVENT, snapshot(&account, view, &problems)) {
            tracing::warn!(%error, "cannot send the view to the window");
        }
        if snapshots.changed().await.is_err() {
            return;
        }
    }
}
