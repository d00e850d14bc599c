/** Members and their logins, with printable login cards (QR code). */
import { useState } from "preact/hooks";
import { api, ApiError } from "../lib/connection";
import { t } from "../lib/i18n";
import { sortRoles } from "../lib/members";
import { type Card, Cards } from "./cards";
import { attempt, CouncilPicker, type CouncilRow, type MemberRow, Msg, type SittingRow, useAsync } from "./shared";

export function Members({ councils, sittings }: { councils: CouncilRow[]; sittings: SittingRow[] }) {
  const [council, setCouncil] = useState(councils[0]?.id ?? "");
  const [members, reload, err] = useAsync(() => (council ? api<MemberRow[]>("GET", `/api/councils/${council}/members`) : Promise.resolve([])), [council]);
  const [cards, setCards] = useState<Card[]>([]);
  const [name, setName] = useState("");
  const [seat, setSeat] = useState("");
  const [role, setRole] = useState("delegate");
  const [msg, setMsg] = useState<[string, boolean]>(["", true]);
  const sitting = sittings.find((x) => x.council === council && x.phase !== "closed") ?? sittings.find((x) => x.council === council);
  const issue = async (m: MemberRow) => {
    try {
      const r = await api<{ username: string; password: string }>("POST", `/api/members/${m.id}/login`);
      const url = `${location.origin}/delegate/?${sitting ? `sitting=${encodeURIComponent(sitting.id)}&` : ""}user=${encodeURIComponent(r.username)}`;
      setCards((cs) => [...cs.filter((c) => c.key !== m.id), { key: m.id, name: m.name, line: m.seat ? t("web.op.seat_n", { seat: m.seat }) : "", username: r.username, password: r.password, url }]);
      setMsg([t("web.op.login_issued", { name: m.name }), true]);
      reload();
    } catch (e) {
      setMsg([e instanceof ApiError ? e.text() : String(e), false]);
    }
  };
  return (
    <>
      <section class="card no-print">
        <h2>{t("web.op.members")}</h2>
        <CouncilPicker councils={councils} value={council} onChange={setCouncil} />
        <Msg text={err} />
        <Msg text={msg[0]} ok={msg[1]} />
        <table>
          <thead>
            <tr>
              <th>{t("web.member.seat")}</th>
              <th>{t("web.member.name")}</th>
              <th>{t("web.op.roles")}</th>
              <th>{t("web.login.username")}</th>
              <th>
                <span class="sr-only">{t("web.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(members ?? []).map((m) => (
              <tr key={m.id}>
                <td style={{ whiteSpace: "nowrap" }}>{m.seat}</td>
                <td>{m.name}</td>
                <td>{sortRoles(m.roles).map((r) => t(`role.${r}`)).join(", ")}</td>
                <td class="mono">{m.username ?? "—"}</td>
                <td>
                  <button type="button" onClick={() => issue(m)} aria-label={`${m.username ? t("web.op.reset_login") : t("web.op.create_login")}: ${m.name}`}>
                    {m.username ? t("web.op.reset_login") : t("web.op.create_login")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="row">
          <button type="button" onClick={() => (members ?? []).forEach((m) => issue(m))} disabled={!members?.length}>
            {t("web.op.reset_all")}
          </button>
        </div>
        <form
          class="form-grid"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await attempt(() => api("POST", `/api/councils/${council}/members`, { name: name.trim(), seat: seat.trim(), roles: role === "delegate" ? ["delegate"] : ["delegate", role] }), setMsg, t("web.op.saved"))) {
              setName("");
              setSeat("");
              reload();
            }
          }}
        >
          <h3>{t("web.op.new_member")}</h3>
          <label>
            {t("web.member.name")}
            <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            {t("web.member.seat")}
            <input value={seat} onInput={(e) => setSeat(e.currentTarget.value)} />
          </label>
          <label>
            {t("web.op.roles")}
            <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {["delegate", "chair", "vice_chair", "secretary"].map((r) => (
                <option value={r} key={r}>
                  {t(`role.${r}`)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="primary" disabled={!council}>
            {t("web.op.create")}
          </button>
        </form>
      </section>
      <Cards cards={cards} council={councils.find((c) => c.id === council)} />
    </>
  );
}
