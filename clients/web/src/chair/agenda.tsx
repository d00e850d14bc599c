/** The agenda and its motions from the chair console: add, reorder (buttons, not only a
 * drag), remove and move to items; propose a motion with its document and amend it with a
 * new version, whose hash a vote binds to. Each control is shown only when the hub's table
 * permits its command now (lib/permits.ts): moving to an item is for whoever presides. */
import { useState } from "preact/hooks";
import { api, ApiError } from "../lib/connection";
import { t } from "../lib/i18n";
import { useMay } from "../lib/permits";
import type { AgendaItem, Command, Document, Motion, Sitting, Vote } from "../lib/types";
import "./floor.css";

type Run = (cmd: Command) => void;
/** A command waiting for the chair's confirmation (as chair/main.tsx asks). */
export interface Ask {
  title: string;
  body?: string;
  confirm: string;
  cmd: Command;
}

/** The first characters of a document's SHA-256: enough to tell versions apart aloud. */
export const hashPrefix = (hash: string | null | undefined): string => (hash ?? "").slice(0, 8);

/** The version of a motion's text a vote is bound to: "bản 2 · 3fa9c1d0" (after a "· "
 * when `sep`); nothing for an election or a confidence poll. */
export function TextVersion({ vote, sep }: { vote: Vote; sep?: boolean }) {
  if (vote.text_hash == null) return null;
  return (
    <span class="text-version" data-testid="vote-text-version" title={vote.text_hash}>
      {sep && "· "}
      {t("web.motion.version", { version: vote.text_version ?? 1 })} · <code>{hashPrefix(vote.text_hash)}</code>
    </span>
  );
}

function moved(agenda: AgendaItem[], index: number, by: number): string[] {
  const order = agenda.map((i) => i.id);
  const [id] = order.splice(index, 1);
  order.splice(index + by, 0, id);
  return order;
}

/** Upload a file to the sitting and return its hash (the hub registers it: doc.register). */
async function upload(sitting: string, file: File, title: string, item: string | null, supersedes: string | null): Promise<string> {
  const form = new FormData();
  form.append("file", file);
  if (title) form.append("title", title);
  if (item) form.append("item", item);
  if (supersedes) form.append("supersedes", supersedes);
  const stored = await api<{ hash: string }>("POST", `/api/sittings/${encodeURIComponent(sitting)}/documents`, undefined, form);
  return stored.hash;
}

const uploadError = (e: unknown): string => (e instanceof ApiError ? e.text() : String(e));

/** Pick a document of the sitting, or a file to upload as a new one. */
function DocChoice({ s, id, value, exclude, onChoose }: { s: Sitting; id: string; value: string; exclude?: string; onChoose: (v: string, file: File | null) => void }) {
  const docs = Object.values(s.documents).filter((d) => d.hash !== exclude);
  return (
    <div class="stack">
      <label for={`${id}-doc`}>{t("web.motion.document")}</label>
      <select id={`${id}-doc`} data-testid={`${id}-doc`} value={value} onChange={(e) => onChoose(e.currentTarget.value, null)}>
        <option value="">{t("web.motion.upload_new")}</option>
        {docs.map((d: Document) => (
          <option value={d.hash} key={d.hash}>
            {d.title} · {t("web.motion.version", { version: d.version })} · {hashPrefix(d.hash)}
          </option>
        ))}
      </select>
      {!value && (
        <label>
          {t("web.motion.file")}
          <input type="file" data-testid={`${id}-file`} accept="application/pdf,image/png,image/jpeg" onChange={(e) => onChoose("", e.currentTarget.files?.[0] ?? null)} />
        </label>
      )}
    </div>
  );
}

/** A motion's form: a title when it asks for one, the document (one of the sitting's or
 * a file to upload), and what ``submit`` makes of them; an upload's refusal is shown. */
function MotionForm(props: {
  s: Sitting;
  id: string;
  testid: string;
  withTitle: boolean;
  exclude?: string;
  hint?: string;
  label: string;
  submitTestid: string;
  command: string;
  submit: (title: string, doc: string, file: File | null) => Promise<void>;
  onDone: () => void;
}) {
  const { s, id, withTitle } = props;
  const [title, setTitle] = useState("");
  const [doc, setDoc] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const ready = (!withTitle || !!title.trim()) && (!!doc || !!file);
  return (
    <form
      class="stack motion-form"
      data-testid={props.testid}
      onSubmit={async (e) => {
        e.preventDefault();
        if (!ready) return;
        setBusy(true);
        setError("");
        try {
          await props.submit(title.trim(), doc, file);
          props.onDone();
        } catch (err) {
          setError(uploadError(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.hint && <p class="muted">{props.hint}</p>}
      {withTitle && (
        <>
          <label for={`${id}-title`}>{t("web.motion.title_field")}</label>
          <input id={`${id}-title`} data-testid="motion-title" required maxLength={500} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </>
      )}
      <DocChoice s={s} id={id} value={doc} exclude={props.exclude} onChoose={(v, f) => { setDoc(v); setFile(f); }} />
      {error && <p class="warn-text" role="alert">{error}</p>}
      <div class="row">
        <button type="submit" class="primary" data-testid={props.submitTestid} data-command={props.command} disabled={busy || !ready}>
          {props.label}
        </button>
        <button type="button" onClick={props.onDone}>
          {t("web.cancel")}
        </button>
      </div>
    </form>
  );
}

function ProposeForm({ s, run, item, onDone }: { s: Sitting; run: Run; item: string; onDone: () => void }) {
  const submit = async (title: string, doc: string, file: File | null) => {
    const hash = doc || (await upload(s.id, file!, title, item, null));
    run({ type: "motion.propose", title, doc: hash, item });
  };
  return (
    <MotionForm s={s} id={`propose-${item}`} testid="propose-form" withTitle label={t("web.motion.propose")} submitTestid="motion-propose" command="motion.propose" submit={submit} onDone={onDone} />
  );
}

function AmendForm({ s, run, motion, onDone }: { s: Sitting; run: Run; motion: Motion; onDone: () => void }) {
  const submit = async (_title: string, doc: string, file: File | null) => {
    const title = s.documents[motion.doc]?.title ?? motion.title;
    const hash = doc || (await upload(s.id, file!, title, motion.item, motion.doc));
    run({ type: "motion.amend", motion: motion.id, doc: hash });
  };
  return (
    <MotionForm
      s={s}
      id={`amend-${motion.id}`}
      testid="amend-form"
      withTitle={false}
      exclude={motion.doc}
      hint={t("web.motion.amend_hint")}
      label={t("web.motion.amend")}
      submitTestid="motion-amend-submit"
      command="motion.amend"
      submit={submit}
      onDone={onDone}
    />
  );
}

function MotionRow({ s, run, motion }: { s: Sitting; run: Run; motion: Motion }) {
  const [amending, setAmending] = useState(false);
  const doc = s.documents[motion.doc];
  const votes = Object.values(s.votes).filter((v) => v.motion === motion.id);
  const open = votes.some((v) => v.status === "open");
  const may = useMay();
  return (
    <li class="motion" data-testid="motion" data-motion={motion.id}>
      <div>
        <strong>{motion.title}</strong>{" "}
        <span class="muted" data-testid="motion-version" title={motion.doc}>
          · {t("web.motion.version", { version: motion.version })} · <code>{hashPrefix(motion.doc)}</code>
          {doc && ` · ${doc.title}`}
        </span>
      </div>
      {votes.length > 0 && (
        <ul class="plain motion-votes">
          {votes.map((v) => (
            <li key={v.id} data-testid="motion-vote">
              {t(`web.motion.vote_${v.status}`)} · <TextVersion vote={v} />
            </li>
          ))}
        </ul>
      )}
      {may("motion.amend") && !open && !amending && (
        <button type="button" data-testid="motion-amend" data-command="motion.amend" onClick={() => setAmending(true)}>
          {t("web.motion.amend")}
        </button>
      )}
      {amending && may("motion.amend") && <AmendForm s={s} run={run} motion={motion} onDone={() => setAmending(false)} />}
    </li>
  );
}

function ItemRow({ s, run, ask, item, index }: { s: Sitting; run: Run; ask: (a: Ask) => void; item: AgendaItem; index: number }) {
  const [proposing, setProposing] = useState(false);
  const current = item.id === s.current_item;
  const may = useMay();
  const motions = Object.values(s.motions).filter((m) => m.item === item.id);
  const last = s.agenda.length - 1;
  return (
    <li class={current ? "current" : ""} aria-current={current ? "step" : undefined} data-testid="agenda-item" data-item={item.id}>
      <div class="item-head">
        <span class="item-title">
          {item.title}
          {item.presenter && <span class="muted"> · {item.presenter}</span>}
        </span>
        <span class="item-actions">
          {may("agenda.reorder") && (
            <>
              <button
                type="button"
                data-testid="item-up"
                data-command="agenda.reorder"
                disabled={index === 0}
                aria-label={t("web.agenda.up", { title: item.title })}
                onClick={() => run({ type: "agenda.reorder", order: moved(s.agenda, index, -1) })}
              >
                ↑
              </button>
              <button
                type="button"
                data-testid="item-down"
                data-command="agenda.reorder"
                disabled={index === last}
                aria-label={t("web.agenda.down", { title: item.title })}
                onClick={() => run({ type: "agenda.reorder", order: moved(s.agenda, index, 1) })}
              >
                ↓
              </button>
            </>
          )}
          {!current && may("agenda.move") && (
            <button type="button" data-testid={`move-${item.id}`} data-command="agenda.move" onClick={() => run({ type: "agenda.move", item: item.id })}>
              {t("web.agenda.move")}
            </button>
          )}
          {!current && may("agenda.remove") && (
            <button
              type="button"
              class="danger"
              data-testid="item-remove"
              data-command="agenda.remove"
              aria-label={t("web.agenda.remove_item", { title: item.title })}
              onClick={() =>
                ask({
                  title: t("web.agenda.remove_confirm", { title: item.title }),
                  body: motions.length ? t("web.agenda.remove_motions", { count: motions.length }) : undefined,
                  confirm: t("web.agenda.remove"),
                  cmd: { type: "agenda.remove", item: item.id },
                })
              }
            >
              {t("web.agenda.remove_short")}
            </button>
          )}
        </span>
      </div>
      {motions.length > 0 && (
        <ul class="plain motions">
          {motions.map((m) => (
            <MotionRow key={m.id} s={s} run={run} motion={m} />
          ))}
        </ul>
      )}
      {may("motion.propose") &&
        (proposing ? (
          <ProposeForm s={s} run={run} item={item.id} onDone={() => setProposing(false)} />
        ) : (
          <button type="button" class="ghost" data-testid="motion-new" data-command="motion.propose" onClick={() => setProposing(true)}>
            {t("web.motion.new")}
          </button>
        ))}
    </li>
  );
}

export function Agenda({ s, run, ask }: { s: Sitting; run: Run; ask: (a: Ask) => void }) {
  const [title, setTitle] = useState("");
  const [presenter, setPresenter] = useState("");
  const [position, setPosition] = useState("end");
  const loose = Object.values(s.motions).filter((m) => m.item == null || !s.agenda.some((i) => i.id === m.item));
  const may = useMay();
  return (
    <section class="card" aria-labelledby="c-agenda">
      <h2 id="c-agenda">{t("web.agenda.title")}</h2>
      <ol class="agenda agenda-edit" data-testid="agenda">
        {s.agenda.map((i, index) => (
          <ItemRow key={i.id} s={s} run={run} ask={ask} item={i} index={index} />
        ))}
      </ol>
      {loose.length > 0 && (
        <>
          <h3>{t("web.motion.other")}</h3>
          <ul class="plain motions">
            {loose.map((m) => (
              <MotionRow key={m.id} s={s} run={run} motion={m} />
            ))}
          </ul>
        </>
      )}
      {may("agenda.add") && (
        <form
          class="stack add-item"
          data-testid="add-item"
          onSubmit={(e) => {
            e.preventDefault();
            if (!title.trim()) return;
            const cmd: Command = { type: "agenda.add", title: title.trim() };
            if (presenter.trim()) cmd.presenter = presenter.trim();
            if (position !== "end") cmd.position = Number(position);
            run(cmd);
            setTitle("");
            setPresenter("");
            setPosition("end");
          }}
        >
          <label>
            {t("web.agenda.new_title")}
            <input data-testid="item-title" maxLength={500} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          </label>
          <div class="row">
            <label class="grow">
              {t("web.agenda.presenter")}
              <input data-testid="item-presenter" maxLength={200} value={presenter} onInput={(e) => setPresenter(e.currentTarget.value)} />
            </label>
            <label>
              {t("web.agenda.position")}
              <select data-testid="item-position" value={position} onChange={(e) => setPosition(e.currentTarget.value)}>
                {s.agenda.map((i, index) => (
                  <option value={String(index)} key={i.id}>
                    {t("web.agenda.before", { n: index + 1 })}
                  </option>
                ))}
                <option value="end">{t("web.agenda.at_end")}</option>
              </select>
            </label>
          </div>
          <button type="submit" data-testid="item-add" data-command="agenda.add" disabled={!title.trim()}>
            {t("web.agenda.add")}
          </button>
        </form>
      )}
    </section>
  );
}
