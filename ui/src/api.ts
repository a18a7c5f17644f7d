// The app's commands and events: the only way the UI talks to the engine. The
// engine is the desktop app's Rust side (src/tauri) or, in a browser, the client
// session compiled to WebAssembly with a TypeScript driver (src/web); the build
// picks one for "@backend" (vite.config.ts).
import { backend } from "@backend";

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

/** What the UI asks of the engine, whichever shell it runs in. */
export interface Backend {
  appInfo(): Promise<{ name: string; version: string }>;
  savedSettings(): Promise<Settings>;
  signIn(server: string, login: string, password: string): Promise<Account>;
  signOut(): Promise<void>;
  currentView(): Promise<Snapshot | null>;
  dial(to: string): Promise<number>;
  answer(call: number): Promise<void>;
  decline(call: number): Promise<void>;
  hangUp(call: number): Promise<void>;
  park(call: number): Promise<Parked>;
  retrieve(code: string): Promise<Retrieved>;
  acknowledgeParkEnded(call: number): Promise<void>;
  setMuted(muted: boolean): Promise<void>;
  watchStats(onStats: (stats: MediaStats) => void): Promise<void>;
  voicemails(): Promise<VoicemailEntry[]>;
  /** Plays a message on the chosen speaker; resolves with its length in ms. */
  playVoicemail(id: number): Promise<number>;
  stopPlaying(): Promise<void>;
  testTone(): Promise<number>;
  devices(): Promise<DeviceList>;
  chooseDevices(microphone: string | null, speaker: string | null): Promise<string[]>;
  copyText(text: string): Promise<void>;
  copyPickupLink(code: number): Promise<void>;
  uiReady(): Promise<void>;
  takePickupLink(): Promise<{ code: string } | null>;
  pickupCodeIn(text: string): Promise<string | null>;
  onView(handler: (snapshot: Snapshot) => void): Promise<() => void>;
  onPickupLink(handler: (code: string) => void): Promise<() => void>;
}

export const api: Backend = backend;
export const onView = backend.onView;
export const onPickupLink = backend.onPickupLink;
