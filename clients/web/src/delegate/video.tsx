// A remote delegate's video link: the floor speaker in, own camera and microphone out
// (the hub forwards them only while this delegate holds the floor).
import { useEffect } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { t, useLang } from "../lib/i18n";
import { DELEGATE_CAMERA, floorEndpoint } from "../lib/media";
import { activeTurns, memberName } from "../lib/reducer";
import type { Sitting } from "../lib/types";
import { AudioOut, DevicePicker, MicCam, PhaseLine, QualityBadge, useMediaLink, VideoEl } from "../ui/video";

const JOINED = "nghitruong.video.joined";

export function DelegateVideo({ s, conn, me }: { s: Sitting; conn: Connection; me: string }) {
  useLang();
  const [link, state] = useMediaLink(conn, "publish", { video: DELEGATE_CAMERA });
  // A reload (or a re-login in this tab) rejoins a link the delegate had not left.
  useEffect(() => {
    if (sessionStorage.getItem(`${JOINED}.${me}`) === "1") void link.start();
  }, [link]);
  const join = () => {
    sessionStorage.setItem(`${JOINED}.${me}`, "1");
    void link.start();
  };
  const leave = () => {
    sessionStorage.removeItem(`${JOINED}.${me}`);
    link.leave();
  };
  const joined = state.phase !== "idle" && state.phase !== "failed";
  const mine = state.endpoint ?? `m:${me}`;
  const floor = floorEndpoint(state.status);
  // The hub forwards this delegate's feed while they hold a speaking turn and are recorded
  // remote (the link going up records them so); its status names only the source this
  // link receives, so "on the air" is read from the sitting itself.
  const speaking = activeTurns(s).some((x) => x.speaker === me && x.status === "speaking");
  const remote = s.attendance[me] === "remote";
  const mutedByChair = state.status?.endpoints.find((e) => e.id === mine)?.muted ?? false;
  const onAir = speaking && remote && !mutedByChair && state.phase === "connected";
  return (
    <section class="card d-video" aria-labelledby="d-video" data-testid="d-video">
      <h2 id="d-video">{t("video.delegate.title")}</h2>
      <p class="muted">{t("video.delegate.floor_only")}</p>
      {!joined ? (
        <>
          <button type="button" class="primary big" data-testid="video-join" onClick={join}>
            {t("video.delegate.join")}
          </button>
          {state.phase === "failed" && <PhaseLine state={state} />}
        </>
      ) : (
        <>
          <div class="row">
            <PhaseLine state={state} />
            <QualityBadge q={state.quality} />
          </div>
          <p class={onAir ? "on-air" : "off-air"} data-testid="on-air" data-on={onAir ? "1" : "0"} aria-live="polite">
            {mutedByChair ? t("video.delegate.muted_by_chair") : onAir ? t("video.delegate.on_air") : speaking ? t(remote ? "video.delegate.turn_connecting" : "video.delegate.in_hall") : t("video.delegate.off_air")}
          </p>
          <div class="video-pair">
            <figure class="video-floor">
              {floor && floor.id !== mine ? (
                <>
                  <VideoEl stream={state.floor} label={t("video.floor_video")} testid="floor-video" />
                  <figcaption data-testid="floor-name">{floorName(s, floor.member, floor.name)}</figcaption>
                </>
              ) : (
                <div class="video-empty">{t("video.no_floor_video")}</div>
              )}
            </figure>
            <figure class="video-self">
              <VideoEl stream={state.local} label={t("video.self_view")} mirror testid="self-video" />
              <figcaption>{t("video.self_view")}</figcaption>
            </figure>
          </div>
          <AudioOut stream={state.floor} />
          <MicCam link={link} state={state} />
          <DevicePicker link={link} state={state} />
          <button type="button" class="big" data-testid="video-leave" onClick={leave}>
            {t("video.leave")}
          </button>
        </>
      )}
    </section>
  );
}

/** A floor source's name: the member's as the sitting knows it, else the hub's label. */
export function floorName(s: Sitting, member: string | null, name: string): string {
  return member ? memberName(s, member) : name;
}
