// apply(state, event) -> state, exactly as chamber/apply.py does it. Immutable: every
// change returns a new Sitting sharing what did not change (so Preact sees the change).
import type { ChamberEvent, EventItem, Presence, Sitting, Turn, Vote, VoteView } from "./types";
import { PRESENT } from "./types";

function scheduled(ev: Extract<ChamberEvent, { type: "sitting.scheduled" }>): Sitting {
  const c = ev.council;
  return {
    id: ev.sitting,
    council: c,
    title: ev.title,
    rules: ev.rules,
    scheduled_at: ev.scheduled_at,
    phase: "scheduled",
    opened_at: null,
    closed_at: null,
    agenda: ev.agenda,
    current_item: null,
    roster: Object.fromEntries(c.members.map((m) => [m.id, m])),
    attendance: Object.fromEntries(c.members.map((m) => [m.id, "absent" as Presence])),
    excuses: {},
    guests: Object.fromEntries(c.guests.map((g) => [g.id, g])),
    queue: [],
    turns: {},
    rounds: {},
    speaking_ms: {},
    speeches: {},
    documents: {},
    presentation: null,
    motions: {},
    votes: {},
    seq: 0,
    head: "",
  };
}

const without = <T>(o: Record<string, T>, key: string): Record<string, T> => {
  const copy = { ...o };
  delete copy[key];
  return copy;
};

const withTurn = (s: Sitting, turn: Turn): Sitting => ({ ...s, turns: { ...s.turns, [turn.id]: turn } });
const withVote = (s: Sitting, vote: Vote): Sitting => ({ ...s, votes: { ...s.votes, [vote.id]: vote } });

function addCounts(
  counts: Record<string, Record<string, number>>,
  answers: Record<string, string>,
  sign: number,
): void {
  for (const [question, option] of Object.entries(answers)) {
    const per = counts[question];
    if (per === undefined) continue; // a projection hid the counts: a ballot seen does not reveal them
    per[option] = (per[option] ?? 0) + sign;
  }
}

/** Apply one event at time `at` (ms). Unknown event types leave the state unchanged. */
export function applyEvent(s: Sitting | null, ev: ChamberEvent, at: number): Sitting | null {
  if (ev.type === "sitting.scheduled") return scheduled(ev);
  if (s === null) return s;
  switch (ev.type) {
    case "sitting.phase":
      if (ev.phase === "opened") return { ...s, phase: ev.phase, opened_at: at };
      if (ev.phase === "closed") return { ...s, phase: ev.phase, closed_at: at, queue: [], presentation: null };
      return { ...s, phase: ev.phase };
    case "agenda.added": {
      const agenda = [...s.agenda];
      agenda.splice(ev.position, 0, ev.item);
      return { ...s, agenda };
    }
    case "agenda.reordered": {
      const byId = new Map(s.agenda.map((i) => [i.id, i]));
      return { ...s, agenda: ev.order.map((id) => byId.get(id)!).filter(Boolean) };
    }
    case "agenda.current":
      return { ...s, current_item: ev.item };
    case "agenda.removed": {
      const fallen = new Set(ev.motions ?? []);
      const documents: Sitting["documents"] = {};
      for (const [h, d] of Object.entries(s.documents)) documents[h] = d.item === ev.item ? { ...d, item: null } : d;
      return {
        ...s,
        agenda: s.agenda.filter((i) => i.id !== ev.item),
        queue: s.queue.filter((r) => r.item !== ev.item),
        motions: Object.fromEntries(Object.entries(s.motions).filter(([k]) => !fallen.has(k))),
        documents,
      };
    }
    case "roster.guest_added":
      return { ...s, guests: { ...s.guests, [ev.guest.id]: ev.guest } };
    case "attendance.changed": {
      // chamber/apply.py: an excused member's reason is kept until their presence changes.
      const { [ev.member]: _dropped, ...excuses } = s.excuses ?? {};
      if (ev.presence === "excused") excuses[ev.member] = ev.note ?? "";
      return { ...s, attendance: { ...s.attendance, [ev.member]: ev.presence }, excuses };
    }
    case "floor.requested": {
      if (ev.position == null) return { ...s, queue: [...s.queue, ev.request] };
      const queue = [...s.queue];
      queue.splice(ev.position, 0, ev.request); // a point of order, placed by the core
      return { ...s, queue };
    }
    case "floor.withdrawn":
      return { ...s, queue: s.queue.filter((r) => r.id !== ev.request) };
    case "turn.started": {
      const turn = ev.turn;
      const key = `${turn.item}|${turn.speaker}|${turn.kind}`;
      let queue = ev.request == null ? s.queue : s.queue.filter((r) => r.id !== ev.request);
      let rounds = s.rounds;
      if (turn.round != null && rounds[turn.round]) {
        let r = rounds[turn.round];
        if (turn.kind === "answer") {
          r = { ...r, answered: true };
          queue = queue.filter((q) => q.round !== r.id);
        } else {
          r = { ...r, questions: [...r.questions, turn.id] };
        }
        rounds = { ...rounds, [r.id]: r };
      }
      return {
        ...s,
        queue,
        rounds,
        turns: { ...s.turns, [turn.id]: turn },
        speeches: { ...s.speeches, [key]: (s.speeches[key] ?? 0) + 1 },
      };
    }
    case "turn.paused": {
      const turn = s.turns[ev.turn];
      if (!turn) return s;
      return withTurn(s, { ...turn, status: "paused", elapsed_ms: ev.elapsed_ms, remaining_ms: ev.remaining_ms, deadline: null });
    }
    case "turn.resumed": {
      const turn = s.turns[ev.turn];
      if (!turn) return s;
      return withTurn(s, { ...turn, status: "speaking", since: at, deadline: ev.deadline });
    }
    case "turn.extended": {
      const turn = s.turns[ev.turn];
      if (!turn) return s;
      const extra = ev.seconds * 1000;
      return withTurn(s, {
        ...turn,
        deadline: ev.deadline,
        limit_ms: ev.limit_ms,
        remaining_ms: turn.status === "paused" ? turn.remaining_ms + extra : turn.remaining_ms,
      });
    }
    case "turn.ended":
      return {
        ...s,
        turns: without(s.turns, ev.turn),
        speaking_ms: { ...s.speaking_ms, [ev.speaker]: (s.speaking_ms[ev.speaker] ?? 0) + ev.elapsed_ms },
      };
    case "round.opened":
      return { ...s, rounds: { ...s.rounds, [ev.round.id]: ev.round } };
    case "round.closed": {
      const old = s.rounds[ev.round];
      if (!old) return s;
      const r = { ...old, answered: true };
      return { ...s, rounds: { ...s.rounds, [r.id]: r }, queue: s.queue.filter((q) => q.round !== r.id) };
    }
    case "doc.registered":
      return { ...s, documents: { ...s.documents, [ev.doc.hash]: ev.doc } };
    case "doc.presented":
      if (ev.doc == null) return { ...s, presentation: null };
      return { ...s, presentation: { doc: ev.doc, page: ev.page, by: ev.by } };
    case "motion.proposed":
      return { ...s, motions: { ...s.motions, [ev.motion.id]: ev.motion } };
    case "motion.amended": {
      const m = s.motions[ev.motion];
      if (!m) return s;
      return {
        ...s,
        motions: { ...s.motions, [m.id]: { ...m, doc: ev.doc, version: ev.version, history: [...m.history, ev.doc] } },
      };
    }
    case "vote.opened":
      return withVote(s, { ...ev.vote, item: s.current_item }); // as chamber/apply.py
    case "ballot.cast": {
      const vote = s.votes[ev.vote];
      if (!vote) return s;
      const voted = vote.voted.includes(ev.member) ? vote.voted : [...vote.voted, ev.member];
      if (ev.answers == null) return withVote(s, { ...vote, voted }); // secret: no choice here
      const counts: Record<string, Record<string, number>> = {};
      for (const [q, per] of Object.entries(vote.counts)) counts[q] = { ...per };
      const previous = vote.ballots[ev.member];
      if (previous) addCounts(counts, previous, -1);
      addCounts(counts, ev.answers, 1);
      return withVote(s, { ...vote, voted, ballots: { ...vote.ballots, [ev.member]: ev.answers }, counts });
    }
    case "vote.closed": {
      const vote = s.votes[ev.vote];
      if (!vote) return s;
      const counts = Object.fromEntries(ev.result.outcomes.map((o) => [o.question, { ...o.counts }]));
      return withVote(s, { ...vote, status: "closed", result: ev.result, counts, closed_at: at });
    }
    case "vote.cancelled": {
      const vote = s.votes[ev.vote];
      if (!vote) return s;
      let counts = vote.counts;
      if (vote.form === "secret") {
        counts = Object.fromEntries(
          Object.entries(counts).map(([q, per]) => [q, Object.fromEntries(Object.keys(per).map((o) => [o, 0]))]),
        );
      }
      return withVote(s, { ...vote, status: "cancelled", counts, closed_at: at });
    }
    default:
      return s;
  }
}

/** Apply a batch of event items in order; the state's seq follows the items. */
export function applyEvents(s: Sitting | null, items: EventItem[], to: number): Sitting | null {
  let state = s;
  for (const item of items) {
    state = applyEvent(state, item.event, item.at);
    if (state) state = { ...state, seq: item.seq };
  }
  if (state && state.seq !== to) state = { ...state, seq: to };
  return state;
}

// Derived views, as chamber/model.py Sitting methods.

export function presentCount(s: Sitting): number {
  let n = 0;
  for (const p of Object.values(s.attendance)) if (PRESENT.has(p)) n++;
  return n;
}

export const isPresent = (s: Sitting, member: string): boolean => PRESENT.has(s.attendance[member] ?? "absent");

export function openVote(s: Sitting): Vote | null {
  for (const v of Object.values(s.votes)) if (v.status === "open") return v;
  return null;
}

/** The latest vote (open, else the most recently opened). */
export function latestVote(s: Sitting): Vote | null {
  let best: Vote | null = null;
  for (const v of Object.values(s.votes)) if (!best || v.opened_at >= best.opened_at) best = v;
  return best;
}

export function itemQueue(s: Sitting, item: string | null = null) {
  const target = item ?? s.current_item;
  return s.queue.filter((r) => r.item === target);
}

export function activeTurns(s: Sitting): Turn[] {
  return Object.values(s.turns).sort((a, b) => a.started_at - b.started_at);
}

export function memberName(s: Sitting, id: string | null | undefined): string {
  if (!id) return "";
  return s.roster[id]?.name ?? s.guests[id]?.name ?? id;
}

/** The conflated view of the open vote, kept beside the state. */
export type VoteViewState = { view: VoteView | null; present: number; seq: number };
