/** The floor from the chair console: who speaks (one at a time, a paused speaker shown
 * waiting), the queue (points of order first, as the core orders it), giving the floor to
 * anyone directly with a kind and a time limit, and the questioning round.
 *
 * Giving the floor while someone speaks is refused by the core (`floor.occupied`) unless
 * the command says what becomes of the speaker; the console asks the chair: pause them (a
 * point of order interrupts) or open a second microphone. The shortcuts N, E, P act on the
 * speaking turn. Each control is shown only when the hub's table permits its command now
 * (lib/permits.ts): the secretary sees the floor, and none of the presiding officer's. */
import type { JSX } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Connection } from "../lib/connection";
import type { MediaState } from "../lib/media";
import { t } from "../lib/i18n";
import { mayOf, useMay } from "../lib/permits";
import { activeTurns, itemQueue, memberName } from "../lib/reducer";
import type { Command, Occupied, Sitting, Turn, TurnKind } from "../lib/types";
import { Countdown } from "../ui/common";
import { useKeys } from "../ui/hooks";
import type { Ask } from "./agenda";
import "./floor.css";

type Run = (cmd: Command) => void;

/** The turn the chair's shortcuts act on: the latest speaking turn, else the latest paused. */
export function floorTurn(s: Sitting): Turn | undefined {
  const turns = activeTurns(s);
  const speaking = turns.filter((x) => x.status === "speaking");
  return speaking[speaking.length - 1] ?? turns[turns.length - 1];
}

const speakingTurns = (s: Sitting): Turn[] => activeTurns(s).filter((x) => x.status === "speaking");

export const endTurnAsk = (s: Sitting, turn: Turn): Ask => ({
  title: t("web.turn.end_confirm", { name: memberName(s, turn.speaker) }),
  confirm: t("web.turn.end"),
  cmd: { type: "floor.end", turn: turn.id },
});

/** A command that starts (or resumes) a turn, waiting for the chair to say what becomes of
 * whoever is speaking. */
export interface Occupying {
  cmd: Command;
  who: string;
  interrupts: boolean; // a point of order: pausing is the expected choice
}

function OccupiedDialog({ s, pending, onChoose, onCancel }: { s: Sitting; pending: Occupying | null; onChoose: (o: Occupied) => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (pending && !d.open) d.showModal();
    if (!pending && d.open) d.close();
  }, [pending]);
  const speaking = speakingTurns(s);
  const names = speaking.map((x) => memberName(s, x.speaker)).join(", ");
  const full = speaking.length >= s.rules.max_open_mics;
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="occ-title" data-testid="occupied-dialog" onCancel={(e) => { e.preventDefault(); onCancel(); }}>
      <h2 id="occ-title">{t("web.give.occupied_title", { name: names })}</h2>
      <div class="dialog-body">
        <p>{t("web.give.occupied_body", { who: pending?.who ?? "" })}</p>
        {pending?.interrupts && <p>{t("web.give.poo_hint")}</p>}
      </div>
      <div class="stack">
        <button type="button" class="primary" data-testid="occupied-pause" data-command={pending?.cmd.type} autofocus onClick={() => onChoose("pause")}>
          {t("web.give.pause_and_give", { name: names, who: pending?.who ?? "" })}
        </button>
        <button type="button" data-testid="occupied-second-mic" data-command={pending?.cmd.type} disabled={full} onClick={() => onChoose("second_mic")}>
          {full ? t("web.give.mics_full", { limit: s.rules.max_open_mics }) : t("web.give.second_mic")}
        </button>
        <button type="button" onClick={onCancel}>
          {t("web.cancel")}
        </button>
      </div>
    </dialog>
  );
}

function TurnRow({ s, turn, conn, run, ask, give }: { s: Sitting; turn: Turn; conn: Connection; run: Run; ask: (a: Ask) => void; give: (o: Occupying) => void }) {
  const paused = turn.status === "paused";
  const name = memberName(s, turn.speaker);
  const may = useMay();
  const extend = (minutes: number) =>
    may("floor.extend") && (
      <button type="button" data-testid={`extend-${minutes}`} data-command="floor.extend" onClick={() => run({ type: "floor.extend", turn: turn.id, seconds: minutes * 60 })}>
        {t("web.turn.extend", { minutes })}
      </button>
    );
  return (
    <li class={`turn${paused ? " turn-paused" : " turn-speaking"}`} data-testid="turn" data-status={turn.status}>
      <div>
        <strong>{name}</strong> <span class="muted">· {t(`turn.${turn.kind}`)}</span>
        {paused && (
          <span class="warn-chip" data-testid="paused-chip">
            {" "}
            {t("web.turn.paused_waiting")}
          </span>
        )}
      </div>
      <Countdown turn={turn} conn={conn} />
      <div class="row">
        {paused
          ? may("floor.resume") && (
              <button type="button" class="primary" data-testid="resume-turn" data-command="floor.resume" onClick={() => give({ cmd: { type: "floor.resume", turn: turn.id }, who: name, interrupts: false })}>
                {t("web.turn.resume_name", { name })}
              </button>
            )
          : may("floor.pause") && (
              <button type="button" data-testid="pause-turn" data-command="floor.pause" onClick={() => run({ type: "floor.pause", turn: turn.id })}>
                {t("web.turn.pause")}
              </button>
            )}
        {extend(1)}
        {extend(3)}
        {may("floor.end", turn.speaker) && (
          <button type="button" class="danger" data-testid="end-turn" data-command="floor.end" data-about={turn.speaker} onClick={() => ask(endTurnAsk(s, turn))}>
            {t("web.turn.end")}
          </button>
        )}
      </div>
    </li>
  );
}

/** Kinds the chair may give the floor for directly (an answer comes from the round). */
const DIRECT_KINDS: TurnKind[] = ["explanation", "contribution", "debate_reply", "question", "point_of_order"];
const MAX_LIMIT_MIN = 240; // chamber/floor.py MAX_TURN_S

function GiveFloor({ s, run, give, rooms, remote }: { s: Sitting; run: Run; give: (o: Occupying) => void; rooms: Set<string>; remote: Set<string> }) {
  const [who, setWho] = useState("");
  const [kind, setKind] = useState<TurnKind>("explanation");
  const [minutes, setMinutes] = useState("");
  const [adding, setAdding] = useState(false);
  const [guestName, setGuestName] = useState("");
  const [guestOf, setGuestOf] = useState("");
  const round = Object.values(s.rounds).find((r) => !r.answered && r.item === s.current_item);
  const guests = Object.values(s.guests).filter((g) => !rooms.has(g.id));
  const halls = Object.values(s.guests).filter((g) => rooms.has(g.id));
  const busy = new Set(activeTurns(s).map((x) => x.speaker));
  const kinds = DIRECT_KINDS.filter((k) => k !== "question" || round);
  const limit = minutes.trim() ? Math.round(Number(minutes) * 60) : null;
  const badLimit = limit !== null && !(limit > 0 && limit <= MAX_LIMIT_MIN * 60);
  const may = useMay();
  /** Beside a member's name: on a video link now, or their presence unless in the hall. */
  const presence = (id: string): string => {
    if (remote.has(id)) return ` (${t("web.give.remote")})`;
    const p = s.attendance[id] ?? "absent";
    return p === "in_hall" ? "" : ` (${t(`presence.${p}`)})`;
  };
  return (
    <div class="give-floor">
      <h3 id="c-give">{t("web.give.title")}</h3>
      <form
        class="stack"
        data-testid="give-floor"
        aria-labelledby="c-give"
        onSubmit={(e) => {
          e.preventDefault();
          if (!who || badLimit) return;
          const cmd: Command = { type: "floor.grant", speaker: who, kind };
          if (limit !== null) cmd.limit_s = limit;
          give({ cmd, who: memberName(s, who), interrupts: kind === "point_of_order" });
          setMinutes("");
        }}
      >
        <label for="give-who">{t("web.give.who")}</label>
        <select id="give-who" data-testid="give-who" value={who} onChange={(e) => setWho(e.currentTarget.value)}>
          <option value="">—</option>
          <optgroup label={t("web.give.members")}>
            {s.council.members.map((m) => (
              <option value={m.id} key={m.id} disabled={busy.has(m.id)}>
                {m.seat ? `${m.seat} · ` : ""}
                {m.name}
                {presence(m.id)}
              </option>
            ))}
          </optgroup>
          {guests.length > 0 && (
            <optgroup label={t("web.give.guests")}>
              {guests.map((g) => (
                <option value={g.id} key={g.id} disabled={busy.has(g.id)}>
                  {g.name}
                  {g.affiliation ? ` · ${g.affiliation}` : ""}
                </option>
              ))}
            </optgroup>
          )}
          {halls.length > 0 && (
            <optgroup label={t("web.give.rooms")}>
              {halls.map((g) => (
                <option value={g.id} key={g.id} disabled={busy.has(g.id)}>
                  {g.name}
                </option>
              ))}
            </optgroup>
          )}
        </select>
        <div class="row">
          <label class="grow">
            {t("web.give.kind")}
            <select data-testid="give-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as TurnKind)}>
              {kinds.map((k) => (
                <option value={k} key={k}>
                  {t(`web.give.kind.${k}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("web.give.minutes")}
            <input
              type="number"
              data-testid="give-minutes"
              min={1}
              max={MAX_LIMIT_MIN}
              step="any"
              inputMode="decimal"
              placeholder={t("web.give.by_rules")}
              aria-invalid={badLimit}
              value={minutes}
              onInput={(e) => setMinutes(e.currentTarget.value)}
            />
          </label>
        </div>
        {badLimit && (
          <p class="warn-text" role="alert">
            {t("web.give.bad_limit", { max: MAX_LIMIT_MIN })}
          </p>
        )}
        <div class="row">
          <button type="submit" class="primary" data-testid="give-submit" data-command="floor.grant" disabled={!who || badLimit}>
            {t("web.floor.grant")}
          </button>
          {may("roster.add_guest") && (
            <button type="button" class="ghost" data-testid="guest-new" data-command="roster.add_guest" aria-expanded={adding} onClick={() => setAdding(!adding)}>
              {t("web.give.add_guest")}
            </button>
          )}
        </div>
      </form>
      {adding && may("roster.add_guest") && (
        <form
          class="stack add-guest"
          data-testid="add-guest"
          onSubmit={(e) => {
            e.preventDefault();
            const name = guestName.trim();
            if (!name) return;
            const id = `g-${Date.now().toString(36)}`;
            run({ type: "roster.add_guest", guest: { id, name, affiliation: guestOf.trim() } });
            setWho(id);
            setGuestName("");
            setGuestOf("");
            setAdding(false);
          }}
        >
          <label>
            {t("web.give.guest_name")}
            <input data-testid="guest-name" required maxLength={200} value={guestName} onInput={(e) => setGuestName(e.currentTarget.value)} />
          </label>
          <label>
            {t("web.give.guest_affiliation")}
            <input data-testid="guest-affiliation" maxLength={200} value={guestOf} onInput={(e) => setGuestOf(e.currentTarget.value)} />
          </label>
          <button type="submit" data-testid="guest-add" data-command="roster.add_guest" disabled={!guestName.trim()}>
            {t("web.give.guest_save")}
          </button>
        </form>
      )}
    </div>
  );
}

function Rounds({ s, run, give }: { s: Sitting; run: Run; give: (o: Occupying) => void }) {
  const round = Object.values(s.rounds).find((r) => !r.answered);
  const [who, setWho] = useState("");
  const people = [...Object.values(s.guests), ...s.council.members];
  const may = useMay();
  if (!(round ? may("floor.round_answer") || may("floor.round_close") : may("floor.round_open"))) return null;
  return (
    <div class="rounds">
      <h3>{t("web.round.title")}</h3>
      {round ? (
        <div class="row">
          <span>{t("web.round.open_for", { name: memberName(s, round.respondent), questions: round.questions.length })}</span>
          {may("floor.round_answer") && (
            <button
              type="button"
              data-testid="round-answer"
              data-command="floor.round_answer"
              onClick={() => give({ cmd: { type: "floor.round_answer", round: round.id }, who: memberName(s, round.respondent), interrupts: false })}
            >
              {t("web.round.answer")}
            </button>
          )}
          {may("floor.round_close") && (
            <button type="button" data-testid="round-close" data-command="floor.round_close" onClick={() => run({ type: "floor.round_close", round: round.id })}>
              {t("web.round.close")}
            </button>
          )}
        </div>
      ) : (
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (who) run({ type: "floor.round_open", respondent: who });
          }}
        >
          <label>
            {t("web.round.respondent")}
            <select data-testid="round-respondent" value={who} onChange={(e) => setWho(e.currentTarget.value)}>
              <option value="">—</option>
              {people.map((p) => (
                <option value={p.id} key={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" data-testid="round-open" data-command="floor.round_open" disabled={!who}>
            {t("web.round.open")}
          </button>
        </form>
      )}
    </div>
  );
}

/** Run a command that starts a turn, asking the chair first what becomes of whoever is
 * speaking; one dialog for every console part that gives the floor (queue, direct, video
 * tiles). Returns the function and the dialog, to render once. */
export function useGive(conn: Connection, run: Run): [(o: Occupying) => void, (s: Sitting) => JSX.Element] {
  const [pending, setPending] = useState<Occupying | null>(null);
  const give = (o: Occupying) => {
    const x = conn.live.state;
    if (x && speakingTurns(x).length) setPending(o);
    else run(o.cmd);
  };
  const dialog = (s: Sitting) => (
    <OccupiedDialog
      s={s}
      pending={pending}
      onChoose={(occupied) => {
        if (pending) run({ ...pending.cmd, occupied });
        setPending(null);
      }}
      onCancel={() => setPending(null)}
    />
  );
  return [give, dialog];
}

export function Floor({ s, conn, run, ask, give, remote, media }: { s: Sitting; conn: Connection; run: Run; ask: (a: Ask) => void; give: (o: Occupying) => void; remote: Set<string>; media: MediaState }) {
  const turns = activeTurns(s);
  // The speaking turns first, then those paused and waiting to resume.
  const ordered = [...turns.filter((x) => x.status === "speaking"), ...turns.filter((x) => x.status === "paused")];
  const queue = itemQueue(s);
  const may = useMay();
  const rooms = new Set((media.status?.endpoints ?? []).filter((e) => e.kind === "room" && e.room).map((e) => e.room!));
  const giveRef = useRef(give);
  giveRef.current = give;
  const keys = useMemo(() => {
    const st = () => conn.live.state;
    return {
      n: () => {
        const x = st();
        const first = x ? itemQueue(x)[0] : undefined;
        if (x && first && mayOf(conn.live)("floor.next")) giveRef.current({ cmd: { type: "floor.next" }, who: memberName(x, first.member), interrupts: first.kind === "point_of_order" });
      },
      e: () => {
        const x = st();
        const turn = x && floorTurn(x);
        if (x && turn && mayOf(conn.live)("floor.end", turn.speaker)) ask(endTurnAsk(x, turn));
      },
      p: () => {
        const x = st();
        const turn = x && floorTurn(x);
        if (!x || !turn) return;
        const may = mayOf(conn.live);
        if (turn.status === "speaking") {
          if (may("floor.pause")) run({ type: "floor.pause", turn: turn.id });
        } else if (may("floor.resume")) giveRef.current({ cmd: { type: "floor.resume", turn: turn.id }, who: memberName(x, turn.speaker), interrupts: false });
      },
    };
  }, [conn]);
  useKeys(keys);
  return (
    <section class="card" aria-labelledby="c-floor">
      <h2 id="c-floor">{t("web.floor.title")}</h2>
      <h3>{t("web.floor.speaking")}</h3>
      {turns.length === 0 && <p class="muted">{t("web.floor.nobody")}</p>}
      <ul class="plain" aria-live="polite" data-testid="turns">
        {ordered.map((turn) => (
          <TurnRow key={turn.id} s={s} turn={turn} conn={conn} run={run} ask={ask} give={give} />
        ))}
      </ul>
      <div class="row">
        <h3 class="grow">{t("web.floor.queue", { count: queue.length })}</h3>
        {may("floor.next") && (
          <button
            type="button"
            class="primary"
            data-testid="next-speaker"
            data-command="floor.next"
            aria-keyshortcuts="N"
            disabled={!queue.length}
            onClick={() => queue[0] && give({ cmd: { type: "floor.next" }, who: memberName(s, queue[0].member), interrupts: queue[0].kind === "point_of_order" })}
          >
            {t("web.floor.next")} <kbd>N</kbd>
          </button>
        )}
      </div>
      <ol class="queue" data-testid="queue">
        {queue.map((r) => (
          <li key={r.id} data-testid="queued" data-kind={r.kind} class={r.kind === "point_of_order" ? "poo" : ""}>
            <span>
              {memberName(s, r.member)} <span class={r.kind === "point_of_order" ? "poo-kind" : "muted"}>· {t(`turn.${r.kind}`)}</span>
              {remote.has(r.member) && (
                <span class="badge" data-testid="remote-badge">
                  {t("video.chair.remote_badge")}
                </span>
              )}
            </span>
            <span class="queue-actions">
              {may("floor.grant") && (
                <button
                  type="button"
                  data-testid="grant"
                  data-command="floor.grant"
                  onClick={() => give({ cmd: { type: "floor.grant", request: r.id }, who: memberName(s, r.member), interrupts: r.kind === "point_of_order" })}
                >
                  {t("web.floor.grant")}
                </button>
              )}
              {may("floor.withdraw", r.member) && (
                <button
                  type="button"
                  class="ghost"
                  data-testid="withdraw"
                  data-command="floor.withdraw"
                  data-about={r.member}
                  aria-label={t("web.floor.withdraw_for", { name: memberName(s, r.member) })}
                  onClick={() => run({ type: "floor.withdraw", request: r.id })}
                >
                  {t("web.floor.withdraw")}
                </button>
              )}
            </span>
          </li>
        ))}
      </ol>
      {may("floor.grant") && <GiveFloor s={s} run={run} give={give} rooms={rooms} remote={remote} />}
      <Rounds s={s} run={run} give={give} />
      {!may.ever("floor.grant") && (
        <p class="muted" data-testid="floor-presiding-only">
          {t("web.permits.floor_presiding")}
        </p>
      )}
    </section>
  );
}
