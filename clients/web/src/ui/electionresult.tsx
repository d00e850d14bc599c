/** The result of an election or a confidence poll, as the core's result states it: per
 * candidate the approvals and their share of the total seats, elected / not elected / tied
 * (a tie at the last seat is reported, never broken); per official the three ratings with
 * their shares and the outcome the rules of procedure attach to them. Nothing here applies
 * a rule: every status comes from the result the hub published. */
import { lang, optionName, t, thresholdWords } from "../lib/i18n";
import type { Outcome, Result, Vote, VoteFigures } from "../lib/types";
import "./elections.css";

/** "53,3 %" / "53.3%": a share of the total seats, one decimal, in the chosen language. */
export function share(count: number, total: number): string {
  const pct = total > 0 ? (100 * count) / total : 0;
  const text = pct.toFixed(1);
  return lang() === "vi" ? `${text.replace(".", ",")} %` : `${text}%`;
}

/** The share of the total seats the hub states for `option` on `question` (one decimal),
 * where its figures are given; else counted here from the result (the gallery, until it
 * takes the hub's figures too). */
function seatShare(f: VoteFigures | undefined, question: string, option: string, count: number, total: number): string {
  const o = f?.questions.find((q) => q.question === question)?.options.find((x) => x.option === option);
  if (!o) return share(count, total);
  const text = (o.of_seats_bp / 100).toFixed(1);
  return lang() === "vi" ? `${text.replace(".", ",")} %` : `${text}%`;
}

const labelOf = (vote: Vote, question: string) => vote.questions.find((q) => q.id === question)?.label ?? question;

function Headline({ vote, result, big }: { vote: Vote; result: Result; big?: boolean }) {
  const names = (ids: string[]) => ids.map((id) => labelOf(vote, id)).join(", ");
  const lines: { cls: string; text: string; id: string }[] = [];
  if (result.elected.length) lines.push({ id: "elected", cls: "passed", text: t("web.eresult.headline.elected", { names: names(result.elected) }) });
  if (result.tied.length) lines.push({ id: "tie", cls: "tie", text: t("web.eresult.headline.tie", { names: names(result.tied) }) });
  if (!result.elected.length && !result.tied.length) lines.push({ id: "none", cls: "failed", text: t("web.eresult.headline.none") });
  else if (!result.tied.length && result.elected.length < vote.positions && vote.positions > 1)
    lines.push({ id: "unfilled", cls: "failed", text: t("web.eresult.headline.unfilled", { left: vote.positions - result.elected.length }) });
  return (
    <div class={`e-headline${big ? " big" : ""}`}>
      {lines.map((l) => (
        <p key={l.id} class={`verdict ${l.cls}`} data-testid={`e-headline-${l.id}`}>
          {l.text}
        </p>
      ))}
    </div>
  );
}

function CandidateRow({ vote, result, o, f }: { vote: Vote; result: Result; o: Outcome; f?: VoteFigures }) {
  const total = result.total_seats;
  const pct = total > 0 ? Math.min(100, (100 * o.approvals) / total) : 0;
  const mark = total > 0 ? Math.min(100, (100 * result.needed) / total) : 0;
  return (
    <tr data-testid="e-row" data-status={o.status}>
      <th scope="row">{labelOf(vote, o.question)}</th>
      <td class="num">{o.approvals}</td>
      <td class="e-share">
        <span class="num">{seatShare(f, o.question, "approve", o.approvals, total)}</span>
        <span class="e-bar" aria-hidden="true">
          <span class={`e-fill ${o.status}`} style={{ width: `${pct}%` }} />
          <span class="e-mark" style={{ left: `${mark}%` }} />
        </span>
      </td>
      <td>
        <span class={`e-chip ${o.status}`} data-testid="e-status">
          {t(`web.eresult.${o.status}`)}
        </span>
      </td>
    </tr>
  );
}

function ElectionTable({ vote, result, big, f }: { vote: Vote; result: Result; big?: boolean; f?: VoteFigures }) {
  const rows = [...result.outcomes].sort((a, b) => b.approvals - a.approvals);
  return (
    <>
      <Headline vote={vote} result={result} big={big} />
      <table class={`e-table${big ? " big" : ""}`} data-testid="e-table">
        <thead>
          <tr>
            <th scope="col">{t("web.eresult.candidate")}</th>
            <th scope="col" class="num">
              {t("web.eresult.votes")}
            </th>
            <th scope="col">{t("web.eresult.share")}</th>
            <th scope="col">{t("web.eresult.outcome")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <CandidateRow key={o.question} vote={vote} result={result} o={o} f={f} />
          ))}
        </tbody>
      </table>
      <p class="muted e-foot" data-testid="e-needed">
        {t("web.eresult.needed", { threshold: thresholdWords(result.threshold), needed: result.needed, total: result.total_seats, ballots: result.ballots })}
      </p>
    </>
  );
}

/** Per official a block, not a wide table: names of office are long, the counts carry
 * their own labels, and the gallery reads it at 10 m. */
function ConfidenceList({ vote, result, big, f }: { vote: Vote; result: Result; big?: boolean; f?: VoteFigures }) {
  const total = result.total_seats;
  return (
    <>
      <ul class={`c-list${big ? " big" : ""}`} data-testid="e-table">
        {result.outcomes.map((o) => (
          <li key={o.question} class="c-official" data-testid="e-row" data-status={o.status || "none"}>
            <p class="c-name">{labelOf(vote, o.question)}</p>
            <div class="c-counts">
              {vote.options.map((opt) => (
                <span class={`c-cell c-${opt}`} key={opt}>
                  <span class="c-label">{optionName(opt)}</span>{" "}
                  <span class="c-value" data-testid={`e-${opt}`}>
                    {t("web.eresult.count_share", { count: o.counts[opt] ?? 0, share: seatShare(f, o.question, opt, o.counts[opt] ?? 0, total) })}
                  </span>
                </span>
              ))}
            </div>
            <p class="c-outcome" data-testid="e-status">
              {o.status ? <span class={`e-chip ${o.status}`}>{t(`web.eresult.${o.status}`)}</span> : t("web.eresult.no_note")}
            </p>
          </li>
        ))}
      </ul>
      <p class="muted e-foot">{t("web.eresult.total", { total, ballots: result.ballots })}</p>
    </>
  );
}

/** A finished election or confidence poll (a cancelled one says so). */
export function ElectionResult({ vote, big, figures }: { vote: Vote; big?: boolean; figures?: VoteFigures }) {
  if (vote.status === "cancelled") return <p class="muted">{t("web.vote.cancelled")}</p>;
  const result = vote.result;
  if (!result) return null;
  return (
    <div class="vote-result e-result" data-testid="vote-result">
      {result.kind === "election" ? <ElectionTable vote={vote} result={result} big={big} f={figures} /> : <ConfidenceList vote={vote} result={result} big={big} f={figures} />}
    </div>
  );
}
