// Pickup links in the browser: `<service>/pickup/<code>` opens the pickup dialog
// with the code filled in; the desktop's `callpark://pickup/<code>` is understood too.

const PATH = /^\/pickup\/([^/?#]+)\/?$/;

export function pickupLink(code: number): string {
  return `${location.origin}/pickup/${code}`;
}

/** The code in a pasted pickup link (either kind), or null for anything else. */
export function codeInPickupLink(text: string): string | null {
  const trimmed = text.trim();
  const desktop = /^callpark:\/\/pickup\/([^/?#]+)\/?$/.exec(trimmed);
  if (desktop) return decodeURIComponent(desktop[1] ?? "") || null;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const match = PATH.exec(url.pathname);
  return match ? decodeURIComponent(match[1] ?? "") || null : null;
}

/** The code of the link this tab was opened with, once; the address bar goes back to `/`. */
export function takeOpeningLink(): string | null {
  const match = PATH.exec(location.pathname);
  if (!match) return null;
  history.replaceState(null, "", "/");
  return decodeURIComponent(match[1] ?? "") || null;
}
