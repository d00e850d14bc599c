/** Printable login cards: name, username, one-time password and a QR code of the login URL. */
import { useEffect, useState } from "preact/hooks";
import { t } from "../lib/i18n";
import type { CouncilRow } from "./shared";

export interface Card {
  key: string;
  name: string;
  /** Under the name: the seat, or what the login is for. */
  line: string;
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

export function Cards({ cards, council, hint }: { cards: Card[]; council?: CouncilRow; hint?: string }) {
  if (!cards.length) return null;
  return (
    <section class="card cards-section">
      <div class="row no-print">
        <h2 class="grow">{t("web.op.cards")}</h2>
        <button type="button" class="primary" onClick={() => window.print()}>
          {t("web.op.print")}
        </button>
      </div>
      <p class="muted no-print">{hint ?? t("web.op.cards_hint")}</p>
      <div class="cards">
        {cards.map((c) => (
          <article class="login-card" key={c.key} data-testid="login-card">
            <div class="lc-text">
              <div class="lc-council">{council?.name}</div>
              <div class="lc-name">{c.name}</div>
              {c.line && <div>{c.line}</div>}
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

