// What this console may issue, as the hub says in the welcome (docs/protocol.md#welcome,
// chamber/permissions.py): the console shows a control only when its command is permitted
// in the sitting's current phase. It computes no rule of its own; the hub still decides
// every command, so a table out of date can only show a control the hub then refuses.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { LiveState } from "./connection";
import type { Permits } from "./types";

/** Whether ``type`` may be issued now; ``about``: the member it concerns, when it may be
 * someone other than the console's own member (their presence, request or turn).
 * ``ever``: whether it may be issued in some phase (to say why a control is not there),
 * with ``another``: about another member too. */
export type May = ((type: string, about?: string | null) => boolean) & { ever: (type: string, another?: boolean) => boolean };

/** The phase a table names for "no sitting yet". */
const NO_SITTING = "none";

export function permitted(permits: Permits | null, phase: string | null | undefined, type: string, me: string | null, about?: string | null): boolean {
  if (!permits) return false;
  const phases = permits.commands[type];
  if (!phases || !phases.includes(phase ?? NO_SITTING)) return false;
  return about == null || about === me || permits.others.includes(type);
}

/** ``may`` for a connection's live state (read it again for each key press). */
export function mayOf(live: LiveState): May {
  const may = (type: string, about?: string | null) => permitted(live.permits, live.state?.phase, type, live.member, about);
  const ever = (type: string, another = false) => !!live.permits?.commands[type] && (!another || live.permits.others.includes(type));
  return Object.assign(may, { ever });
}

export const MayContext = createContext<May>(Object.assign(() => false, { ever: () => false }));

/** The console's ``may``, provided once by its page (chair/main.tsx, delegate/main.tsx). */
export const useMay = (): May => useContext(MayContext);
