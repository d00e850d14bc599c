import type { Connection, LiveState } from "../lib/connection";
import { optionName, t, useLang } from "../lib/i18n";
import { MayContext, mayOf, useMay } from "../lib/permits";
import { activeTurns, isPresent, itemQueue, latestVote, memberName } from "../lib/reducer";
import type { Sitting, TurnKind } from "../lib/types";
import { boot } from "../ui/boot";
import { Countdown, Header, LinkBanner, Notices, PhaseChip, QuorumGauge, VoteClock } from "../ui/common";
import { useLive } from "../ui/hooks";
import { Session } from "../ui/session";
import { Results } from "../ui/results";
import { Ballot } from "../ui/ballot";
import { FloorNotices } from "../ui/notices";
import { MyAttendance } from "./attendance";
import "./delegate.css";
import { Papers } from "./papers";
import { DelegateVideo } from "./video";

const REQUESTABLE: TurnKind[] = ["contribution", "debate_reply", "question", "point_of_order"];

function FloorPanel({ s, conn, me }: { s: Sitting; conn: Connection; me: string }) {
  const mine = activeTurns(s).filter((x) => x.speaker === me);
  const others = activeTurns(s).filter((x) => x.speaker !== me);
  const queue = itemQueue(s);
  const myRequests = queue.map((r, i) => ({ r, place: i + 1 })).filter((x) => x.r.member === me);
  const round = Object.values(s.rounds).find((r) => !r.answered && r.item === s.current_item);
  const may = useMay();
  const canRequest = may("floor.request") && isPresent(s, me);
  return (
    <section class="card d-floor" aria-labelledby="d-floor">
      <h2 id="d-floor">{t("web.floor.title")}</h2>
      {mine.map((turn) => (
        <div class="d-speaking" data-testid="my-turn" data-status={turn.status} key={turn.id} aria-live="polite">
          <p class="d-big">{t(turn.status === "paused" ? "web.floor.you_paused" : "web.floor.you_speak", { kind: t(`turn.${turn.kind}`) })}</p>
          <Countdown turn={turn} conn={conn} big />
          {may("floor.end") && (
            <button type="button" class="big" data-testid="finish-turn" data-command="floor.end" onClick={() => conn.run({ type: "floor.end", turn: turn.id })}>
              {t("web.floor.finish")}
            </button>
          )}
        </div>
      ))}
      {others.map((turn) => (
        <p key={turn.id} data-testid="now-speaking" data-status={turn.status}>
          {t(turn.status === "paused" ? "web.floor.now_paused" : "web.floor.now_speaking", { name: memberName(s, turn.speaker), kind: t(`turn.${turn.kind}`) })} <Countdown turn={turn} conn={conn} />
        </p>
      ))}
      {myRequests.length > 0 && (
        <ul class="plain d-requests">
          {myRequests.map(({ r, place }) => (
            <li key={r.id} data-testid="my-request">
              <span>{t("web.floor.your_place", { kind: t(`turn.${r.kind}`), place, total: queue.length })}</span>
              {may("floor.withdraw") && (
                <button type="button" class="big" data-testid="my-withdraw" data-command="floor.withdraw" onClick={() => conn.run({ type: "floor.withdraw", request: r.id })}>
                  {t("web.floor.withdraw")}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canRequest ? (
        <div class="d-request-buttons" role="group" aria-label={t("web.floor.request")}>
          {REQUESTABLE.filter((k) => k !== "question" || round).map((k) => (
            <button
              type="button"
              class="big"
              data-testid={`request-${k}`}
              data-command="floor.request"
              disabled={myRequests.some((x) => x.r.kind === k)}
              onClick={() => conn.run({ type: "floor.request", kind: k })}
            >
              {t("web.floor.request_kind", { kind: t(`turn.${k}`) })}
            </button>
          ))}
        </div>
      ) : (
        <p class="muted">{!may("floor.request") ? t("web.floor.not_in_session") : t("web.vote.check_in_first")}</p>
      )}
    </section>
  );
}

function VotePanel({ s, conn, me }: { s: Sitting; conn: Connection; me: string }) {
  const vote = latestVote(s);
  if (!vote) return null;
  const own = conn.live.ballots[vote.id] ?? vote.ballots[me];
  const may = useMay();
  const mine = own && (
    <p data-testid="my-ballot-after">
      {t("web.vote.your_ballot")}{" "}
      <strong>{vote.questions.map((q) => (vote.questions.length > 1 ? `${q.label}: ` : "") + optionName(own[q.id] ?? "")).join(", ")}</strong>
    </p>
  );
  return (
    <section class={`card d-vote ${vote.status}`} aria-labelledby="d-vote" data-testid="d-vote">
      <h2 id="d-vote">
        {t(`kind.${vote.kind}`)} · {t(`form.${vote.form}`)} {vote.status === "open" && <VoteClock vote={vote} conn={conn} />}
      </h2>
      <p class="d-vote-title">{vote.title}</p>
      {vote.status === "open" && may("vote.cast") ? (
        <>
          <Ballot key={vote.id} s={s} conn={conn} me={me} vote={vote} />
          <Results vote={vote} figures={conn.live.figures?.vote ?? null} />
        </>
      ) : (
        <>
          {vote.status === "open" && (
            <p class="muted" data-testid="cast-not-now">
              {t("web.permits.cast_in_session")}
            </p>
          )}
          <Results vote={vote} figures={conn.live.figures?.vote ?? null} />
          {mine}
        </>
      )}
    </section>
  );
}

/** Whether this device hears the hub, always in view: "offline" within 3 s of a cut (the
 * heartbeat, lib/connection.ts). */
function LinkState({ status }: { status: LiveState["status"] }) {
  const up = status === "open";
  return (
    <span class={`d-link ${up ? "up" : "down"}`} data-testid="link-state" data-status={status} role="status">
      {t(up ? "web.dl.link_up" : "web.dl.link_down")}
    </span>
  );
}

function DelegateLive({ conn, me }: { conn: Connection; me: string }) {
  useLang();
  const live = useLive(conn);
  const s = live.state;
  if (!s)
    return (
      <>
        <Header s={null} title={t("web.console.delegate")} />
        <LinkBanner live={live} />
      </>
    );
  const item = s.agenda.find((i) => i.id === s.current_item);
  return (
    <MayContext.Provider value={mayOf(live)}>
      <Header s={s} title={t("web.console.delegate")} />
      <LinkBanner live={live} />
      <main class="delegate" data-seq={s.seq}>
        <div class="d-status">
          <span class="d-me">{memberName(s, me)}</span> <PhaseChip s={s} />
          <span class="d-item" data-testid="current-item">
            {item ? item.title : t("web.agenda.none")}
          </span>
          <LinkState status={live.status} />
        </div>
        <MyAttendance s={s} conn={conn} me={me} />
        <VotePanel s={s} conn={conn} me={me} />
        <FloorPanel s={s} conn={conn} me={me} />
        {s.phase !== "closed" && <DelegateVideo s={s} conn={conn} me={me} />}
        <Papers s={s} />
        <section class="card">
          <QuorumGauge figures={live.figures} />
        </section>
      </main>
      <Notices conn={conn} live={live} />
      <FloorNotices conn={conn} />
    </MayContext.Provider>
  );
}

boot(
  <Session titleKey="web.console.delegate" hintKey="web.login.hint_delegate" accept={(i) => i.kind === "member"}>
    {(conn, info) => <DelegateLive conn={conn} me={info.id} />}
  </Session>,
);
