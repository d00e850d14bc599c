// The gallery's vote area: an open vote's ballot count and clock, or a finished vote's
// result. It takes the vote's projection as props only (no connection), so that a shared
// results component can take its place.
import type { ComponentChildren } from "preact";
import { t } from "../lib/i18n";
import type { Vote } from "../lib/types";
import { ElectionResult } from "../ui/electionresult";
import { VoteResult } from "../ui/votepanel";

export interface VoteProjection {
  vote: Vote;
  /** Ballots cast and members present, while the vote is open. */
  ballots: number;
  present: number;
}

export function GalleryVote({ vote, ballots, present, clock }: VoteProjection & { clock?: ComponentChildren }) {
  if (vote.status === "open") {
    return (
      <section class="g-vote open" data-testid="g-vote" aria-live="polite">
        <h2>
          {t(`kind.${vote.kind}`)} · {t(`form.${vote.form}`)}
        </h2>
        <p class="g-vote-title clamp">{vote.title}</p>
        <p class="g-ballots" data-testid="g-ballots">
          {t("web.vote.ballots_of_present", { ballots, present })}
        </p>
        {clock}
      </section>
    );
  }
  return (
    <section class="g-vote closed" data-testid="g-vote" aria-live="polite">
      <h2>
        {t("web.vote.result")} · {t(`form.${vote.form}`)}
      </h2>
      <p class="g-vote-title clamp">{vote.title}</p>
      {vote.kind === "motion" ? <VoteResult vote={vote} big /> : <ElectionResult vote={vote} big />}
    </section>
  );
}
