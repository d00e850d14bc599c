import { useEffect, useState } from "preact/hooks";
import { Connection } from "../lib/connection";
import { t, useLang } from "../lib/i18n";
import { activeTurns, itemQueue, latestVote, memberName } from "../lib/reducer";
import type { Sitting } from "../lib/types";
import { Countdown, LangSwitch, LinkBanner, QuorumGauge, VoteClock } from "../ui/common";
import { DocViewer } from "../ui/docviewer";
import { boot } from "../ui/boot";
import { param, useLive } from "../ui/hooks";
import { ElectionResult } from "../ui/electionresult";
import { ballotsOf, VoteResult } from "../ui/votepanel";
import "./gallery.css";
import { FloorVideo, useGalleryMedia } from "./video";
import { AudioOut } from "../ui/video";

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

function Floor({ s, conn }: { s: Sitting; conn: Connection }) {
  const turns = activeTurns(s);
  const next = itemQueue(s).slice(0, 4);
  return (
    <section class="g-floor" aria-label={t("web.floor.title")}>
      <h2>{t("web.gallery.speaking")}</h2>
      {turns.length === 0 && <p class="g-none">{t("web.floor.nobody")}</p>}
      {turns.map((turn) => (
        <div class="g-speaker" data-testid="g-speaker" key={turn.id}>
          <div>
            <div class="g-name">{memberName(s, turn.speaker)}</div>
            <div class="g-kind">
              {t(`turn.${turn.kind}`)}
              {turn.status === "paused" && ` · ${t("web.turn.paused")}`}
            </div>
          </div>
          <div aria-live="off">
            <Countdown turn={turn} conn={conn} big />
          </div>
        </div>
      ))}
      {next.length > 0 && (
        <div class="g-next">
          <h3>{t("web.gallery.next")}</h3>
          <ol data-testid="g-next">
            {next.map((r) => (
              <li key={r.id}>
                {memberName(s, r.member)} <span class="g-kind">· {t(`turn.${r.kind}`)}</span>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

function VoteArea({ s, conn }: { s: Sitting; conn: Connection }) {
  const live = conn.live;
  const vote = latestVote(s);
  if (!vote || vote.status === "cancelled") return null;
  if (vote.status === "open") {
    const { ballots, present } = ballotsOf(vote, s, live);
    return (
      <section class="g-vote open" data-testid="g-vote" aria-live="polite">
        <h2>
          {t(`kind.${vote.kind}`)} · {t(`form.${vote.form}`)}
        </h2>
        <p class="g-vote-title">{vote.title}</p>
        <p class="g-ballots" data-testid="g-ballots">
          {t("web.vote.ballots_of_present", { ballots, present })}
        </p>
        <VoteClock vote={vote} conn={conn} />
      </section>
    );
  }
  return (
    <section class="g-vote closed" data-testid="g-vote" aria-live="polite">
      <h2>
        {t("web.vote.result")} · {t(`form.${vote.form}`)}
      </h2>
      <p class="g-vote-title">{vote.title}</p>
      {vote.kind === "motion" ? <VoteResult vote={vote} big /> : <ElectionResult vote={vote} big />}
    </section>
  );
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
  if (missing) return <main class="g-empty">{t("web.link.unknown_sitting")}</main>;
  if (!conn) return <main class="g-empty">{t("web.link.connecting")}</main>;
  return <GalleryLive conn={conn} />;
}

function GalleryLive({ conn }: { conn: Connection }) {
  const live = useLive(conn);
  const s = live.state;
  const media = useGalleryMedia(conn, s);
  useEffect(() => {
    if (s) document.body.dataset.ready = "1";
  }, [s !== null]);
  if (!s) return (
    <main class="g-empty">
      <LinkBanner live={live} />
      {t("web.link.connecting")}
    </main>
  );
  const item = s.agenda.find((i) => i.id === s.current_item);
  const doc = s.presentation ? s.documents[s.presentation.doc] : undefined;
  const vote = latestVote(s);
  const showDoc = doc && !(vote && vote.status === "open");
  const video = media.status?.floor != null;
  return (
    <main class="gallery" data-seq={s.seq}>
      <LinkBanner live={live} />
      <header class="g-head">
        <div>
          <div class="g-council">{s.council.name}</div>
          <h1 class="g-title">{s.title}</h1>
        </div>
        <div class="g-head-right">
          <span class={`g-phase phase-${s.phase}`} data-testid="phase">
            {t(`phase.${s.phase}`)}
          </span>
          <LangSwitch />
        </div>
      </header>
      <div class="g-item" data-testid="g-item">
        <span class="g-label">{t("web.agenda.current")}</span>
        <span>{item ? item.title : t("web.agenda.none")}</span>
      </div>
      <div class={`g-body${video ? " with-video" : ""}`}>
        <div class="g-left">
          {video ? <FloorVideo s={s} conn={conn} state={media} /> : <Floor s={s} conn={conn} />}
          {showDoc && !video && (
            <section class="g-doc" data-testid="g-doc">
              <DocViewer doc={doc} page={s.presentation!.page} width={900} />
            </section>
          )}
        </div>
        <div class="g-right">
          <QuorumGauge figures={conn.live.figures} big />
          <VoteArea s={s} conn={conn} />
        </div>
      </div>
      <AudioOut stream={media.floor} />
    </main>
  );
}

boot(<Gallery />);
