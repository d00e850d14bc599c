/** Members and their logins, with printable login cards (QR code). */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../lib/connection";
import { t } from "../lib/i18n";
import { attempt, type CouncilRow, type MemberRow, Msg, type SittingRow, useAsync } from "./shared";

interface Card {
  member: string;
  name: string;
  seat: string;
  username: string;
  password: string;
  url: string;
}

function QrSvg({ text }: { text: string }) {
  const [svg, setSvg] = useState("");
  useEffect(() => {
    import("qrcode").then((q) => q.toString(text, { type: "svg", margin: 1, errorCorrectionLevel: "M" })).then(setSvg);
  }, [text]);
  return <div class="qr" role="img" aria-label={text} dangerouslySetInnerHTML={{ __html: svg }} />;
}

function Cards({ cards, council }: { cards: Card[]; council?: CouncilRow }) {
  if (!cards.length) return null;
  return (
    <section class="card cards-section">
      <div class="row no-print">
        <h2 class="grow">{t("web.op.cards")}</h2>
        <button type="button" class="primary" onClick={() => window.print()}>
          {t("web.op.print")}
        </button>
      </div>
      <p class="muted no-print">{t("web.op.cards_hint")}</p>
      <div class="cards">
        {cards.map((c) => (
          <article class="login-card" key={c.member}>
            <div class="lc-text">
              <div class="lc-council">{council?.name}</div>
              <div class="lc-name">{c.name}</div>
              {c.seat && <div>{t("web.op.seat_n", { seat: c.seat })}</div>}
              <dl>
                <dt>{t("web.login.username")}</dt>
                <dd class="mono">{c.username}</dd>
                <dt>{t("web.login.password")}</dt>
                <dd class="mono">{c.password}</dd>
              </dl>
              <div class="lc-url mono">{c.url}</div>
            </div>
            <QrSvg text={c.url} />
          </article>
        ))}
      </div>
    </section>
  );
}

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
      setCards((cs) => [...cs.filter((c) => c.member !== m.id), { member: m.id, name: m.name, seat: m.seat, username: r.username, password: r.password, url }]);
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
        <label>
          {t("web.op.council")}
          <select value={council} onChange={(e) => setCouncil(e.currentTarget.value)}>
            {councils.map((c) => (
              <option value={c.id} key={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
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
                <td>{m.seat}</td>
                <td>{m.name}</td>
                <td>{m.roles.map((r) => t(`role.${r}`)).join(", ")}</td>
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
