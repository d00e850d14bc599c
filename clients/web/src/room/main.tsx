// A linked hall's computer (login role `room`): publishes the hall's camera and mixed
// audio, and shows on the projector the floor speaker full screen with their name, and
// the sitting's state in a compact bar.
import { useEffect, useRef, useState } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { t, useLang } from "../lib/i18n";
import { floorEndpoint, type MediaState } from "../lib/media";
import { activeTurns, latestVote, memberName } from "../lib/reducer";
import type { Sitting } from "../lib/types";
import { boot } from "../ui/boot";
import { Countdown, LangSwitch, LinkBanner, Notices, PhaseChip, quorum, VoteClock } from "../ui/common";
import { useLive } from "../ui/hooks";
import { Session } from "../ui/session";
import { AudioOut, DevicePicker, MicCam, PhaseLine, QualityBadge, useMediaLink, VideoEl } from "../ui/video";
import { ballotsOf, Verdict } from "../ui/votepanel";
import "./room.css";

/** A hall's camera may send more than a delegate's (docs/media.md, limits). */
const HALL_CAMERA: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

function Bar({ s, conn, onDevices, devicesOpen }: { s: Sitting; conn: Connection; onDevices: () => void; devicesOpen: boolean }) {
  const item = s.agenda.find((i) => i.id === s.current_item);
  const f = conn.live.figures;
  const q = f ? quorum(f) : null;
  const vote = latestVote(s);
  return (
    <header class="r-bar">
      <div class="r-title">
        <span class="r-council">{s.council.name}</span>
        <strong>{s.title}</strong>
        <PhaseChip s={s} />
        <span class="r-item" data-testid="current-item">
          {item ? item.title : t("web.agenda.none")}
        </span>
      </div>
      <div class="r-tools">
        {q && (
          <span class={q.ok ? "ok-chip" : "warn-chip"} data-testid="quorum-count">
            {t("video.room.present", { present: q.present, total: q.total })}
          </span>
        )}
        {vote?.status === "open" && (
          <span class="r-vote-chip">
            {t("video.room.vote_open", { ballots: ballotsOf(vote, s, conn.live).ballots })} <VoteClock vote={vote} conn={conn} />
          </span>
        )}
        <button type="button" aria-expanded={devicesOpen} aria-controls="r-devices" onClick={onDevices}>
          {t("video.room.devices")}
        </button>
        <button type="button" onClick={() => void document.documentElement.requestFullscreen?.().catch(() => undefined)}>
          {t("video.room.fullscreen")}
        </button>
        <LangSwitch />
      </div>
    </header>
  );
}

function Stage({ s, conn, state, room }: { s: Sitting; conn: Connection; state: MediaState; room: string }) {
  // This link's floor track never carries the hall itself: that the hall has the floor is
  // read from the sitting (the hall is on the roster as a guest under the room's id).
  const self = `r:${room}`;
  const floor = floorEndpoint(state.status);
  const hallSpeaks = activeTurns(s).some((x) => x.speaker === room && x.status === "speaking");
  const turns = activeTurns(s).sort((a, b) => b.started_at - a.started_at);
  const turn = (floor?.member ? turns.find((x) => x.speaker === floor.member) : undefined) ?? turns[0];
  const speaker = turn ? memberName(s, turn.speaker) : null;
  const vote = latestVote(s);
  if (floor && floor.id !== self) {
    const name = floor.member ? memberName(s, floor.member) : (speaker ?? floor.name);
    return (
      <section class="r-stage r-video" data-testid="r-video">
        <VideoEl stream={state.floor} label={t("video.chair.video_of", { name })} testid="floor-video" />
        <div class="r-caption">
          <div>
            <div class="r-name" data-testid="r-speaker">
              {name}
            </div>
            <div class="r-kind">
              {turn ? t(`turn.${turn.kind}`) : ""} · {floor.kind === "room" ? floor.name : t("video.kind.remote")}
            </div>
          </div>
          {turn && <Countdown turn={turn} conn={conn} big />}
        </div>
      </section>
    );
  }
  return (
    <section class="r-stage r-text" aria-live="polite">
      {hallSpeaks && <p class="on-air" data-testid="r-on-air">{t("video.room.on_air")}</p>}
      {turn ? (
        <div class="r-speaker-text">
          <div class="r-name" data-testid="r-speaker">
            {speaker}
          </div>
          <div class="r-kind">{t(`turn.${turn.kind}`)}</div>
          <Countdown turn={turn} conn={conn} big />
        </div>
      ) : (
        <p class="r-none">{t("web.floor.nobody")}</p>
      )}
      {vote && vote.status === "closed" && <Verdict vote={vote} big />}
    </section>
  );
}

function RoomLive({ conn, self }: { conn: Connection; self: string }) {
  useLang();
  const live = useLive(conn);
  const [link, state] = useMediaLink(conn, "publish", { video: HALL_CAMERA });
  const [devices, setDevices] = useState(false);
  const started = useRef(false);
  const s = live.state;
  const open = s !== null && s.phase !== "closed";
  useEffect(() => {
    // The hall's feed goes up as soon as the console is up; it stays silenced at the hub
    // until the chair gives the floor to a speaker in this hall.
    if (open && !started.current) {
      started.current = true;
      void link.start();
    } else if (!open && started.current) {
      link.leave(); // the sitting closed: the hall's camera and microphone are released
    }
  }, [open]);
  useEffect(() => {
    if (state.phase === "failed") setDevices(true);
  }, [state.phase]);
  if (!s)
    return (
      <main class="room-empty">
        <LinkBanner live={live} />
        {t("web.link.connecting")}
      </main>
    );
  const joined = state.phase !== "idle" && state.phase !== "failed";
  return (
    <div class="room" data-seq={s.seq}>
      <LinkBanner live={live} />
      <Bar s={s} conn={conn} devicesOpen={devices} onDevices={() => setDevices(!devices)} />
      <Stage s={s} conn={conn} state={state} room={self} />
      <AudioOut stream={state.floor} />
      <section id="r-devices" class="r-devices" hidden={!devices} aria-label={t("video.room.devices")}>
        <div class="row">
          <PhaseLine state={state} />
          <QualityBadge q={state.quality} />
        </div>
        <p class="muted">{t("video.room.hint")}</p>
        <div class="r-self">
          <VideoEl stream={state.local} label={t("video.room.hall_camera")} testid="self-video" />
        </div>
        <MicCam link={link} state={state} />
        <DevicePicker link={link} state={state} />
        {joined ? (
          <button type="button" data-testid="video-leave" onClick={() => link.leave()}>
            {t("video.leave")}
          </button>
        ) : (
          <button type="button" class="primary" data-testid="video-join" disabled={!open} onClick={() => void link.start()}>
            {t("video.room.join")}
          </button>
        )}
      </section>
      <Notices conn={conn} live={live} />
    </div>
  );
}

boot(
  <Session titleKey="video.room.console" hintKey="video.room.login_hint" accept={(i) => i.kind === "room"} byCouncil>
    {(conn, info) => <RoomLive conn={conn} self={info.id} />}
  </Session>,
);
