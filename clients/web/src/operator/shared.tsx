/** What the operator console's tabs share: the registry rows and small async helpers. */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, type FieldError } from "../lib/connection";
import { errorText, t } from "../lib/i18n";

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
  /** False: deactivated, kept for the records, on no new sitting's roster. */
  active: boolean;
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

export type { FieldError };

/** A field error in the chosen language: the catalogue's `error.<code>` (so a language
 * switch applies), else the server's message. */
export const fieldText = (f: FieldError) => errorText(f.code, f.message, f.params);

/** An operator's request: `api`, which keeps the field errors of a refusal. */
export const send = api;

/** A message rendered when shown, so that a language switch applies to it. */
export type Text = () => string;

/** What a form's last submission came to: a note of success, or the refusal's field
 * errors by field and what belongs to no field shown (``general``). */
export interface Outcome {
  ok: string;
  general: Text[];
  fields: Record<string, Text[]>;
}
const NONE: Outcome = { ok: "", general: [], fields: {} };

/** A form's submission state: ``run`` sends, and sorts a refusal's field errors onto the
 * form's ``known`` fields; the rest (and a refusal without fields) is ``general``. */
export function useForm(known: string[]): [Outcome, (fn: () => Promise<unknown>, okText: string) => Promise<boolean>, () => void] {
  const [out, setOut] = useState<Outcome>(NONE);
  const run = async (fn: () => Promise<unknown>, okText: string) => {
    try {
      await fn();
      setOut({ ...NONE, ok: okText });
      return true;
    } catch (e) {
      setOut(refusal(e, known));
      return false;
    }
  };
  return [out, run, () => setOut(NONE)];
}

export function refusal(e: unknown, known: string[]): Outcome {
  const out: Outcome = { ok: "", general: [], fields: {} };
  const fields = e instanceof ApiError ? e.fields : [];
  for (const f of fields) {
    // "agenda[2].title": beside the "agenda" field, naming its line
    const item = /^(\w+)\[(\d+)\]/.exec(f.field);
    if (known.includes(f.field)) (out.fields[f.field] ??= []).push(() => fieldText(f));
    else if (item && known.includes(item[1])) (out.fields[item[1]] ??= []).push(() => `${t("web.opm.line_n", { n: Number(item[2]) + 1 })}: ${fieldText(f)}`);
    else out.general.push(() => fieldText(f));
  }
  if (!fields.length) out.general.push(() => (e instanceof ApiError ? e.text() : String(e)));
  return out;
}

/** Attributes that tie an input to its error text (screen readers read it with the field). */
export function invalidProps(out: Outcome, field: string, id: string) {
  const bad = !!out.fields[field]?.length;
  return { id, "aria-invalid": bad ? ("true" as const) : undefined, "aria-describedby": bad ? `${id}-error` : undefined };
}

/** A labelled field with the server's reasons beside it. */
export function Field({ id, label, out, field, children, wide }: { id: string; label: string; out: Outcome; field: string; children: ComponentChildren; wide?: boolean }) {
  const errors = out.fields[field] ?? [];
  return (
    <div class={`field${wide ? " wide" : ""}${errors.length ? " invalid" : ""}`}>
      <label for={id}>{label}</label>
      {children}
      {errors.length > 0 && (
        <p class="field-error" id={`${id}-error`} data-testid={`error-${field}`}>
          {errors.map((x) => x()).join(" ")}
        </p>
      )}
    </div>
  );
}

/** A form's outcome: the success note, or what belongs to no single field. */
export function FormNote({ out }: { out: Outcome }) {
  if (out.ok) return <Msg text={out.ok} ok />;
  if (!out.general.length) return null;
  return <Msg text={out.general.map((x) => x()).join(" ")} />;
}
