// The sitting's papers on a delegate's device: the agenda with the item under discussion,
// every document of the sitting under its item (the latest version of each), before the
// sitting opens and during it, and a viewer that follows the page being presented or lets
// the delegate read on their own, zoomed as they like.
import { useState } from "preact/hooks";
import { t } from "../lib/i18n";
import type { Document, Sitting } from "../lib/types";
import { DocViewer } from "../ui/docviewer";

/** The latest version of every document series, in the order they were registered. */
export function latestDocuments(s: Sitting): Document[] {
  const latest = new Map<string, Document>();
  for (const d of Object.values(s.documents)) {
    const seen = latest.get(d.series);
    if (!seen || d.version > seen.version) latest.set(d.series, d);
  }
  return [...latest.values()];
}

type Open = (doc: string) => void;

function DocButtons({ docs, open, reading }: { docs: Document[]; open: Open; reading: string | null }) {
  if (!docs.length) return null;
  return (
    <ul class="plain d-doc-list">
      {docs.map((d) => (
        <li key={d.hash}>
          <button type="button" class={`big d-doc${reading === d.hash ? " on" : ""}`} data-testid="open-doc" data-doc={d.hash} aria-pressed={reading === d.hash} onClick={() => open(d.hash)}>
            <span class="d-doc-title">{d.title}</span>
            <span class="muted">
              {" "}
              · {t("web.doc.pages", { pages: d.pages })}
              {d.version > 1 && ` · ${t("web.dl.version", { version: d.version })}`}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function Agenda({ s, docs, open, reading }: { s: Sitting; docs: Document[]; open: Open; reading: string | null }) {
  return (
    <section class="card d-agenda" aria-labelledby="d-agenda" data-testid="d-agenda">
      <h2 id="d-agenda">{t("web.agenda.title")}</h2>
      {s.agenda.length === 0 && <p class="muted">{t("web.dl.no_agenda")}</p>}
      <ol class="d-items">
        {s.agenda.map((i) => {
          const current = i.id === s.current_item;
          return (
            <li key={i.id} class={current ? "current" : ""} aria-current={current ? "step" : undefined} data-testid="agenda-item" data-current={current ? "1" : "0"}>
              <div class="d-item-head">
                <span class="d-item-title">{i.title}</span>
                {current && <span class="ok-chip">{t("web.dl.now")}</span>}
              </div>
              {i.presenter && <div class="muted">{t("web.dl.presenter", { name: i.presenter })}</div>}
              <DocButtons docs={docs.filter((d) => d.item === i.id)} open={open} reading={reading} />
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Reader({ s, docs, chosen, setChosen }: { s: Sitting; docs: Document[]; chosen: { doc: string; page: number } | null; setChosen: (c: { doc: string; page: number } | null) => void }) {
  const [follow, setFollow] = useState(true);
  const presented = s.presentation && s.documents[s.presentation.doc] ? s.presentation : null;
  const items = new Set(s.agenda.map((i) => i.id));
  const general = docs.filter((d) => !d.item || !items.has(d.item));
  let doc: Document | undefined;
  let page = 1;
  const following = follow && presented !== null && (chosen === null || chosen.doc === presented.doc);
  if (following && presented) {
    doc = s.documents[presented.doc];
    page = presented.page;
  } else if (chosen && s.documents[chosen.doc]) {
    doc = s.documents[chosen.doc];
    page = Math.min(chosen.page, doc.pages);
  }
  return (
    <section class="card d-docs" aria-labelledby="d-docs" data-testid="d-docs">
      <h2 id="d-docs">{t("web.doc.title")}</h2>
      {docs.length === 0 && <p class="muted">{t("web.dl.no_documents")}</p>}
      {general.length > 0 && (
        <>
          <h3>{t("web.dl.general_documents")}</h3>
          <DocButtons docs={general} open={(hash) => setChosen({ doc: hash, page: 1 })} reading={doc?.hash ?? null} />
        </>
      )}
      {presented && (
        <div class="row">
          <label class="inline">
            <input
              type="checkbox"
              data-testid="follow"
              checked={following}
              onChange={(e) => {
                const on = e.currentTarget.checked;
                setFollow(on);
                if (on) setChosen(null);
              }}
            />
            {t("web.doc.follow")}
          </label>
          <span class="muted">{t("web.doc.presenting", { page: presented.page })}</span>
        </div>
      )}
      {!doc && docs.length > 0 && <p class="muted">{t("web.dl.choose_document")}</p>}
      {doc && (
        <>
          <h3 class="d-reading" data-testid="reading-title">
            {doc.title}
          </h3>
          {!following && (
            <div class="row">
              <button type="button" class="big" data-testid="doc-prev" disabled={page <= 1} onClick={() => setChosen({ doc: doc!.hash, page: page - 1 })}>
                {t("web.doc.prev")}
              </button>
              <span data-testid="reading-page">{t("web.dl.page", { page, pages: doc.pages })}</span>
              <button type="button" class="big" data-testid="doc-next" disabled={page >= doc.pages} onClick={() => setChosen({ doc: doc!.hash, page: page + 1 })}>
                {t("web.doc.next")}
              </button>
            </div>
          )}
          <DocViewer doc={doc} page={page} width={Math.max(280, Math.min(820, window.innerWidth - 80))} zoomable />
        </>
      )}
    </section>
  );
}

/** The agenda card and the documents card, sharing which document the delegate reads. */
export function Papers({ s }: { s: Sitting }) {
  const docs = latestDocuments(s);
  const [chosen, setChosen] = useState<{ doc: string; page: number } | null>(null);
  const open: Open = (hash) => {
    setChosen({ doc: hash, page: 1 });
    requestAnimationFrame(() => document.getElementById("d-docs")?.scrollIntoView({ block: "start", behavior: "smooth" }));
  };
  const reading = chosen?.doc ?? s.presentation?.doc ?? null;
  return (
    <>
      <Agenda s={s} docs={docs} open={open} reading={reading} />
      <Reader s={s} docs={docs} chosen={chosen} setChosen={setChosen} />
    </>
  );
}
