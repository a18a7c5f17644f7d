// Sign in: server, login, password; the server and login are remembered.
import { api, asAppError, type Account } from "./api";
import { byTestId, show } from "./dom";
import { inWords } from "./words";

const DEFAULT_SERVER = "http://127.0.0.1:7300";

export function showSignInError(message: string | null): void {
  const error = byTestId("sign-in-error");
  error.textContent = message ?? "";
  show(error, message !== null);
}

export async function prefillSignIn(): Promise<void> {
  const settings = await api.savedSettings();
  byTestId<HTMLInputElement>("sign-in-server").value = settings.server ?? DEFAULT_SERVER;
  byTestId<HTMLInputElement>("sign-in-login").value = settings.login ?? "";
  const focus = settings.login ? "sign-in-password" : "sign-in-login";
  byTestId<HTMLInputElement>(focus).focus();
}

export function setUpSignIn(signedIn: (account: Account) => void): void {
  const form = byTestId<HTMLFormElement>("sign-in-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const server = byTestId<HTMLInputElement>("sign-in-server").value.trim();
    const login = byTestId<HTMLInputElement>("sign-in-login").value.trim();
    const passwordInput = byTestId<HTMLInputElement>("sign-in-password");
    const missing = !server ? "server address" : !login ? "login name" : !passwordInput.value ? "password" : null;
    if (missing) {
      showSignInError(`Enter your ${missing}.`);
      return;
    }
    const submit = byTestId<HTMLButtonElement>("sign-in-submit");
    submit.disabled = true;
    submit.textContent = "Signing in…";
    showSignInError(null);
    api
      .signIn(server, login, passwordInput.value)
      .then((account) => {
        passwordInput.value = "";
        signedIn(account);
      })
      .catch((error: unknown) => {
        const refusal = asAppError(error);
        showSignInError(inWords(refusal));
        byTestId("sign-in-error").dataset.code = refusal.code;
        passwordInput.select();
      })
      .finally(() => {
        submit.disabled = false;
        submit.textContent = "Sign in";
      });
  });
}
