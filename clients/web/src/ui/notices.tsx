/** What the delegate is told when their request for the floor leaves the queue without
 * being granted: withdrawn by the chair, dropped because the sitting moved to another
 * agenda item, or a question dropped when the round's answer began or the round closed
 * (`floor.withdrawn` says which). The notice stays until dismissed: a delegate
 * looking at a document must not miss it. */
import { useEffect, useState } from "preact/hooks";
import type { Connection } from "../lib/connection";
import { t } from "../lib/i18n";
import type { Sitting } from "../lib/types";

interface FloorNotice {
  id: string;
  text: string;
}

export function FloorNotices({ conn }: { conn: Connection }) {
  const [notices, setNotices] = useState<FloorNotice[]>([]);
  useEffect(
    () =>
      conn.onFrames((f) => {
        if (f.t !== "events") return;
        const me = conn.live.member;
        const s: Sitting | null = conn.live.state;
        if (!me) return;
        const fresh: FloorNotice[] = [];
        for (const item of f.events) {
          const ev = item.event;
          if (ev.type !== "floor.withdrawn" || ev.member !== me) continue;
          if (ev.reason == null || ev.reason === "member") continue; // their own doing
          const title = s?.agenda.find((i) => i.id === s.current_item)?.title ?? "";
          fresh.push({ id: `${item.seq}`, text: t(`web.notice.${ev.reason}`, { title }) });
        }
        if (fresh.length) setNotices((old) => [...old.filter((n) => !fresh.some((x) => x.id === n.id)), ...fresh].slice(-3));
      }),
    [conn],
  );
  if (!notices.length) return null;
  return (
    <div class="notices floor-notices" role="alert" aria-live="assertive">
      {notices.map((n) => (
        <div class="notice notice-info" key={n.id} data-testid="floor-notice">
          <span>{n.text}</span>
          <button type="button" class="ghost" aria-label={t("web.close")} onClick={() => setNotices((old) => old.filter((x) => x.id !== n.id))}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
