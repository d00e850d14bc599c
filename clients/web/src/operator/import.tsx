/** Members from a CSV file saved by Excel: the hub checks it and answers a preview, row by
 * row with each error beside its cell; the operator adds them all at once, or none. */
import { useState } from "preact/hooks";
import { t } from "../lib/i18n";
import { type FieldError, fieldText, FormNote, type MemberRow, send, useForm } from "./shared";

interface Checked {
  ok: boolean;
  rows: { line: number; name: string; seat: string; roles: string[]; errors: FieldError[] }[];
  errors: FieldError[];
  added: MemberRow[];
}

const COLUMNS = ["name", "seat", "roles"] as const;

export function ImportMembers({ council, done }: { council: string; done: () => void }) {
  const [file, setFile] = useState<{ name: string; data: ArrayBuffer } | null>(null);
  const [preview, setPreview] = useState<Checked | null>(null);
  const [out, run, clear] = useForm([]);
  const post = (data: ArrayBuffer, commit: boolean) => send<Checked>("POST", `/api/councils/${council}/members/import${commit ? "?commit=true" : ""}`, undefined, { data, type: "text/csv" });
  const check = async (f: { name: string; data: ArrayBuffer }) => {
    setPreview(null);
    clear();
    try {
      setPreview(await post(f.data, false));
    } catch (e) {
      await run(() => Promise.reject(e), "");
    }
  };
  const bad = preview ? preview.rows.filter((r) => r.errors.length).length : 0;
  return (
    <section class="card no-print" aria-labelledby="import-title">
      <h2 id="import-title">{t("web.opm.import")}</h2>
      <p class="muted">{t("web.opm.import_hint")}</p>
      <label>
        {t("web.opm.import_file")}
        <input
          type="file"
          accept=".csv,text/csv"
          data-testid="import-file"
          onChange={async (e) => {
            const picked = e.currentTarget.files?.[0];
            if (!picked) return;
            const f = { name: picked.name, data: await picked.arrayBuffer() };
            setFile(f);
            await check(f);
          }}
        />
      </label>
      <FormNote out={out} />
      {preview && (
        <>
          <h3>{t("web.opm.preview", { rows: preview.rows.length, file: file?.name ?? "" })}</h3>
          {preview.errors.map((f, i) => (
            <p class="error" role="alert" key={i}>
              {fieldText(f)}
            </p>
          ))}
          <p class={bad ? "error" : "ok-text"} data-testid="import-summary">
            {bad ? t("web.opm.preview_bad", { bad, rows: preview.rows.length }) : t("web.opm.preview_ok", { rows: preview.rows.length })}
          </p>
          <table data-testid="import-preview">
            <thead>
              <tr>
                <th>{t("web.opm.line")}</th>
                <th>{t("web.member.name")}</th>
                <th>{t("web.member.seat")}</th>
                <th>{t("web.op.roles")}</th>
              </tr>
            </thead>
            <tbody>
              {preview.rows.map((r) => (
                <tr key={r.line} class={r.errors.length ? "bad-row" : ""}>
                  <td>{r.line}</td>
                  {COLUMNS.map((c) => {
                    const errs = r.errors.filter((f) => f.field === c);
                    return (
                      <td key={c}>
                        {c === "roles" ? r.roles.map((x) => t(`role.${x}`)).join(", ") : r[c]}
                        {errs.map((f, i) => (
                          <span class="field-error" key={i}>
                            {fieldText(f)}
                          </span>
                        ))}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          <div class="row">
            <button
              type="button"
              class="primary"
              disabled={!preview.ok}
              onClick={async () => {
                try {
                  const r = await post(file!.data, true);
                  setPreview(null);
                  setFile(null);
                  await run(() => Promise.resolve(), t("web.opm.imported", { count: r.added.length }));
                  done();
                } catch (e) {
                  await run(() => Promise.reject(e), "");
                }
              }}
            >
              {t("web.opm.import_commit", { rows: preview.rows.length })}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
