/** Setting up an election or a confidence poll from the chair console, beside the motion
 * vote set-up: a kind of vote is chosen first, then its form. Both are secret ballots by
 * law (chamber/voting.py fixes the form); what the chair sets is the title, the list
 * (candidates or officials, in ballot order) and, for an election, how many to elect. */
import { useState } from "preact/hooks";
import { optionName, t, thresholdWords } from "../lib/i18n";
import { useMay } from "../lib/permits";
import type { Command, Figures, Need, Sitting, VoteKind } from "../lib/types";
import "../ui/elections.css";
import { type Ask, VoteSetup } from "./votesetup";

type Run = (cmd: Command) => void;

const CONFIDENCE_OPTIONS = ["high", "confident", "low"];

/** Ballot lines the chair edits: a name each, unique, in order. */
function NameList({ names, setNames, labelKey, testid }: { names: string[]; setNames: (n: string[]) => void; labelKey: string; testid: string }) {
  const [name, setName] = useState("");
  const clean = name.trim().replace(/\s+/g, " ");
  const duplicate = clean !== "" && names.some((n) => n.toLocaleLowerCase() === clean.toLocaleLowerCase());
  const move = (i: number, by: number) => {
    const next = [...names];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    setNames(next);
  };
  const add = () => {
    if (!clean || duplicate) return;
    setNames([...names, clean]);
    setName("");
  };
  return (
    <div class="stack">
      {names.length === 0 ? (
        <p class="muted hint">{t("web.election.none")}</p>
      ) : (
        <ol class="e-list" data-testid={`${testid}-list`}>
          {names.map((n, i) => (
            <li key={n} data-testid={`${testid}-item`}>
              <span class="e-name">
                {i + 1}. {n}
              </span>
              <button type="button" disabled={i === 0} aria-label={t("web.election.move_up", { name: n })} onClick={() => move(i, -1)}>
                ↑ <span aria-hidden="true">{t("web.election.up")}</span>
              </button>
              <button type="button" disabled={i === names.length - 1} aria-label={t("web.election.move_down", { name: n })} onClick={() => move(i, 1)}>
                ↓ <span aria-hidden="true">{t("web.election.down")}</span>
              </button>
              <button type="button" aria-label={t("web.election.remove_name", { name: n })} data-testid={`${testid}-remove`} onClick={() => setNames(names.filter((_, j) => j !== i))}>
                {t("web.election.remove")}
              </button>
            </li>
          ))}
        </ol>
      )}
      <div class="row">
        <label class="grow">
          {t(labelKey)}
          <input
            value={name}
            maxLength={200}
            list="e-members"
            data-testid={`${testid}-name`}
            aria-invalid={duplicate}
            onInput={(e) => setName(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                add();
              }
            }}
          />
        </label>
        <button type="button" data-testid={`${testid}-add`} disabled={!clean || duplicate} onClick={add}>
          {t("web.election.add")}
        </button>
      </div>
      {duplicate && (
        <p class="error" role="alert">
          {t("web.election.duplicate", { name: clean })}
        </p>
      )}
    </div>
  );
}

/** Ballot lines as the core takes them: ids in order, labels as entered. */
const lines = (prefix: string, names: string[]) => names.map((label, i) => ({ id: `${prefix}${i + 1}`, label }));

function Duration({ value, set, fallback }: { value: string; set: (v: string) => void; fallback: number | null }) {
  return (
    <label>
      {t("web.election.duration", { default: fallback ?? "—" })}
      <input type="number" min={5} inputMode="numeric" value={value} placeholder={fallback != null ? String(fallback) : undefined} data-testid="e-duration" onInput={(e) => set(e.currentTarget.value)} />
    </label>
  );
}

const seconds = (v: string): number | undefined => {
  const d = parseInt(v, 10);
  return Number.isFinite(d) && d > 0 ? d : undefined;
};

/** Opening out of reach of those present: refused or warned of, as the hub says. */
function Unreachable({ need, present }: { need: Need | null; present: number }) {
  if (!need || need.short === null) return null;
  return (
    <p class={need.refuses ? "error" : "warn-text"} role="alert" data-testid="e-unreachable">
      {t("web.vote.unreachable", { present, needed: need.short })} {need.refuses ? t("web.vote.unreachable_refuse") : t("web.vote.unreachable_warn")}
    </p>
  );
}

export function ElectionSetup({ s, figures, run }: { s: Sitting; figures: Figures | null; run: Run }) {
  const [title, setTitle] = useState(t("web.election.title_default"));
  const [positions, setPositions] = useState("1");
  const [names, setNames] = useState<string[]>([]);
  const [duration, setDuration] = useState("");
  const n = parseInt(positions, 10);
  const badPositions = !(Number.isInteger(n) && n >= 1 && n <= Math.max(1, names.length));
  const th = s.rules.election;
  const need = figures?.setup?.election ?? null;
  const refused = need === null || (need.short !== null && need.refuses);
  const may = useMay();
  const ok = may("election.open") && title.trim() !== "" && names.length > 0 && !badPositions && !refused;
  return (
    <form
      class="stack vote-setup"
      data-testid="election-setup"
      onSubmit={(e) => {
        e.preventDefault();
        if (!ok) return;
        const cmd: Command = { type: "election.open", title: title.trim(), positions: n, candidates: lines("uv", names) };
        const d = seconds(duration);
        if (d !== undefined) cmd.duration_s = d;
        run(cmd);
      }}
    >
      <h3>{t("web.election.setup")}</h3>
      <label>
        {t("web.election.title")}
        <input value={title} maxLength={200} data-testid="e-title" required onInput={(e) => setTitle(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>{t("web.election.candidates")}</legend>
        <NameList names={names} setNames={setNames} labelKey="web.election.candidate_name" testid="e-candidate" />
      </fieldset>
      <label>
        {t("web.election.positions")}
        <input type="number" min={1} max={Math.max(1, names.length)} inputMode="numeric" value={positions} data-testid="e-positions" aria-invalid={badPositions && names.length > 0} onInput={(e) => setPositions(e.currentTarget.value)} />
      </label>
      {badPositions && names.length > 0 && (
        <p class="error" role="alert" data-testid="e-positions-error">
          {t("web.election.bad_positions", { count: names.length })}
        </p>
      )}
      <p class="muted hint">{t("web.election.secret")}</p>
      <p class="hint" data-testid="e-rule">
        {t("web.election.rule", { threshold: thresholdWords(th), needed: need?.needed ?? "—" })}
      </p>
      <Duration value={duration} set={setDuration} fallback={s.rules.election_duration_s} />
      <Unreachable need={need} present={figures?.present ?? 0} />
      <button type="submit" class="primary" data-testid="open-election" data-command="election.open" disabled={!ok}>
        {t("web.election.open")}
      </button>
    </form>
  );
}

export function ConfidenceSetup({ s, figures, run }: { s: Sitting; figures: Figures | null; run: Run }) {
  const [title, setTitle] = useState(t("web.confidence.title_default"));
  const [names, setNames] = useState<string[]>([]);
  const [duration, setDuration] = useState("");
  const may = useMay();
  const ok = may("confidence.open") && title.trim() !== "" && names.length > 0;
  const setup = figures?.setup ?? null;
  return (
    <form
      class="stack vote-setup"
      data-testid="confidence-setup"
      onSubmit={(e) => {
        e.preventDefault();
        if (!ok) return;
        const cmd: Command = { type: "confidence.open", title: title.trim(), officials: lines("cv", names) };
        const d = seconds(duration);
        if (d !== undefined) cmd.duration_s = d;
        run(cmd);
      }}
    >
      <h3>{t("web.confidence.setup")}</h3>
      <label>
        {t("web.confidence.title")}
        <input value={title} maxLength={200} data-testid="c-title" required onInput={(e) => setTitle(e.currentTarget.value)} />
      </label>
      <fieldset>
        <legend>{t("web.confidence.officials")}</legend>
        <NameList names={names} setNames={setNames} labelKey="web.confidence.official_name" testid="c-official" />
      </fieldset>
      <p class="hint">{t("web.confidence.ratings", { ratings: CONFIDENCE_OPTIONS.map(optionName).join(" / ") })}</p>
      <p class="muted hint">{t("web.election.secret")}</p>
      <p class="hint" data-testid="c-rule">
        {t("web.confidence.rule", { needed: setup?.confidence_resign.needed ?? "—", hard: setup?.confidence_no_confidence.needed ?? "—" })}
      </p>
      <Duration value={duration} set={setDuration} fallback={s.rules.election_duration_s} />
      <Unreachable need={setup?.confidence_resign ?? null} present={figures?.present ?? 0} />
      <button type="submit" class="primary" data-testid="open-confidence" data-command="confidence.open" disabled={!ok}>
        {t("web.confidence.open")}
      </button>
    </form>
  );
}

const KINDS: VoteKind[] = ["motion", "election", "confidence"];

/** The chair's vote set-up: a motion vote, an election or a confidence poll. */
export function BallotSetup({ s, figures, run, ask }: { s: Sitting; figures: Figures | null; run: Run; ask: (a: Ask) => void }) {
  const [kind, setKind] = useState<VoteKind>("motion");
  return (
    <div class="stack">
      <fieldset class="vote-setup">
        <legend>{t("web.setup.kind")}</legend>
        <div class="row">
          {KINDS.map((k) => (
            <label class="inline" key={k}>
              <input type="radio" name="setup-kind" value={k} checked={kind === k} data-testid={`setup-kind-${k}`} onChange={() => setKind(k)} />
              {t(`web.setup.kind.${k}`)}
            </label>
          ))}
        </div>
      </fieldset>
      <datalist id="e-members">
        {s.council.members.map((m) => (
          <option value={m.name} key={m.id} />
        ))}
      </datalist>
      {kind === "motion" && <VoteSetup s={s} figures={figures} run={run} ask={ask} />}
      {kind === "election" && <ElectionSetup s={s} figures={figures} run={run} />}
      {kind === "confidence" && <ConfidenceSetup s={s} figures={figures} run={run} />}
    </div>
  );
}
