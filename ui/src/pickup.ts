// The pickup dialog: a code (digits only, or a pasted pickup link), Enter submits,
// refusals inline.
import { api, asAppError } from "./api";
import { clearReport } from "./banner";
import { byTestId, show } from "./dom";
import { inWords } from "./words";

const dialog = () => byTestId<HTMLDialogElement>("pickup-dialog");
const input = () => byTestId<HTMLInputElement>("pickup-code");
const error = () => byTestId("pickup-error");

function showError(message: string | null): void {
  error().textContent = message ?? "";
  show(error(), message !== null);
  input().setAttribute("aria-invalid", String(message !== null));
}

export function openPickup(code = ""): void {
  input().value = code.replace(/\D/g, "");
  showError(null);
  if (!dialog().open) dialog().showModal();
  input().focus();
}

/** Picks up a parked call; a refusal is shown in the dialog, which stays open. */
export async function pickUp(code: string): Promise<boolean> {
  try {
    await api.retrieve(code);
    clearReport();
    if (dialog().open) dialog().close();
    return true;
  } catch (refusal) {
    if (!dialog().open) dialog().showModal();
    input().value = code;
    showError(inWords(asAppError(refusal)));
    error().dataset.code = asAppError(refusal).code;
    input().select();
    return false;
  }
}

export function setUpPickup(): void {
  input().addEventListener("input", () => {
    const digits = input().value.replace(/\D/g, "");
    if (digits !== input().value) {
      input().value = digits;
      showError("Pickup codes are digits only.");
    } else {
      showError(null);
    }
  });
  // A shared callpark://pickup/<code> link pasted here gives its code (the field
  // would otherwise keep its first four characters, none of them digits).
  input().addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text") ?? "";
    if (/^\s*\d*\s*$/.test(text)) return;
    event.preventDefault();
    void api.pickupCodeIn(text).then((code) => {
      if (code !== null && /^\d{1,4}$/.test(code)) {
        input().value = code;
        showError(null);
      } else {
        showError("Paste a pickup code or a callpark://pickup/… link.");
      }
    });
  });
  byTestId("pickup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input().value.trim();
    if (code === "") {
      showError("Type the pickup code you were given.");
      return;
    }
    void pickUp(code);
  });
  byTestId("pickup-cancel").addEventListener("click", () => dialog().close());
  byTestId("open-pickup").addEventListener("click", () => openPickup());
}
