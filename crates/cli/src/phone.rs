//! The headless softphone: call, answer, park, retrieve, the live parked list, the
//! people with their presence and an event log, all on the client's `Softphone`. Calls carry
//! real audio through the service: by default silence out and nothing played (a
//! headless phone); `--tone`, `--play` or `--mic` choose what it says, `--speaker` or
//! `--record` where what it hears goes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use callpark_client::audio::io::{Frame, SAMPLE_RATE};
use callpark_client::audio::{
    AudioSink, AudioSource, DeviceChoice, Direction, DiscardSink, Gate, GatedSink, GatedSource,
    Microphone, SilentSource, Speaker, ToneSource, WavSink, WavSource, check_device,
};
use callpark_client::media::{CallAudio, OpenAudio, OpenedAudio};
use callpark_client::words::ended_park_in_words;
use callpark_client::{ClientError, Notice, Softphone, ViewModel};
use callpark_wire::{CallEndReason, EndedPark, Event, ParkedCall, Person, Presence};
use tokio::io::AsyncBufReadExt;
use tokio::sync::broadcast;

use crate::{Failure, Out, Session, table};

const AUDIO_WAIT: Duration = Duration::from_secs(5);

const DEVICE_NAME: &str = "callpark CLI";

/// Signing in failed: why, in the CLI's words.
fn not_online(session: &Session, error: ClientError) -> Failure {
    match error {
        ClientError::SignedOut(reason) => {
            Failure::NotSignedIn(format!("Sign in again ({reason})."))
        }
        ClientError::Timeout(_) | ClientError::Closed => {
            Failure::NotSignedIn(format!("Cannot reach the service at {}.", session.server))
        }
        other => other.into(),
    }
}

/// The saved sign-in as a signaling-only device (lists and events).
async fn online(session: &Session) -> Result<Softphone, Failure> {
    let service = session.service()?;
    Softphone::resume_without_audio(&service, &session.login, &session.token, DEVICE_NAME)
        .await
        .map_err(|error| not_online(session, error))
}

/// What the softphone says in a call, and where what it hears goes.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct AudioArgs {
    /// Send a sine tone of this frequency (20–20000 Hz).
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(20..=20_000),
          group = "say")]
    pub tone: Option<u32>,
    /// Say this WAV file's audio (any rate and channel count), then silence.
    #[arg(long, value_name = "FILE", group = "say")]
    pub play: Option<PathBuf>,
    /// Use a microphone: "default" or a device name from `callpark devices`.
    #[arg(long, value_name = "DEVICE", group = "say")]
    pub mic: Option<DeviceChoice>,
    /// Play what is heard on a speaker: "default" or a device name.
    #[arg(long, value_name = "DEVICE", conflicts_with = "record")]
    pub speaker: Option<DeviceChoice>,
    /// Record what is heard into this WAV file (48 kHz mono, 16-bit).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

impl AudioArgs {
    /// Checks the chosen source and sink (a device that does not exist or a file
    /// that cannot be used is an error before any call is placed) without opening a
    /// sound device: those open only while the softphone is a party to a call. What
    /// it says and records starts once the call connects (the gate).
    fn prepare(&self) -> Result<(CliAudio, Gate), Failure> {
        let usage = |error: &dyn std::fmt::Display| Failure::Usage(error.to_string());
        let says = match (&self.tone, &self.play, &self.mic) {
            (Some(hz), _, _) => Says::Tone(*hz as f32),
            (_, Some(file), _) => {
                Says::File(Shared::new(WavSource::open(file).map_err(|e| usage(&e))?))
            }
            (_, _, Some(device)) => {
                check_device(Direction::Microphone, device).map_err(|e| usage(&e))?;
                Says::Microphone(device.clone())
            }
            _ => Says::Silence,
        };
        let hears = match (&self.speaker, &self.record) {
            (Some(device), _) => {
                check_device(Direction::Speaker, device).map_err(|e| usage(&e))?;
                Hears::Speaker(device.clone())
            }
            (_, Some(file)) => {
                Hears::File(Shared::new(WavSink::create(file).map_err(|e| usage(&e))?))
            }
            _ => Hears::Nothing,
        };
        let gate = Gate::default();
        Ok((CliAudio { says, hears, gate: gate.clone() }, gate))
    }
}

/// What the softphone says in a call. Files are opened once and go on across calls;
/// devices are opened for each call.
enum Says {
    Silence,
    Tone(f32),
    File(Shared<WavSource>),
    Microphone(DeviceChoice),
}

/// Where what the softphone hears goes.
enum Hears {
    Nothing,
    File(Shared<WavSink>),
    Speaker(DeviceChoice),
}

struct CliAudio {
    says: Says,
    hears: Hears,
    gate: Gate,
}

impl OpenAudio for CliAudio {
    fn open(&self) -> OpenedAudio {
        let mut problems = Vec::new();
        let source: Box<dyn AudioSource> = match &self.says {
            Says::Silence => Box::new(SilentSource),
            Says::Tone(hz) => Box::new(ToneSource::new(*hz, SAMPLE_RATE, 0.3)),
            Says::File(file) => Box::new(file.clone()),
            Says::Microphone(device) => match Microphone::open(device) {
                Ok(microphone) => Box::new(microphone),
                Err(error) => {
                    problems.push(error.to_string());
                    Box::new(SilentSource)
                }
            },
        };
        let sink: Box<dyn AudioSink> = match &self.hears {
            Hears::Nothing => Box::new(DiscardSink),
            Hears::File(file) => Box::new(file.clone()),
            Hears::Speaker(device) => match Speaker::open(device) {
                Ok(speaker) => Box::new(speaker),
                Err(error) => {
                    problems.push(error.to_string());
                    Box::new(DiscardSink)
                }
            },
        };
        for problem in &problems {
            eprintln!("warning: {problem}; the call goes on without it");
        }
        let source = Box::new(GatedSource::new(source, &self.gate));
        let sink = Box::new(GatedSink::new(sink, &self.gate));
        OpenedAudio { audio: CallAudio { source, sink }, problems }
    }
}

/// A file source or sink kept across calls: each call's audio gets a handle.
struct Shared<T>(Arc<Mutex<T>>);

impl<T> Shared<T> {
    fn new(inner: T) -> Self {
        Shared(Arc::new(Mutex::new(inner)))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T: AudioSource> AudioSource for Shared<T> {
    fn read_frame(&mut self, frame: &mut Frame) -> bool {
        self.0.lock().map(|mut inner| inner.read_frame(frame)).unwrap_or(false)
    }
}

impl<T: AudioSink> AudioSink for Shared<T> {
    fn write_frame(&mut self, frame: &Frame) {
        if let Ok(mut inner) = self.0.lock() {
            inner.write_frame(frame);
        }
    }
}

/// The saved sign-in as a softphone with its audio link, and the gate that starts
/// what it says and records. Waits for the link briefly: a call without audio still
/// works, with a warning.
async fn online_with_audio(
    session: &Session,
    audio: &AudioArgs,
) -> Result<(Softphone, Gate), Failure> {
    let (audio, says) = audio.prepare()?;
    let service = session.service()?;
    let phone = Softphone::resume(&service, &session.login, &session.token, DEVICE_NAME, audio)
        .await
        .map_err(|error| not_online(session, error))?;
    if let Err(error) = phone.wait_audio_connected(AUDIO_WAIT).await {
        eprintln!("warning: audio is not connected ({error}); the call goes on without sound");
    }
    Ok((phone, says))
}

/// `callpark devices`: the microphones and speakers `--mic` and `--speaker` can use.
pub fn devices(out: &Out) -> Result<(), Failure> {
    let list = callpark_client::audio::list_devices()
        .map_err(|error| Failure::Usage(error.to_string()))?;
    out.print(&list, || {
        let rows = |devices: &[callpark_client::audio::DeviceInfo], kind: &str| {
            devices
                .iter()
                .map(|device| {
                    vec![
                        kind.to_owned(),
                        device.id.clone(),
                        device.name.clone(),
                        if device.is_default { "yes".into() } else { String::new() },
                    ]
                })
                .collect::<Vec<_>>()
        };
        let mut all = rows(&list.microphones, "microphone");
        all.extend(rows(&list.speakers, "speaker"));
        format!(
            "Sound system: {}\n{}",
            list.host,
            table::render(&["KIND", "DEVICE", "NAME", "DEFAULT"], &all)
        )
    });
    Ok(())
}

/// The next event about `call` that `wanted` picks, skipping others.
async fn next_about(
    events: &mut broadcast::Receiver<Notice>,
    wanted: impl Fn(&Event) -> bool,
) -> Result<Event, Failure> {
    loop {
        match events.recv().await {
            Ok(Notice::Event(event)) if wanted(&event) => return Ok(event),
            // The service keeps the device's calls while it reconnects.
            Ok(Notice::Offline { reason }) => {
                eprintln!("Lost the service ({reason}); reconnecting…");
            }
            Ok(Notice::Online) => eprintln!("Connected to the service."),
            Ok(Notice::CallLost { call }) => {
                return Err(Failure::NotSignedIn(format!(
                    "Call {call} ended while the connection to the service was down."
                )));
            }
            Ok(Notice::SignedOut { reason }) => {
                return Err(Failure::NotSignedIn(format!("Lost the service: {reason}.")));
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => {
                return Err(Failure::NotSignedIn("The engine stopped.".into()));
            }
        }
    }
}

pub async fn call(
    session: &Session,
    to: &str,
    park: bool,
    audio: &AudioArgs,
    out: &Out,
) -> Result<(), Failure> {
    let (phone, says) = online_with_audio(session, audio).await?;
    let mut events = phone.engine().events();
    let call = phone.dial(to).await?;
    if !out.json {
        println!("Calling {to}…");
    }
    let answered = next_about(&mut events, |event| match event {
        Event::Connected { call: c, .. } | Event::CallEnded { call: c, .. } => *c == call,
        _ => false,
    })
    .await?;
    if let Event::CallEnded { reason, .. } = answered {
        phone.engine().stop().await;
        return Err(Failure::TimedOut(format!(
            "The call ended before it was answered ({reason:?})."
        )));
    }
    says.open();
    in_call(&phone, events, call, answered, park, None, out).await
}

pub async fn answer(
    session: &Session,
    park: bool,
    timeout: u64,
    audio: &AudioArgs,
    out: &Out,
) -> Result<(), Failure> {
    let (phone, says) = online_with_audio(session, audio).await?;
    let mut events = phone.engine().events();
    out.print(&serde_json::json!({"waiting": true}), || "Waiting for a call…".into());
    let ringing = tokio::time::timeout(
        Duration::from_secs(timeout),
        next_about(&mut events, |event| {
            matches!(event, Event::IncomingCall { .. } | Event::Ringback { .. })
        }),
    )
    .await
    .map_err(|_| Failure::TimedOut(format!("No call came within {timeout} s.")))??;
    let call = match ringing {
        Event::IncomingCall { call, .. } | Event::Ringback { call, .. } => call,
        _ => return Err(Failure::Usage("unexpected event".into())),
    };
    phone.answer(call).await?;
    let connected = next_about(
        &mut events,
        |event| matches!(event, Event::Connected { call: c, .. } if *c == call),
    )
    .await?;
    says.open();
    in_call(&phone, events, call, connected, park, None, out).await
}

pub async fn retrieve(
    session: &Session,
    code: &str,
    hangup_after: Option<u64>,
    audio: &AudioArgs,
    out: &Out,
) -> Result<(), Failure> {
    let (phone, says) = online_with_audio(session, audio).await?;
    let events = phone.engine().events();
    let code = callpark_client::code_in_pickup_link(code).unwrap_or(code);
    let retrieved = match phone.retrieve(code).await {
        Ok(retrieved) => retrieved,
        Err(error) => {
            phone.engine().stop().await;
            return Err(error.into());
        }
    };
    let call = retrieved.call;
    let connected = Event::Connected { call, peer: retrieved.caller };
    says.open();
    in_call(&phone, events, call, connected, false, hangup_after, out).await
}

async fn park_now(phone: &Softphone, call: u64, out: &Out) -> Result<(), Failure> {
    let parked = phone.park(call).await?;
    let (code, ringback_at_ms) = (parked.code, parked.ringback_at_ms);
    let link = callpark_client::pickup_link(code);
    out.print(
        &serde_json::json!({"parked": call, "code": code, "link": link, "ringback_at_ms": ringback_at_ms}),
        || format!("Parked. Pickup code: {code} (to share: {link})"),
    );
    Ok(())
}

/// In a call: park or hang up on request ("park"/"hangup" on standard input, Ctrl-C
/// hangs up), or wait for it to end.
async fn in_call(
    phone: &Softphone,
    mut events: broadcast::Receiver<Notice>,
    call: u64,
    connected: Event,
    park: bool,
    hangup_after: Option<u64>,
    out: &Out,
) -> Result<(), Failure> {
    let mut talking_to = None;
    say_connected(call, &connected, &mut talking_to, out);
    let outcome = if park {
        park_now(phone, call, out).await
    } else {
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        let mut stdin_open = true;
        let hangup_at = hangup_after.map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
        loop {
            tokio::select! {
                line = stdin.next_line(), if stdin_open => match line {
                    Ok(Some(line)) if line.trim() == "park" => break park_now(phone, call, out).await,
                    Ok(Some(line)) if line.trim() == "hangup" => {
                        break phone.hang_up(call).await.map_err(Failure::from);
                    }
                    Ok(Some(line)) => eprintln!("type \"park\" or \"hangup\", not {line:?}"),
                    Ok(None) | Err(_) => stdin_open = false,
                },
                event = next_about(&mut events, |e| about(e, call)) => match event {
                    Ok(Event::CallEnded { reason, .. }) => {
                        out.print(&serde_json::json!({"ended": call, "reason": reason}), || format!("Call ended: {}.", ended_in_words(reason)));
                        break Ok(());
                    }
                    Ok(Event::OnHold { .. }) => {
                        // Whoever takes the call next is announced, the parker on a ringback too.
                        talking_to = None;
                        out.print(&serde_json::json!({"on_hold": call}), || {
                            "On hold: the other side parked the call (you hear music until someone picks it up).".into()
                        });
                    }
                    Ok(connected) => say_connected(call, &connected, &mut talking_to, out),
                    Err(failure) => break Err(failure),
                },
                () = sleep_until(hangup_at) => {
                    break phone.hang_up(call).await.map_err(Failure::from);
                }
                _ = tokio::signal::ctrl_c() => {
                    break phone.hang_up(call).await.map_err(Failure::from);
                }
            }
        }
    };
    phone.engine().stop().await;
    outcome
}

/// What a party of `call` hears about it while talking: the end, being parked
/// (held), and whom they talk to after a pickup.
fn about(event: &Event, call: u64) -> bool {
    matches!(event,
        Event::CallEnded { call: c, .. } | Event::OnHold { call: c } | Event::Connected { call: c, .. }
            if *c == call)
}

/// Says whom the call connects with, once per peer (a retriever hears of the
/// connection in the reply and again as an event).
fn say_connected(call: u64, event: &Event, talking_to: &mut Option<u64>, out: &Out) {
    if let Event::Connected { peer, .. } = event
        && *talking_to != Some(peer.id)
    {
        *talking_to = Some(peer.id);
        out.print(&serde_json::json!({"connected": call, "peer": peer.name}), || {
            format!("Connected with {}.", peer.name)
        });
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

pub async fn parked(session: &Session, once: bool, out: &Out) -> Result<(), Failure> {
    fn list(view: &ViewModel) -> Option<&BTreeMap<u16, ParkedCall>> {
        view.parked.as_ref()
    }
    show_live(session, once, out, list, |view, calls| {
        let now_ms = table::now_ms();
        let rows: Vec<Vec<String>> = calls
            .iter()
            .map(|p| {
                vec![
                    p.code.to_string(),
                    p.caller.name.clone(),
                    p.parked_by.name.clone(),
                    table::minutes(now_ms.saturating_sub(p.parked_at_ms)),
                    if p.ringing_back {
                        "ringing back".into()
                    } else {
                        table::minutes(p.ringback_at_ms.saturating_sub(now_ms))
                    },
                ]
            })
            .collect();
        let heading = view
            .policy_name()
            .or(view.park_off.as_ref().map(|why| why.message.as_str()))
            .unwrap_or("no park policy");
        format!(
            "{heading}\n{}",
            table::render(&["CODE", "CALLER", "PARKED BY", "WAITING", "RINGBACK IN"], &rows)
        )
    })
    .await
}

pub async fn people(session: &Session, once: bool, out: &Out) -> Result<(), Failure> {
    fn list(view: &ViewModel) -> Option<&BTreeMap<u64, Person>> {
        view.people.as_ref()
    }
    show_live(session, once, out, list, |_, people| {
        let rows: Vec<Vec<String>> = people
            .iter()
            .map(|person| {
                let presence = match person.presence {
                    Presence::Available => "available",
                    Presence::InCall => "in a call",
                    Presence::Offline => "offline",
                };
                vec![person.login.clone(), person.name.clone(), presence.into()]
            })
            .collect();
        table::render(&["LOGIN", "NAME", "PRESENCE"], &rows)
    })
    .await
}

/// Prints a list the service keeps current (parked calls, people): once, or again
/// after every change until Ctrl-C.
async fn show_live<K, T: serde::Serialize>(
    session: &Session,
    once: bool,
    out: &Out,
    list: fn(&ViewModel) -> Option<&BTreeMap<K, T>>,
    render: impl Fn(&ViewModel, &[&T]) -> String,
) -> Result<(), Failure> {
    // Signed in, the softphone watches both lists.
    let phone = online(session).await?;
    let engine = phone.engine();
    let mut snapshots = engine.snapshots();
    loop {
        let view = snapshots
            .wait_for(|view| list(view).is_some())
            .await
            .map_err(|_| Failure::NotSignedIn("The engine stopped.".into()))?
            .clone();
        if let Some(items) = list(&view) {
            let items: Vec<&T> = items.values().collect();
            out.print(&items, || render(&view, &items));
        }
        if once {
            engine.stop().await;
            return Ok(());
        }
        tokio::select! {
            changed = snapshots.changed() => if changed.is_err() { return Ok(()) },
            _ = tokio::signal::ctrl_c() => { engine.stop().await; return Ok(()) }
        }
    }
}

/// Which park outcomes `ended` dismisses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dismiss {
    None,
    One(u64),
    All,
}

/// Lists how my parks ended (oldest first), or dismisses some: listing takes
/// nothing away, so a look from here never hides an outcome from the app.
pub async fn ended(session: &Session, dismiss: Dismiss, out: &Out) -> Result<(), Failure> {
    let phone = online(session).await?;
    let mut ended: Vec<EndedPark> = phone.view().ended_parks.into_values().collect();
    ended.sort_by_key(|park| (park.ended_at_ms, park.call));
    let outcome = match dismiss {
        Dismiss::None => {
            let rows: Vec<Vec<String>> = ended
                .iter()
                .map(|park| {
                    vec![
                        park.call.to_string(),
                        park.code.to_string(),
                        format!(
                            "{} ago",
                            table::minutes(table::now_ms().saturating_sub(park.ended_at_ms))
                        ),
                        ended_park_in_words(park),
                    ]
                })
                .collect();
            out.print(&ended, || {
                if rows.is_empty() {
                    "None of your parked calls has ended since you last looked.".into()
                } else {
                    table::render(&["CALL", "CODE", "ENDED", "WHAT HAPPENED"], &rows)
                }
            });
            Ok(())
        }
        Dismiss::One(call) => phone.acknowledge_park_ended(call).await.map_err(Failure::from),
        Dismiss::All => {
            let mut result = Ok(());
            for park in &ended {
                if let Err(error) = phone.acknowledge_park_ended(park.call).await {
                    result = Err(Failure::from(error));
                    break;
                }
            }
            result
        }
    };
    phone.engine().stop().await;
    outcome
}

pub async fn watch(session: &Session, out: &Out) -> Result<(), Failure> {
    let phone = online(session).await?;
    let engine = phone.engine();
    let mut events = engine.events();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(Notice::Event(event)) => out.print(&event, || format!("{event:?}")),
                Ok(other) => out.print(&serde_json::json!({"engine": format!("{other:?}")}), || format!("{other:?}")),
                Err(broadcast::error::RecvError::Lagged(missed)) => eprintln!("({missed} events missed)"),
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            },
            _ = tokio::signal::ctrl_c() => { engine.stop().await; return Ok(()) }
        }
    }
}

fn ended_in_words(reason: CallEndReason) -> &'static str {
    match reason {
        CallEndReason::HungUp => "you hung up",
        CallEndReason::PeerHungUp => "the other side hung up",
        CallEndReason::PeerLost => "the other side's connection was lost",
        CallEndReason::Parked => "the call was parked",
        CallEndReason::NoAnswer => "no answer",
        CallEndReason::Declined => "declined",
        CallEndReason::VoicemailFinished => "the voicemail message is recorded",
    }
}
