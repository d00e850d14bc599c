// The gallery's floor video: when the speaker on the floor is remote (or in a linked
// hall), their picture large with their name and time. Receive only: no camera or
// microphone, no login. The picture is muted so it always autoplays; the sound plays
// through <AudioOut>, which asks for one click where the screen's browser wants one.
import { useEffect } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { t, useLang } from "../lib/i18n";
import { floorEndpoint, type MediaState } from "../lib/media";
import { activeTurns, memberName } from "../lib/reducer";
import type { Sitting } from "../lib/types";
import { Countdown } from "../ui/common";
import { useMediaLink, VideoEl } from "../ui/video";

/** The receive-only link, open while the sitting is not closed. */
export function useGalleryMedia(conn: Connection, s: Sitting | null): MediaState {
  const [link, state] = useMediaLink(conn, "receive");
  const open = s !== null && s.phase !== "closed";
  useEffect(() => {
    if (open) void link.start();
    else link.leave();
  }, [link, open]);
  return state;
}

/** The speaker of the most recent turn whose voice comes from `member` (or a hall). */
function speakerTurn(s: Sitting, member: string | null) {
  const turns = activeTurns(s).sort((a, b) => b.started_at - a.started_at);
  return (member ? turns.find((x) => x.speaker === member) : undefined) ?? turns[0];
}

export function FloorVideo({ s, conn, state }: { s: Sitting; conn: Connection; state: MediaState }) {
  useLang();
  const floor = floorEndpoint(state.status);
  if (!floor) return null;
  const turn = speakerTurn(s, floor.member);
  const name = floor.member ? memberName(s, floor.member) : turn ? memberName(s, turn.speaker) : floor.name;
  const where = floor.kind === "room" ? floor.name : t("video.kind.remote");
  return (
    <section class="g-video" data-testid="g-video" aria-label={t("video.floor_video")}>
      <VideoEl stream={state.floor} label={t("video.chair.video_of", { name })} testid="floor-video" />
      <div class="g-video-caption">
        <div>
          <div class="g-name" data-testid="g-video-name">
            {name}
          </div>
          <div class="g-kind">
            {turn ? t(`turn.${turn.kind}`) : ""} · {where}
          </div>
        </div>
        {turn && <Countdown turn={turn} conn={conn} big />}
      </div>
    </section>
  );
}
