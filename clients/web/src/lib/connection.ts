// The one connection layer every console shares: login over HTTP, the WebSocket with its
// hello/resume, events applied in order, commands with client ids kept until answered and
// re-sent with the same id after a reconnect (the hub answers a retried id with the
// original answer, never applying it twice), and reconnection with backoff, forever.
import { decode, encode } from "@msgpack/msgpack";
import { applyEvents } from "./reducer";
import { errorText, lang } from "./i18n";
import type { Audience, Command, Figures, LoginInfo, Permits, Role, ServerFrame, Sitting, VoteView } from "./types";

const MSGPACK = "nghitruong.v1.msgpack";
const JSON_PROTO = "nghitruong.v1.json";
const TOKEN_KEY = "nghitruong.session";

// ---- Login (HTTP) ----

/** One field's error in an HTTP error body (docs/http-api.md#errors). */
export interface FieldError {
  field: string;
  code: string;
  params: Record<string, unknown>;
  message: string;
}

/** An HTTP error, with the field errors of its body when the body's fields were at fault. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public params: Record<string, unknown> = {},
    public fields: FieldError[] = [],
  ) {
    super(message);
  }
  text(): string {
    return errorText(this.code, this.message, this.params);
  }
}

export function session(): LoginInfo | null {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    return raw ? (JSON.parse(raw) as LoginInfo) : null;
  } catch {
    return null;
  }
}

export function forget(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** A request to the hub's HTTP API with the session's token and the chosen language; the
 * body as JSON, or ``raw``: a form (an upload) or bytes of a type (a CSV file) as they are. */
export async function api<T>(method: string, path: string, body?: unknown, raw?: FormData | { data: ArrayBuffer; type: string }): Promise<T> {
  const headers: Record<string, string> = { "accept-language": lang() };
  const s = session();
  if (s) headers.authorization = `Bearer ${s.token}`;
  let payload: BodyInit | undefined;
  if (raw instanceof FormData) payload = raw;
  else if (raw) {
    headers["content-type"] = raw.type;
    payload = raw.data;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "network.down", "");
  }
  const text = await res.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== "/api/login") forget();
    throw new ApiError(res.status, data?.code ?? "http.error", data?.message ?? `HTTP ${res.status}`, data?.params ?? { status: res.status }, data?.fields ?? []);
  }
  return data as T;
}

export async function login(username: string, password: string): Promise<LoginInfo> {
  const info = await api<LoginInfo>("POST", "/api/login", { username, password });
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(info));
  return info;
}

export async function logout(): Promise<void> {
  try {
    await api("POST", "/api/logout");
  } catch {
    /* the token may already be gone */
  }
  forget();
}

// ---- The live connection ----

export type LinkStatus = "connecting" | "open" | "down" | "auth" | "unknown";

export interface Ack {
  seq: [number, number] | null;
  ballot: Record<string, string> | null;
}

export class CommandError extends Error {
  constructor(
    public code: string,
    public serverMessage: string,
    public params: Record<string, unknown>,
  ) {
    super(serverMessage || code);
  }
  text(): string {
    return errorText(this.code, this.serverMessage, this.params);
  }
}

interface Pending {
  id: string;
  cmd: Command;
  resolve: (a: Ack) => void;
  reject: (e: CommandError) => void;
  /** Times it was answered `server.unavailable` and sent again. */
  retries: number;
}

/** A command answered `server.unavailable` was not carried out (the journal could not
 * take it, or its sitting was moving to another node: docs/protocol.md): it is sent again
 * by itself, with the same id, after each of these pauses, and only then refused. */
export const RETRY_UNAVAILABLE_MS = [250, 500, 1000, 2000, 4000];

export interface Notice {
  id: number;
  kind: "error" | "info";
  text: string;
}

export interface LiveState {
  status: LinkStatus;
  state: Sitting | null;
  view: VoteView | null;
  present: number | null;
  /** The hub's figures for this audience (quorum, thresholds, shares): from the view. */
  figures: Figures | null;
  audience: Audience | null;
  member: string | null;
  role: Role | null;
  /** What this connection may issue, from the welcome (lib/permits.ts reads it). */
  permits: Permits | null;
  pending: number;
  /** Own ballots from acks: vote id → answers (also for secret votes, this device only). */
  ballots: Record<string, Record<string, string>>;
  notices: Notice[];
  /** When the first state arrived, ms since navigation start (performance.now()). */
  readyAt: number | null;
}

export interface ConnectOptions {
  sitting: string;
  token: string | null;
  remote?: boolean;
}

const BALLOTS_KEY = "nghitruong.ballots";

// The heartbeat (docs/protocol.md#heartbeat): a ping every HEARTBEAT_MS, promised to the hub
// in the hello; the link counts as down when nothing has come for SILENCE_MS, looked at every
// WATCH_MS. So a cut shows within SILENCE_MS + WATCH_MS (2.25 s), where TCP alone would
// take 10-20 s; a pong slower than 1.25 s on a healthy link is what it would cost.
export const HEARTBEAT_MS = 750;
export const SILENCE_MS = 2000;
const WATCH_MS = 250;

export class Connection {
  live: LiveState = {
    status: "connecting",
    state: null,
    view: null,
    present: null,
    figures: null,
    audience: null,
    member: null,
    role: null,
    permits: null,
    pending: 0,
    ballots: {},
    notices: [],
    readyAt: null,
  };
  /** server clock − local clock, ms (from welcome and pong). */
  offset = 0;
  private ws: WebSocket | null = null;
  private seq: number | null = null;
  private pending = new Map<string, Pending>();
  private listeners = new Set<() => void>();
  private attempt = 0;
  private timer: number | undefined;
  private pingTimer: number | undefined;
  private watchTimer: number | undefined;
  private lastHeard = 0;
  private lastWatch = 0;
  private pingN = 0;
  private stopped = false;
  private noticeN = 0;
  private json = new URLSearchParams(location.search).has("json");
  private frameListeners = new Set<(f: ServerFrame) => void>();

  constructor(private opts: ConnectOptions) {
    try {
      const stored = sessionStorage.getItem(`${BALLOTS_KEY}.${opts.sitting}`);
      if (stored) this.live.ballots = JSON.parse(stored);
    } catch {
      /* ignore */
    }
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private update(patch: Partial<LiveState>): void {
    this.live = { ...this.live, ...patch, pending: this.pending.size };
    for (const fn of this.listeners) fn();
  }

  /** Hear every `welcome`, `error`, `events` and `media.*` frame (the media link's
   * signalling; the delegate's notices of a request withdrawn). */
  onFrames(fn: (f: ServerFrame) => void): () => void {
    this.frameListeners.add(fn);
    return () => this.frameListeners.delete(fn);
  }

  /** Send a frame that is not a chamber command (media signalling); false when the link
   * is down: such frames are never queued, the media link re-offers after the welcome. */
  sendRaw(frame: { t: string; [field: string]: unknown }): boolean {
    return this.live.status === "open" && this.sendFrame(frame);
  }

  now(): number {
    return Date.now() + this.offset;
  }

  start(): void {
    this.stopped = false;
    this.open();
    window.addEventListener("online", this.kick);
    window.addEventListener("offline", this.lost);
    document.addEventListener("visibilitychange", this.wake);
    this.pingTimer = window.setInterval(() => this.heartbeat(), HEARTBEAT_MS);
    this.lastWatch = Date.now();
    this.watchTimer = window.setInterval(() => this.watch(), WATCH_MS);
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    window.clearInterval(this.pingTimer);
    window.clearInterval(this.watchTimer);
    window.removeEventListener("online", this.kick);
    window.removeEventListener("offline", this.lost);
    document.removeEventListener("visibilitychange", this.wake);
    this.ws?.close(1000);
    this.ws = null;
  }

  /** Drop the link and reconnect at once (also used by tests and the "online" event). */
  kick = (): void => {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) return;
    this.attempt = 0;
    window.clearTimeout(this.timer);
    if (!this.ws) this.open();
  };

  /** Force a fresh snapshot: reconnect with last_seq = null. */
  resync(): void {
    this.seq = null;
    this.ws?.close(4000);
  }

  private open(): void {
    if (this.stopped) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [this.json ? JSON_PROTO : MSGPACK]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    if (this.live.status !== "connecting" && this.live.status !== "down") this.update({ status: "connecting" });
    ws.onopen = () => {
      this.lastHeard = Date.now();
      this.sendFrame({
        t: "hello",
        sitting: this.opts.sitting,
        token: this.opts.token,
        last_seq: this.live.state ? this.seq : null,
        lang: lang(),
        remote: this.opts.remote ?? false,
        heartbeat: HEARTBEAT_MS,
      });
    };
    ws.onmessage = (msg) => {
      this.lastHeard = Date.now();
      let frame: ServerFrame;
      try {
        frame = (typeof msg.data === "string" ? JSON.parse(msg.data) : decode(new Uint8Array(msg.data as ArrayBuffer))) as ServerFrame;
      } catch {
        return;
      }
      this.onFrame(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === 4404) {
        this.update({ status: "unknown" });
        return;
      }
      if (ev.code === 4401) {
        // The session ended (logged out, password reset, expired): log in again.
        forget();
        this.update({ status: "auth" });
        return;
      }
      if (this.live.status === "auth") return;
      this.update({ status: "down" });
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private scheduleReconnect(): void {
    window.clearTimeout(this.timer);
    const base = Math.min(10000, 300 * 2 ** Math.min(this.attempt, 6));
    const delay = this.attempt === 0 ? 100 : base * (0.5 + Math.random() * 0.5);
    this.attempt++;
    this.timer = window.setTimeout(() => this.open(), delay);
  }

  private heartbeat(): void {
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) this.sendFrame({ t: "ping", n: ++this.pingN });
  }

  /** The watchdog: a link silent for SILENCE_MS is dropped and shown down. A tick that came
   * late (the page was busy, or hidden and throttled) first lets waiting frames in. */
  private watch(): void {
    const now = Date.now();
    const late = now - this.lastWatch > 4 * WATCH_MS;
    this.lastWatch = now;
    const ws = this.ws;
    if (late || !ws || ws.readyState !== WebSocket.OPEN || this.live.status !== "open") return;
    if (now - this.lastHeard > SILENCE_MS) this.drop();
  }

  /** The link is gone (silent, or the browser says it is offline): show it and reconnect. */
  private drop(): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.close(4001);
    this.update({ status: "down" });
    this.scheduleReconnect();
  }

  private lost = (): void => {
    if (this.ws && this.live.status === "open") this.drop();
  };

  /** Back from hidden: its timers may have been throttled; ask at once, judge after. */
  private wake = (): void => {
    if (document.visibilityState !== "visible") return;
    const now = Date.now();
    this.lastWatch = now;
    this.lastHeard = Math.max(this.lastHeard, now - SILENCE_MS + 1000); // a second for the pong
    this.heartbeat();
  };

  private sendFrame(frame: unknown): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(this.json ? JSON.stringify(frame) : encode(frame, { ignoreUndefined: true }));
    return true;
  }

  private onFrame(f: ServerFrame): void {
    this.dispatch(f);
    if (f.t === "welcome" || f.t === "error" || f.t === "events" || f.t.startsWith("media.")) {
      for (const fn of this.frameListeners) fn(f);
    }
  }

  private dispatch(f: ServerFrame): void {
    switch (f.t) {
      case "welcome": {
        this.attempt = 0;
        this.offset = f.server_time - Date.now();
        const patch: Partial<LiveState> = {
          status: "open",
          audience: f.audience,
          member: f.member,
          role: f.role,
          permits: f.permits ?? null,
        };
        if (f.snapshot) {
          this.seq = f.seq;
          patch.state = { ...f.snapshot, seq: f.seq };
          patch.view = null;
          if (this.live.readyAt === null) patch.readyAt = performance.now();
        } else {
          this.seq = f.seq;
        }
        this.update(patch);
        // Re-send every command not yet answered, with its original id.
        for (const p of this.pending.values()) this.sendFrame({ t: "cmd", id: p.id, cmd: p.cmd });
        break;
      }
      case "events": {
        if (this.seq === null || f.from !== this.seq || !this.live.state) {
          this.resync(); // a gap: never apply out of order
          return;
        }
        this.seq = f.to;
        this.update({ state: applyEvents(this.live.state, f.events, f.to) });
        break;
      }
      case "snapshot":
        this.seq = f.seq;
        this.update({ state: { ...f.snapshot, seq: f.seq } });
        break;
      case "view":
        this.update({ view: f.vote, present: f.present, figures: f.figures ?? null });
        break;
      case "ack": {
        const p = this.pending.get(f.id);
        if (!p) return;
        this.pending.delete(f.id);
        if (f.ballot && p.cmd.type === "vote.cast") {
          const ballots = { ...this.live.ballots, [String(p.cmd.vote)]: f.ballot };
          try {
            sessionStorage.setItem(`${BALLOTS_KEY}.${this.opts.sitting}`, JSON.stringify(ballots));
          } catch {
            /* ignore */
          }
          this.update({ ballots });
        } else this.update({});
        p.resolve({ seq: f.seq, ballot: f.ballot });
        break;
      }
      case "error": {
        if (f.id && this.pending.has(f.id)) {
          const p = this.pending.get(f.id)!;
          if (f.code === "server.unavailable" && p.retries < RETRY_UNAVAILABLE_MS.length) {
            const pause = RETRY_UNAVAILABLE_MS[p.retries++];
            window.setTimeout(() => {
              // Still unanswered and the link up: again (a reconnect re-sends it anyway).
              if (this.pending.get(p.id) === p && this.live.status === "open")
                this.sendFrame({ t: "cmd", id: p.id, cmd: p.cmd });
            }, pause);
            return;
          }
          this.pending.delete(f.id);
          this.update({});
          p.reject(new CommandError(f.code, f.message, f.params ?? {}));
          return;
        }
        if (
          f.code === "auth.invalid" ||
          f.code === "auth.not_a_member" ||
          f.code === "auth.revoked" ||
          f.code === "auth.expired"
        ) {
          forget();
          this.update({ status: "auth" });
        }
        // The media link shows its own refusals beside the video (and retries some).
        if (f.code.startsWith("media.") || f.code === "rate.limited") break;
        this.notify("error", errorText(f.code, f.message, f.params ?? {}));
        break;
      }
      case "pong":
        this.offset = f.server_time - Date.now();
        break;
    }
  }

  /** Submit a chamber command. Resolves on the ack; rejects with a typed error. A command
   * issued while the link is down waits and goes out (with the same id) on reconnect. */
  send(cmd: Command): Promise<Ack> {
    const id = crypto.randomUUID();
    return new Promise<Ack>((resolve, reject) => {
      this.pending.set(id, { id, cmd, resolve, reject, retries: 0 });
      this.update({});
      if (this.live.status === "open") this.sendFrame({ t: "cmd", id, cmd });
    });
  }

  notify(kind: Notice["kind"], text: string): void {
    const n: Notice = { id: ++this.noticeN, kind, text };
    this.update({ notices: [...this.live.notices.slice(-3), n] });
    window.setTimeout(() => this.dismiss(n.id), 8000);
  }

  dismiss(id: number): void {
    this.update({ notices: this.live.notices.filter((n) => n.id !== id) });
  }

  /** Run a command and show its refusal, if any, as a notice in the user's language. */
  async run(cmd: Command): Promise<Ack | null> {
    try {
      return await this.send(cmd);
    } catch (e) {
      if (e instanceof CommandError) this.notify("error", e.text());
      return null;
    }
  }
}
