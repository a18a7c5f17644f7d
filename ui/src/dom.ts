// Small DOM helpers: elements are found by their stable data-testid.

export function byTestId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!element) throw new Error(`missing element ${id}`);
  return element;
}

export function show(element: HTMLElement, visible: boolean): void {
  element.hidden = !visible;
}

/** Builds an element with attributes (`testid` sets data-testid) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "testid") element.dataset.testid = value;
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/**
 * Keeps a list's children in step with `items` by key: new items get an element
 * from `create`, every item's element is refreshed by `update`, gone ones are
 * removed. Elements are reused, so focus and listeners survive a refresh.
 */
export function syncList<T>(
  parent: HTMLElement,
  items: T[],
  key: (item: T) => string,
  create: (item: T) => HTMLElement,
  update: (element: HTMLElement, item: T) => void,
): void {
  const existing = new Map<string, HTMLElement>();
  for (const child of Array.from(parent.children) as HTMLElement[]) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }
  const wanted: HTMLElement[] = [];
  for (const item of items) {
    const id = key(item);
    let element = existing.get(id);
    if (!element) {
      element = create(item);
      element.dataset.key = id;
    }
    existing.delete(id);
    update(element, item);
    wanted.push(element);
  }
  for (const gone of existing.values()) gone.remove();
  wanted.forEach((element, index) => {
    if (parent.children[index] !== element) parent.insertBefore(element, parent.children[index] ?? null);
  });
}

/** Sets text only when it changed (no needless DOM mutations for screen readers). */
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
