/** A delegate's ballot in an election (keep up to `positions` names, strike the rest) or
 * a confidence poll (one of the three ratings per official). The core refuses a ballot
 * with more names kept than there are positions; the ballot says so before it is sent,
 * and shows the core's reason if it is refused all the same. */
import { useState } from "preact/hooks";
import { CommandError, type Connection } from "../lib/connection";
import { optionName, t } from "../lib/i18n";
import { isPresent } from "../lib/reducer";
import type { Sitting, Vote } from "../lib/types";
import "./elections.css";

type Draft = Record<string, string>;

const APPROVE = "approve";
const STRIKE = "strike";

/** The election ballot as the core takes it: every candidate, kept or struck out. */
const electionAnswers = (vote: Vote, chosen: Set<string>): Draft => Object.fromEntries(vote.questions.map((q) => [q.id, chosen.has(q.id) ? APPROVE : STRIKE]));

function Summary({ vote, answers }: { vote: Vote; answers: Draft }) {
  if (vote.kind === "election") {
    const kept = vote.questions.filter((q) => answers[q.id] === APPROVE);
    return (
      <ul class="plain d-confirm-list" data-testid="e-summary">
        {kept.length ? (
          kept.map((q) => (
            <li key={q.id}>
              <strong>{q.label}</strong>
            </li>
          ))
        ) : (
          <li>{t("web.eballot.none_chosen")}</li>
        )}
      </ul>
    );
  }
  return (
    <ul class="plain d-confirm-list" data-testid="e-summary">
      {vote.questions.map((q) => (
        <li key={q.id}>
          {q.label}: <strong>{optionName(answers[q.id] ?? "")}</strong>
        </li>
      ))}
    </ul>
  );
}

function ElectionLines({ vote, chosen, setChosen }: { vote: Vote; chosen: Set<string>; setChosen: (c: Set<string>) => void }) {
  const over = chosen.size > vote.positions;
  return (
    <fieldset class="e-lines" aria-describedby="e-count">
      <legend class="sr-only">{vote.title}</legend>
      <p id="e-count" class={over ? "error e-count" : "e-count"} aria-live="polite" data-testid="e-count">
        {vote.positions === 1 ? t("web.eballot.choose_one", { chosen: chosen.size }) : t("web.eballot.choose", { positions: vote.positions, chosen: chosen.size })}
      </p>
      {over && (
        <p class="error" role="alert" data-testid="e-too-many">
          {t("web.eballot.too_many", { chosen: chosen.size, positions: vote.positions })}
        </p>
      )}
      {vote.questions.map((q) => {
        const on = chosen.has(q.id);
        return (
          <label class={`e-line${on ? " chosen" : ""}`} key={q.id} data-testid="e-candidate">
            <input
              type="checkbox"
              checked={on}
              data-testid={`e-keep-${q.id}`}
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.currentTarget.checked) next.add(q.id);
                else next.delete(q.id);
                setChosen(next);
              }}
            />
            <span class="e-name">{q.label}</span>
            <span class={on ? "ok-text" : "muted"}>{on ? t("web.eballot.keep") : t("web.eballot.strike")}</span>
          </label>
        );
      })}
    </fieldset>
  );
}

function ConfidenceLines({ vote, draft, setDraft }: { vote: Vote; draft: Draft; setDraft: (d: Draft) => void }) {
  const left = vote.questions.filter((q) => !draft[q.id]).length;
  return (
    <div class="e-lines">
      <p class="e-count" aria-live="polite" data-testid="e-count">
        {t("web.eballot.rate", { left })}
      </p>
      {vote.questions.map((q, i) => (
        <fieldset class="d-line" key={q.id} data-testid="e-official">
          <legend>{q.label}</legend>
          <div class="e-rate">
            {vote.options.map((o) => (
              <label class={`opt-${o}${draft[q.id] === o ? " on" : ""}`} key={o}>
                <input
                  type="radio"
                  name={`e-rate-${vote.id}-${i}`}
                  value={o}
                  checked={draft[q.id] === o}
                  data-testid={`e-rate-${q.id}-${o}`}
                  onChange={() => setDraft({ ...draft, [q.id]: o })}
                />
                {optionName(o)}
              </label>
            ))}
          </div>
        </fieldset>
      ))}
    </div>
  );
}

export function ElectionBallot({ s, conn, me, vote }: { s: Sitting; conn: Connection; me: string; vote: Vote }) {
  const live = conn.live;
  const own = live.ballots[vote.id] ?? vote.ballots[me];
  const voted = vote.voted.includes(me) || !!own;
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [draft, setDraft] = useState<Draft>({});
  const [confirming, setConfirming] = useState(false);
  const [sending, setSending] = useState(false);
  const [refused, setRefused] = useState("");
  const answers = vote.kind === "election" ? electionAnswers(vote, chosen) : draft;
  const ready = vote.kind === "election" ? chosen.size <= vote.positions : vote.questions.every((q) => draft[q.id]);

  const submit = async () => {
    setSending(true);
    setRefused("");
    try {
      await conn.send({ type: "vote.cast", vote: vote.id, answers });
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      setRefused(e.text());
    }
    setSending(false);
    setConfirming(false);
  };

  if (!isPresent(s, me)) return <p class="warn-text">{t("web.vote.check_in_first")}</p>;
  if (sending)
    return (
      <p class="d-sending" data-testid="ballot-sending" aria-live="polite">
        {live.status === "open" ? t("web.vote.sending") : t("web.vote.queued")}
      </p>
    );
  if (voted) {
    return (
      <div class="d-voted" data-testid="my-ballot" aria-live="polite">
        <p class="d-big">{t("web.vote.voted")}</p>
        {own && <Summary vote={vote} answers={own} />}
      </div>
    );
  }
  if (confirming) {
    return (
      <div class="d-confirm" role="group" aria-labelledby="e-confirm-title">
        <p id="e-confirm-title" class="d-big">
          {t("web.vote.confirm_title")}
        </p>
        <Summary vote={vote} answers={answers} />
        <div class="row">
          <button type="button" class="primary huge" data-testid="confirm-ballot" data-command="vote.cast" onClick={submit}>
            {t("web.vote.confirm")}
          </button>
          <button type="button" class="huge" data-testid="ballot-back" onClick={() => setConfirming(false)}>
            {t("web.vote.back")}
          </button>
        </div>
      </div>
    );
  }
  return (
    <div class="d-lines" data-testid="e-ballot">
      {refused && (
        <p class="error" role="alert" data-testid="e-refused">
          {t("web.eballot.refused", { reason: refused })}
        </p>
      )}
      {vote.kind === "election" ? <ElectionLines vote={vote} chosen={chosen} setChosen={setChosen} /> : <ConfidenceLines vote={vote} draft={draft} setDraft={setDraft} />}
      <button type="button" class="primary huge" data-testid="review-ballot" data-command="vote.cast" disabled={!ready} onClick={() => setConfirming(true)}>
        {t("web.vote.review")}
      </button>
    </div>
  );
}
