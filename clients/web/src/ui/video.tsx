// Shared pieces of the video consoles: elements bound to a MediaStream, the device
// picker, the quality line and the link's state in words.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { t, useLang } from "../lib/i18n";
import { formatNumber } from "../lib/format";
import type { Connection } from "../lib/connection";
import { MediaLink, type MediaMode, type MediaOptions, type MediaState, type Quality } from "../lib/media";
import "./video.css";

/** A media link for the lifetime of the calling component, and its live state. */
export function useMediaLink(conn: Connection, mode: MediaMode, opts?: MediaOptions): [MediaLink, MediaState] {
  const link = useMemo(() => new MediaLink(conn, mode, opts), [conn, mode]);
  const [state, set] = useState(link.state);
  useEffect(() => {
    set(link.state);
    const off = link.subscribe(() => set(link.state));
    (window as any).__media = link;
    return () => {
      off();
      link.dispose();
    };
  }, [link]);
  return [link, state];
}

/** A <video> showing `stream`; always muted (sound goes through <AudioOut>), so it may
 * autoplay anywhere. */
export function VideoEl(props: { stream: MediaStream | null; label: string; class?: string; mirror?: boolean; testid?: string }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current;
    if (!v || v.srcObject === props.stream) return;
    v.srcObject = props.stream;
    if (props.stream) v.play().catch(() => undefined);
  }, [props.stream]);
  return (
    <video
      ref={ref}
      class={`${props.class ?? ""}${props.mirror ? " mirror" : ""}`}
      aria-label={props.label}
      data-testid={props.testid}
      autoplay
      muted
      playsInline
    />
  );
}

const SOUND_ON = "nghitruong:sound-on";

/** Plays the audio of `stream` (a browser decodes received audio only when it is played).
 * Where the autoplay policy refuses sound without a click (a hall screen after a reload),
 * it shows one button that turns the sound on; that click (a user activation of the whole
 * page) lets every other player on the page start too. */
export function AudioOut({ stream, muted }: { stream: MediaStream | null; muted?: boolean }) {
  useLang();
  const ref = useRef<HTMLAudioElement>(null);
  const [blocked, setBlocked] = useState(false);
  const play = () => {
    const a = ref.current;
    if (!a || !a.srcObject) return;
    a.play().then(
      () => setBlocked(false),
      (e: DOMException) => setBlocked(e.name === "NotAllowedError"),
    );
  };
  useEffect(() => {
    const a = ref.current;
    if (!a) return;
    if (a.srcObject !== stream) a.srcObject = stream;
    if (stream) play();
  }, [stream]);
  useEffect(() => {
    window.addEventListener(SOUND_ON, play);
    return () => window.removeEventListener(SOUND_ON, play);
  }, []);
  return (
    <>
      <audio ref={ref} autoplay muted={muted} data-testid="floor-audio" data-blocked={blocked ? "1" : "0"} />
      {blocked && (
        <button type="button" class="primary sound-on" data-testid="sound-on" onClick={() => window.dispatchEvent(new Event(SOUND_ON))}>
          {t("video.sound_on")}
        </button>
      )}
    </>
  );
}

/** Camera and microphone choice; a change replaces the track in place. */
export function DevicePicker({ link, state }: { link: MediaLink; state: MediaState }) {
  useLang();
  const of = (kind: MediaDeviceKind) => state.devices.filter((d) => d.kind === kind);
  const select = (kind: "audio" | "video", list: MediaDeviceInfo[], value: string, labelKey: string) => (
    <label>
      {t(labelKey)}
      <select value={value} disabled={!list.length} data-testid={`device-${kind}`} onChange={(e) => void link.useDevice(kind, e.currentTarget.value)}>
        {!list.length && <option value="">{t("video.device.none")}</option>}
        {list.map((d, i) => (
          <option value={d.deviceId} key={d.deviceId || i}>
            {d.label || t(`video.device.${kind}_n`, { n: i + 1 })}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div class="devices row">
      {select("video", of("videoinput"), state.videoIn, "video.device.camera")}
      {select("audio", of("audioinput"), state.audioIn, "video.device.microphone")}
    </div>
  );
}

/** Own microphone and camera switches (local: the track is disabled). */
export function MicCam({ link, state }: { link: MediaLink; state: MediaState }) {
  useLang();
  return (
    <div class="row" role="group" aria-label={t("video.own_devices")}>
      <button type="button" class={state.micOn ? "" : "on"} aria-pressed={!state.micOn} data-testid="mic-toggle" onClick={() => link.setMic(!state.micOn)}>
        {state.micOn ? t("video.mic_off") : t("video.mic_on")}
      </button>
      <button type="button" class={state.camOn ? "" : "on"} aria-pressed={!state.camOn} data-testid="cam-toggle" onClick={() => link.setCam(!state.camOn)}>
        {state.camOn ? t("video.cam_off") : t("video.cam_on")}
      </button>
    </div>
  );
}


/** "loss 0.4 % · 812 kbit/s", or that the picture is frozen. */
export function qualityText(q: { loss: number; kbps: number; frozen: boolean }): string {
  const line = t("video.quality", { loss: formatNumber(q.loss, 1), kbps: formatNumber(q.kbps) });
  return q.frozen ? `${t("video.frozen")} · ${line}` : line;
}

export function qualityClass(q: { loss: number; frozen: boolean; kbps: number }): string {
  if (q.frozen || q.loss >= 5) return "q-bad";
  if (q.loss >= 1) return "q-fair";
  return "q-good";
}

/** The small indicator of what this browser receives. */
export function QualityBadge({ q }: { q: Quality | null }) {
  useLang();
  if (!q) return null;
  const v = { loss: q.lossPct, kbps: q.kbps, frozen: q.frozen };
  return (
    <span class={`quality ${qualityClass(v)}`} data-testid="quality" data-frames={q.framesDecoded} data-samples={q.samples}>
      {qualityText(v)}
    </span>
  );
}

/** The link's state in words (role=status: announced when it changes). */
export function PhaseLine({ state }: { state: MediaState }) {
  useLang();
  return (
    <p class={`video-phase phase-${state.phase}`} role="status" data-testid="video-phase" data-phase={state.phase}>
      {t(`video.phase.${state.phase}`)}
      {state.error && <span class="error"> · {state.error}</span>}
    </p>
  );
}
