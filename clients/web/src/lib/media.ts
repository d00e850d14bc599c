// The browser side of a video link (issue 8, docs/protocol.md "Media"): one
// RTCPeerConnection to the hub, signalled over the sitting's /ws. The client offers a
// fixed set of transceivers once per peer connection (no trickle: the offer goes out with
// ICE gathering complete), applies the answer and follows `media.status`. It never
// renegotiates: after the /ws reconnects (a new welcome) or when the peer connection
// fails (or stays disconnected for 4 s) it builds a new peer connection with the same
// local tracks and offers again; the hub replaces the endpoint.
import type { Connection } from "./connection";
import { errorText, t } from "./i18n";
import type { MediaEndpoint, MediaStatus, ServerFrame } from "./types";

export type MediaMode = "publish" | "receive" | "console";

/** Where the link stands, for the user: idle until started, then connecting / connected,
 * reconnecting after a blip, failed on a refusal (media.* error) or a missing device. */
export type LinkPhase = "idle" | "starting" | "connecting" | "connected" | "reconnecting" | "failed";

/** The inbound quality measured here from getStats(), all tracks together. */
export interface Quality {
  framesDecoded: number;
  packetsLost: number;
  packetsReceived: number;
  /** Loss over the last interval, percent. */
  lossPct: number;
  /** Received bitrate over the last interval, kbit/s. */
  kbps: number;
  /** Video frames decoded per second over the last interval. */
  fps: number;
  /** Audio samples received so far (grows only while the audio is played). */
  samples: number;
  /** A floor source is on but no frame was decoded for 2 s. */
  frozen: boolean;
}

export interface Slot {
  /** The video transceiver's mid (the audio pair's mid is kept beside it). */
  mid: string;
  audioMid: string | null;
  stream: MediaStream;
  endpoint: string | null;
}

export interface MediaState {
  phase: LinkPhase;
  /** The endpoint id the hub gave this link ("m:…", "r:…", "g:…", "c:…"). */
  endpoint: string | null;
  status: MediaStatus | null;
  /** The last refusal or device problem, already in the user's language. */
  error: string | null;
  quality: Quality | null;
  /** Own camera and microphone (publish mode). */
  local: MediaStream | null;
  micOn: boolean;
  camOn: boolean;
  devices: MediaDeviceInfo[];
  audioIn: string;
  videoIn: string;
  /** The floor track pair (publish and receive modes). */
  floor: MediaStream | null;
  /** One per console slot (console mode). */
  slots: Slot[];
  /** Restarts so far (a new peer connection and offer after a blip). */
  restarts: number;
}

export interface MediaOptions {
  consoleSlots?: number;
  /** The camera asked for (the hub forwards what it gets to every receiver). */
  video?: MediaTrackConstraints;
  /** How long to wait for ICE gathering before offering what was gathered. */
  gatherTimeoutMs?: number;
}

const DISCONNECTED_GRACE_MS = 4000;
const ICE_FRESH_MS = 60 * 60 * 1000; // TURN credentials from the hub last 12 h
/** Remote delegates are asked for 640×360 (docs/media.md, limits). */
export const DELEGATE_CAMERA: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 30 } };
const STATS_EVERY_MS = 1000;
const FROZEN_AFTER_MS = 2000;
/** Refusals of an offer: the first two are final, the others may pass (retried later). */
const FATAL = new Set(["media.not_allowed", "media.bad_offer"]);
const OFFER_REFUSALS = new Set([...FATAL, "media.unavailable", "media.full"]);

function waitGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      window.clearTimeout(timer);
      resolve();
    };
    const timer = window.setTimeout(() => {
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    }, timeoutMs);
    pc.addEventListener("icegatheringstatechange", done);
  });
}

export class MediaLink {
  state: MediaState = {
    phase: "idle",
    endpoint: null,
    status: null,
    error: null,
    quality: null,
    local: null,
    micOn: true,
    camOn: true,
    devices: [],
    audioIn: "",
    videoIn: "",
    floor: null,
    slots: [],
    restarts: 0,
  };
  pc: RTCPeerConnection | null = null;
  private listeners = new Set<() => void>();
  private offFrames: () => void;
  private active = false;
  /** Offers sent on the current socket whose answer (or refusal) has not come back. */
  private inFlight = 0;
  private disconnectTimer: number | undefined;
  private restartTimer: number | undefined;
  private statsTimer: number | undefined;
  private failures = 0;
  private ice: { at: number; servers: RTCIceServer[] } | null = null;
  private last: { at: number; bytes: number; lost: number; received: number; frames: number; decodedAt: number } | null = null;
  private readonly slots: number;

  constructor(
    private conn: Connection,
    readonly mode: MediaMode,
    private opts: MediaOptions = {},
  ) {
    this.slots = opts.consoleSlots ?? 3;
    this.offFrames = conn.onFrames((f) => this.onFrame(f));
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private update(patch: Partial<MediaState>): void {
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn();
  }

  get running(): boolean {
    return this.active;
  }

  /** Join: take the camera and microphone (publish mode), then offer. */
  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.failures = 0;
    this.update({ phase: "starting", error: null });
    if (!(await this.iceServers())) {
      this.active = false;
      this.update({ phase: "failed", error: t("video.disabled") });
      return;
    }
    if (!this.active) return; // left while asking
    if (this.mode === "publish" && !this.state.local) {
      try {
        await this.openDevices();
      } catch (e) {
        this.active = false;
        this.update({ phase: "failed", error: t("video.no_devices", { detail: deviceError(e) }) });
        return;
      }
      if (!this.active) {
        this.release();
        return;
      }
    }
    window.clearInterval(this.statsTimer);
    this.statsTimer = window.setInterval(() => void this.sample(), STATS_EVERY_MS);
    await this.offer();
  }

  /** Leave: tell the hub, close the peer connection, release the devices. */
  leave(): void {
    if (this.active) this.conn.sendRaw({ t: "media.leave" });
    this.active = false;
    this.teardown();
    window.clearInterval(this.statsTimer);
    this.release();
    this.update({ phase: "idle", endpoint: null, status: null, quality: null, local: null, floor: null, slots: [] });
  }

  private release(): void {
    for (const tr of this.state.local?.getTracks() ?? []) tr.stop();
    this.update({ local: null });
  }

  /** Stop for good (the component using the link unmounts). */
  dispose(): void {
    this.leave();
    this.offFrames();
    this.listeners.clear();
  }

  /** STUN/TURN servers from the hub (GET /api/media/ice), kept for an hour; false when
   * the hub has video turned off. A failed fetch keeps what was known (or none). */
  private async iceServers(): Promise<boolean> {
    if (this.ice && performance.now() - this.ice.at < ICE_FRESH_MS) return true;
    try {
      const res = await fetch("/api/media/ice", { headers: { accept: "application/json" } });
      if (res.ok) {
        const data = (await res.json()) as { enabled: boolean; iceServers: RTCIceServer[] };
        if (!data.enabled) return false;
        this.ice = { at: performance.now(), servers: data.iceServers ?? [] };
      }
    } catch {
      /* offline for a moment: the offer goes out with what is known */
    }
    return true;
  }

  // ---- Devices ----

  private async openDevices(): Promise<void> {
    // Camera and microphone exist only on https:// (or localhost).
    if (!navigator.mediaDevices) throw new DOMException("", "InsecureContext");
    const video = this.opts.video ?? {};
    const audio = this.state.audioIn ? { deviceId: { exact: this.state.audioIn } } : true;
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio, video: this.state.videoIn ? { ...video, deviceId: { exact: this.state.videoIn } } : video });
    } catch (e) {
      // A hall computer may have no camera, a laptop a broken one: take what there is.
      stream = await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => navigator.mediaDevices.getUserMedia({ video: true })).catch(() => {
        throw e;
      });
    }
    for (const tr of stream.getAudioTracks()) tr.enabled = this.state.micOn;
    for (const tr of stream.getVideoTracks()) tr.enabled = this.state.camOn;
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
    this.update({
      local: stream,
      devices,
      audioIn: stream.getAudioTracks()[0]?.getSettings().deviceId ?? "",
      videoIn: stream.getVideoTracks()[0]?.getSettings().deviceId ?? "",
    });
  }

  /** Switch the camera or the microphone in place (replaceTrack: no new offer). */
  async useDevice(kind: "audio" | "video", deviceId: string): Promise<void> {
    const local = this.state.local;
    if (!local) {
      this.update(kind === "audio" ? { audioIn: deviceId } : { videoIn: deviceId });
      return;
    }
    let track: MediaStreamTrack;
    try {
      const base = kind === "video" ? (this.opts.video ?? {}) : {};
      const got = await navigator.mediaDevices.getUserMedia({ [kind]: { ...base, deviceId: { exact: deviceId } } });
      track = kind === "audio" ? got.getAudioTracks()[0] : got.getVideoTracks()[0];
    } catch (e) {
      this.update({ error: t("video.no_devices", { detail: deviceError(e) }) });
      return;
    }
    track.enabled = kind === "audio" ? this.state.micOn : this.state.camOn;
    const old = kind === "audio" ? local.getAudioTracks()[0] : local.getVideoTracks()[0];
    await this.sender(kind)?.replaceTrack(track);
    const next = new MediaStream([...local.getTracks().filter((x) => x !== old), track]);
    old?.stop();
    this.update({ local: next, error: null, ...(kind === "audio" ? { audioIn: deviceId } : { videoIn: deviceId }) });
  }

  /** Own microphone on or off (the track is disabled: silence goes out, no renegotiation). */
  setMic(on: boolean): void {
    for (const tr of this.state.local?.getAudioTracks() ?? []) tr.enabled = on;
    this.update({ micOn: on });
  }

  setCam(on: boolean): void {
    for (const tr of this.state.local?.getVideoTracks() ?? []) tr.enabled = on;
    this.update({ camOn: on });
  }

  /** The chair mutes or unmutes an endpoint at the hub (presiding roles only). */
  mute(endpoint: string, muted: boolean): boolean {
    return this.conn.sendRaw({ t: "media.mute", endpoint, muted });
  }

  private sender(kind: "audio" | "video"): RTCRtpSender | null {
    const tr = this.pc?.getTransceivers().find((x) => x.receiver.track.kind === kind);
    return tr?.sender ?? null;
  }

  // ---- Signalling ----

  private build(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.ice?.servers ?? [], bundlePolicy: "max-bundle" });
    const local = this.state.local;
    if (this.mode === "publish") {
      // Own microphone and camera out, the floor in: audio then video (the agreed order).
      const stream = local ?? new MediaStream();
      pc.addTransceiver(local?.getAudioTracks()[0] ?? "audio", { direction: "sendrecv", streams: [stream] });
      pc.addTransceiver(local?.getVideoTracks()[0] ?? "video", { direction: "sendrecv", streams: [stream] });
    } else {
      const pairs = this.mode === "console" ? this.slots : 1;
      for (let i = 0; i < pairs; i++) {
        pc.addTransceiver("audio", { direction: "recvonly" });
        pc.addTransceiver("video", { direction: "recvonly" });
      }
    }
    pc.addEventListener("connectionstatechange", () => this.onPcState(pc));
    return pc;
  }

  private async offer(): Promise<void> {
    if (!this.active) return;
    this.teardown();
    if (!(await this.iceServers()) || !this.active) {
      if (this.active) this.update({ phase: "failed", error: t("video.disabled") });
      return;
    }
    const pc = this.build();
    this.pc = pc;
    this.last = null;
    // A new peer connection: its statistics start again from nothing.
    this.update({ phase: this.state.restarts > 0 || this.failures > 0 ? "reconnecting" : "connecting", quality: null });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await waitGathering(pc, this.opts.gatherTimeoutMs ?? 5000);
    } catch (e) {
      this.update({ phase: "failed", error: String(e) });
      return;
    }
    if (this.pc !== pc || !this.active) return;
    const sdp = pc.localDescription?.sdp;
    if (!sdp) return;
    // Not sent while the socket is down: the welcome that follows its return re-offers.
    if (this.conn.sendRaw({ t: "media.offer", sdp, mode: this.mode })) this.inFlight++;
  }

  private teardown(): void {
    window.clearTimeout(this.disconnectTimer);
    window.clearTimeout(this.restartTimer);
    const pc = this.pc;
    this.pc = null;
    if (pc) pc.close();
  }

  /** A new peer connection and offer, soon; the delay grows with repeated failures. */
  private restart(): void {
    if (!this.active) return;
    window.clearTimeout(this.restartTimer);
    // At least a second apart: the hub takes one offer a second per connection.
    const delay = Math.min(10000, 1000 * 2 ** Math.min(this.failures, 4));
    this.failures++;
    this.update({ phase: "reconnecting", restarts: this.state.restarts + 1 });
    this.restartTimer = window.setTimeout(() => void this.offer(), delay);
  }

  private onPcState(pc: RTCPeerConnection): void {
    if (pc !== this.pc) return;
    const s = pc.connectionState;
    if (s === "connected") {
      window.clearTimeout(this.disconnectTimer);
      this.failures = 0;
      this.update({ phase: "connected", error: null });
    } else if (s === "failed") {
      this.restart();
    } else if (s === "disconnected") {
      this.update({ phase: "reconnecting" });
      window.clearTimeout(this.disconnectTimer);
      this.disconnectTimer = window.setTimeout(() => {
        if (this.pc === pc && pc.connectionState !== "connected") this.restart();
      }, DISCONNECTED_GRACE_MS);
    }
  }

  private onFrame(f: ServerFrame): void {
    if (f.t === "welcome") {
      // A new socket: answers to offers sent on the old one will never come.
      this.inFlight = 0;
      if (this.active) {
        this.failures = 0;
        this.update({ restarts: this.state.restarts + (this.state.endpoint ? 1 : 0) });
        void this.offer();
      }
      return;
    }
    if (f.t === "error") {
      if (f.id) return;
      const text = errorText(f.code, f.message, f.params ?? {});
      // Only a refusal while an offer waits is about the link (not a refused media.mute,
      // which the Connection shows as a notice and which leaves the link as it is).
      const mode = f.params?.mode;
      const aboutOffer = this.inFlight > 0 && (OFFER_REFUSALS.has(f.code) || f.code === "rate.limited") && (mode === undefined || mode === this.mode);
      if (!aboutOffer) {
        if (f.code.startsWith("media.")) this.update({ error: text });
        return;
      }
      this.inFlight--;
      if (FATAL.has(f.code)) {
        this.active = false;
        this.teardown();
        window.clearInterval(this.statsTimer);
        this.update({ phase: "failed", error: text });
      } else {
        this.update({ error: text });
        this.restart();
      }
      return;
    }
    if (f.t === "media.answer") {
      this.inFlight = Math.max(0, this.inFlight - 1);
      const pc = this.pc;
      // Only the answer to the latest offer belongs to the current peer connection.
      if (!pc || this.inFlight > 0 || pc.signalingState !== "have-local-offer") return;
      pc.setRemoteDescription({ type: "answer", sdp: f.sdp })
        .then(() => {
          if (this.pc !== pc) return;
          this.update({ endpoint: f.endpoint, ...this.remoteStreams(pc) });
        })
        .catch((e) => {
          this.update({ error: String(e) });
          this.restart();
        });
      return;
    }
    if (f.t === "media.status") {
      const { floor, endpoints, slots } = f;
      const status: MediaStatus = { floor, endpoints, slots };
      this.update({ status, slots: this.state.slots.map((s) => ({ ...s, endpoint: slotEndpoint(slots, s) })) });
    }
  }

  /** The received tracks, grouped: the floor pair, or one stream per console slot. */
  private remoteStreams(pc: RTCPeerConnection): Partial<MediaState> {
    const recv = pc.getTransceivers().filter((x) => x.mid !== null);
    if (this.mode !== "console") {
      return { floor: new MediaStream(recv.map((x) => x.receiver.track)) };
    }
    const slots: Slot[] = [];
    for (let i = 0; i + 1 < recv.length; i += 2) {
      const audio = recv[i];
      const video = recv[i + 1];
      const slot: Slot = { mid: video.mid!, audioMid: audio.mid, stream: new MediaStream([audio.receiver.track, video.receiver.track]), endpoint: null };
      slot.endpoint = slotEndpoint(this.state.status?.slots ?? {}, slot);
      slots.push(slot);
    }
    return { slots };
  }

  // ---- Quality ----

  private async sample(): Promise<void> {
    const pc = this.pc;
    if (!pc || pc.connectionState === "closed") return;
    let report: RTCStatsReport;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    let bytes = 0;
    let lost = 0;
    let received = 0;
    let frames = 0;
    let samples = 0;
    report.forEach((r: any) => {
      if (r.type !== "inbound-rtp") return;
      bytes += r.bytesReceived ?? 0;
      lost += Math.max(0, r.packetsLost ?? 0);
      received += r.packetsReceived ?? 0;
      if (r.kind === "video") frames += r.framesDecoded ?? 0;
      else samples += r.totalSamplesReceived ?? 0;
    });
    const now = performance.now();
    const prev = this.last;
    const decodedAt = !prev || frames > prev.frames ? now : prev.decodedAt;
    this.last = { at: now, bytes, lost, received, frames, decodedAt };
    if (!prev) return;
    const dt = Math.max(0.001, (now - prev.at) / 1000);
    const dLost = lost - prev.lost;
    const dRecv = received - prev.received;
    const sourceOn = this.mode === "console" ? this.state.slots.some((s) => s.endpoint) : Boolean(this.state.status?.floor && this.state.status.floor !== this.state.endpoint);
    this.update({
      quality: {
        framesDecoded: frames,
        packetsLost: lost,
        packetsReceived: received,
        lossPct: dLost + dRecv > 0 ? (100 * dLost) / (dLost + dRecv) : 0,
        kbps: (8 * (bytes - prev.bytes)) / 1000 / dt,
        fps: (frames - prev.frames) / dt,
        samples,
        frozen: sourceOn && now - decodedAt > FROZEN_AFTER_MS,
      },
    });
  }
}

function slotEndpoint(slots: Record<string, string | null>, s: { mid: string; audioMid: string | null }): string | null {
  return slots[s.mid] ?? (s.audioMid !== null ? slots[s.audioMid] : null) ?? null;
}

/** The endpoint holding the floor, from a status. */
export function floorEndpoint(status: MediaStatus | null): MediaEndpoint | null {
  if (!status?.floor) return null;
  return status.endpoints.find((e) => e.id === status.floor) ?? null;
}

/** A getUserMedia failure in a few words (the error's name is the standard's). */
function deviceError(e: unknown): string {
  const name = e instanceof DOMException ? e.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return t("video.device.denied");
  if (name === "NotFoundError" || name === "OverconstrainedError") return t("video.device.missing");
  if (name === "NotReadableError") return t("video.device.busy");
  if (name === "InsecureContext") return t("video.device.insecure");
  return String(e);
}
