// Settings: microphone and speaker, the live input level, a test tone.
import { api, asAppError, type DeviceInfo, type Settings } from "./api";
import { byTestId, h, show } from "./dom";
import { inWords } from "./words";

const dialog = () => byTestId<HTMLDialogElement>("settings-dialog");
const DEFAULT = "";

function fill(select: HTMLSelectElement, devices: DeviceInfo[], chosen: string | null): void {
  const options = [h("option", { value: DEFAULT }, "System default")];
  for (const device of devices) options.push(h("option", { value: device.id }, device.name));
  select.replaceChildren(...options);
  select.value = chosen ?? DEFAULT;
}

function showError(message: string | null): void {
  const error = byTestId("settings-error");
  error.textContent = message ?? "";
  show(error, message !== null);
}

async function open(): Promise<void> {
  showError(null);
  dialog().showModal();
  try {
    const [devices, settings]: [Awaited<ReturnType<typeof api.devices>>, Settings] =
      await Promise.all([api.devices(), api.savedSettings()]);
    fill(byTestId("microphone-select"), devices.microphones, settings.microphone);
    fill(byTestId("speaker-select"), devices.speakers, settings.speaker);
  } catch (error) {
    showError(inWords(asAppError(error)));
  }
}

async function choose(): Promise<void> {
  const microphone = byTestId<HTMLSelectElement>("microphone-select").value || null;
  const speaker = byTestId<HTMLSelectElement>("speaker-select").value || null;
  try {
    const problems = await api.chooseDevices(microphone, speaker);
    showError(problems.length > 0 ? problems.join(" ") : null);
  } catch (error) {
    showError(inWords(asAppError(error)));
  }
}

export function setUpSettings(): void {
  byTestId("open-settings").addEventListener("click", () => void open());
  byTestId("microphone-select").addEventListener("change", () => void choose());
  byTestId("speaker-select").addEventListener("change", () => void choose());
  const tone = byTestId<HTMLButtonElement>("test-tone");
  tone.addEventListener("click", () => {
    api
      .testTone()
      .then((lengthMs) => {
        tone.textContent = "Playing…";
        window.setTimeout(() => (tone.textContent = "Play test tone"), lengthMs);
      })
      .catch((error: unknown) => showError(inWords(asAppError(error))));
  });
}
