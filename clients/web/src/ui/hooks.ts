import { useEffect, useState } from "preact/hooks";
import type { Connection, LiveState } from "../lib/connection";

/** The connection's live state; re-renders on every change. */
export function useLive(conn: Connection): LiveState {
  const [live, set] = useState(conn.live);
  useEffect(() => {
    set(conn.live);
    return conn.subscribe(() => set(conn.live));
  }, [conn]);
  return live;
}

/** Re-render every `ms` milliseconds (countdowns). */
export function useTick(ms = 250): number {
  const [now, set] = useState(Date.now());
  useEffect(() => {
    const id = window.setInterval(() => set(Date.now()), ms);
    return () => window.clearInterval(id);
  }, [ms]);
  return now;
}

export function param(name: string): string | null {
  return new URLSearchParams(location.search).get(name);
}

/** Keyboard shortcuts, ignored while typing in a field or when a dialog is open. */
export function useKeys(map: Record<string, () => void>, enabled = true): void {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const el = e.target as HTMLElement | null;
      if (el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable)) return;
      if (document.querySelector("dialog[open]")) return;
      const fn = map[e.key] ?? map[e.key.toLowerCase()];
      if (fn) {
        e.preventDefault();
        fn();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [map, enabled]);
}
