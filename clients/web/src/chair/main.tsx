import { useMemo, useState } from "preact/hooks";
import type { Connection, LiveState } from "../lib/connection";
import { optionName, t, useLang } from "../lib/i18n";
import { MayContext, mayOf, useMay } from "../lib/permits";
import { isPresent, latestVote, memberName, openVote } from "../lib/reducer";
import type { Command, Sitting, Vote } from "../lib/types";
import { Ballot } from "../ui/ballot";
import { boot } from "../ui/boot";
import { Confirm, Header, LinkBanner, Notices, PhaseChip, VoteClock } from "../ui/common";
import { DocViewer } from "../ui/docviewer";
import { useKeys, useLive } from "../ui/hooks";
import { RecordLinks } from "../ui/recordlinks";
import { Session } from "../ui/session";
import { Results } from "../ui/results";
import { ballotsOf } from "../ui/votepanel";
import { Attendance } from "./attendance";
import "./chair.css";
import "./titles.css";
import { BallotSetup } from "./elections";
import { revoteAsk } from "./votesetup";
import { Agenda, type Ask, TextVersion } from "./agenda";
import { Floor, useGive } from "./floor";
import { ChairVideo, remoteMembers, useChairMedia } from "./video";

type Run = (cmd: Command) => void;

/** The sitting's phase buttons: each shown in the phase the table permits it in, to
 * whoever presides (the phase a button leads from is the table's, not the console's). */
function Lifecycle({ run, ask }: { run: Run; ask: (a: Ask) => void }) {
  const may = useMay();
  const b = (key: string, cmd: Command, cls = "") =>
    may(cmd.type) && (
      <button type="button" class={cls} data-testid={cmd.type} data-command={cmd.type} onClick={() => run(cmd)}>
        {t(key)}
      </button>
    );
  const steps = ["sitting.open", "sitting.start", "sitting.suspend", "sitting.resume", "sitting.close"];
  if (!steps.some((x) => may(x))) return null;
  return (
    <div class="row lifecycle" role="group" aria-label={t("web.sitting.lifecycle")}>
      {b("web.sitting.open", { type: "sitting.open" }, "primary")}
      {b("web.sitting.start", { type: "sitting.start" }, "primary")}
      {b("web.sitting.suspend", { type: "sitting.suspend" })}
      {b("web.sitting.resume", { type: "sitting.resume" }, "primary")}
      {may("sitting.close") && (
        <button
          type="button"
          class="danger"
          data-testid="sitting.close"
          data-command="sitting.close"
          onClick={() => ask({ title: t("web.sitting.close_confirm"), body: t("web.sitting.close_body"), confirm: t("web.sitting.close"), cmd: { type: "sitting.close" } })}
        >
          {t("web.sitting.close")}
        </button>
      )}
    </div>
  );
}

function OpenVotePanel({ s, vote, live, conn, ask }: { s: Sitting; vote: Vote; live: LiveState; conn: Connection; ask: (a: Ask) => void }) {
  const { ballots, present } = ballotsOf(vote, s, live);
  const view = live.view && live.view.vote === vote.id ? live.view : null;
  const voted = new Set(view?.voted ?? vote.voted);
  const counts = view?.counts ?? (vote.form === "open" ? vote.counts : null);
  const notVoted = s.council.members.filter((m) => isPresent(s, m.id) && !voted.has(m.id));
  const may = useMay();
  return (
    <div class="stack" aria-live="polite">
      <p class="vote-title">
        <strong>{vote.title}</strong> · {t(`form.${vote.form}`)} <TextVersion vote={vote} sep /> <VoteClock vote={vote} conn={conn} />
      </p>
      <p class="big-number" data-testid="c-ballots">
        {t("web.vote.ballots_of_present", { ballots, present })}
      </p>
      {counts && vote.form === "open" && (
        <p data-testid="running-counts">
          {vote.options.map((o) => `${optionName(o)}: ${counts[vote.questions[0].id]?.[o] ?? 0}`).join(" · ")}
        </p>
      )}
      <Results vote={vote} figures={live.figures?.vote ?? null} />
      {vote.form === "open" && (
        <details open={notVoted.length <= 12}>
          <summary>{t("web.vote.not_voted", { count: notVoted.length })}</summary>
          <p data-testid="not-voted">{notVoted.map((m) => m.name).join(", ")}</p>
        </details>
      )}
      {(may("vote.close") || may("vote.cancel")) && (
        <div class="row">
          {may("vote.close") && (
            <button type="button" class="primary" data-testid="close-vote" data-command="vote.close" onClick={() => ask(closeVoteAsk(vote))}>
              {t("web.vote.close")} <kbd>V</kbd>
            </button>
          )}
          {may("vote.cancel") && (
            <button
              type="button"
              class="danger"
              data-testid="cancel-vote"
              data-command="vote.cancel"
              onClick={() => ask({ title: t("web.vote.cancel_confirm"), confirm: t("web.vote.cancel"), cmd: { type: "vote.cancel", vote: vote.id } })}
            >
              {t("web.vote.cancel")}
            </button>
          )}
        </div>
      )}
      {live.member && (
        <div class="chair-ballot">
          <h3>{t("web.vote.chair_ballot")}</h3>
          {may("vote.cast") ? (
            <Ballot s={s} conn={conn} me={live.member} vote={vote} />
          ) : (
            <p class="muted" data-testid="cast-not-now">
              {t("web.permits.cast_in_session")}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

const closeVoteAsk = (vote: Vote): Ask => ({
  title: t("web.vote.close_confirm"),
  body: vote.title,
  confirm: t("web.vote.close"),
  cmd: { type: "vote.close", vote: vote.id },
});

function Votes({ s, live, conn, run, ask }: { s: Sitting; live: LiveState; conn: Connection; run: Run; ask: (a: Ask) => void }) {
  const vote = latestVote(s);
  const open = openVote(s);
  // Votes, elections and polls are opened by whoever presides, in session (the hub's
  // table): the secretary's console shows them, without the set-up the core would refuse.
  const may = useMay();
  const opens = ["vote.open", "election.open", "confidence.open"];
  return (
    <section class="card" aria-labelledby="c-vote" data-testid="c-vote">
      <h2 id="c-vote">{t("web.vote.title")}</h2>
      {open ? (
        <OpenVotePanel s={s} vote={open} live={live} conn={conn} ask={ask} />
      ) : (
        <>
          {vote && (
            <div class="last-vote">
              <p class="vote-title">
                <strong>{vote.title}</strong> · {t(`form.${vote.form}`)} <TextVersion vote={vote} sep />
              </p>
              <Results vote={vote} figures={live.figures?.vote ?? null} />
              {vote.result?.roll_call && (
                <details>
                  <summary>{t("web.vote.roll_call")}</summary>
                  <ul class="plain">
                    {Object.entries(vote.result.roll_call).map(([m, a]) => (
                      <li key={m}>
                        {memberName(s, m)}: {Object.values(a).map(optionName).join(", ")}
                      </li>
                    ))}
                  </ul>
                </details>
              )}
              {may("vote.revote") && (
                <button type="button" data-testid="revote" data-command="vote.revote" onClick={() => ask(revoteAsk(vote))}>
                  {t("web.vote.revote")}
                </button>
              )}
            </div>
          )}
          {opens.some((x) => may(x)) ? (
            <BallotSetup s={s} figures={live.figures} run={run} ask={ask} />
          ) : opens.some((x) => may.ever(x)) ? (
            <p class="muted" data-testid="setup-in-session-only">
              {t("web.permits.vote_in_session")}
            </p>
          ) : (
            <p class="muted" data-testid="setup-presiding-only">
              {t("web.setup.presiding_only")}
            </p>
          )}
        </>
      )}
    </section>
  );
}

function Documents({ s, run }: { s: Sitting; run: Run }) {
  const docs = Object.values(s.documents);
  const p = s.presentation;
  const shown = p ? s.documents[p.doc] : undefined;
  const may = useMay();
  if (!docs.length) return null;
  return (
    <section class="card" aria-labelledby="c-docs">
      <h2 id="c-docs">{t("web.doc.title")}</h2>
      <ul class="plain stack">
        {docs.map((d) => (
          <li key={d.hash} class="row">
            <span class="grow">
              {d.title} <span class="muted">({t("web.doc.pages", { pages: d.pages })})</span>
            </span>
            {may("doc.present") && (
              <button type="button" data-testid="present-doc" data-command="doc.present" onClick={() => run({ type: "doc.present", doc: d.hash, page: 1 })}>
                {t("web.doc.present")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {p && shown && (
        <div class="stack">
          <div class="row">
            {may("doc.present") && (
              <button type="button" data-testid="doc-prev" data-command="doc.present" disabled={p.page <= 1} onClick={() => run({ type: "doc.present", doc: p.doc, page: p.page - 1 })}>
                {t("web.doc.prev")}
              </button>
            )}
            <span data-testid="presented-page">{t("web.doc.presenting", { page: p.page })}</span>
            {may("doc.present") && (
              <button type="button" data-testid="doc-next" data-command="doc.present" disabled={p.page >= shown.pages} onClick={() => run({ type: "doc.present", doc: p.doc, page: p.page + 1 })}>
                {t("web.doc.next")}
              </button>
            )}
            {may("doc.stop") && (
              <button type="button" data-testid="doc-stop" data-command="doc.stop" onClick={() => run({ type: "doc.stop" })}>
                {t("web.doc.stop")}
              </button>
            )}
          </div>
          <DocViewer doc={shown} page={p.page} width={420} />
        </div>
      )}
    </section>
  );
}

function Help({ onClose }: { onClose: () => void }) {
  const may = useMay();
  // Only the keys whose command this console may issue (chair/floor.tsx acts on them).
  const keys = (
    [
      ["N", "web.keys.next", "floor.next"],
      ["E", "web.keys.end", "floor.end"],
      ["P", "web.keys.pause", "floor.pause"],
      ["V", "web.keys.close_vote", "vote.close"],
      ["?", "web.keys.help", null],
    ] as [string, string, string | null][]
  ).filter(([, , type]) => type === null || may.ever(type, type === "floor.end")); // E: the speaker's turn
  return (
    <Confirm
      open
      title={t("web.keys.title")}
      body={
        <table>
          <tbody>
            {keys.map(([k, label]) => (
              <tr key={k}>
                <td>
                  <kbd>{k}</kbd>
                </td>
                <td>{t(label)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
      confirm={t("web.close")}
      onConfirm={onClose}
      onCancel={onClose}
    />
  );
}

function ChairLive({ conn }: { conn: Connection }) {
  useLang();
  const live = useLive(conn);
  const s = live.state;
  const [asking, setAsking] = useState<Ask | null>(null);
  const [help, setHelp] = useState(false);
  const [media, mediaState] = useChairMedia(conn);
  const run: Run = (cmd) => void conn.run(cmd);
  const [give, occupiedDialog] = useGive(conn, run);
  const keys = useMemo(() => {
    const st = () => conn.live.state;
    return {
      // N, E and P act on the speaking turn: chair/floor.tsx.
      v: () => {
        const x = st();
        const v = x && openVote(x);
        if (v && mayOf(conn.live)("vote.close")) setAsking(closeVoteAsk(v));
      },
      "?": () => setHelp(true),
    };
  }, [conn]);
  useKeys(keys, !asking && !help);
  if (!s)
    return (
      <>
        <Header s={null} title={t("web.console.chair")} />
        <LinkBanner live={live} />
      </>
    );
  const item = s.agenda.find((i) => i.id === s.current_item);
  return (
    <MayContext.Provider value={mayOf(live)}>
      <Header s={s} title={t("web.console.chair")}>
        <RecordLinks sitting={s.id} />
        <button type="button" onClick={() => setHelp(true)} aria-keyshortcuts="?">
          {t("web.keys.button")}
        </button>
      </Header>
      <LinkBanner live={live} />
      <main class="chair" data-seq={s.seq}>
        <div class="chair-bar">
          <PhaseChip s={s} />
          <span class="c-item" data-testid="current-item">
            {item ? item.title : t("web.agenda.none")}
          </span>
          <Lifecycle run={run} ask={setAsking} />
        </div>
        <div class="chair-grid">
          <div class="col">
            <Agenda s={s} run={run} ask={setAsking} />
            <Attendance s={s} figures={live.figures} run={run} />
          </div>
          <div class="col">
            <Floor s={s} conn={conn} run={run} ask={setAsking} give={give} remote={remoteMembers(mediaState)} media={mediaState} />
            <ChairVideo s={s} link={media} state={mediaState} give={give} />
            <Documents s={s} run={run} />
          </div>
          <div class="col">
            <Votes s={s} live={live} conn={conn} run={run} ask={setAsking} />
          </div>
        </div>
      </main>
      {occupiedDialog(s)}
      <Confirm
        open={asking !== null}
        title={asking?.title ?? ""}
        body={asking?.body}
        confirm={asking?.confirm ?? ""}
        danger
        onConfirm={() => {
          if (asking) run(asking.cmd);
          setAsking(null);
        }}
        onCancel={() => setAsking(null)}
      />
      {help && <Help onClose={() => setHelp(false)} />}
      <Notices conn={conn} live={live} />
    </MayContext.Provider>
  );
}

const PRESIDING = ["chair", "vice_chair", "secretary"];

boot(
  <Session titleKey="web.console.chair" hintKey="web.login.hint_chair" accept={(i) => i.kind === "operator" || i.roles.some((r) => PRESIDING.includes(r))}>
    {(conn) => <ChairLive conn={conn} />}
  </Session>,
);
