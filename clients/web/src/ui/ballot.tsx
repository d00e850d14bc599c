import { useState } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { optionName, t } from "../lib/i18n";
import { isPresent } from "../lib/reducer";
import type { Sitting, Vote } from "../lib/types";

/** The ballot being filled: question → option. */
type Draft = Record<string, string>;

export function Ballot({ s, conn, me, vote }: { s: Sitting; conn: Connection; me: string; vote: Vote }) {
  const live = conn.live;
  const own = live.ballots[vote.id] ?? vote.ballots[me];
  const voted = vote.voted.includes(me) || !!own;
  const [draft, setDraft] = useState<Draft>({});
  const [confirming, setConfirming] = useState(false);
  const [sending, setSending] = useState(false);
  const [changing, setChanging] = useState(false);
  const present = isPresent(s, me);
  const approvals = Object.values(draft).filter((o) => o === "approve").length;
  const complete = vote.questions.every((q) => draft[q.id]);
  const overLimit = vote.kind === "election" && approvals > vote.positions;

  const submit = async () => {
    setSending(true);
    const cmd =
      vote.kind === "motion"
        ? { type: "vote.cast", vote: vote.id, choice: draft[vote.questions[0].id] }
        : { type: "vote.cast", vote: vote.id, answers: draft };
    const ack = await conn.run(cmd);
    setSending(false);
    setConfirming(false);
    if (ack) {
      setChanging(false);
      setDraft({});
    }
  };

  if (!present) return <p class="warn-text">{t("web.vote.check_in_first")}</p>;
  if (sending)
    return (
      <p class="d-sending" data-testid="ballot-sending" aria-live="polite">
        {live.status === "open" ? t("web.vote.sending") : t("web.vote.queued")}
      </p>
    );
  if (voted && !changing) {
    return (
      <div class="d-voted" data-testid="my-ballot" aria-live="polite">
        <p class="d-big">{t("web.vote.voted")}</p>
        {own && (
          <ul class="plain">
            {vote.questions.map((q) => (
              <li key={q.id}>
                {vote.questions.length > 1 && `${q.label}: `}
                <strong>{optionName(own[q.id] ?? "")}</strong>
              </li>
            ))}
          </ul>
        )}
        {vote.allow_change && vote.form === "open" && (
          <button type="button" class="big" onClick={() => setChanging(true)}>
            {t("web.vote.change")}
          </button>
        )}
      </div>
    );
  }
  if (confirming) {
    return (
      <div class="d-confirm" role="group" aria-labelledby="d-confirm-title">
        <p id="d-confirm-title" class="d-big">
          {t("web.vote.confirm_title")}
        </p>
        <ul class="plain d-confirm-list">
          {vote.questions.map((q) => (
            <li key={q.id}>
              {vote.questions.length > 1 && `${q.label}: `}
              <strong>{optionName(draft[q.id])}</strong>
            </li>
          ))}
        </ul>
        <div class="row">
          <button type="button" class="primary huge" data-testid="confirm-ballot" onClick={submit}>
            {t("web.vote.confirm")}
          </button>
          <button type="button" class="huge" onClick={() => setConfirming(false)}>
            {t("web.vote.back")}
          </button>
        </div>
      </div>
    );
  }
  if (vote.kind === "motion") {
    const q = vote.questions[0].id;
    return (
      <div class="d-options" role="group" aria-label={vote.title}>
        {vote.options.map((o) => (
          <button
            type="button"
            class={`huge opt opt-${o}`}
            data-testid={`vote-${o}`}
            onClick={() => {
              setDraft({ [q]: o });
              setConfirming(true);
            }}
          >
            {optionName(o)}
          </button>
        ))}
      </div>
    );
  }
  return (
    <div class="d-lines">
      {vote.kind === "election" && (
        <p class={overLimit ? "error" : "muted"} aria-live="polite">
          {t("web.vote.positions", { positions: vote.positions, approvals })}
        </p>
      )}
      {vote.questions.map((q) => (
        <fieldset class="d-line" key={q.id}>
          <legend>{q.label}</legend>
          <div class="row">
            {vote.options.map((o) => (
              <button
                type="button"
                class={`big opt opt-${o}${draft[q.id] === o ? " on" : ""}`}
                aria-pressed={draft[q.id] === o}
                onClick={() => setDraft({ ...draft, [q.id]: o })}
              >
                {optionName(o)}
              </button>
            ))}
          </div>
        </fieldset>
      ))}
      <button type="button" class="primary huge" disabled={!complete || overLimit} onClick={() => setConfirming(true)}>
        {t("web.vote.review")}
      </button>
    </div>
  );
}

