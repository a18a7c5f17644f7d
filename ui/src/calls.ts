// The call panel: incoming, ringback, dialing, in call (with Park), and the dial box.
import { api, type CallView, type MediaStats, type Snapshot } from "./api";
import { attempt } from "./banner";
import { byTestId, setText, show } from "./dom";
import { clock } from "./format";

const connectedAt = new Map<number, number>();
let muted = false;

/** The call the panel is about: a ringing one first, then the active one. */
function focusCall(calls: CallView[]): { ringing?: CallView; active?: CallView } {
  const ringing = calls.find((c) => c.phase === "incoming" || c.phase === "ringback");
  const active = calls.find((c) => c.phase !== "incoming" && c.phase !== "ringback");
  return { ringing, active };
}

let current: { ringing?: CallView; active?: CallView } = {};

export function renderCalls(snapshot: Snapshot, now: number): void {
  const calls = Object.values(snapshot.view.calls);
  for (const id of connectedAt.keys()) {
    if (!calls.some((c) => c.call === id && c.phase === "connected")) connectedAt.delete(id);
  }
  current = focusCall(calls);
  const { ringing, active } = current;

  show(byTestId("incoming-call"), ringing?.phase === "incoming");
  show(byTestId("ringback"), ringing?.phase === "ringback");
  if (ringing?.phase === "incoming") setText(byTestId("incoming-caller"), ringing.peer?.name ?? "Someone");
  if (ringing?.phase === "ringback") {
    setText(byTestId("ringback-caller"), `${ringing.peer?.name ?? "A parked caller"} is still waiting`);
    setText(byTestId("ringback-code"), String(ringing.code ?? ""));
  }

  show(byTestId("in-call"), active !== undefined);
  show(byTestId("idle"), active === undefined && ringing === undefined);
  if (!active) {
    if (muted) setMuted(false);
    return;
  }
  if (active.phase === "connected" && !connectedAt.has(active.call)) connectedAt.set(active.call, now);
  const peer = active.peer?.name ?? "";
  const phaseText: Record<string, string> = {
    dialing: "Calling…",
    connected: "In call",
    on_hold: "On hold",
    voicemail: "Leaving a message",
  };
  // A dropped connection keeps the call on screen: the service holds it for a
  // grace period, on either side.
  const reconnecting = snapshot.view.connection.state === "reconnecting";
  const phase = reconnecting
    ? "Reconnecting…"
    : active.peer_reconnecting
      ? `${peer || "The other side"} is reconnecting…`
      : (phaseText[active.phase] ?? "In call");
  setText(byTestId("call-phase"), phase);
  // Only a park puts a call on hold here, and the peer is then whoever parked it.
  setText(byTestId("call-peer"), active.phase === "on_hold" && peer ? `Parked by ${peer}` : peer);
  const since = connectedAt.get(active.call);
  setText(byTestId("call-duration"), since === undefined ? "" : clock(now - since));
  const parkButton = byTestId<HTMLButtonElement>("park");
  parkButton.disabled = active.phase !== "connected" || reconnecting;
  byTestId<HTMLButtonElement>("mute").disabled = active.phase !== "connected";
}

/** The microphone is live exactly while the call audio is open: said in the call
 * panel and in the header, never otherwise. */
function renderMicrophone(stats: MediaStats): void {
  const words = stats.muted ? "Microphone on, muted" : "Microphone on";
  for (const id of ["mic-live", "header-mic-live"]) {
    const indicator = byTestId(id);
    setText(indicator, words);
    indicator.dataset.muted = String(stats.muted);
    show(indicator, stats.microphone_open);
  }
}

export function renderStats(stats: MediaStats): void {
  renderMicrophone(stats);
  setText(byTestId("stats-received"), String(stats.packets_received));
  setText(byTestId("stats-sent"), String(stats.packets_sent));
  setText(byTestId("stats-loss"), `${(stats.loss * 100).toFixed(1)} %`);
  setText(byTestId("stats-jitter"), `${stats.jitter_ms.toFixed(1)} ms`);
  setText(byTestId("stats-buffer"), `${stats.buffer_delay_ms} ms`);
  byTestId<HTMLMeterElement>("stats-output-level").value = Math.max(-60, stats.output_dbfs);
  byTestId<HTMLMeterElement>("input-level").value = Math.max(-60, stats.input_dbfs);
}

/** Mute lasts for one call: it is lifted when the call ends. */
function setMuted(wanted: boolean): void {
  void attempt(async () => {
    await api.setMuted(wanted);
    muted = wanted;
    const mute = byTestId<HTMLButtonElement>("mute");
    mute.setAttribute("aria-pressed", String(muted));
    mute.textContent = muted ? "Unmute" : "Mute";
  });
}

/** The call buttons: which control acts on which call, and how. */
const callActions: [testId: string, which: "ringing" | "active", act: (call: number) => Promise<unknown>][] = [
  ["accept-call", "ringing", api.answer],
  ["answer-ringback", "ringing", api.answer],
  ["decline-call", "ringing", api.decline],
  ["hang-up", "active", api.hangUp],
  ["park", "active", api.park],
];

export function setUpCalls(): void {
  for (const [testId, which, act] of callActions) {
    byTestId(testId).addEventListener("click", () => {
      const call = current[which];
      if (call) void attempt(() => act(call.call));
    });
  }
  byTestId("mute").addEventListener("click", () => setMuted(!muted));
  byTestId("dial-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = byTestId<HTMLInputElement>("dial-input");
    const to = input.value.trim();
    if (!to) {
      input.focus();
      return;
    }
    void attempt(async () => {
      await api.dial(to);
      input.value = "";
    });
  });
}
