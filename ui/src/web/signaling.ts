// The driver of the client session (Rust, compiled to WebAssembly): it owns the
// WebSocket and the timer, feeds the session what happened with the time, and
// carries out what the session asks. Every protocol decision (hello, resume,
// request ids and timeouts, heartbeats, reconnect backoff, the view model) is the
// session's, the same code as the desktop app's.
import type { AppError, ViewModel } from "../api";
import { WebSession } from "./pkg/callpark_web.js";
import { call, ServiceError, type WsTicket } from "./rest";

/** The session's view, with what the tab derives from it. */
export interface SessionView { view: ViewModel; park_group: string | null; in_call: boolean }

export interface Notification { title: string; body: string }

export interface SignalingEvents {
  /** The view changed. */
  view(view: SessionView): void;
  /** Greeted by the service (again, after a reconnect): offer media now. */
  online(): void;
  /** Something to notify the person of. */
  notify(notification: Notification): void;
  /** The service no longer accepts this sign-in. */
  signedOut(reason: string): void;
}

type Output =
  | { type: "connect" }
  | { type: "send"; text: string }
  | { type: "close"; reconnect: boolean }
  | { type: "reply"; id: number; ok?: unknown; error?: AppError }
  | { type: "view" }
  | { type: "online" }
  | { type: "offline"; reason: string }
  | { type: "signed_out"; reason: string }
  | { type: "call_lost"; call: number }
  | { type: "event"; event: unknown; notification: Notification | null };

/** The close code that tells the service this device comes back (it keeps its calls). */
const CLOSE_RECONNECTING = 4000;

function randomSeed(): [number, number] {
  const words = new Uint32Array(2);
  crypto.getRandomValues(words);
  return [words[0] ?? 1, words[1] ?? 1];
}

export class Signaling {
  private readonly session: WebSession;
  private socket: WebSocket | null = null;
  private timer: number | null = null;
  private readonly replies = new Map<number, { resolve(value: unknown): void; reject(error: AppError): void }>();
  private stopped = false;

  constructor(
    private readonly token: string,
    deviceName: string,
    resume: string | null,
    private readonly events: SignalingEvents,
  ) {
    const [high, low] = randomSeed();
    this.session = new WebSession(deviceName, high, low, resume ?? "");
    this.pump();
  }

  /** The last welcome's resume token, to keep through a reload of the page. */
  resumeToken(): string | null {
    return this.stopped ? null : (this.session.resume_token() ?? null);
  }

  view(): SessionView {
    return JSON.parse(this.session.view()) as SessionView;
  }

  /** Asks the service; resolves with the outcome or rejects with `{code, message}`. */
  ask<T>(intent: Record<string, unknown>): Promise<T> {
    if (this.stopped) return Promise.reject(new ServiceError("not_signed_in", "You are not signed in."));
    return new Promise<T>((resolve, reject) => {
      const id = this.session.ask(JSON.stringify(intent), performance.now());
      this.replies.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.pump();
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.session.stop();
    this.pump();
    this.stopped = true;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.session.free();
  }

  /** Carries out every output, then sleeps until the session's next deadline. */
  private pump(): void {
    if (this.stopped) return;
    for (let text = this.session.poll_output(); text !== undefined; text = this.session.poll_output()) {
      this.carryOut(JSON.parse(text) as Output);
    }
    if (this.timer !== null) window.clearTimeout(this.timer);
    const due = this.session.next_timeout_ms();
    this.timer =
      due === undefined
        ? null
        : window.setTimeout(() => {
            this.timer = null;
            if (this.stopped) return;
            this.session.timeout(performance.now());
            this.pump();
          }, Math.max(0, due - performance.now()));
  }

  private carryOut(output: Output): void {
    switch (output.type) {
      case "connect":
        void this.open();
        break;
      case "send":
        this.socket?.send(output.text);
        break;
      case "close":
        this.closeSocket(output.reconnect ? CLOSE_RECONNECTING : 1000);
        break;
      case "reply": {
        const waiting = this.replies.get(output.id);
        this.replies.delete(output.id);
        if (output.error) waiting?.reject(new ServiceError(output.error.code, output.error.message));
        else waiting?.resolve(output.ok ?? null);
        break;
      }
      case "view":
        this.events.view(this.view());
        break;
      case "online":
        this.events.online();
        break;
      case "signed_out":
        this.events.signedOut(output.reason);
        break;
      case "event":
        if (output.notification) this.events.notify(output.notification);
        break;
      case "offline":
      case "call_lost":
        break;
    }
  }

  private closeSocket(code: number): void {
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close(code);
    }
  }

  /** A single-use ticket for this connection (never the token in the URL), then the socket. */
  private async open(): Promise<void> {
    let ticket: WsTicket;
    try {
      ticket = await call<WsTicket>("POST", "/api/v1/ws-ticket", this.token);
    } catch (error) {
      if (this.stopped) return;
      const refused = error instanceof ServiceError && error.status === 401;
      this.session.connect_failed(refused, error instanceof Error ? error.message : String(error), performance.now());
      this.pump();
      return;
    }
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws?ticket=${encodeURIComponent(ticket.ticket)}`);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.session.connected(performance.now());
      this.pump();
    };
    socket.onmessage = (message: MessageEvent) => {
      if (typeof message.data === "string") this.session.frame(message.data, performance.now());
      this.pump();
    };
    socket.onclose = (closed: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const now = performance.now();
      if (opened) {
        // 1006: no close frame came (the network dropped it); the session says how.
        const code = closed.code === 1006 ? undefined : closed.code;
        this.session.closed(code, closed.reason || "the connection to the service broke", now);
      } else {
        this.session.connect_failed(false, "the service did not open the connection", now);
      }
      this.pump();
    };
  }
}
