// People in my organisation with their presence; one click calls them.
import { api, type Person, type Snapshot } from "./api";
import { attempt } from "./banner";
import { byTestId, h, setText, show, syncList } from "./dom";

const presenceText = { available: "Available", in_call: "In a call", offline: "Offline" } as const;

function item(person: Person): HTMLElement {
  const call = h("button", { type: "button", testid: `call-${person.login}`,
    "aria-label": `Call ${person.name}` }, "Call");
  call.addEventListener("click", () => void attempt(() => api.dial(person.login)));
  return h(
    "li",
    { testid: `person-${person.login}` },
    h("span", { "data-cell": "dot", class: "dot", "aria-hidden": "true" }),
    h("span", { "data-cell": "name", class: "name" }),
    h("span", { "data-cell": "presence", testid: `presence-${person.login}`, class: "muted" }),
    call,
  );
}

export function renderPeople(snapshot: Snapshot): void {
  const me = snapshot.view.user?.id;
  const people = Object.values(snapshot.view.people ?? {})
    .filter((p) => p.id !== me)
    .sort((a, b) => a.name.localeCompare(b.name));
  show(byTestId("people-empty"), people.length === 0);
  syncList(byTestId("people-list"), people, (p) => p.login, item, (element, person) => {
    const cell = (name: string) => element.querySelector<HTMLElement>(`[data-cell="${name}"]`);
    const name = cell("name"), presence = cell("presence"), dot = cell("dot");
    if (name) setText(name, person.name);
    if (presence) setText(presence, presenceText[person.presence]);
    if (dot) dot.dataset.presence = person.presence;
    const button = element.querySelector("button");
    if (button) button.disabled = person.presence === "offline";
  });
  // The dial box's suggestions: rebuilt only when the logins change.
  const logins = byTestId("people-logins");
  const wanted = people.map((p) => `${p.login}\n${p.name}`).join("\n");
  if (logins.dataset.shown !== wanted) {
    logins.replaceChildren(...people.map((p) => h("option", { value: p.login }, p.name)));
    logins.dataset.shown = wanted;
  }
}
