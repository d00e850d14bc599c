// The gallery's pieces: its head (council, sitting, wall clock, phase), the agenda with
// the current item marked, the floor, the quiet reconnect marker, and which vote to show.
import { useEffect, useRef } from "preact/hooks";
import type { Connection, LiveState } from "../lib/connection";
import { formatDate, formatTime } from "../lib/format";
import { t } from "../lib/i18n";
import { activeTurns, itemQueue, latestVote, memberName } from "../lib/reducer";
import type { Sitting, Vote } from "../lib/types";
import { Countdown } from "../ui/common";
import { useTick } from "../ui/hooks";

/** The time of day on the hub's clock, large, and the date. */
export function WallClock({ conn }: { conn: Connection }) {
  useTick(1000);
  const now = conn.now();
  return (
    <div class="g-clock" role="timer" aria-live="off" aria-label={t("gallery.clock")}>
      <div class="g-time" data-testid="g-clock">
        {formatTime(now)}
      </div>
      <div class="g-date" data-testid="g-date">
        {formatDate(now)}
      </div>
    </div>
  );
}

export function Head({ s, conn }: { s: Sitting; conn: Connection }) {
  return (
    <header class="g-head">
      <div class="g-titles">
        <div class="g-council clamp">{s.council.name}</div>
        <h1 class="g-title clamp" data-testid="g-title">
          {s.title}
        </h1>
      </div>
      <WallClock conn={conn} />
      <span class={`g-phase phase-${s.phase}`} data-testid="phase">
        {t(`phase.${s.phase}`)}
      </span>
    </header>
  );
}

export function CurrentItem({ s }: { s: Sitting }) {
  const item = s.agenda.find((i) => i.id === s.current_item);
  return (
    <div class="g-item" data-testid="g-item">
      <span class="g-label">{t("web.agenda.current")}</span>
      <span class="g-item-title clamp">{item ? item.title : t("web.agenda.none")}</span>
    </div>
  );
}

/** The agenda, the current item marked and kept in view. */
export function AgendaList({ s }: { s: Sitting }) {
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const ol = list.current;
    const li = ol?.querySelector<HTMLElement>("li.current");
    if (!ol || !li) return;
    if (li.offsetTop < ol.scrollTop || li.offsetTop + li.offsetHeight > ol.scrollTop + ol.clientHeight) {
      ol.scrollTop = Math.max(0, li.offsetTop - ol.clientHeight / 3);
    }
  }, [s.current_item, s.agenda.length]);
  return (
    <section class="g-agenda" aria-labelledby="g-agenda-title">
      <h2 id="g-agenda-title">{t("gallery.agenda")}</h2>
      <ol ref={list} data-testid="g-agenda">
        {s.agenda.map((item) => {
          const current = item.id === s.current_item;
          return (
            <li
              key={item.id}
              class={current ? "current" : ""}
              aria-current={current ? "step" : undefined}
              data-testid="g-agenda-item"
              data-item={item.id}
            >
              <span class="g-agenda-title clamp">{item.title}</span>
              {item.presenter && <span class="g-presenter clamp">{item.presenter}</span>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

export function Floor({ s, conn, next: shown }: { s: Sitting; conn: Connection; next: number }) {
  const turns = activeTurns(s);
  const next = itemQueue(s).slice(0, shown);
  return (
    <section class="g-floor" aria-label={t("web.floor.title")}>
      <h2>{t("web.gallery.speaking")}</h2>
      {turns.length === 0 && <p class="g-none">{t("web.floor.nobody")}</p>}
      {turns.map((turn) => (
        <div class="g-speaker" data-testid="g-speaker" key={turn.id}>
          <div class="g-who">
            <div class="g-name clamp">{memberName(s, turn.speaker)}</div>
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

/** A small marker while the link is down: the screen keeps its last state meanwhile. */
export function Reconnect({ live }: { live: LiveState }) {
  if (live.status === "open") return null;
  return (
    <div class="g-reconnect" role="status" data-testid="g-reconnect">
      {t("gallery.reconnecting")}
    </div>
  );
}

/** The vote to show: an open one always; a finished one only while the agenda item that
 * was current when it opened (the hub's ``vote.item``) still is, so a result never
 * lingers into the next item, whenever the screen was loaded. */
export function useShownVote(s: Sitting): Vote | null {
  const vote = latestVote(s);
  if (!vote || vote.status === "cancelled") return null;
  if (vote.status === "open") return vote;
  return (vote.item ?? null) === s.current_item ? vote : null;
}
