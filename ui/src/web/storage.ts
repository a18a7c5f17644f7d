// What the tab remembers. Settings (login, chosen devices) in localStorage, for
// every tab of this origin; the sign-in (the bearer token) in sessionStorage only:
// it lasts through a reload of this tab and ends with it, and no other tab reads it.
import type { Settings, UserRef } from "../api";

const SETTINGS_KEY = "callpark.settings";
const SIGN_IN_KEY = "callpark.sign-in";

/**
 * This tab's sign-in. `resume`: the last welcome's resume token, so that a reload
 * comes back as the same device and keeps its calls (the service holds them for
 * its grace period).
 */
export interface SavedSignIn { token: string; login: string; user: UserRef | null; resume: string | null }

function read<T>(storage: Storage, key: string): T | null {
  try {
    const text = storage.getItem(key);
    return text === null ? null : (JSON.parse(text) as T);
  } catch {
    return null;
  }
}

export function loadSettings(): Settings {
  const saved = read<Partial<Settings>>(localStorage, SETTINGS_KEY) ?? {};
  return {
    server: location.origin,
    login: saved.login ?? null,
    microphone: saved.microphone ?? null,
    speaker: saved.speaker ?? null,
  };
}

export function saveSettings(change: Partial<Settings>): void {
  const next = { ...loadSettings(), ...change };
  localStorage.setItem(SETTINGS_KEY, JSON.stringify({ login: next.login, microphone: next.microphone, speaker: next.speaker }));
}

export function loadSignIn(): SavedSignIn | null {
  return read<SavedSignIn>(sessionStorage, SIGN_IN_KEY);
}

export function saveSignIn(signIn: SavedSignIn | null): void {
  if (signIn === null) sessionStorage.removeItem(SIGN_IN_KEY);
  else sessionStorage.setItem(SIGN_IN_KEY, JSON.stringify(signIn));
}
