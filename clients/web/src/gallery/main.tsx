// The public gallery: a 1920×1080 wall screen read from ten metres. No login and no
// buttons: `?sitting=` picks the sitting (else the first one not closed), `?lang=en`
// the language (Vietnamese by default, never remembered).
import { useEffect, useState } from "preact/hooks";
import { Connection } from "../lib/connection";
import { formatDateTime } from "../lib/format";
import { lang, setLang, t, useLang } from "../lib/i18n";
import { activeTurns } from "../lib/reducer";
import type { Sitting } from "../lib/types";
import { QuorumGauge, VoteClock } from "../ui/common";
import { boot } from "../ui/boot";
import { param, useLive } from "../ui/hooks";
import { ballotsOf } from "../ui/votepanel";
import { AudioOut } from "../ui/video";
import { GalleryDoc } from "./document";
import { AgendaList, CurrentItem, Floor, Head, Reconnect, useShownVote } from "./parts";
import { GalleryVote } from "./result";
import "./gallery.css";
import { FloorVideo, useGalleryMedia } from "./video";

const wanted = param("lang") === "en" ? "en" : "vi";
if (lang() !== wanted) setLang(wanted, false);

async function pickSitting(): Promise<string | null> {
  const fromUrl = param("sitting");
  if (fromUrl) return fromUrl;
  try {
    const list: { id: string; phase: string }[] = await (await fetch("/api/sittings")).json();
    return (list.find((x) => x.phase !== "closed") ?? list[0])?.id ?? null;
  } catch {
    return null;
  }
}

function Gallery() {
  useLang();
  const [conn, setConn] = useState<Connection | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let c: Connection | null = null;
    pickSitting().then((id) => {
      if (!id) return setMissing(true);
      c = new Connection({ sitting: id, token: null });
      (window as any).__nt = c;
      c.start();
      setConn(c);
    });
    return () => c?.stop();
  }, []);
  if (missing) return <main class="g-empty">{t("gallery.no_sitting")}</main>;
  if (!conn) return <main class="g-empty">{t("web.link.connecting")}</main>;
  return <GalleryLive conn={conn} />;
}

/** Suspended or closed: the sitting's name, the clock and what is happening, nothing else. */
function Pause({ s }: { s: Sitting }) {
  const closed = s.phase === "closed";
  return (
    <div class="g-pause" data-testid={closed ? "g-closed" : "g-suspended"}>
      <h2 class="g-pause-title">{t(closed ? "gallery.closed.title" : "gallery.suspended.title")}</h2>
      {closed && s.closed_at != null && <p class="g-pause-at">{t("gallery.closed.at", { at: formatDateTime(s.closed_at) })}</p>}
      <p class="g-pause-body">{t(closed ? "gallery.closed.body" : "gallery.suspended.body")}</p>
      {!closed && <CurrentItem s={s} />}
    </div>
  );
}

function GalleryLive({ conn }: { conn: Connection }) {
  const live = useLive(conn);
  const s = live.state;
  const media = useGalleryMedia(conn, s);
  useEffect(() => {
    if (s) document.body.dataset.ready = "1";
  }, [s !== null]);
  if (!s) return <main class="g-empty">{t("web.link.connecting")}</main>;
  return <Screen s={s} conn={conn} media={media} />;
}

function Screen({ s, conn, media }: { s: Sitting; conn: Connection; media: ReturnType<typeof useGalleryMedia> }) {
  const live = conn.live;
  const vote = useShownVote(s);
  if (s.phase === "suspended" || s.phase === "closed") {
    return (
      <main class={`gallery g-${s.phase}`} data-seq={s.seq}>
        <Head s={s} conn={conn} />
        <Pause s={s} />
        <Reconnect live={live} />
      </main>
    );
  }
  const doc = s.presentation ? s.documents[s.presentation.doc] : undefined;
  const video = media.status?.floor != null;
  const showDoc = doc && !video && vote?.status !== "open";
  const layout = video ? " with-video" : showDoc ? " with-doc" : "";
  const tally = vote?.status === "open" ? ballotsOf(vote, s, live) : { ballots: 0, present: 0 };
  return (
    <main class="gallery" data-seq={s.seq}>
      <Head s={s} conn={conn} />
      <CurrentItem s={s} />
      <div class={`g-body${layout}`}>
        <AgendaList s={s} />
        {video && <FloorVideo s={s} conn={conn} state={media} />}
        {showDoc && <GalleryDoc doc={doc} page={s.presentation!.page} />}
        <div class="g-side">
          {!video && (!vote || activeTurns(s).length > 0) && <Floor s={s} conn={conn} next={vote ? 0 : 4} />}
          {vote && <GalleryVote vote={vote} {...tally} clock={<VoteClock vote={vote} conn={conn} />} />}
          <QuorumGauge figures={live.figures} big />
        </div>
      </div>
      <Reconnect live={live} />
      <AudioOut stream={media.floor} />
    </main>
  );
}

boot(<Gallery />);
