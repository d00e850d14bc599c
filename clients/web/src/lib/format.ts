// Dates and times in the chosen language (lib/i18n.ts), never the browser's locale: a
// gallery screen or a tablet set up in English still shows Vietnamese dates (dd/mm/yyyy,
// 24-hour) when the console is in Vietnamese. In the screen's time zone.
import { lang, t, type Lang } from "./i18n";

/** The Intl locale of each language. English is British: day before month, 24-hour. */
export const LOCALES: Record<Lang, string> = { vi: "vi-VN", en: "en-GB" };

const DATE: Record<Lang, Intl.DateTimeFormatOptions> = {
  vi: { day: "2-digit", month: "2-digit", year: "numeric" }, // 01/12/2026
  en: { day: "numeric", month: "short", year: "numeric" }, // 1 Dec 2026
};
const TIME: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
const SECONDS: Intl.DateTimeFormatOptions = { ...TIME, second: "2-digit" };

const cache = new Map<string, Intl.DateTimeFormat>();
function formatter(kind: string, l: Lang, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${kind}/${l}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALES[l], options);
    cache.set(key, f);
  }
  return f;
}

/** The date of `ms` (epoch milliseconds): 01/12/2026 in vi, 1 Dec 2026 in en. */
export function formatDate(ms: number, l: Lang = lang()): string {
  return formatter("date", l, DATE[l]).format(ms);
}

/** The time of day, 24-hour: 14:05 (14:05:09 with `seconds`). */
export function formatTime(ms: number, l: Lang = lang(), seconds = false): string {
  return seconds ? formatter("seconds", l, SECONDS).format(ms) : formatter("time", l, TIME).format(ms);
}

/** Date and time in the language's order: "14:05 ngày 01/12/2026", "1 Dec 2026, 14:05". */
export function formatDateTime(ms: number, l: Lang = lang()): string {
  return t("format.date_time", { date: formatDate(ms, l), time: formatTime(ms, l) }, l);
}

/** A number with the language's separators. */
export function formatNumber(n: number, digits = 0, l: Lang = lang()): string {
  return n.toLocaleString(LOCALES[l], { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
