// Attendance on the chair's console, as the secretary keeps it: the quorum, a list that a
// search without diacritics narrows, each member's presence with the reason of an excused
// absence, any member marked in the hall, remote, excused (with the reason) or gone, and
// the roll call: everyone present checked in at once, in one command.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../lib/i18n";
import { type May, useMay } from "../lib/permits";
import { matches, sortRoles } from "../lib/members";
import { isPresent, presentCount } from "../lib/reducer";
import type { Command, Figures, Member, Presence, Sitting } from "../lib/types";
import { QuorumGauge } from "../ui/common";
import "./attendance.css";

type Run = (cmd: Command) => void;

const presenceOf = (s: Sitting, id: string): Presence => s.attendance[id] ?? "absent";

/** What a member's dialog may change about them (their presence, an excuse). */
const PRESENCE_COMMANDS = ["attendance.check_in", "attendance.join_remote", "attendance.leave", "attendance.excuse"];
const mayChange = (may: May, member: string): boolean => PRESENCE_COMMANDS.some((x) => may(x, member));

/** Members the roll call offers: not in the hall, not remote, not excused. */
export const notYetIn = (s: Sitting): Member[] =>
  s.council.members.filter((m) => {
    const p = presenceOf(s, m.id);
    return p === "absent" || p === "left";
  });

/** A modal dialog that is open while it is mounted. */
function Modal({ label, testid, children, onClose }: { label: string; testid: string; children: ComponentChildren; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => {
      if (d?.open) d.close();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog att-dialog"
      aria-label={label}
      data-testid={testid}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {children}
    </dialog>
  );
}

/** One member's presence, changed by the secretary: any of the four, an excuse with its reason. */
function MemberDialog({ s, m, run, onClose }: { s: Sitting; m: Member; run: Run; onClose: () => void }) {
  const now = presenceOf(s, m.id);
  const [reason, setReason] = useState(s.excuses?.[m.id] ?? "");
  const may = useMay();
  const act = (cmd: Command) => {
    run(cmd);
    onClose();
  };
  const choice = (p: Presence, cmd: Command) =>
    may(cmd.type, m.id) && (
      <button type="button" class={now === p ? "on" : ""} aria-pressed={now === p} data-testid={`set-${p}`} data-command={cmd.type} data-about={m.id} disabled={now === p} onClick={() => act(cmd)}>
        {t(`presence.${p}`)}
      </button>
    );
  return (
    <Modal label={m.name} testid="member-dialog" onClose={onClose}>
      <h2>{m.name}</h2>
      <p class="muted">
        {t("web.member.seat")} <span class="nowrap">{m.seat}</span> · {t(`presence.${now}`)}
      </p>
      <div class="att-choices">
        {choice("in_hall", { type: "attendance.check_in", member: m.id })}
        {choice("remote", { type: "attendance.join_remote", member: m.id })}
        {(now === "in_hall" || now === "remote") && choice("left", { type: "attendance.leave", member: m.id })}
      </div>
      {may("attendance.excuse", m.id) && (
        <form
          class="stack att-excuse"
          onSubmit={(e) => {
            e.preventDefault();
            if (reason.trim()) act({ type: "attendance.excuse", member: m.id, reason: reason.trim() });
          }}
        >
          <label>
            {t("web.att.excuse_reason")}
            <input data-testid="excuse-reason" required maxLength={1000} list="att-reasons" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <Reasons />
          <button type="submit" data-testid="excuse-save" data-command="attendance.excuse" data-about={m.id} disabled={!reason.trim() || (now === "excused" && reason.trim() === s.excuses?.[m.id])}>
            {t("web.att.excuse")}
          </button>
        </form>
      )}
      <div class="row end">
        <button type="button" onClick={onClose}>
          {t("web.close")}
        </button>
      </div>
    </Modal>
  );
}

/** The usual reasons, offered as the reason is typed (any other may be written). */
export function Reasons() {
  return (
    <datalist id="att-reasons">
      {["work", "ill", "family"].map((k) => (
        <option key={k} value={t(`web.att.reason_${k}`)} />
      ))}
    </datalist>
  );
}

/** "Check in everyone present": the members not yet in, all ticked; the secretary unticks
 * those not in the hall, and one command checks in the rest. */
function RollCall({ s, run, onClose }: { s: Sitting; run: Run; onClose: () => void }) {
  const candidates = notYetIn(s);
  const [chosen, setChosen] = useState<Set<string>>(() => new Set(candidates.map((m) => m.id)));
  const picked = candidates.filter((m) => chosen.has(m.id));
  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  };
  return (
    <Modal label={t("web.att.roll_call")} testid="roll-call" onClose={onClose}>
      <h2>{t("web.att.roll_call")}</h2>
      <p>{t("web.att.roll_call_hint")}</p>
      <div class="row">
        <button type="button" data-testid="rc-all" onClick={() => setChosen(new Set(candidates.map((m) => m.id)))}>
          {t("web.att.select_all")}
        </button>
        <button type="button" data-testid="rc-none" onClick={() => setChosen(new Set())}>
          {t("web.att.select_none")}
        </button>
      </div>
      <ul class="plain att-pick">
        {candidates.map((m) => (
          <li key={m.id}>
            <label class="inline">
              <input type="checkbox" data-testid={`rc-${m.id}`} checked={chosen.has(m.id)} onChange={(e) => toggle(m.id, e.currentTarget.checked)} />
              <span class="nowrap seat">{m.seat}</span> {m.name}
              {presenceOf(s, m.id) === "left" && <span class="muted"> · {t("presence.left")}</span>}
            </label>
          </li>
        ))}
      </ul>
      <div class="row end">
        <button type="button" onClick={onClose}>
          {t("web.cancel")}
        </button>
        <button
          type="button"
          class="primary"
          data-testid="rc-confirm"
          data-command="attendance.check_in_many"
          disabled={!picked.length}
          onClick={() => {
            run({ type: "attendance.check_in_many", members: picked.map((m) => m.id) });
            onClose();
          }}
        >
          {t("web.att.roll_call_confirm", { count: picked.length })}
        </button>
      </div>
    </Modal>
  );
}

/** Roles as the council ranks them; a plain delegate's one role is not repeated. */
export function RolesLine({ m }: { m: Member }) {
  if (m.roles.every((r) => r === "delegate")) return null;
  return (
    <span class="att-roles muted" data-testid="roles">
      {sortRoles(m.roles)
        .map((r) => t(`role.${r}`))
        .join(" · ")}
    </span>
  );
}

export function Attendance({ s, figures, run }: { s: Sitting; figures: Figures | null; run: Run }) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState("");
  const [editing, setEditing] = useState<string | null>(null);
  const [calling, setCalling] = useState(false);
  const members = s.council.members;
  const count = (p: Presence) => members.filter((m) => presenceOf(s, m.id) === p).length;
  const waiting = notYetIn(s).length;
  const shown = members.filter((m) => matches(m, query));
  const edited = editing ? members.find((m) => m.id === editing) : undefined;
  const may = useMay();
  const changes = members.some((m) => mayChange(may, m.id));
  return (
    <section class="card" aria-labelledby="c-att" data-testid="c-attendance">
      <h2 id="c-att">{t("web.attendance.title")}</h2>
      <QuorumGauge figures={figures} />
      <p class="muted" data-testid="att-summary">
        {t("web.attendance.summary", { present: presentCount(s), members: members.length })} ·{" "}
        {t("web.att.breakdown", { hall: count("in_hall"), remote: count("remote"), excused: count("excused"), absent: count("absent") + count("left") })}
      </p>
      <div class="row">
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? t("web.attendance.hide") : t("web.attendance.show")}
        </button>
        {may("attendance.check_in_many") && waiting > 0 && (
          <button type="button" class="primary" data-testid="check-in-all" data-command="attendance.check_in_many" onClick={() => setCalling(true)}>
            {t("web.att.roll_call_button", { count: waiting })}
          </button>
        )}
      </div>
      {open && (
        <>
          <label class="att-search">
            {t("web.att.search")}
            <input type="search" data-testid="att-search" value={query} placeholder={t("web.att.search_hint")} onInput={(e) => setQuery(e.currentTarget.value)} />
          </label>
          {shown.length === 0 && <p class="muted">{t("web.att.no_match")}</p>}
          {changes && shown.length > 0 && <p class="muted att-hint">{t("web.att.name_hint")}</p>}
          <table class="attendance">
            <thead>
              <tr>
                <th class="seat">{t("web.member.seat")}</th>
                <th>{t("web.member.name")}</th>
                <th>{t("web.member.presence")}</th>
                <th>
                  <span class="sr-only">{t("web.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((m) => {
                const p = presenceOf(s, m.id);
                return (
                  <tr key={m.id} data-testid="att-row" data-member={m.id} data-presence={p}>
                    <td class="seat">{m.seat}</td>
                    <td class="att-name-cell">
                      {mayChange(may, m.id) ? (
                        <button type="button" class="att-name" data-testid={`more-${m.id}`} data-command={PRESENCE_COMMANDS.filter((x) => may(x, m.id)).join(" ")} data-about={m.id} onClick={() => setEditing(m.id)} aria-label={`${t("web.att.change")}: ${m.name}`}>
                          {m.name}
                        </button>
                      ) : (
                        m.name
                      )}
                      <RolesLine m={m} />
                      {p === "excused" && s.excuses?.[m.id] && (
                        <span class="att-reason" data-testid="excuse-shown">
                          {s.excuses[m.id]}
                        </span>
                      )}
                    </td>
                    <td class={`att-presence ${isPresent(s, m.id) ? "ok-text" : "muted"}`} title={t(`presence.${p}`)}>
                      {t(`web.att.short.${p}`)}
                    </td>
                    <td class="att-actions">
                      {may("attendance.check_in", m.id) && p !== "in_hall" && (
                        <button type="button" class="att-tick" data-testid={`check-in-${m.id}`} data-command="attendance.check_in" data-about={m.id} onClick={() => run({ type: "attendance.check_in", member: m.id })} aria-label={`${t("web.attendance.check_in")}: ${m.name}`} title={t("web.attendance.check_in")}>
                          ✓
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      {edited && mayChange(may, edited.id) && <MemberDialog key={edited.id} s={s} m={edited} run={run} onClose={() => setEditing(null)} />}
      {calling && may("attendance.check_in_many") && <RollCall s={s} run={run} onClose={() => setCalling(false)} />}
    </section>
  );
}
