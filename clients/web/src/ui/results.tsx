/** A vote's result as a council reads it out: the verdict as a headline, each count with
 * its share of the total seats and of those present, who was present and did not vote,
 * who was absent, and when it closed; while a named vote is open, a live tally bar with
 * the number needed marked on it. Every figure comes from the hub (chamber/figures.py):
 * nothing here applies a rule of procedure. Plain props, so any console can use it. */
import { lang, optionName, t, thresholdWords, useLang, type Lang } from "../lib/i18n";
import type { OptionFigures, QuestionFigures, Vote, VoteFigures } from "../lib/types";
import { ElectionResult } from "./electionresult";
import { Verdict } from "./votepanel";
import "./results.css";

/** A share in basis points, as the chosen language writes it: "53,33 %" / "53.33%". */
export function percent(bp: number, l: Lang = lang()): string {
  const text = (bp / 100).toFixed(2);
  return l === "vi" ? `${text.replace(".", ",")} %` : `${text}%`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** A date and time in the chosen language's way: vi "01/12/2026 14:05" (dd/mm/yyyy,
 * 24-hour), en as en-GB "01/12/2026, 14:05". A tiny formatter of this component's own. */
export function when(ms: number, l: Lang = lang()): string {
  const d = new Date(ms);
  const date = `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return l === "vi" ? `${date} ${time}` : `${date}, ${time}`;
}

const HEADLINE_CLASS: Record<string, string> = {
  passed: "passed",
  elected: "passed",
  failed: "failed",
  none: "failed",
  unfilled: "failed",
  tied: "tied",
  cancelled: "muted",
};

function OptionRow({ o, total, mark, big }: { o: OptionFigures; total: number; mark: number | null; big?: boolean }) {
  const width = total > 0 ? Math.min(100, (100 * o.count) / total) : 0;
  return (
    <div class={`rs-row${big ? " big" : ""}`} data-testid={`rs-row-${o.option}`}>
      <span class="rs-label" data-testid="rs-label">
        {optionName(o.option)}
      </span>
      <span class="rs-count num" data-testid="rs-count">
        {o.count}
      </span>
      <span class="rs-bar" data-testid="rs-bar" aria-hidden="true">
        <span class={`rs-fill rs-${o.option}`} style={{ width: `${width}%` }} />
        {mark !== null && <span class="rs-mark" data-testid="rs-mark" style={{ left: `${Math.min(100, (100 * mark) / Math.max(1, total))}%` }} />}
      </span>
      <span class="rs-share" data-testid="rs-share">
        {t("web.results.share", { seats: percent(o.of_seats_bp), present: percent(o.of_present_bp) })}
      </span>
    </div>
  );
}

function Question({ vote, q, f, big }: { vote: Vote; q: QuestionFigures; f: VoteFigures; big?: boolean }) {
  const label = vote.questions.find((x) => x.id === q.question)?.label ?? q.question;
  return (
    <div class="rs-question" data-testid="rs-question" data-status={q.status}>
      {vote.questions.length > 1 && (
        <p class="rs-qhead">
          <strong>{label}</strong> {q.status && <span class={`e-chip ${q.status}`}>{t(`web.eresult.${q.status}`)}</span>}
        </p>
      )}
      {q.options.map((o) => (
        <OptionRow key={o.option} o={o} total={f.total_seats} mark={o.option === vote.rule.option ? f.needed : null} big={big} />
      ))}
    </div>
  );
}

/** The tally of a vote still open: a bar per option, the number needed marked on the
 * option that carries it, where the hub lets this audience see the running count. */
function Running({ vote, f, big }: { vote: Vote; f: VoteFigures; big?: boolean }) {
  return (
    <>
      <p class="rs-headline open" data-testid="rs-headline" data-verdict="open">
        {t("web.results.verdict.open")}
      </p>
      <p class="rs-voted" data-testid="rs-voted">
        {t("web.results.voted", { voted: f.voted, present: f.present })}
      </p>
      {f.counts ? (
        <div class="rs-tally" data-testid="rs-tally">
          {f.questions.map((q) => (
            <Question key={q.question} vote={vote} q={q} f={f} big={big} />
          ))}
        </div>
      ) : (
        <p class="muted" data-testid="rs-hidden">
          {t(vote.form === "secret" ? "web.results.hidden_secret" : "web.results.hidden")}
        </p>
      )}
      {f.needed !== null && (
        <p class="muted rs-rule" data-testid="rs-needed">
          {t("web.results.rule", { threshold: thresholdWords(vote.rule.threshold), needed: f.needed })}
        </p>
      )}
    </>
  );
}

export function Results({ vote, figures, big }: { vote: Vote; figures: VoteFigures | null; big?: boolean }) {
  useLang();
  const f = figures && figures.vote === vote.id && figures.status === vote.status ? figures : null;
  if (!f) return null;
  return (
    <div class={`results${big ? " big" : ""}`} data-testid="results" data-status={f.status}>
      {f.status === "open" ? (
        <Running vote={vote} f={f} big={big} />
      ) : (
        <>
          <p class={`rs-headline ${HEADLINE_CLASS[f.verdict] ?? ""}`} data-testid="rs-headline" data-verdict={f.verdict}>
            {t(`web.results.verdict.${f.verdict}`)}
          </p>
          {f.status === "closed" && vote.kind !== "motion" ? (
            // An election or a confidence poll: per candidate or official, by name.
            <ElectionResult vote={vote} big={big} figures={f} />
          ) : (
            <>
              {f.status === "closed" && <Verdict vote={vote} />}
              {f.counts && (
                <div class="rs-tally" data-testid="rs-tally">
                  {f.questions.map((q) => (
                    <Question key={q.question} vote={vote} q={q} f={f} big={big} />
                  ))}
                </div>
              )}
            </>
          )}
          <ul class="rs-facts">
            {f.needed !== null && f.status === "closed" && (
              <li data-testid="rs-needed">{t("web.results.rule", { threshold: thresholdWords(vote.result?.threshold ?? vote.rule.threshold), needed: f.needed })}</li>
            )}
            <li data-testid="rs-total">{t("web.results.total", { total: f.total_seats, present: f.present })}</li>
            <li data-testid="rs-voted">{t("web.results.voted_share", { voted: f.voted, seats: percent(f.voted_of_seats_bp), present: percent(f.voted_of_present_bp) })}</li>
            <li data-testid="rs-not-voted">{t("web.results.not_voted", { count: f.not_voted })}</li>
            <li data-testid="rs-absent">{t("web.results.absent", { count: f.absent })}</li>
            {f.closed_at !== null && (
              <li data-testid="rs-closed-at">{t(f.status === "cancelled" ? "web.results.cancelled_at" : "web.results.closed_at", { time: when(f.closed_at) })}</li>
            )}
          </ul>
        </>
      )}
    </div>
  );
}
