// The service's HTTP API, on the page's own origin.
import type { AppError } from "../api";

/** A refusal from the service (its `{code, message}`), or why there was no answer. */
export class ServiceError extends Error implements AppError {
  constructor(readonly code: string, message: string, readonly status: number | null = null) {
    super(message);
  }
}

export async function call<T>(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (error) {
    throw new ServiceError("unreachable", `Cannot reach the service: ${String(error)}`);
  }
  if (!response.ok) throw await refusal(response);
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("application/json")) return (await response.json()) as T;
  return (await response.blob()) as T;
}

async function refusal(response: Response): Promise<ServiceError> {
  try {
    const body = (await response.json()) as Partial<AppError>;
    if (typeof body.code === "string" && typeof body.message === "string") {
      return new ServiceError(body.code, body.message, response.status);
    }
  } catch {
    // Not the service's JSON (a proxy's page): say what came back.
  }
  return new ServiceError("http", `The service answered ${response.status} ${response.statusText}.`, response.status);
}

export interface LoginReply { token: string; expires_at_ms: number; user: number; login: string; admin: boolean }
export interface WsTicket { ticket: string; expires_in_ms: number }
