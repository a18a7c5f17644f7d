import { invoke } from "@tauri-apps/api/core";

interface AppInfo {
  name: string;
  version: string;
}

function byTestId(id: string): HTMLElement {
  const element = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
  if (!element) throw new Error(`missing element ${id}`);
  return element;
}

async function start(): Promise<void> {
  const status = byTestId("app-status");
  try {
    const info = await invoke<AppInfo>("app_info");
    byTestId("app-version").textContent = `v${info.version}`;
    status.textContent = "Ready";
    status.dataset.state = "ready";
  } catch (error) {
    status.textContent = `The app could not start: ${String(error)}`;
    status.dataset.state = "error";
  }
}

void start();
