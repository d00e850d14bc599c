import { t, verdictLines } from "../lib/i18n";
import type { LiveState } from "../lib/connection";
import { presentCount } from "../lib/reducer";
import type { Sitting, Vote } from "../lib/types";
import { ResultBars } from "./common";

/** Ballots cast and members present for an open vote: from the conflated view when it is
 * about this vote, else from what the state holds. */
export function ballotsOf(vote: Vote, s: Sitting, live: LiveState): { ballots: number; present: number } {
  const v = live.view;
  if (v && v.vote === vote.id) return { ballots: v.ballots, present: v.present };
  return { ballots: vote.voted.length, present: live.present ?? presentCount(s) };
}

export function Verdict({ vote, big }: { vote: Vote; big?: boolean }) {
  if (!vote.result) return null;
  const lines = verdictLines(vote, vote.result);
  return (
    <div class={`verdict-block${big ? " big" : ""}`} data-testid="verdict">
      {lines.map((l) => (
        <p class={`verdict ${vote.result!.passed ? "passed" : "failed"}`}>{l}</p>
      ))}
    </div>
  );
}

/** A finished vote: bars per question (named by its label when there are several) and the verdict. */
export function VoteResult({ vote, big }: { vote: Vote; big?: boolean }) {
  if (vote.status === "cancelled") return <p class="muted">{t("web.vote.cancelled")}</p>;
  if (!vote.result) return null;
  return (
    <div class="vote-result" data-testid="vote-result">
      {vote.questions.map((q) => (
        <div key={q.id}>
          {vote.questions.length > 1 && <h3>{q.label}</h3>}
          <ResultBars vote={vote} question={q.id} big={big} />
        </div>
      ))}
      <Verdict vote={vote} big={big} />
    </div>
  );
}
