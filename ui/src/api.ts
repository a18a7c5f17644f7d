// The app's commands and events: the only way the UI talks to the engine.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

export interface UserRef { id: number; name: string }

export type Connection =
  | { state: "connecting" }
  | { state: "online" }
  | { state: "reconnecting"; attempt: number; retry_in_ms: number; reason: string }
  | { state: "signed_out"; reason: string }
  | { state: "stopped" };

export type CallPhase = "dialing" | "incoming" | "connected" | "on_hold" | "voicemail" | "ringback";

export interface CallView {
  call: number; phase: CallPhase; peer: UserRef | null; code: number | null;
  /** The other party's connection dropped; the call waits for them to come back. */
  peer_reconnecting: boolean;
}
export interface MyPark { call: number; code: number; caller: UserRef; ringback_at_ms: number }
export type ParkOutcome =
  | "retrieved" | "ringback_answered" | "caller_left" | "voicemail" | "forwarded" | "disconnected" | "lost";
/** How one of my parks ended; kept until a device of mine acknowledges it. */
export interface EndedPark {
  call: number; code: number; outcome: ParkOutcome; by: UserRef | null; caller: UserRef; ended_at_ms: number;
}
export interface ParkedCall {
  call: number; code: number; caller: UserRef; parked_by: UserRef;
  parked_at_ms: number; ringback_at_ms: number; ringing_back: boolean;
}
export interface VoicemailEntry {
  id: number; caller_id: number | null; caller_name: string | null;
  call: number; recorded_at_ms: number; duration_ms: number;
}
export type Presence = "available" | "in_call" | "offline";
export interface Person { id: number; login: string; name: string; presence: Presence }

export interface ViewModel {
  connection: Connection;
  user: UserRef | null;
  policy: string | null;
  /** Why this user may not park or retrieve, when they may not. */
  park_off: AppError | null;
  calls: Record<string, CallView>;
  my_parks: Record<string, MyPark>;
  ended_parks: Record<string, EndedPark>;
  parked: Record<string, ParkedCall> | null;
  new_voicemail: VoicemailEntry[];
  people: Record<string, Person> | null;
}

export interface Account { server: string; login: string; user: UserRef }
export interface Snapshot {
  account: Account;
  view: ViewModel;
  /** My park group as people name it, when park is on for me. */
  park_group: string | null;
  sound_problems: string[];
}
export interface Settings { server: string | null; login: string | null; microphone: string | null; speaker: string | null }
export interface Parked { call: number; code: number; ringback_at_ms: number }
export interface Retrieved { call: number; code: number; caller: UserRef; parked_by: UserRef }
export interface MediaStats {
  connected: boolean; muted: boolean; packets_sent: number; packets_received: number;
  loss: number; jitter_ms: number; buffer_delay_ms: number; recovered_by_fec: number;
  concealed: number; input_dbfs: number; output_dbfs: number;
  /** The call audio is open (only while this device is a party to a call). */
  microphone_open: boolean;
  /** What this call could not open, in words. */
  sound_problems: string[];
}
export interface DeviceInfo { id: string; name: string; is_default: boolean }
export interface DeviceList { host: string; microphones: DeviceInfo[]; speakers: DeviceInfo[] }

/** Every refusal from the app or the service: a stable code and plain words. */
export interface AppError { code: string; message: string }

export function asAppError(error: unknown): AppError {
  if (typeof error === "object" && error !== null && "code" in error && "message" in error) {
    return error as AppError;
  }
  return { code: "app", message: String(error) };
}

export const api = {
  appInfo: () => invoke<{ name: string; version: string }>("app_info"),
  savedSettings: () => invoke<Settings>("saved_settings"),
  signIn: (server: string, login: string, password: string) =>
    invoke<Account>("sign_in", { server, login, password }),
  signOut: () => invoke<void>("sign_out"),
  currentView: () => invoke<Snapshot | null>("current_view"),
  dial: (to: string) => invoke<number>("dial", { to }),
  answer: (call: number) => invoke<void>("answer", { call }),
  decline: (call: number) => invoke<void>("decline", { call }),
  hangUp: (call: number) => invoke<void>("hang_up", { call }),
  park: (call: number) => invoke<Parked>("park", { call }),
  retrieve: (code: string) => invoke<Retrieved>("retrieve", { code }),
  acknowledgeParkEnded: (call: number) => invoke<void>("acknowledge_park_ended", { call }),
  setMuted: (muted: boolean) => invoke<void>("set_muted", { muted }),
  watchStats: (onStats: (stats: MediaStats) => void) => {
    const channel = new Channel<MediaStats>();
    channel.onmessage = onStats;
    return invoke<void>("watch_stats", { onStats: channel });
  },
  voicemails: () => invoke<VoicemailEntry[]>("voicemails"),
  playVoicemail: (id: number) => invoke<number>("play_voicemail", { id }),
  stopPlaying: () => invoke<void>("stop_playing"),
  testTone: () => invoke<number>("test_tone"),
  devices: () => invoke<DeviceList>("devices"),
  chooseDevices: (microphone: string | null, speaker: string | null) =>
    invoke<string[]>("choose_devices", { microphone, speaker }),
  copyText: (text: string) => invoke<void>("copy_text", { text }),
  copyPickupLink: (code: number) => invoke<void>("copy_pickup_link", { code }),
  uiReady: () => invoke<void>("ui_ready"),
  takePickupLink: () => invoke<{ code: string } | null>("take_pickup_link"),
  pickupCodeIn: (text: string) => invoke<string | null>("pickup_code_in", { text }),
};

export function onView(handler: (snapshot: Snapshot) => void): Promise<UnlistenFn> {
  return listen<Snapshot>("view", (event) => handler(event.payload));
}

export function onPickupLink(handler: (code: string) => void): Promise<UnlistenFn> {
  return listen<{ code: string }>("pickup-link", (event) => handler(event.payload.code));
}
