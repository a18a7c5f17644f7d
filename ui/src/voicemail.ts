// My voicemail: the list from the service, refreshed when a message is left, and
// playback through the app's speaker.
import { api, type VoicemailEntry } from "./api";
import { attempt } from "./banner";
import { byTestId, h, setText, show, syncList } from "./dom";
import { clock, timeOfDay } from "./format";

let seenNew = -1;
let playing: { id: number; button: HTMLButtonElement; timer: number } | null = null;

function stopped(): void {
  if (!playing) return;
  window.clearTimeout(playing.timer);
  playing.button.textContent = "Play";
  playing.button.dataset.playing = "false";
  playing = null;
}

/** Play, or stop the message that is playing. */
async function toggle(id: number, button: HTMLButtonElement): Promise<void> {
  const wasThis = playing?.id === id;
  if (playing) {
    stopped();
    await api.stopPlaying();
  }
  if (wasThis) return;
  const lengthMs = await api.playVoicemail(id);
  button.textContent = "Stop";
  button.dataset.playing = "true";
  playing = { id, button, timer: window.setTimeout(stopped, lengthMs + 300) };
}

function item(entry: VoicemailEntry): HTMLElement {
  const play = h("button", { type: "button", testid: `play-voicemail-${entry.id}`,
    "aria-label": `Play the message from ${entry.caller_name ?? "an unknown caller"}` }, "Play");
  play.addEventListener("click", () => void attempt(() => toggle(entry.id, play)));
  return h(
    "li",
    { testid: `voicemail-${entry.id}` },
    h("span", { "data-cell": "from", class: "from" }),
    h("span", { "data-cell": "when", class: "muted" }),
    h("span", { "data-cell": "length" }),
    play,
  );
}

function render(entries: VoicemailEntry[]): void {
  show(byTestId("voicemail-empty"), entries.length === 0);
  syncList(byTestId("voicemail-list"), entries, (e) => String(e.id), item, (element, entry) => {
    const cell = (name: string) => element.querySelector<HTMLElement>(`[data-cell="${name}"]`);
    const from = cell("from"), when = cell("when"), length = cell("length");
    if (from) setText(from, entry.caller_name ?? "Unknown caller");
    if (when) setText(when, timeOfDay(entry.recorded_at_ms));
    if (length) setText(length, clock(entry.duration_ms));
  });
}

/** Loads the list when signed in and again whenever a new message arrives. */
export function refreshVoicemail(newMessages: number): void {
  if (newMessages === seenNew) return;
  seenNew = newMessages;
  void attempt(async () => render(await api.voicemails()));
}

export function forgetVoicemail(): void {
  seenNew = -1;
  render([]);
}
