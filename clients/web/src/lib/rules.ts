// The arithmetic of chamber/rules.py (Threshold.needed) and chamber/tally.py
// (base_count, reachable_needed): integers only, like the core.
import type { Threshold } from "./types";

export function needed(th: Threshold, baseCount: number): number {
  const product = baseCount * th.num;
  if (th.comparison === "more_than") return Math.floor(product / th.den) + 1;
  return Math.max(1, Math.ceil(product / th.den)); // never less than one, as the core
}

export function baseCount(th: Threshold, totalSeats: number, present: number, cast: number): number {
  return th.base === "total_seats" ? totalSeats : th.base === "present" ? present : cast;
}

/** At vote opening: the count needed if the members present cannot reach it, else null. */
export function reachableNeeded(th: Threshold, totalSeats: number, present: number): number | null {
  const n = needed(th, baseCount(th, totalSeats, present, present));
  return n > present ? n : null;
}
