import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, login, type Connection, type LiveState } from "../lib/connection";
import { formatClock, LANGS, lang, optionName, setLang, t, useLang, type Lang } from "../lib/i18n";
import type { Figures, LoginInfo, Sitting, Turn, Vote } from "../lib/types";
import { useTick } from "./hooks";

export function LangSwitch() {
  const current = useLang();
  return (
    <div class="lang" role="group" aria-label={t("web.lang.label")}>
      {LANGS.map((l: Lang) => (
        <button
          type="button"
          class={l === current ? "on" : ""}
          aria-pressed={l === current}
          lang={l}
          onClick={() => setLang(l)}
        >
          {t(`web.lang.${l}`)}
        </button>
      ))}
    </div>
  );
}

/** The banner shown whenever the link is not up, and the pending-command count. */
export function LinkBanner({ live }: { live: LiveState }) {
  if (live.status === "open" && live.pending === 0) return null;
  let text = "";
  let cls = "banner";
  if (live.status === "down" || (live.status === "connecting" && live.state)) {
    text = t("web.link.down");
    cls += " banner-down";
  } else if (live.status === "connecting") text = t("web.link.connecting");
  else if (live.status === "unknown") {
    text = t("web.link.unknown_sitting");
    cls += " banner-down";
  } else if (live.status === "auth") {
    text = t("error.auth.invalid");
    cls += " banner-down";
  }
  const pending = live.pending > 0 && live.status !== "open" ? ` ${t("web.link.pending", { count: live.pending })}` : "";
  if (!text && !pending) return null;
  return (
    <div class={cls} role="status" aria-live="assertive" data-testid="link-banner">
      {text}
      {pending}
    </div>
  );
}

export function Notices({ conn, live }: { conn: Connection; live: LiveState }) {
  if (!live.notices.length) return null;
  return (
    <div class="notices" role="alert" aria-live="assertive">
      {live.notices.map((n) => (
        <div class={`notice notice-${n.kind}`} key={n.id}>
          <span>{n.text}</span>
          <button type="button" class="ghost" aria-label={t("web.close")} onClick={() => conn.dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}

export function LoginForm({ onDone, hint }: { onDone: (info: LoginInfo) => void; hint?: string }) {
  useLang();
  const [user, setUser] = useState(new URLSearchParams(location.search).get("user") ?? "");
  const [pass, setPass] = useState("");
  const [err, setErr] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr("");
    try {
      onDone(await login(user.trim(), pass));
    } catch (x) {
      setErr(x instanceof ApiError ? (x.code === "network.down" ? t("web.link.down") : x.text()) : String(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login card" onSubmit={submit}>
      <h2>{t("web.login.title")}</h2>
      {hint && <p class="muted">{hint}</p>}
      <label>
        {t("web.login.username")}
        <input name="username" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
      </label>
      <label>
        {t("web.login.password")}
        <input name="password" type="password" autocomplete="current-password" value={pass} onInput={(e) => setPass(e.currentTarget.value)} required />
      </label>
      {err && (
        <p class="error" role="alert">
          {err}
        </p>
      )}
      <button type="submit" class="primary big" disabled={busy}>
        {t("web.login.submit")}
      </button>
    </form>
  );
}

/** A modal confirmation (native <dialog>: focus trapped, Esc cancels). */
export function Confirm(props: { open: boolean; title: string; body?: ComponentChildren; confirm: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="dlg-title" onCancel={(e) => { e.preventDefault(); props.onCancel(); }}>
      <h2 id="dlg-title">{props.title}</h2>
      {props.body && <div class="dialog-body">{props.body}</div>}
      <div class="row end">
        <button type="button" onClick={props.onCancel}>
          {t("web.cancel")}
        </button>
        <button type="button" class={props.danger ? "danger" : "primary"} onClick={props.onConfirm} autofocus>
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}

/** Remaining time of a turn: from its deadline (server clock) while speaking. */
export function turnRemaining(turn: Turn, serverNow: number): number {
  if (turn.status === "paused" || turn.deadline == null) return turn.remaining_ms;
  return turn.deadline - serverNow;
}

export function Countdown({ turn, conn, big }: { turn: Turn; conn: Connection; big?: boolean }) {
  useTick(250);
  const ms = turnRemaining(turn, conn.now());
  const over = ms < 0;
  const low = !over && ms < 30000;
  return (
    <span
      class={`countdown${big ? " big" : ""}${over ? " over" : low ? " low" : ""}${turn.status === "paused" ? " paused" : ""}`}
      data-testid="countdown"
      role="timer"
      aria-label={t("web.turn.remaining")}
    >
      {formatClock(Math.max(ms, over ? ms : 0))}
    </span>
  );
}

/** Time left in an open vote, if it has a deadline. */
export function VoteClock({ vote, conn }: { vote: Vote; conn: Connection }) {
  useTick(500);
  if (vote.deadline == null) return null;
  const ms = Math.max(0, vote.deadline - conn.now());
  return (
    <span class="vote-clock" role="timer">
      {formatClock(ms)}
    </span>
  );
}

/** The quorum as the hub states it (chamber/figures.py): nothing here counts it. */
export function quorum(f: Figures) {
  return { present: f.present, need: f.quorum_needed, ok: f.quorate, total: f.total_seats };
}

export function QuorumGauge({ figures, big }: { figures: Figures | null; big?: boolean }) {
  useLang();
  if (!figures) return null;
  const q = quorum(figures);
  const pct = (n: number) => `${Math.min(100, (100 * n) / Math.max(1, q.total))}%`;
  return (
    <div class={`quorum${big ? " big" : ""}`} data-testid="quorum">
      <div class="quorum-text">
        <strong>{t("web.quorum.title")}</strong>{" "}
        <span data-testid="quorum-count">{t("web.quorum.count", { present: q.present, total: q.total, needed: q.need })}</span>{" "}
        <span class={q.ok ? "ok-chip" : "warn-chip"}>{q.ok ? t("web.quorum.ok") : t("web.quorum.missing", { missing: q.need - q.present })}</span>
      </div>
      <div
        class="gauge"
        role="meter"
        aria-valuemin={0}
        aria-valuemax={q.total}
        aria-valuenow={q.present}
        aria-label={t("web.quorum.title")}
      >
        <div class={`gauge-fill${q.ok ? " ok" : ""}`} style={{ width: pct(q.present) }} />
        <div class="gauge-mark" style={{ left: pct(q.need) }} title={String(q.need)} />
      </div>
    </div>
  );
}

const BAR_COLORS: Record<string, string> = {
  approve: "#1b7a3a",
  reject: "#b3261e",
  abstain: "#5f6368",
  strike: "#b3261e",
  high: "#1b7a3a",
  confident: "#1a5fb4",
  low: "#b3261e",
};

/** The result of one question as an SVG bar chart. */
export function ResultBars({ vote, question, big }: { vote: Vote; question: string; big?: boolean }) {
  const counts = vote.result?.outcomes.find((o) => o.question === question)?.counts ?? vote.counts[question] ?? {};
  const options = vote.options;
  const max = Math.max(1, vote.result?.total_seats ?? 1, ...options.map((o) => counts[o] ?? 0));
  const rowH = big ? 96 : 44;
  const labelW = big ? 560 : 210;
  const width = big ? 1500 : 460;
  const barMax = width - labelW - (big ? 140 : 70);
  const h = rowH * options.length;
  return (
    <svg class="bars" viewBox={`0 0 ${width} ${h}`} width="100%" role="img" aria-label={options.map((o) => `${optionName(o)}: ${counts[o] ?? 0}`).join("; ")}>
      {options.map((o, i) => {
        const n = counts[o] ?? 0;
        const w = Math.round((barMax * n) / max);
        const y = i * rowH;
        const fs = big ? 48 : 20;
        return (
          <g key={o}>
            <text x={0} y={y + rowH * 0.62} font-size={fs} fill="currentColor">
              {optionName(o)}
            </text>
            <rect x={labelW} y={y + rowH * 0.15} width={Math.max(w, 2)} height={rowH * 0.7} fill={BAR_COLORS[o] ?? "#1a5fb4"} rx={4} />
            <text x={labelW + Math.max(w, 2) + 12} y={y + rowH * 0.62} font-size={fs} font-weight="700" fill="currentColor">
              {n}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

export function Header({ s, title, children }: { s: Sitting | null; title: string; children?: ComponentChildren }) {
  useLang();
  return (
    <header class="top">
      <div class="top-title">
        <span class="brand">{t("web.brand")}</span>
        <span class="console-name">{title}</span>
        {s && <span class="sitting-name">{s.title}</span>}
      </div>
      <div class="top-tools">
        {children}
        <LangSwitch />
      </div>
    </header>
  );
}

export function PhaseChip({ s }: { s: Sitting }) {
  return (
    <span class={`phase phase-${s.phase}`} data-testid="phase">
      {t(`phase.${s.phase}`)}
    </span>
  );
}

export const currentLang = lang;
