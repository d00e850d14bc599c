/** Members and their logins: add, edit, deactivate or delete, import from a CSV file, and
 * printable login cards (QR code). Every refusal shows the server's reason beside its field. */
import { useState } from "preact/hooks";
import { t } from "../lib/i18n";
import { Confirm } from "../ui/common";
import { sortRoles } from "../lib/members";
import { type Card, Cards } from "./cards";
import { ImportMembers } from "./import";
import { CouncilPicker, type CouncilRow, Field, FormNote, invalidProps, type MemberRow, Msg, refusal, send, type SittingRow, useAsync, useForm } from "./shared";

const ROLES = ["delegate", "chair", "vice_chair", "secretary"];
/** The console offers one office besides "delegate"; a member is always a delegate too. */
const rolesOf = (role: string) => (role === "delegate" ? ["delegate"] : ["delegate", role]);
const roleOf = (m: MemberRow) => m.roles.find((r) => r !== "delegate") ?? "delegate";

interface Values {
  name: string;
  seat: string;
  role: string;
}

/** A member's name, seat and office, for a new member or an edit. */
function MemberForm(props: { idPrefix: string; title: string; initial: Values; submit: string; save: (v: Values) => Promise<unknown>; done: () => void; cancel?: () => void; disabled?: boolean }) {
  const [v, setV] = useState<Values>(props.initial);
  const [out, run] = useForm(["name", "seat", "roles"]);
  const id = (f: string) => `${props.idPrefix}-${f}`;
  return (
    <form
      class="form-grid fields"
      noValidate
      aria-label={props.title}
      onSubmit={async (e) => {
        e.preventDefault();
        if (await run(() => props.save(v), t("web.op.saved"))) {
          if (!props.cancel) setV({ ...props.initial });
          props.done();
        }
      }}
    >
      <h3>{props.title}</h3>
      <Field id={id("name")} label={t("web.member.name")} out={out} field="name">
        <input {...invalidProps(out, "name", id("name"))} value={v.name} onInput={(e) => setV({ ...v, name: e.currentTarget.value })} />
      </Field>
      <Field id={id("seat")} label={t("web.member.seat")} out={out} field="seat">
        <input {...invalidProps(out, "seat", id("seat"))} value={v.seat} onInput={(e) => setV({ ...v, seat: e.currentTarget.value })} />
      </Field>
      <Field id={id("roles")} label={t("web.op.roles")} out={out} field="roles">
        <select {...invalidProps(out, "roles", id("roles"))} value={v.role} onChange={(e) => setV({ ...v, role: e.currentTarget.value })}>
          {ROLES.map((r) => (
            <option value={r} key={r}>
              {t(`role.${r}`)}
            </option>
          ))}
        </select>
      </Field>
      <div class="row wide">
        <button type="submit" class="primary" disabled={props.disabled}>
          {props.submit}
        </button>
        {props.cancel && (
          <button type="button" onClick={props.cancel}>
            {t("web.cancel")}
          </button>
        )}
      </div>
      <div class="wide">
        <FormNote out={out} />
      </div>
    </form>
  );
}

type Pending = { kind: "reset"; member: MemberRow } | { kind: "reset_all" } | { kind: "delete"; member: MemberRow } | null;

export function Members({ councils, sittings }: { councils: CouncilRow[]; sittings: SittingRow[] }) {
  const [council, setCouncil] = useState(councils[0]?.id ?? "");
  const [members, reload, err] = useAsync(() => (council ? send<MemberRow[]>("GET", `/api/councils/${council}/members`) : Promise.resolve([])), [council]);
  const [cards, setCards] = useState<Card[]>([]);
  const [msg, setMsg] = useState<[string, boolean]>(["", true]);
  const [editing, setEditing] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const row = councils.find((c) => c.id === council);
  const active = (members ?? []).filter((m) => m.active);
  const sitting = sittings.find((x) => x.council === council && x.phase !== "closed") ?? sittings.find((x) => x.council === council);
  const fail = (e: unknown) =>
    setMsg([
      refusal(e, [])
        .general.map((x) => x())
        .join(" "),
      false,
    ]);
  const issue = async (m: MemberRow) => {
    try {
      const r = await send<{ username: string; password: string }>("POST", `/api/members/${m.id}/login`);
      const url = `${location.origin}/delegate/?${sitting ? `sitting=${encodeURIComponent(sitting.id)}&` : ""}user=${encodeURIComponent(r.username)}`;
      setCards((cs) => [...cs.filter((c) => c.key !== m.id), { key: m.id, name: m.name, line: m.seat ? t("web.op.seat_n", { seat: m.seat }) : "", username: r.username, password: r.password, url }]);
      setMsg([t("web.op.login_issued", { name: m.name }), true]);
      return true;
    } catch (e) {
      fail(e);
      return false;
    }
  };
  const setActive = async (m: MemberRow, on: boolean) => {
    try {
      await send("PATCH", `/api/members/${m.id}`, { active: on });
      setMsg([t(on ? "web.opm.reactivated" : "web.opm.deactivated", { name: m.name }), true]);
      reload();
    } catch (e) {
      fail(e);
    }
  };
  const confirmed = async () => {
    const p = pending;
    setPending(null);
    if (!p) return;
    if (p.kind === "reset") await issue(p.member);
    else if (p.kind === "reset_all") for (const m of active) await issue(m);
    else {
      try {
        await send("DELETE", `/api/members/${p.member.id}`);
        setMsg([t("web.opm.deleted", { name: p.member.name }), true]);
      } catch (e) {
        fail(e);
      }
    }
    reload();
  };
  const dialog =
    pending?.kind === "reset"
      ? { title: t("web.opm.reset_title", { name: pending.member.name }), body: t("web.opm.reset_body"), confirm: t("web.op.reset_login") }
      : pending?.kind === "reset_all"
        ? { title: t("web.opm.reset_all_title", { count: active.length }), body: t("web.opm.reset_all_body"), confirm: t("web.op.reset_all") }
        : pending?.kind === "delete"
          ? { title: t("web.opm.delete_title", { name: pending.member.name }), body: t("web.opm.delete_body"), confirm: t("web.opm.delete") }
          : null;
  return (
    <>
      <section class="card no-print">
        <h2>{t("web.op.members")}</h2>
        <CouncilPicker
          councils={councils}
          value={council}
          onChange={(c) => {
            setCouncil(c);
            setEditing(null);
          }}
        />
        {row && (
          <p class="muted" data-testid="seat-count">
            {t("web.opm.seat_count", { active: active.length, seats: row.total_seats })}
          </p>
        )}
        <Msg text={err} />
        <Msg text={msg[0]} ok={msg[1]} />
        <table>
          <thead>
            <tr>
              <th>{t("web.member.seat")}</th>
              <th>{t("web.member.name")}</th>
              <th>{t("web.op.roles")}</th>
              <th>{t("web.login.username")}</th>
              <th>{t("web.opm.standing")}</th>
              <th>
                <span class="sr-only">{t("web.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(members ?? []).map((m) => [
              <tr key={m.id} class={m.active ? "" : "inactive"} data-testid={`member-${m.id}`}>
                <td class="nowrap">{m.seat}</td>
                <td>{m.name}</td>
                <td>{sortRoles(m.roles).map((r) => t(`role.${r}`)).join(", ")}</td>
                <td class="mono">{m.username ?? "—"}</td>
                <td class="standing">{m.active ? t("web.opm.active") : t("web.opm.inactive")}</td>
                <td>
                  <div class="actions">
                  <button type="button" onClick={() => setEditing(m.id)} aria-label={`${t("web.opm.edit")}: ${m.name}`}>
                    {t("web.opm.edit")}
                  </button>
                  {m.username ? (
                    <button type="button" onClick={() => setPending({ kind: "reset", member: m })} aria-label={`${t("web.op.reset_login")}: ${m.name}`}>
                      {t("web.op.reset_login")}
                    </button>
                  ) : (
                    <button type="button" onClick={() => issue(m).then(reload)} aria-label={`${t("web.op.create_login")}: ${m.name}`}>
                      {t("web.op.create_login")}
                    </button>
                  )}
                  <button type="button" onClick={() => setActive(m, !m.active)} aria-label={`${m.active ? t("web.opm.deactivate") : t("web.opm.reactivate")}: ${m.name}`}>
                    {m.active ? t("web.opm.deactivate") : t("web.opm.reactivate")}
                  </button>
                  <button type="button" onClick={() => setPending({ kind: "delete", member: m })} aria-label={`${t("web.opm.delete")}: ${m.name}`}>
                    {t("web.opm.delete")}
                  </button>
                  </div>
                </td>
              </tr>,
              editing === m.id && (
                <tr key={`${m.id}-edit`} class="edit-row">
                  <td colSpan={6}>
                    <MemberForm
                      idPrefix="edit"
                      title={t("web.opm.edit_title", { name: m.name })}
                      initial={{ name: m.name, seat: m.seat, role: roleOf(m) }}
                      submit={t("web.opm.save")}
                      save={(v) => send("PATCH", `/api/members/${m.id}`, { name: v.name, seat: v.seat, roles: rolesOf(v.role) })}
                      done={() => {
                        setEditing(null);
                        setMsg([t("web.op.saved"), true]);
                        reload();
                      }}
                      cancel={() => setEditing(null)}
                    />
                  </td>
                </tr>
              ),
            ])}
          </tbody>
        </table>
        <div class="row">
          <button type="button" onClick={() => setPending({ kind: "reset_all" })} disabled={!active.length}>
            {t("web.op.reset_all")}
          </button>
        </div>
        <MemberForm
          key={council}
          idPrefix="new"
          title={t("web.op.new_member")}
          initial={{ name: "", seat: "", role: "delegate" }}
          submit={t("web.op.create")}
          save={(v) => send("POST", `/api/councils/${council}/members`, { name: v.name, seat: v.seat, roles: rolesOf(v.role) })}
          done={reload}
          disabled={!council}
        />
      </section>
      {council && <ImportMembers council={council} done={reload} />}
      <Cards cards={cards} council={row} />
      <Confirm open={dialog !== null} title={dialog?.title ?? ""} body={dialog?.body} confirm={dialog?.confirm ?? ""} danger onConfirm={confirmed} onCancel={() => setPending(null)} />
    </>
  );
}
