// Shared page frame for the logged-in consoles: login, sitting choice, the connection.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Connection, logout, session } from "../lib/connection";
import { t, useLang } from "../lib/i18n";
import type { LoginInfo } from "../lib/types";
import { Header, LoginForm } from "./common";
import { param } from "./hooks";

/** The sitting named in the URL, else the first not closed (of `council`, when given). */
export async function pickSitting(council?: string | null): Promise<string | null> {
  const fromUrl = param("sitting");
  if (fromUrl) return fromUrl;
  try {
    const all: { id: string; phase: string; council: string }[] = await (await fetch("/api/sittings")).json();
    const list = council ? all.filter((x) => x.council === council) : all;
    return (list.find((x) => x.phase !== "closed") ?? list[0])?.id ?? null;
  } catch {
    return null;
  }
}

/** Log in (unless a session is kept), connect to the sitting, then render `children`. */
export function Session(props: {
  titleKey: string;
  hintKey?: string;
  accept?: (info: LoginInfo) => boolean;
  /** Pick the sitting among the logged-in principal's council's (a room's). */
  byCouncil?: boolean;
  children: (conn: Connection, info: LoginInfo) => ComponentChildren;
}) {
  useLang();
  const [info, setInfo] = useState<LoginInfo | null>(session());
  const [conn, setConn] = useState<Connection | null>(null);
  const [sitting, setSitting] = useState<string | null | undefined>(undefined);
  const [refused, setRefused] = useState(false);
  const council = props.byCouncil ? (info?.council ?? null) : null;
  useEffect(() => {
    if (props.byCouncil && !info) return;
    pickSitting(council).then(setSitting);
  }, [council, props.byCouncil && !info]);
  useEffect(() => {
    if (!info || !sitting) return;
    if (props.accept && !props.accept(info)) {
      setRefused(true);
      return;
    }
    const c = new Connection({ sitting, token: info.token });
    (window as any).__nt = c;
    c.start();
    setConn(c);
    const off = c.subscribe(() => {
      if (c.live.status === "auth") {
        c.stop();
        setConn(null);
        setInfo(null);
      }
    });
    return () => {
      off();
      c.stop();
    };
  }, [info, sitting]);
  const signOut = async () => {
    conn?.stop();
    await logout();
    setConn(null);
    setRefused(false);
    setInfo(null);
  };
  if (!info || refused) {
    return (
      <>
        <Header s={null} title={t(props.titleKey)} />
        <main>
          {refused && (
            <p class="error card narrow" role="alert">
              {t("web.login.wrong_role")}
            </p>
          )}
          <LoginForm hint={props.hintKey ? t(props.hintKey) : undefined} onDone={(i) => { setRefused(false); setInfo(i); }} />
          {refused && (
            <p class="narrow">
              <button type="button" onClick={signOut}>{t("web.logout")}</button>
            </p>
          )}
        </main>
      </>
    );
  }
  if (sitting === null) {
    return (
      <>
        <Header s={null} title={t(props.titleKey)} />
        <main class="card narrow">{t("web.link.unknown_sitting")}</main>
      </>
    );
  }
  if (!conn) return <Header s={null} title={t(props.titleKey)} />;
  return (
    <>
      {props.children(conn, info)}
      <div class="signout">
        <span class="muted">{t("web.signed_in_as", { name: info.name })}</span>{" "}
        <button type="button" onClick={signOut}>
          {t("web.logout")}
        </button>
      </div>
    </>
  );
}
