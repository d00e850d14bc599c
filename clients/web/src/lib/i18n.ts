// The message catalogue, bundled at build time from server/locale/<lang>/*.json
// (the same files the hub uses). Vietnamese by default; the choice is remembered.
import { useEffect, useState } from "preact/hooks";
import type { Result, Threshold, Vote } from "./types";

export type Lang = "vi" | "en";
export const LANGS: Lang[] = ["vi", "en"];
const STORE = "nghitruong.lang";

// Every area file of server/locale/<lang>/ but the command line's and the demo data's,
// merged in file-name order as server/i18n.py merges them.
const FILES = import.meta.glob<Record<string, string>>(["../../../../server/locale/*/*.json", "!../../../../server/locale/*/cli.json", "!../../../../server/locale/*/demo.json"], { eager: true, import: "default" });

function catalogue(l: Lang): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const path of Object.keys(FILES).sort()) {
    const m = /\/locale\/(\w+)\/\w+\.json$/.exec(path);
    if (m && m[1] === l) Object.assign(merged, FILES[path]);
  }
  return merged;
}

const CATALOGUES: Record<Lang, Record<string, string>> = { vi: catalogue("vi"), en: catalogue("en") };

function initial(): Lang {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl === "vi" || fromUrl === "en") return fromUrl;
  try {
    const stored = localStorage.getItem(STORE);
    if (stored === "vi" || stored === "en") return stored;
  } catch {
    /* storage may be unavailable */
  }
  return "vi";
}

let current: Lang = initial();
const listeners = new Set<(l: Lang) => void>();
document.documentElement.lang = current;

export const lang = (): Lang => current;

/** Switch to `l`; remembered for the next visit unless `remember` is false (a wall
 * screen whose URL chooses its language). */
export function setLang(l: Lang, remember = true): void {
  if (l === current) return;
  current = l;
  if (remember) {
    try {
      localStorage.setItem(STORE, l);
    } catch {
      /* ignore */
    }
  }
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

export function onLang(fn: (l: Lang) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Re-render the calling component when the language changes; returns the language. */
export function useLang(): Lang {
  const [l, set] = useState(current);
  useEffect(() => onLang(set), []);
  return l;
}

export function has(key: string, l: Lang = current): boolean {
  return key in CATALOGUES[l];
}

/** The message for `key` with `{name}` placeholders filled; falls back to vi, then the key. */
export function t(key: string, params: Record<string, unknown> = {}, l: Lang = current): string {
  const text = CATALOGUES[l][key] ?? CATALOGUES.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

// Domain words.
export const phaseName = (p: string) => t(`phase.${p}`);
export const optionName = (o: string) => t(`option.${o}`);
export const turnKindName = (k: string) => t(`turn.${k}`);
export const roleName = (r: string) => t(`role.${r}`);

export function thresholdWords(th: Threshold): string {
  const key = `fraction.${th.num}/${th.den}`;
  const fraction = has(key) ? t(key) : t("fraction.other", { num: th.num, den: th.den });
  return t("threshold", { comparison: t(`comparison.${th.comparison}`), fraction, base: t(`base.${th.base}`) });
}

/** The verdict lines of a finished vote, as server/verdicts.py renders them. */
export function verdictLines(vote: Vote, result: Result): string[] {
  const names = Object.fromEntries(vote.questions.map((q) => [q.id, q.label]));
  if (result.kind === "motion") {
    const o = result.outcomes[0];
    return [
      t("verdict.motion", {
        count: o?.approvals ?? 0,
        base_count: result.base_count,
        base_unit: t(`verdict.unit.${result.threshold.base}`),
        option: t(`option.${vote.rule.option}`).toLowerCase(),
        threshold: thresholdWords(result.threshold),
        needed: result.needed,
        outcome: t(result.passed ? "verdict.passed" : "verdict.failed"),
      }),
    ];
  }
  if (result.kind === "election") {
    return result.outcomes.map((o) =>
      t("verdict.candidate", {
        name: names[o.question] ?? o.question,
        count: o.approvals,
        total: result.total_seats,
        needed: result.needed,
        outcome: t(`verdict.${o.status}`),
      }),
    );
  }
  return result.outcomes.map((o) =>
    t("verdict.official", {
      name: names[o.question] ?? o.question,
      high: o.counts.high ?? 0,
      confident: o.counts.confident ?? 0,
      low: o.counts.low ?? 0,
      note: o.status ? t(`verdict.${o.status}`) : "",
    }),
  );
}

/** A typed error in the user's language: the catalogue's `error.<code>` when it has
 * one (so a language switch applies), else the server's message. */
export function errorText(code: string, message: string | undefined, params: Record<string, unknown> = {}): string {
  const key = `error.${code}`;
  if (has(key) || has(key, "vi")) {
    const p: Record<string, unknown> = { ...params };
    if (typeof p.role === "string" && has(`role.${p.role}`)) p.role = t(`role.${p.role}`);
    if (typeof p.state === "string" && has(`phase.${p.state}`)) p.state = t(`phase.${p.state}`);
    return t(key, p);
  }
  return message || code;
}

export function formatClock(ms: number): string {
  const neg = ms < 0;
  const total = Math.floor(Math.abs(ms) / 1000);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${neg ? "−" : ""}${m}:${String(s).padStart(2, "0")}`;
}
