// The desktop shell: the app's Rust side, through Tauri's commands and events.
import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  Account, Backend, DeviceList, MediaStats, Parked, Retrieved, Settings, Snapshot, VoicemailEntry,
} from "../api";

export const backend: Backend = {
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
  onView: (handler: (snapshot: Snapshot) => void) =>
    listen<Snapshot>("view", (event) => handler(event.payload)),
  onPickupLink: (handler: (code: string) => void) =>
    listen<{ code: string }>("pickup-link", (event) => handler(event.payload.code)),
};
