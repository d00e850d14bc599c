/** What the operator console's tabs share: the registry rows and small async helpers. */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../lib/connection";
import { t } from "../lib/i18n";

export interface CouncilRow {
  id: string;
  name: string;
  total_seats: number;
  kind: string;
  parent: string | null;
}
export interface MemberRow {
  id: string;
  council: string;
  name: string;
  seat: string;
  roles: string[];
  username: string | null;
}
export interface SittingRow {
  id: string;
  council: string;
  title: string;
  scheduled_at: number;
  phase: string;
}
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): [T | null, () => void, string] {
  const [data, setData] = useState<T | null>(null);
  const [err, setErr] = useState("");
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load()
      .then((d) => live && (setData(d), setErr("")))
      .catch((e) => live && setErr(e instanceof ApiError ? e.text() : String(e)));
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return [data, () => setN(n + 1), err];
}

/** The council an operator's page works on: a labelled choice of every council. */
export function CouncilPicker({ councils, value, onChange }: { councils: CouncilRow[]; value: string; onChange: (id: string) => void }) {
  return (
    <label>
      {t("web.op.council")}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {councils.map((c) => (
          <option value={c.id} key={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function Msg({ text, ok }: { text: string; ok?: boolean }) {
  if (!text) return null;
  return (
    <p class={ok ? "ok-text" : "error"} role={ok ? "status" : "alert"}>
      {text}
    </p>
  );
}

export async function attempt(fn: () => Promise<unknown>, setMsg: (m: [string, boolean]) => void, okText: string) {
  try {
    await fn();
    setMsg([okText, true]);
    return true;
  } catch (e) {
    setMsg([e instanceof ApiError ? e.text() : String(e), false]);
    return false;
  }
}
