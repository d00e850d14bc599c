/** Linked halls (rooms) of a council: each one a login for the hall's computer, shown
 * once as a printable card when created or when its password is reset. */
import { useState } from "preact/hooks";
import { api, ApiError } from "../lib/connection";
import { t } from "../lib/i18n";
import { type Card, Cards } from "./cards";
import { CouncilPicker, type CouncilRow, Msg, useAsync } from "./shared";

interface RoomRow {
  id: string;
  name: string;
  username: string;
}

const roomUrl = (username: string) => `${location.origin}/room/?user=${encodeURIComponent(username)}`;

export function Rooms({ councils }: { councils: CouncilRow[] }) {
  const [council, setCouncil] = useState(councils[0]?.id ?? "");
  const [rooms, reload, err] = useAsync(() => (council ? api<RoomRow[]>("GET", `/api/councils/${encodeURIComponent(council)}/rooms`) : Promise.resolve([])), [council]);
  const [cards, setCards] = useState<Card[]>([]);
  const [name, setName] = useState("");
  const [msg, setMsg] = useState<[string, boolean]>(["", true]);
  const card = (id: string, roomName: string, username: string, password: string) =>
    setCards((cs) => [...cs.filter((c) => c.key !== id), { key: id, name: roomName, line: t("video.op.room_line"), username, password, url: roomUrl(username) }]);
  const fail = (e: unknown) => setMsg([e instanceof ApiError ? e.text() : String(e), false]);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<RoomRow & { password: string }>("POST", `/api/councils/${encodeURIComponent(council)}/rooms`, { name: name.trim() });
      card(r.id, r.name, r.username, r.password);
      setMsg([t("video.op.room_created", { name: r.name }), true]);
      setName("");
      reload();
    } catch (x) {
      fail(x);
    }
  };
  const reset = async (r: RoomRow) => {
    try {
      const { password } = await api<{ password: string }>("POST", `/api/rooms/${encodeURIComponent(r.id)}/password`);
      card(r.id, r.name, r.username, password);
      setMsg([t("web.op.login_issued", { name: r.name }), true]);
    } catch (x) {
      fail(x);
    }
  };
  return (
    <>
      <section class="card no-print" aria-labelledby="op-rooms">
        <h2 id="op-rooms">{t("video.op.rooms")}</h2>
        <p class="muted">{t("video.op.rooms_hint")}</p>
        <CouncilPicker councils={councils} value={council} onChange={setCouncil} />
        <Msg text={err} />
        <Msg text={msg[0]} ok={msg[1]} />
        {rooms && rooms.length === 0 && <p class="muted">{t("video.op.no_rooms")}</p>}
        {rooms && rooms.length > 0 && (
          <table data-testid="rooms">
            <thead>
              <tr>
                <th>{t("video.op.room_name")}</th>
                <th>{t("web.login.username")}</th>
                <th>
                  <span class="sr-only">{t("web.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rooms.map((r) => (
                <tr key={r.id}>
                  <td>{r.name}</td>
                  <td class="mono">{r.username}</td>
                  <td>
                    <button type="button" onClick={() => reset(r)} aria-label={`${t("web.op.reset_login")}: ${r.name}`}>
                      {t("web.op.reset_login")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form class="form-grid" onSubmit={create}>
          <h3>{t("video.op.new_room")}</h3>
          <label>
            {t("video.op.room_name")}
            <input required value={name} data-testid="room-name" onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={!council}>
            {t("web.op.create")}
          </button>
        </form>
      </section>
      <Cards cards={cards} council={councils.find((c) => c.id === council)} hint={t("video.op.cards_hint")} />
    </>
  );
}
