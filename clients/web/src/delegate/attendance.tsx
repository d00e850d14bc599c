// A delegate's own attendance: checked in, remote, or excused with the reason, told from
// their own device, before the sitting opens (an excuse sent ahead) or during it.
import { useState } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { t } from "../lib/i18n";
import { useMay } from "../lib/permits";
import { isPresent } from "../lib/reducer";
import type { Sitting } from "../lib/types";

const REASONS = ["work", "ill", "family"];

export function MyAttendance({ s, conn, me }: { s: Sitting; conn: Connection; me: string }) {
  const presence = s.attendance[me] ?? "absent";
  const present = isPresent(s, me);
  const may = useMay();
  const reasonNow = s.excuses?.[me] ?? "";
  const [excusing, setExcusing] = useState(false);
  const [reason, setReason] = useState("");
  const send = async () => {
    const why = reason.trim();
    if (!why) return;
    if (await conn.run({ type: "attendance.excuse", reason: why })) setExcusing(false);
  };
  return (
    <section class="card d-attendance" aria-labelledby="d-att">
      <h2 id="d-att">{t("web.attendance.title")}</h2>
      <p data-testid="my-presence" class={present ? "ok-text" : "warn-text"}>
        {t(`presence.${presence}`)}
        {presence === "excused" && reasonNow && (
          <span class="d-reason" data-testid="my-excuse">
            {t("web.dl.reason_given", { reason: reasonNow })}
          </span>
        )}
      </p>
      {!excusing && (may("attendance.check_in") || may("attendance.join_remote") || may("attendance.excuse")) && (
        <div class="d-att-actions">
          {may("attendance.check_in") && presence !== "in_hall" && (
            <button type="button" class="primary huge" data-testid="check-in" data-command="attendance.check_in" onClick={() => conn.run({ type: "attendance.check_in" })}>
              {t("web.attendance.check_in")}
            </button>
          )}
          {may("attendance.join_remote") && presence !== "in_hall" && presence !== "remote" && (
            <button type="button" class="big" data-testid="join-remote" data-command="attendance.join_remote" onClick={() => conn.run({ type: "attendance.join_remote" })}>
              {t("web.dl.join_remote")}
            </button>
          )}
          {may("attendance.excuse") && (
            <button
              type="button"
              class="big"
              data-testid="excuse-open"
              data-command="attendance.excuse"
              onClick={() => {
                setReason(reasonNow);
                setExcusing(true);
              }}
            >
              {presence === "excused" ? t("web.dl.change_reason") : t("web.dl.excuse")}
            </button>
          )}
        </div>
      )}
      {may("attendance.excuse") && excusing && (
        <form
          class="stack d-excuse"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <label>
            {t("web.att.excuse_reason")}
            <input data-testid="my-excuse-reason" required maxLength={1000} list="d-reasons" value={reason} onInput={(e) => setReason(e.currentTarget.value)} autoFocus />
          </label>
          <datalist id="d-reasons">
            {REASONS.map((k) => (
              <option key={k} value={t(`web.att.reason_${k}`)} />
            ))}
          </datalist>
          <p class="muted">{t("web.dl.excuse_hint")}</p>
          <div class="row">
            <button type="submit" class="primary big" data-testid="my-excuse-send" data-command="attendance.excuse" disabled={!reason.trim()}>
              {t("web.dl.excuse_send")}
            </button>
            <button type="button" class="big" onClick={() => setExcusing(false)}>
              {t("web.cancel")}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
