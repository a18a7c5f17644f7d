// The browser shell: the client session compiled to WebAssembly (signaling.ts),
// the browser's WebRTC for call audio (media.ts), the service's HTTP API on this
// origin (rest.ts). Where the browser cannot do what the desktop app does, the
// UI is told in words (sound problems, refusals).
import type {
  Account, Backend, DeviceInfo, DeviceList, MediaStats, Parked, Retrieved, Snapshot, UserRef,
  VoicemailEntry,
} from "../api";
import init, { version } from "./pkg/callpark_web.js";
import { Media } from "./media";
import { codeInPickupLink, pickupLink, takeOpeningLink } from "./pickup";
import { call, ServiceError, type LoginReply } from "./rest";
import { type SessionView, Signaling } from "./signaling";
import { play, stopPlaying, testTone } from "./sound";
import { loadSettings, loadSignIn, saveSettings, saveSignIn } from "./storage";

document.documentElement.dataset.shell = "web";

const DEVICE_NAME = "Callpark web";
/** How long signing in waits for the service's welcome on the new connection. */
const WELCOME_WAIT_MS = 15_000;
/** Call statistics while in a call, as often as the desktop's. */
const STATS_EVERY_MS = 1000;

const ready = init();

interface SignedIn {
  token: string;
  account: Account;
  signaling: Signaling;
  media: Media;
  session: SessionView;
  statsTimer: number | null;
  statsWatchers: ((stats: MediaStats) => void)[];
  /** The UI hears of this sign-in only once it is greeted (or restored from this tab). */
  announced: boolean;
}

let signedIn: SignedIn | null = null;
const viewHandlers = new Set<(snapshot: Snapshot) => void>();
/** Signing in, waiting for the first welcome. */
const welcomeWaiters = new Set<(snapshot: Snapshot) => void>();

function snapshotOf(current: SignedIn): Snapshot {
  return {
    account: current.account,
    view: current.session.view,
    park_group: current.session.park_group,
    sound_problems: current.media.soundProblems(),
  };
}

function push(current: SignedIn): void {
  if (signedIn !== current) return;
  const snapshot = snapshotOf(current);
  welcomeWaiters.forEach((waiter) => waiter(snapshot));
  if (current.announced) viewHandlers.forEach((handler) => handler(snapshot));
}

function notify(title: string, body: string): void {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    new Notification(title, { body, tag: `${title}\n${body}` });
  } catch {
    // Some browsers allow notifications only from a service worker; the page shows it too.
  }
}

/** Statistics once a second while in a call, and once more as it ends. */
function watchStats(current: SignedIn): void {
  const inCall = current.session.in_call;
  const send = () =>
    void current.media.stats().then((stats) => current.statsWatchers.forEach((watch) => watch(stats)));
  if (inCall && current.statsTimer === null) {
    current.statsTimer = window.setInterval(send, STATS_EVERY_MS);
    send();
  } else if (!inCall && current.statsTimer !== null) {
    window.clearInterval(current.statsTimer);
    current.statsTimer = null;
    send();
  }
}

/** Starts the session for a token: connecting, greeting, offering media. */
function start(token: string, login: string, user: UserRef | null, resume: string | null): SignedIn {
  const settings = loadSettings();
  let current: SignedIn | null = null;
  const media = new Media(settings.microphone, settings.speaker, () => current && push(current));
  const signaling = new Signaling(token, DEVICE_NAME, resume, {
    view(session) {
      if (!current) return;
      current.session = session;
      if (session.view.user) {
        current.account = { ...current.account, user: session.view.user };
        saveSignIn({ token, login, user: session.view.user, resume: signaling.resumeToken() });
      }
      void media.setInCall(session.in_call);
      watchStats(current);
      push(current);
    },
    online() {
      void media
        .connect((sdp) => signaling.ask<string>({ kind: "media_offer", sdp }))
        .catch((error: unknown) =>
          media.problem(`Call audio could not be set up: ${error instanceof Error ? error.message : String(error)}.`),
        );
    },
    notify: ({ title, body }) => notify(title, body),
    signedOut() {
      // The view says so (signed_out); the UI signs out and asks to sign in again.
    },
  });
  current = {
    token,
    account: { server: location.origin, login, user: user ?? { id: 0, name: login } },
    signaling,
    media,
    session: signaling.view(),
    statsTimer: null,
    statsWatchers: [],
    announced: false,
  };
  // The live lists: the session keeps them subscribed across reconnects.
  void signaling.ask({ kind: "watch_parked" }).catch(() => undefined);
  void signaling.ask({ kind: "watch_people" }).catch(() => undefined);
  return current;
}

function stop(): SignedIn | null {
  const current = signedIn;
  signedIn = null;
  if (!current) return null;
  if (current.statsTimer !== null) window.clearInterval(current.statsTimer);
  current.signaling.stop();
  current.media.stop();
  stopPlaying();
  return current;
}

function signedInNow(): SignedIn {
  if (!signedIn) throw new ServiceError("not_signed_in", "You are not signed in.");
  return signedIn;
}

/** Waits for the first welcome (or for the service to refuse the sign-in). */
function welcomed(current: SignedIn): Promise<void> {
  return new Promise((resolve, reject) => {
    const timeout = window.setTimeout(() => {
      welcomeWaiters.delete(check);
      reject(new ServiceError("timeout", `The service did not greet this tab within ${WELCOME_WAIT_MS / 1000} s.`));
    }, WELCOME_WAIT_MS);
    const check = (snapshot: Snapshot) => {
      const state = snapshot.view.connection.state;
      if (state !== "online" && state !== "signed_out") return;
      window.clearTimeout(timeout);
      welcomeWaiters.delete(check);
      if (state === "online") resolve();
      else reject(new ServiceError("signed_out", connectionReason(snapshot)));
    };
    welcomeWaiters.add(check);
    check(snapshotOf(current));
  });
}

function connectionReason(snapshot: Snapshot): string {
  const connection = snapshot.view.connection;
  return connection.state === "signed_out" ? connection.reason : "The service refused the sign-in.";
}

function deviceName(device: MediaDeviceInfo, index: number, kind: string): DeviceInfo {
  return {
    id: device.deviceId,
    // Browsers name devices only once the page may use the microphone.
    name: device.label || `${kind} ${index + 1} (the browser names it once you allow the microphone)`,
    is_default: device.deviceId === "default",
  };
}

const ask = <T>(intent: Record<string, unknown>) => signedInNow().signaling.ask<T>(intent);

export const backend: Backend = {
  appInfo: async () => {
    await ready;
    return { name: "Callpark", version: version() };
  },
  savedSettings: async () => loadSettings(),
  signIn: async (_server: string, login: string, password: string) => {
    // Asked while the click that signs in is still a user gesture.
    if ("Notification" in window && Notification.permission === "default") {
      void Notification.requestPermission().catch(() => undefined);
    }
    await ready;
    stop();
    const reply = await call<LoginReply>("POST", "/api/v1/login", null, { login: login.trim(), password });
    const current = start(reply.token, reply.login, null, null);
    signedIn = current;
    try {
      await welcomed(current);
    } catch (error) {
      stop();
      throw error;
    }
    saveSettings({ login: reply.login });
    current.announced = true;
    return current.account;
  },
  signOut: async () => {
    const current = stop();
    saveSignIn(null);
    if (current) await call("POST", "/api/v1/logout", current.token).catch(() => undefined);
  },
  currentView: async () => {
    await ready;
    if (!signedIn) {
      const saved = loadSignIn();
      if (!saved) return null;
      signedIn = start(saved.token, saved.login, saved.user, saved.resume ?? null);
      signedIn.announced = true;
    }
    return snapshotOf(signedIn);
  },
  dial: (to: string) => ask<number>({ kind: "dial", to }),
  answer: (call: number) => ask<void>({ kind: "answer", call }),
  decline: (call: number) => ask<void>({ kind: "decline", call }),
  hangUp: (call: number) => ask<void>({ kind: "hang_up", call }),
  park: (call: number) => ask<Parked>({ kind: "park", call }),
  retrieve: (code: string) => ask<Retrieved>({ kind: "retrieve", code }),
  acknowledgeParkEnded: (call: number) => ask<void>({ kind: "acknowledge_park_ended", call }),
  setMuted: async (muted: boolean) => signedInNow().media.setMuted(muted),
  watchStats: async (onStats: (stats: MediaStats) => void) => {
    const current = signedInNow();
    current.statsWatchers.push(onStats);
    onStats(await current.media.stats());
  },
  voicemails: () => call<VoicemailEntry[]>("GET", "/api/v1/voicemail", signedInNow().token),
  playVoicemail: async (id: number) => {
    const { token } = signedInNow();
    const audio = await call<Blob>("GET", `/api/v1/voicemail/${id}/audio`, token);
    return play(audio, loadSettings().speaker, null);
  },
  stopPlaying: async () => stopPlaying(),
  testTone: async () => play(testTone(), loadSettings().speaker, 1000),
  devices: async (): Promise<DeviceList> => {
    const all = await navigator.mediaDevices.enumerateDevices();
    const of = (kind: MediaDeviceKind, words: string) =>
      all.filter((device) => device.kind === kind).map((device, index) => deviceName(device, index, words));
    return { host: "browser", microphones: of("audioinput", "Microphone"), speakers: of("audiooutput", "Speaker") };
  },
  chooseDevices: async (microphone: string | null, speaker: string | null) => {
    saveSettings({ microphone, speaker });
    const current = signedIn;
    if (!current) return [];
    const problems = await current.media.choose(microphone, speaker);
    push(current);
    return problems;
  },
  copyText: (text: string) => navigator.clipboard.writeText(text),
  copyPickupLink: (code: number) => navigator.clipboard.writeText(pickupLink(code)),
  uiReady: async () => undefined,
  takePickupLink: async () => {
    const code = takeOpeningLink();
    return code === null ? null : { code };
  },
  pickupCodeIn: async (text: string) => codeInPickupLink(text),
  onView: async (handler: (snapshot: Snapshot) => void) => {
    viewHandlers.add(handler);
    return () => viewHandlers.delete(handler);
  },
  // A pickup link opened later opens its own tab (takePickupLink).
  onPickupLink: async () => () => undefined,
};

