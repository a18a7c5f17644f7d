// Calls I parked (the code, large and copyable, a pickup link to share, and the
// ringback countdown) and the live list of my park group's parked calls, each one
// click from being picked up.
import { api, type EndedPark, type MyPark, type ParkedCall, type Snapshot } from "./api";
import { attempt } from "./banner";
import { byTestId, h, setText, show, syncList } from "./dom";
import { clock } from "./format";
import { pickUp } from "./pickup";
import { endedParkInWords } from "./words";

function cell(element: HTMLElement, name: string): HTMLElement {
  const found = element.querySelector<HTMLElement>(`[data-cell="${name}"]`);
  if (!found) throw new Error(`missing cell ${name}`);
  return found;
}

/** How long a copy button says it copied before it reads as a button again. */
const COPIED_SHOWN_MS = 2000;

/** A button that copies something, says it did for a moment, then offers it again. */
function copyButton(testid: string, label: string, name: string, done: string,
                    copy: () => Promise<void>): HTMLElement {
  const button = h("button", { type: "button", testid, "aria-label": name }, label);
  let restore: number | undefined;
  button.addEventListener("click", () => {
    void attempt(async () => {
      await copy();
      button.textContent = done;
      // A second copy within the moment restarts it rather than cutting it short.
      window.clearTimeout(restore);
      restore = window.setTimeout(() => { button.textContent = label; }, COPIED_SHOWN_MS);
    });
  });
  return button;
}

function myParkItem(park: MyPark): HTMLElement {
  const copy = copyButton(`copy-code-${park.code}`, "Copy", `Copy code ${park.code}`, "Copied",
    () => api.copyText(String(park.code)));
  const copyLink = copyButton(`copy-link-${park.code}`, "Copy link",
    `Copy a pickup link for code ${park.code}`, "Link copied", () => api.copyPickupLink(park.code));
  return h(
    "li",
    { testid: `my-park-${park.code}`, class: "park" },
    h("span", { class: "code", testid: "park-code", "data-cell": "code", "aria-label": "Pickup code" }),
    copy,
    copyLink,
    h("span", { testid: "parked-for", "data-cell": "for" }),
    h("span", { testid: "ringback-countdown", "data-cell": "countdown", class: "countdown" }),
  );
}

function renderMyParks(snapshot: Snapshot, now: number): void {
  const parks = Object.values(snapshot.view.my_parks).sort((a, b) => a.code - b.code);
  show(byTestId("my-parks"), parks.length > 0);
  const group = snapshot.park_group ? ` (${snapshot.park_group})` : "";
  syncList(byTestId("my-parks-list"), parks, (p) => String(p.call), myParkItem, (element, park) => {
    setText(cell(element, "code"), String(park.code));
    setText(cell(element, "for"), `${park.caller.name} is waiting to be picked up${group}.`);
    const left = park.ringback_at_ms - now;
    setText(cell(element, "countdown"), left > 0 ? `Rings back in ${clock(left)}` : "Ringing back");
  });
}

function endedParkItem(ended: EndedPark): HTMLElement {
  const dismiss = h("button", { type: "button", testid: `dismiss-ended-${ended.call}`,
    "aria-label": `Dismiss: ${endedParkInWords(ended)}` }, "Dismiss");
  // Dismissing here takes it off every device of mine (the service tells them).
  dismiss.addEventListener("click", () => void attempt(() => api.acknowledgeParkEnded(ended.call)));
  return h(
    "li",
    { testid: `ended-park-${ended.call}`, class: `ended ended-${ended.outcome}` },
    h("span", { testid: "ended-words", "data-cell": "words" }),
    h("time", { testid: "ended-at", "data-cell": "at", class: "muted" }),
    dismiss,
  );
}

/** How my parks ended, newest first, until dismissed here or on another device. */
function renderEndedParks(snapshot: Snapshot): void {
  const ended = Object.values(snapshot.view.ended_parks).sort((a, b) => b.ended_at_ms - a.ended_at_ms);
  show(byTestId("ended-parks"), ended.length > 0);
  syncList(byTestId("ended-parks-list"), ended, (e) => String(e.call), endedParkItem, (element, e) => {
    setText(cell(element, "words"), endedParkInWords(e));
    const at = new Date(e.ended_at_ms);
    setText(cell(element, "at"), at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  });
}

function parkedRow(parked: ParkedCall): HTMLElement {
  const button = h("button", { type: "button", testid: `pickup-${parked.code}`, class: "primary",
    "aria-label": `Pick up ${parked.caller.name}, code ${parked.code}` }, "Pick up");
  button.addEventListener("click", () => void pickUp(String(parked.code)));
  return h(
    "tr",
    { testid: `parked-row-${parked.code}` },
    h("td", { "data-cell": "code", class: "code-small" }),
    h("td", { "data-cell": "caller" }),
    h("td", { "data-cell": "by" }),
    h("td", { "data-cell": "waiting" }),
    h("td", { "data-cell": "ringback" }),
    h("td", {}, button),
  );
}

function renderParkedList(snapshot: Snapshot, now: number): void {
  const list = snapshot.view.parked;
  const allowed = snapshot.view.policy !== null;
  setText(byTestId("parked-policy"), snapshot.park_group ? `· ${snapshot.park_group}` : "");
  const parkedOff = byTestId("parked-off");
  if (snapshot.view.park_off) setText(parkedOff, snapshot.view.park_off.message);
  show(parkedOff, list !== null && !allowed);
  const calls = list ? Object.values(list).sort((a, b) => a.code - b.code) : [];
  show(byTestId("parked-table"), calls.length > 0);
  show(byTestId("parked-empty"), allowed && list !== null && calls.length === 0);
  syncList(byTestId("parked-rows"), calls, (p) => String(p.code), parkedRow, (row, parked) => {
    setText(cell(row, "code"), String(parked.code));
    setText(cell(row, "caller"), parked.caller.name);
    setText(cell(row, "by"), parked.parked_by.name);
    setText(cell(row, "waiting"), clock(now - parked.parked_at_ms));
    const left = parked.ringback_at_ms - now;
    setText(cell(row, "ringback"), parked.ringing_back || left <= 0 ? "Ringing back" : clock(left));
  });
}

export function renderParks(snapshot: Snapshot, now: number): void {
  renderMyParks(snapshot, now);
  renderEndedParks(snapshot);
  renderParkedList(snapshot, now);
}
