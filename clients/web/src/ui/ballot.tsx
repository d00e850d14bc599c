import { useState } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { optionName, t } from "../lib/i18n";
import { isPresent } from "../lib/reducer";
import type { Sitting, Vote } from "../lib/types";
import { ElectionBallot } from "./electionballot";

/** The ballot being filled: question → option. */
type Draft = Record<string, string>;

type Props = { s: Sitting; conn: Connection; me: string; vote: Vote };

/** A ballot for the vote: a motion's here, an election's or a confidence poll's in
 * electionballot.tsx (a different component, so a new kind of vote starts a fresh draft). */
export function Ballot(props: Props) {
  return props.vote.kind === "motion" ? <MotionBallot {...props} /> : <ElectionBallot {...props} />;
}

function MotionBallot({ s, conn, me, vote }: Props) {
  const live = conn.live;
  const own = live.ballots[vote.id] ?? vote.ballots[me];
  const voted = vote.voted.includes(me) || !!own;
  const [draft, setDraft] = useState<Draft>({});
  const [confirming, setConfirming] = useState(false);
  const [sending, setSending] = useState(false);
  const [changing, setChanging] = useState(false);
  const present = isPresent(s, me);

  const submit = async () => {
    setSending(true);
    const ack = await conn.run({ type: "vote.cast", vote: vote.id, choice: draft[vote.questions[0].id] });
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
          <button type="button" class="big" data-testid="change-ballot" data-command="vote.cast" onClick={() => setChanging(true)}>
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
          <button type="button" class="primary huge" data-testid="confirm-ballot" data-command="vote.cast" onClick={submit}>
            {t("web.vote.confirm")}
          </button>
          <button type="button" class="huge" onClick={() => setConfirming(false)}>
            {t("web.vote.back")}
          </button>
        </div>
      </div>
    );
  }
  const q = vote.questions[0].id;
  return (
    <div class="d-options" role="group" aria-label={vote.title}>
      {vote.options.map((o) => (
        <button
          type="button"
          class={`huge opt opt-${o}`}
          data-testid={`vote-${o}`}
          data-command="vote.cast"
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
