// One place for refusals and failures of what the user just did: never silent.
import { asAppError } from "./api";
import { byTestId, show } from "./dom";
import { inWords } from "./words";

const banner = () => byTestId("banner");

export function report(error: unknown): void {
  byTestId("banner-text").textContent = inWords(asAppError(error));
  banner().dataset.code = asAppError(error).code;
  show(banner(), true);
}

export function clearReport(): void {
  show(banner(), false);
}

/** Runs an action from a button; a refusal goes to the banner. */
export async function attempt(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
    clearReport();
  } catch (error) {
    report(error);
  }
}

export function setUpBanner(): void {
  byTestId("banner-close").addEventListener("click", clearReport);
}
