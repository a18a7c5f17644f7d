// The app's UI: renders the snapshots the Rust side pushes and sends intents back.
// It never opens sockets and never touches audio.
import { api, onPickupLink, onView, type MediaStats, type Snapshot } from "./api";
import { report, setUpBanner } from "./banner";
import { renderCalls, renderStats, setUpCalls } from "./calls";
import { byTestId, setText, show } from "./dom";
import { renderParks } from "./parks";
import { renderPeople } from "./people";
import { openPickup, setUpPickup } from "./pickup";
import { setUpSettings } from "./settings";
import { prefillSignIn, setUpSignIn, showSignInError } from "./signin";
import { forgetVoicemail, refreshVoicemail } from "./voicemail";
import { connectionInWords } from "./words";

let snapshot: Snapshot | null = null;
/** What the current call could not open (from its statistics). */
let callProblems: string[] = [];
let pendingPickup: string | null = null;
/** After signing out, views still in flight from the old sign-in are dropped. */
let listening = true;
/** The once-a-second re-render, running only while something on screen counts time. */
let ticking: number | null = null;

function showSignedIn(signedIn: boolean): void {
  show(byTestId("sign-in"), !signedIn);
  show(byTestId("home"), signedIn);
  for (const id of ["signed-in-as", "connection-status", "open-pickup", "open-settings", "sign-out"]) {
    show(byTestId(id), signedIn);
  }
}

function render(): void {
  if (!snapshot) return;
  const now = Date.now();
  const { view, account } = snapshot;
  setText(byTestId("signed-in-as"), `${account.user.name} (${account.login})`);
  const status = byTestId("connection-status");
  setText(status, connectionInWords(view.connection));
  status.dataset.state = view.connection.state;
  renderSoundProblems();
  renderCalls(snapshot, now);
  renderParks(snapshot, now);
  renderPeople(snapshot);
}

/**
 * Call durations and park countdowns need a render every second; an idle window
 * needs none, so it wakes nothing (the idle app's CPU budget is 0.3 % of a core).
 */
function tickWhileCounting(): void {
  const view = snapshot?.view;
  const counting =
    view !== undefined &&
    [view.calls, view.my_parks, view.parked ?? {}].some((items) => Object.keys(items).length > 0);
  if (counting && ticking === null) ticking = window.setInterval(render, 1000);
  if (!counting && ticking !== null) {
    window.clearInterval(ticking);
    ticking = null;
  }
}

function renderSoundProblems(): void {
  const all = [...new Set([...(snapshot?.sound_problems ?? []), ...callProblems])];
  const problems = byTestId("sound-problems");
  problems.replaceChildren(...all.map((p) => Object.assign(document.createElement("li"), { textContent: p })));
  show(problems, all.length > 0);
}

function onStats(stats: MediaStats): void {
  renderStats(stats);
  if (stats.sound_problems.join("\n") !== callProblems.join("\n")) {
    callProblems = stats.sound_problems;
    renderSoundProblems();
  }
}

function applySnapshot(next: Snapshot): void {
  if (!listening) return;
  const first = snapshot === null;
  snapshot = next;
  if (next.view.connection.state === "signed_out") {
    // The service no longer accepts this sign-in (expired, or the account changed).
    leave(connectionInWords(next.view.connection));
    return;
  }
  if (first) {
    showSignedIn(true);
    void api.watchStats(onStats).catch(report);
    if (pendingPickup !== null) {
      openPickup(pendingPickup);
      pendingPickup = null;
    }
  }
  refreshVoicemail(next.view.new_voicemail.length);
  tickWhileCounting();
  render();
}

function leave(reason: string | null): void {
  listening = false;
  snapshot = null;
  tickWhileCounting();
  forgetVoicemail();
  showSignedIn(false);
  void api.signOut();
  void prefillSignIn().then(() => showSignInError(reason));
}

async function start(): Promise<void> {
  const status = byTestId("app-status");
  try {
    setUpBanner();
    setUpCalls();
    setUpPickup();
    setUpSettings();
    setUpSignIn(() => {
      listening = true;
      void api.currentView().then((current) => current && applySnapshot(current));
    });
    byTestId("sign-out").addEventListener("click", () => leave(null));
    await onView(applySnapshot);
    await onPickupLink((code) => {
      if (snapshot) openPickup(code);
      else pendingPickup = code;
    });
    const info = await api.appInfo();
    byTestId("app-version").textContent = `v${info.version}`;
    const link = await api.takePickupLink();
    if (link) pendingPickup = link.code;
    const current = await api.currentView();
    if (current) applySnapshot(current);
    else {
      showSignedIn(false);
      await prefillSignIn();
    }
    status.textContent = "Ready";
    status.dataset.state = "ready";
    // For measuring: navigation to the first usable screen (docs/benchmarks.md).
    performance.mark("callpark:ready");
    void api.uiReady();
  } catch (error) {
    status.textContent = `The app could not start: ${String(error)}`;
    status.dataset.state = "error";
  }
}

void start();
