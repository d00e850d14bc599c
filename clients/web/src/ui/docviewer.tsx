import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../lib/i18n";
import type { Document } from "../lib/types";

/** One page of a document on a canvas; pdf.js is fetched the first time. */
export function DocViewer({ doc, page, width = 640 }: { doc: Document; page: number; width?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<"loading" | "ok" | "error">("loading");
  useEffect(() => {
    let live = true;
    setState("loading");
    if (doc.media_type !== "application/pdf") {
      setState("ok");
      return;
    }
    import("../lib/pdf")
      .then((m) => m.renderPage(doc.hash, page, canvas.current!, width))
      .then(() => live && setState("ok"))
      .catch(() => live && setState("error"));
    return () => {
      live = false;
    };
  }, [doc.hash, page, width]);
  return (
    <figure class="doc" data-testid="doc-viewer" data-page={page} data-state={state}>
      {doc.media_type === "application/pdf" ? (
        <canvas ref={canvas} aria-label={t("web.doc.page_of", { title: doc.title, page, pages: doc.pages })} />
      ) : (
        <img src={`/api/documents/${doc.hash}`} alt={doc.title} style={{ maxWidth: `${width}px` }} />
      )}
      <figcaption>
        {state === "loading" && t("web.doc.loading")}
        {state === "error" && t("web.doc.error")}
        {state === "ok" && t("web.doc.page_of", { title: doc.title, page, pages: doc.pages })}
      </figcaption>
    </figure>
  );
}
