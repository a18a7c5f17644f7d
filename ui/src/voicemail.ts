// My voicemail: the list from the service, refreshed when a message is left, and
// playback through the app's speaker.
import { api, type VoicemailEntry } from "./api";
import { attempt } from "./banner";
import { byTestId, h, setText, show, syncList } from "./dom";
import { clock, timeOfDay } from "./format";

let seenNew = -1;

function item(entry: VoicemailEntry): HTMLElement {
  const play = h("button", { type: "button", testid: `play-voicemail-${entry.id}`,
    "aria-label": `Play the message from ${entry.caller_name ?? "an unknown caller"}` }, "Play");
  play.addEventListener("click", () => void attempt(() => api.playVoicemail(entry.id)));
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
