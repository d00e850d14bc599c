import { useEffect, useState } from "preact/hooks";
import { api, Connection, logout, session } from "../lib/connection";
import { t, useLang } from "../lib/i18n";
import { formatDateTime } from "../lib/format";
import { matches } from "../lib/members";
import { isPresent } from "../lib/reducer";
import type { LoginInfo, Sitting } from "../lib/types";
import { boot } from "../ui/boot";
import { Header, LoginForm, QuorumGauge } from "../ui/common";
import { useLive } from "../ui/hooks";
import { RecordLinks } from "../ui/recordlinks";
import { Members } from "./members";
import { Rooms } from "./rooms";
import "./operator.css";
import { attempt, CouncilPicker, type CouncilRow, Field, FormNote, invalidProps, Msg, send, type SittingRow, useAsync, useForm } from "./shared";

type Tab = "councils" | "members" | "rooms" | "sittings" | "documents" | "checkin";
const TABS: Tab[] = ["councils", "members", "rooms", "sittings", "documents", "checkin"];
const tabName = (x: Tab) => t(x === "rooms" ? "video.op.tab" : `web.op.tab.${x}`);
const consoleName = (c: string) => t(c === "room" ? "video.room.console" : `web.console.${c}`);
function Councils({ councils, reload }: { councils: CouncilRow[]; reload: () => void }) {
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [seats, setSeats] = useState("30");
  const [out, run] = useForm(["id", "name", "total_seats"]);
  return (
    <section class="card">
      <h2>{t("web.op.councils")}</h2>
      <table>
        <thead>
          <tr>
            <th>{t("web.op.council_id")}</th>
            <th>{t("web.op.council_name")}</th>
            <th>{t("web.op.total_seats")}</th>
          </tr>
        </thead>
        <tbody>
          {councils.map((c) => (
            <tr key={c.id}>
              <td>{c.id}</td>
              <td>{c.name}</td>
              <td>{c.total_seats}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="form-grid fields"
        noValidate
        aria-label={t("web.op.new_council")}
        onSubmit={async (e) => {
          e.preventDefault();
          // The number as typed: the hub says why a blank or a non-number is refused.
          const total = seats.trim() === "" || isNaN(Number(seats)) ? seats : Number(seats);
          if (await run(() => send("POST", "/api/councils", { id: id.trim(), name, total_seats: total }), t("web.op.saved"))) {
            setId("");
            setName("");
            reload();
          }
        }}
      >
        <h3>{t("web.op.new_council")}</h3>
        <Field id="council-id" label={t("web.op.council_id")} out={out} field="id">
          <input {...invalidProps(out, "id", "council-id")} value={id} onInput={(e) => setId(e.currentTarget.value)} />
        </Field>
        <Field id="council-name" label={t("web.op.council_name")} out={out} field="name">
          <input {...invalidProps(out, "name", "council-name")} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="council-seats" label={t("web.op.total_seats")} out={out} field="total_seats">
          <input {...invalidProps(out, "total_seats", "council-seats")} inputMode="numeric" value={seats} onInput={(e) => setSeats(e.currentTarget.value)} />
        </Field>
        <button type="submit" class="primary">
          {t("web.op.create")}
        </button>
        <div class="wide">
          <FormNote out={out} />
        </div>
      </form>
    </section>
  );
}

function Sittings({ councils, sittings, reload }: { councils: CouncilRow[]; sittings: SittingRow[]; reload: () => void }) {
  const [council, setCouncil] = useState(councils[0]?.id ?? "");
  const [title, setTitle] = useState("");
  const [when, setWhen] = useState("");
  const [runningCount, setRunningCount] = useState(true);
  const [agenda, setAgenda] = useState("");
  const [out, run] = useForm(["title", "agenda"]);
  const [itemOut, runItem] = useForm(["cmd.title"]);
  const [target, setTarget] = useState(sittings[0]?.id ?? "");
  const [item, setItem] = useState("");
  const [state] = useAsync(() => (target ? api<Sitting>("GET", `/api/sittings/${target}`) : Promise.resolve(null)), [target, out.ok, itemOut.ok]);
  return (
    <>
      <section class="card">
        <h2>{t("web.op.sittings")}</h2>
        <table>
          <thead>
            <tr>
              <th>{t("web.op.sitting_title")}</th>
              <th>{t("web.op.council")}</th>
              <th>{t("web.op.scheduled_at")}</th>
              <th>{t("web.member.presence")}</th>
              <th>
                <span class="sr-only">{t("web.actions")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sittings.map((x) => (
              <tr key={x.id}>
                <td>
                  {x.title} <span class="muted mono">{x.id}</span>
                </td>
                <td>{councils.find((c) => c.id === x.council)?.name ?? x.council}</td>
                <td data-testid="scheduled-at">{formatDateTime(x.scheduled_at)}</td>
                <td>{t(`phase.${x.phase}`)}</td>
                <td class="row">
                  {["chair", "delegate", "gallery", "room"].map((c) => (
                    <a href={`/${c}/?sitting=${encodeURIComponent(x.id)}`} key={c}>
                      {consoleName(c)}
                    </a>
                  ))}
                  <RecordLinks sitting={x.id} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card">
        <form
          class="form-grid fields"
          noValidate
          aria-label={t("web.op.new_sitting")}
          onSubmit={async (e) => {
            e.preventDefault();
            const items = agenda.split("\n").map((l) => l.trim()).filter(Boolean).map((title) => ({ title }));
            const at = when ? new Date(when).getTime() : Date.now();
            if (await run(() => send("POST", "/api/sittings", { council, title, scheduled_at: at, agenda: items, ...(runningCount ? {} : { rules: { hall_running_count: false } }) }), t("web.op.saved"))) {
              setTitle("");
              setAgenda("");
              reload();
            }
          }}
        >
          <h3>{t("web.op.new_sitting")}</h3>
          <CouncilPicker councils={councils} value={council} onChange={setCouncil} />
          <Field id="sitting-title" label={t("web.op.sitting_title")} out={out} field="title">
            <input {...invalidProps(out, "title", "sitting-title")} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          </Field>
          <label>
            {t("web.op.scheduled_at")}
            <input type="datetime-local" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
          </label>
          <Field id="sitting-agenda" label={t("web.op.agenda_lines")} out={out} field="agenda" wide>
            <textarea {...invalidProps(out, "agenda", "sitting-agenda")} rows={4} value={agenda} onInput={(e) => setAgenda(e.currentTarget.value)} />
          </Field>
          <label class="inline wide">
            <input type="checkbox" checked={runningCount} data-testid="op-hall-running-count" onChange={(e) => setRunningCount(e.currentTarget.checked)} />
            {t("web.op.hall_running_count")}
          </label>
          <button type="submit" class="primary">
            {t("web.op.create")}
          </button>
          <div class="wide">
            <FormNote out={out} />
          </div>
        </form>
      </section>
      <section class="card">
        <h3>{t("web.agenda.title")}</h3>
        <SittingPicker sittings={sittings} value={target} onChange={setTarget} />
        {state && (
          <ol>
            {state.agenda.map((i) => (
              <li key={i.id}>{i.title}</li>
            ))}
          </ol>
        )}
        <form
          class="row"
          noValidate
          onSubmit={async (e) => {
            e.preventDefault();
            if (!item.trim() || !target) return;
            if (await runItem(() => sendCommand(target, { type: "agenda.add", title: item.trim() }), t("web.op.saved"))) setItem("");
          }}
        >
          <Field id="agenda-new" label={t("web.agenda.new_title")} out={itemOut} field="cmd.title">
            <input {...invalidProps(itemOut, "cmd.title", "agenda-new")} value={item} onInput={(e) => setItem(e.currentTarget.value)} />
          </Field>
          <button type="submit">{t("web.agenda.add")}</button>
        </form>
        <FormNote out={itemOut} />
      </section>
    </>
  );
}

function command(sitting: string, cmd: Record<string, unknown>) {
  return api("POST", `/api/sittings/${encodeURIComponent(sitting)}/commands`, { id: crypto.randomUUID(), cmd });
}

/** A command whose refusal keeps its field errors (a title past its bound: `cmd.title`). */
async function sendCommand(sitting: string, cmd: Record<string, unknown>) {
  return send("POST", `/api/sittings/${encodeURIComponent(sitting)}/commands`, { id: crypto.randomUUID(), cmd });
}

function SittingPicker({ sittings, value, onChange }: { sittings: SittingRow[]; value: string; onChange: (v: string) => void }) {
  return (
    <label>
      {t("web.op.sitting")}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {sittings.map((x) => (
          <option value={x.id} key={x.id}>
            {x.title} ({t(`phase.${x.phase}`)})
          </option>
        ))}
      </select>
    </label>
  );
}

function Documents({ sittings }: { sittings: SittingRow[] }) {
  const [target, setTarget] = useState(sittings[0]?.id ?? "");
  const [file, setFile] = useState<File | null>(null);
  const [title, setTitle] = useState("");
  const [item, setItem] = useState("");
  const [msg, setMsg] = useState<[string, boolean]>(["", true]);
  const [state] = useAsync(() => (target ? api<Sitting>("GET", `/api/sittings/${target}`) : Promise.resolve(null)), [target, msg[0]]);
  return (
    <section class="card">
      <h2>{t("web.doc.title")}</h2>
      <SittingPicker sittings={sittings} value={target} onChange={setTarget} />
      {state && (
        <ul>
          {Object.values(state.documents).map((d) => (
            <li key={d.hash}>
              {d.title} <span class="muted">({t("web.doc.pages", { pages: d.pages })})</span>
            </li>
          ))}
        </ul>
      )}
      <form
        class="form-grid"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!file) return;
          const form = new FormData();
          form.append("file", file);
          form.append("title", title || file.name);
          if (item) form.append("item", item);
          await attempt(() => api("POST", `/api/sittings/${encodeURIComponent(target)}/documents`, undefined, form), setMsg, t("web.op.uploaded"));
        }}
      >
        <h3>{t("web.op.upload")}</h3>
        <label>
          {t("web.op.file")}
          <input type="file" accept="application/pdf,image/png,image/jpeg" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <label>
          {t("web.op.doc_title")}
          <input value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <label>
          {t("web.op.doc_item")}
          <select value={item} onChange={(e) => setItem(e.currentTarget.value)}>
            <option value="">—</option>
            {state?.agenda.map((i) => (
              <option value={i.id} key={i.id}>
                {i.title}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={!file || !target}>
          {t("web.op.upload")}
        </button>
      </form>
      <Msg text={msg[0]} ok={msg[1]} />
    </section>
  );
}

function CheckIn({ sittings, info }: { sittings: SittingRow[]; info: LoginInfo }) {
  const [target, setTarget] = useState(sittings.find((x) => x.phase !== "closed")?.id ?? sittings[0]?.id ?? "");
  const [conn, setConn] = useState<Connection | null>(null);
  useEffect(() => {
    if (!target) return;
    const c = new Connection({ sitting: target, token: info.token });
    c.start();
    setConn(c);
    return () => c.stop();
  }, [target]);
  return (
    <section class="card">
      <h2>{t("web.op.checkin")}</h2>
      <SittingPicker sittings={sittings} value={target} onChange={setTarget} />
      {conn && <CheckInList conn={conn} sitting={target} />}
    </section>
  );
}

function CheckInList({ conn, sitting }: { conn: Connection; sitting: string }) {
  const live = useLive(conn);
  const [filter, setFilter] = useState("");
  const [msg, setMsg] = useState<[string, boolean]>(["", true]);
  const s = live.state;
  if (!s) return <p class="muted">{t("web.link.connecting")}</p>;
  const members = s.council.members.filter((m) => matches(m, filter)); // no diacritics needed
  const act = (type: string, member: string) => attempt(() => command(sitting, { type, member }), setMsg, t("web.op.saved"));
  return (
    <>
      <QuorumGauge figures={live.figures} />
      <label>
        {t("web.op.find_member")}
        <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </label>
      <Msg text={msg[0]} ok={msg[1]} />
      <table>
        <tbody>
          {members.map((m) => (
            <tr key={m.id}>
              <td style={{ whiteSpace: "nowrap" }}>{m.seat}</td>
              <td>{m.name}</td>
              <td class={isPresent(s, m.id) ? "ok-text" : "muted"}>{t(`presence.${s.attendance[m.id] ?? "absent"}`)}</td>
              <td>
                {isPresent(s, m.id) ? (
                  <button type="button" onClick={() => act("attendance.leave", m.id)}>
                    {t("web.attendance.leave")}
                  </button>
                ) : (
                  <button type="button" class="primary" onClick={() => act("attendance.check_in", m.id)} aria-label={`${t("web.attendance.check_in")}: ${m.name}`}>
                    {t("web.attendance.check_in")}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Console({ info }: { info: LoginInfo }) {
  const [tab, setTab] = useState<Tab>("councils");
  const [councils, reloadCouncils, err1] = useAsync(() => api<CouncilRow[]>("GET", "/api/councils"), []);
  const [sittings, reloadSittings] = useAsync(() => api<SittingRow[]>("GET", "/api/sittings"), [tab]);
  return (
    <main class="operator">
      <nav class="tabs no-print" role="tablist" aria-label={t("web.console.operator")}>
        {TABS.map((x) => (
          <button type="button" role="tab" aria-selected={tab === x} class={tab === x ? "on" : ""} onClick={() => setTab(x)} key={x}>
            {tabName(x)}
          </button>
        ))}
      </nav>
      <Msg text={err1} />
      {councils && sittings && (
        <div class="op-body" role="tabpanel">
          {tab === "councils" && <Councils councils={councils} reload={reloadCouncils} />}
          {tab === "members" && <Members councils={councils} sittings={sittings} />}
          {tab === "rooms" && <Rooms councils={councils} />}
          {tab === "sittings" && <Sittings councils={councils} sittings={sittings} reload={reloadSittings} />}
          {tab === "documents" && <Documents sittings={sittings} />}
          {tab === "checkin" && <CheckIn sittings={sittings} info={info} />}
        </div>
      )}
    </main>
  );
}

function Operator() {
  useLang();
  const [info, setInfo] = useState<LoginInfo | null>(session());
  const ok = info?.kind === "operator";
  return (
    <>
      <Header s={null} title={t("web.console.operator")}>
        {info && (
          <button
            type="button"
            onClick={async () => {
              await logout();
              setInfo(null);
            }}
          >
            {t("web.logout")}
          </button>
        )}
      </Header>
      {ok ? (
        <Console info={info!} />
      ) : (
        <>
          {info && <p class="error card narrow">{t("web.login.wrong_role")}</p>}
          <LoginForm hint={t("web.login.hint_operator")} onDone={setInfo} />
        </>
      )}
    </>
  );
}

boot(<Operator />);
