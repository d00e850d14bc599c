/** Setting up a vote: start from a rule preset, change what the sitting needs. */
import { useState } from "preact/hooks";
import { optionName, t, thresholdWords } from "../lib/i18n";
import { useMay } from "../lib/permits";
import type { Base, Command, Comparison, Figures, Need, Sitting, Threshold, Vote, VoteForm, VotePreset } from "../lib/types";

type Run = (cmd: Command) => void;

import type { Ask } from "./agenda";

export type { Ask };

/** The last vote on `motion` that passed, if any: another vote on it asks first. */
export function passedVote(s: Sitting, motion: string): Vote | null {
  let best: Vote | null = null;
  for (const v of Object.values(s.votes))
    if (v.motion === motion && v.status === "closed" && v.result?.passed && (!best || v.opened_at >= best.opened_at)) best = v;
  return best;
}

/** "Biểu quyết lại" asks first: it opens a new vote (cancelling an open one). */
export function revoteAsk(vote: Vote): Ask {
  const passed = vote.kind === "motion" && vote.status === "closed" && !!vote.result?.passed;
  const body = vote.status === "open" ? t("web.revote.body_open") : passed ? t("web.revote.body_passed") : t("web.revote.body");
  return { title: t("web.revote.confirm", { title: vote.title }), body, confirm: t("web.vote.revote"), cmd: { type: "vote.revote", vote: vote.id } };
}

function passedAsk(vote: Vote, cmd: Command): Ask {
  const o = vote.result?.outcomes[0];
  return {
    title: t("web.revote.passed_confirm"),
    body: t("web.revote.passed_body", { title: vote.title, count: o?.approvals ?? 0, base_count: vote.result?.base_count ?? 0 }),
    confirm: t("web.revote.open_again"),
    cmd,
  };
}

/** What the chair may change before opening a vote; it starts from the chosen preset. */
interface Setup {
  form: VoteForm;
  options: string[];
  threshold: Threshold;
  allowChange: boolean;
  duration: string;
}

const fromPreset = (p: VotePreset): Setup => ({
  form: p.form,
  options: [...p.options],
  threshold: { ...p.rule.threshold },
  allowChange: p.allow_change,
  duration: p.duration_s != null ? String(p.duration_s) : "",
});

/** The thresholds offered, in the hub's order, with what each needs now (chamber/figures.py):
 * its fractions, bases and comparisons; nothing here counts what a threshold needs. */
const uniq = <T,>(xs: T[]): T[] => [...new Set(xs)];

const sameThreshold = (a: Threshold, b: Threshold) => a.base === b.base && a.num === b.num && a.den === b.den && a.comparison === b.comparison;
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The `vote.open` command: the preset, and only the settings that differ from it. */
function openCommand(motion: string, preset: VotePreset, v: Setup): Command {
  const cmd: Command = { type: "vote.open", motion, preset: preset.id };
  if (v.form !== preset.form) cmd.form = v.form;
  if (!sameList(v.options, preset.options)) cmd.options = v.options;
  if (!sameThreshold(v.threshold, preset.rule.threshold)) cmd.rule = { threshold: v.threshold, option: preset.rule.option };
  // A ballot can never be changed in a secret vote (chamber/voting.py): say so in the record.
  const allowChange = v.form === "open" && v.allowChange;
  if (allowChange !== preset.allow_change) cmd.allow_change = allowChange;
  const d = parseInt(v.duration, 10);
  if (Number.isFinite(d) && d > 0 && d !== preset.duration_s) cmd.duration_s = d;
  return cmd;
}

const DEFAULT_PRESET = "resolution";

export function VoteSetup({ s, figures, run, ask }: { s: Sitting; figures: Figures | null; run: Run; ask: (a: Ask) => void }) {
  const motions = Object.values(s.motions);
  const presets = Object.values(s.rules.presets);
  const [motion, setMotion] = useState(motions.find((m) => m.item === s.current_item)?.id ?? motions[0]?.id ?? "");
  // A resolution is what a chair opens most; the map's order is no default (the hub keeps
  // presets in key order, the order its journal stores them in).
  const [presetId, setPresetId] = useState(s.rules.presets[DEFAULT_PRESET] ? DEFAULT_PRESET : (presets[0]?.id ?? DEFAULT_PRESET));
  const preset = s.rules.presets[presetId];
  const [v, setV] = useState<Setup | null>(preset ? fromPreset(preset) : null);
  if (!preset || !v) return null;
  const set = (change: Partial<Setup>) => setV({ ...v, ...change });
  const setThreshold = (change: Partial<Threshold>) => set({ threshold: { ...v.threshold, ...change } });
  const setup = figures?.setup ?? null;
  const present = figures?.present ?? 0;
  const th = v.threshold;
  const choices: Need[] = setup?.choices ?? [];
  const chosen: Need | null = choices.find((n) => sameThreshold(n.threshold, th)) ?? null;
  const unreachable = chosen?.short ?? null;
  // The preset says whether opening out of reach is refused or only warned of.
  const refused = unreachable !== null && (setup?.presets[presetId]?.refuses ?? true);
  const tooFew = v.options.length < 2;
  const may = useMay();
  const cmd = openCommand(motion, preset, v);
  const edited = Object.keys(cmd).some((k) => !["type", "motion", "preset"].includes(k));
  const fractions = uniq(choices.map((n) => `${n.threshold.num}/${n.threshold.den}`));
  const BASES = uniq(choices.map((n) => n.threshold.base)) as Base[];
  const COMPARISONS = uniq(choices.map((n) => n.threshold.comparison)) as Comparison[];
  const words = t("web.vote.passes_with", { threshold: thresholdWords(th), option: optionName(preset.rule.option).toLowerCase() });
  const n = chosen?.needed ?? null;
  const need =
    n === null ? "" : th.base === "present" ? ` (${t("web.vote.needed_present", { needed: n, present })})` : ` (${n})`;
  const toggleOption = (o: string, on: boolean) => set({ options: preset.options.filter((x) => (x === o ? on : v.options.includes(x))) });
  return (
    <form
      class="stack vote-setup"
      onSubmit={(e) => {
        e.preventDefault();
        if (refused || tooFew) return;
        const passed = passedVote(s, motion);
        if (passed) ask(passedAsk(passed, cmd));
        else run(cmd);
      }}
    >
      <h3>{t("web.vote.setup")}</h3>
      <label>
        {t("web.vote.motion")}
        <select value={motion} onChange={(e) => setMotion(e.currentTarget.value)} data-testid="vote-motion">
          {motions.map((m) => (
            <option value={m.id} key={m.id}>
              {m.title}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t("web.vote.preset")}
        <select
          value={presetId}
          data-testid="vote-preset"
          onChange={(e) => {
            const id = e.currentTarget.value;
            const p = s.rules.presets[id];
            setPresetId(id);
            if (p) setV(fromPreset(p));
          }}
        >
          {presets.map((p) => (
            <option value={p.id} key={p.id}>
              {t(`web.preset.${p.id}`)}
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>{t("web.vote.form")}</legend>
        <div class="row">
          {(["open", "secret"] as VoteForm[]).map((f) => (
            <label class="inline" key={f}>
              <input type="radio" name="vote-form" value={f} checked={v.form === f} data-testid={`vote-form-${f}`} onChange={() => set({ form: f })} />
              {t(`form.${f}`)}
            </label>
          ))}
        </div>
        {v.form === "open" ? (
          <label class="inline">
            <input type="checkbox" checked={v.allowChange} data-testid="vote-allow-change" onChange={(e) => set({ allowChange: e.currentTarget.checked })} />
            {t("web.vote.allow_change")}
          </label>
        ) : (
          <p class="muted hint">{t("web.vote.secret_no_change")}</p>
        )}
      </fieldset>
      <fieldset>
        <legend>{t("web.vote.options")}</legend>
        <div class="row">
          {preset.options.map((o) => {
            const locked = o === preset.rule.option;
            return (
              <label class="inline" key={o}>
                <input
                  type="checkbox"
                  checked={v.options.includes(o)}
                  disabled={locked}
                  aria-describedby={locked ? "vote-option-locked" : undefined}
                  data-testid={`vote-option-${o}`}
                  onChange={(e) => toggleOption(o, e.currentTarget.checked)}
                />
                {optionName(o)}
                {locked && <span aria-hidden="true">*</span>}
              </label>
            );
          })}
        </div>
        <p class="muted hint" id="vote-option-locked">
          {t("web.vote.option_locked", { option: optionName(preset.rule.option) })}
        </p>
        {tooFew && (
          <p class="error" role="alert" data-testid="vote-options-error">
            {t("web.vote.options_too_few")}
          </p>
        )}
      </fieldset>
      <fieldset>
        <legend>{t("web.vote.threshold")}</legend>
        <div class="row threshold-row">
          <label>
            {t("web.vote.comparison")}
            <select value={th.comparison} data-testid="vote-comparison" onChange={(e) => setThreshold({ comparison: e.currentTarget.value as Comparison })}>
              {COMPARISONS.map((c) => (
                <option value={c} key={c}>
                  {t(`web.vote.comparison.${c}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t("web.vote.fraction")}
            <select
              value={`${th.num}/${th.den}`}
              data-testid="vote-fraction"
              onChange={(e) => {
                const [num, den] = e.currentTarget.value.split("/").map(Number);
                setThreshold({ num, den });
              }}
            >
              {fractions.map((f) => (
                <option value={f} key={f}>
                  {f}
                </option>
              ))}
            </select>
          </label>
          <label class="wide">
            {t("web.vote.base")}
            <select value={th.base} data-testid="vote-base" onChange={(e) => setThreshold({ base: e.currentTarget.value as Base })}>
              {BASES.map((b) => (
                <option value={b} key={b}>
                  {t(`web.vote.base.${b}`)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <p class="threshold-words" aria-live="polite" data-testid="vote-threshold-words">
          {words}
          {need}
        </p>
        {th.base === "cast" && <p class="muted hint">{t("web.vote.cast_note", { option: optionName("abstain") })}</p>}
      </fieldset>
      <label>
        {t("web.vote.duration")}
        <input
          type="number"
          min={5}
          inputMode="numeric"
          value={v.duration}
          placeholder={preset.duration_s != null ? String(preset.duration_s) : undefined}
          data-testid="vote-duration"
          onInput={(e) => set({ duration: e.currentTarget.value })}
        />
      </label>
      {unreachable !== null && (
        <p class={refused ? "error" : "warn-text"} role="alert" data-testid="unreachable">
          {t("web.vote.unreachable", { present, needed: unreachable })} {refused ? t("web.vote.unreachable_refuse") : t("web.vote.unreachable_warn")}
        </p>
      )}
      {edited && (
        <div class="row">
          <span class="muted grow" data-testid="vote-edited">
            {t("web.vote.edited")}
          </span>
          <button type="button" data-testid="vote-reset" onClick={() => setV(fromPreset(preset))}>
            {t("web.vote.reset")}
          </button>
        </div>
      )}
      <button type="submit" class="primary" data-testid="open-vote" data-command="vote.open" disabled={!may("vote.open") || !motion || refused || tooFew || !setup}>
        {t("web.vote.open")}
      </button>
    </form>
  );
}
