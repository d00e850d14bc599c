// The chair's view of the video links: a tile per remote member and linked hall (name,
// seat, connected, link quality as the hub measures it, the floor, a server-side mute),
// with the live sources' video in the console's slots.
import { useEffect, useState } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { t, useLang } from "../lib/i18n";
import type { MediaLink, MediaState } from "../lib/media";
import { useMay } from "../lib/permits";
import { activeTurns, itemQueue, memberName } from "../lib/reducer";
import type { Command, MediaEndpoint, Sitting } from "../lib/types";
import type { Occupying } from "./floor";
import { AudioOut, PhaseLine, qualityClass, qualityText, useMediaLink, VideoEl } from "../ui/video";

const WANTED = "nghitruong.chair.video";
const LISTEN = "nghitruong.chair.listen"; // off where the hall's own sound carries the links

/** The console link, started at once when the chair had it on before on this computer. */
export function useChairMedia(conn: Connection): [MediaLink, MediaState] {
  const [link, state] = useMediaLink(conn, "console");
  useEffect(() => {
    if (localStorage.getItem(WANTED) === "1") void link.start();
  }, [link]);
  return [link, state];
}

/** Members with a remote video link now (for the badge beside their floor requests). */
export function remoteMembers(state: MediaState): Set<string> {
  return new Set((state.status?.endpoints ?? []).filter((e) => e.kind === "remote" && e.member).map((e) => e.member!));
}

/** Give the floor straight to a remote member or a linked hall (the hall is on the
 * roster as a guest under the room's id): a speaker there need not queue. */
function GrantButton({ s, e, name, give }: { s: Sitting; e: MediaEndpoint; name: string; give: (o: Occupying) => void }) {
  const speaker = e.member ?? e.room;
  const may = useMay();
  if (!speaker || !may("floor.grant") || activeTurns(s).some((x) => x.speaker === speaker)) return null;
  const label = t(e.kind === "room" ? "video.chair.grant_room" : "video.chair.grant");
  // Their own request first, when they queued one (it then leaves the queue).
  const request = itemQueue(s).find((r) => r.member === speaker);
  const cmd: Command = request ? { type: "floor.grant", request: request.id } : { type: "floor.grant", speaker, kind: "contribution" };
  return (
    <button type="button" class="primary" aria-label={`${label}: ${name}`} data-testid="tile-grant" data-command="floor.grant" onClick={() => give({ cmd, who: name, interrupts: false })}>
      {label}
    </button>
  );
}

function Tile({ s, e, state, link, give }: { s: Sitting; e: MediaEndpoint; state: MediaState; link: MediaLink; give: (o: Occupying) => void }) {
  const slot = state.slots.find((x) => x.endpoint === e.id);
  const seat = e.seat ?? (e.member ? s.council.members.find((m) => m.id === e.member)?.seat : undefined);
  const q = { loss: 100 * e.loss, kbps: e.kbps, frozen: e.frozen };
  const name = e.member ? memberName(s, e.member) : e.name || (e.room ? memberName(s, e.room) : e.id);
  const floor = e.live; // a console has no floor track: its rows say who is on the air
  const label = t(e.muted ? "video.chair.unmute" : "video.chair.mute");
  return (
    <li class={`tile${floor ? " tile-floor" : ""}${e.connected ? "" : " tile-off"}`} data-testid="video-tile" data-endpoint={e.id}>
      {slot ? <VideoEl stream={slot.stream} label={t("video.chair.video_of", { name })} testid="tile-video" /> : <div class="tile-blank" aria-hidden="true" />}
      <div class="tile-text">
        <strong>{name}</strong>
        {seat && <span class="muted"> · {t("web.op.seat_n", { seat })}</span>}
        <span class="muted"> · {t(`video.kind.${e.kind}`)}</span>
      </div>
      <div class="row tile-chips">
        <span class={e.connected ? "ok-text" : "warn-text"}>{t(e.connected ? "video.connected" : "video.not_connected")}</span>
        {floor && <span class="badge badge-floor">{t("video.chair.on_floor")}</span>}
        {e.muted && <span class="badge badge-muted">{t("video.chair.muted")}</span>}
      </div>
      {e.connected && (
        <span class={`quality ${qualityClass(q)}`} data-testid="tile-quality">
          {qualityText(q)}
        </span>
      )}
      <div class="row">
        <GrantButton s={s} e={e} name={name} give={give} />
        <button type="button" class={e.muted ? "on" : ""} aria-pressed={e.muted} aria-label={`${label}: ${name}`} data-testid="tile-mute" onClick={() => link.mute(e.id, !e.muted)}>
          {label}
        </button>
      </div>
    </li>
  );
}

export function ChairVideo({ s, link, state, give }: { s: Sitting; link: MediaLink; state: MediaState; give: (o: Occupying) => void }) {
  useLang();
  const [listen, setListen] = useState(localStorage.getItem(LISTEN) !== "0");
  const on = state.phase !== "idle" && state.phase !== "failed";
  const endpoints = state.status?.endpoints ?? [];
  const sources = endpoints.filter((e) => e.kind === "remote" || e.kind === "room");
  const screens = endpoints.filter((e) => e.kind === "gallery").length;
  const onAir = sources.filter((e) => e.live);
  const nameOf = (e: MediaEndpoint) => (e.member ? memberName(s, e.member) : e.name);
  const toggle = () => {
    localStorage.setItem(WANTED, on ? "0" : "1");
    if (on) link.leave();
    else void link.start();
  };
  return (
    <section class="card c-video" aria-labelledby="c-video" data-testid="c-video">
      <div class="row">
        <h2 id="c-video" class="grow">
          {t("video.chair.title")}
        </h2>
        <button type="button" class={on ? "" : "primary"} aria-pressed={on} data-testid="console-video" onClick={toggle}>
          {on ? t("video.chair.stop") : t("video.chair.start")}
        </button>
      </div>
      {!on && state.phase !== "failed" && <p class="muted">{t("video.chair.hint")}</p>}
      {state.phase !== "idle" && <PhaseLine state={state} />}
      {on && (
        <>
          <p data-testid="video-floor" aria-live="polite">
            {onAir.length ? t("video.chair.floor_is", { name: onAir.map(nameOf).join(", ") }) : t("video.chair.floor_none")}
          </p>
          {sources.length === 0 ? (
            <p class="muted">{t("video.chair.none")}</p>
          ) : (
            <ul class="plain tiles">
              {sources.map((e) => (
                <Tile key={e.id} s={s} e={e} state={state} link={link} give={give} />
              ))}
            </ul>
          )}
          {screens > 0 && <p class="muted">{t("video.chair.screens", { count: screens })}</p>}
          <label class="inline">
            <input
              type="checkbox"
              checked={listen}
              onChange={(e) => {
                localStorage.setItem(LISTEN, e.currentTarget.checked ? "1" : "0");
                setListen(e.currentTarget.checked);
              }}
            />
            {t("video.chair.listen")}
          </label>
          {state.slots.map((x) => (
            <AudioOut key={x.mid} stream={x.endpoint ? x.stream : null} muted={!listen} />
          ))}
        </>
      )}
    </section>
  );
}
