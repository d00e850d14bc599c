import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../lib/i18n";
import type { Document } from "../lib/types";
import "./docviewer.css";

/** Zoom steps, as a share of the width the viewer is given. */
export const ZOOMS = [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4];
const clampZoom = (z: number) => Math.min(ZOOMS[ZOOMS.length - 1], Math.max(ZOOMS[0], z));
const stepZoom = (z: number, dir: 1 | -1) =>
  dir > 0 ? (ZOOMS.find((s) => s > z + 0.01) ?? ZOOMS[ZOOMS.length - 1]) : ([...ZOOMS].reverse().find((s) => s < z - 0.01) ?? ZOOMS[0]);

/** One page of a document on a canvas; pdf.js is fetched the first time. With `zoomable`, the
 * reader zooms with the buttons, the keyboard (+, −, 0 while the page has the focus), Ctrl +
 * wheel (a trackpad's pinch) and a two-finger pinch on a touch screen, and scrolls the page. */
export function DocViewer({ doc, page, width = 640, zoomable = false }: { doc: Document; page: number; width?: number; zoomable?: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const pane = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<"loading" | "ok" | "error">("loading");
  const [zoom, setZoomState] = useState(1);
  const zoomNow = useRef(1);
  const setZoom = (z: number) => {
    zoomNow.current = clampZoom(z);
    setZoomState(zoomNow.current);
  };
  const shown = Math.round(width * (zoomable ? zoom : 1));
  useEffect(() => {
    let live = true;
    setState("loading");
    if (doc.media_type !== "application/pdf") {
      setState("ok");
      return;
    }
    import("../lib/pdf")
      .then((m) => m.renderPage(doc.hash, page, canvas.current!, shown))
      .then(() => live && setState("ok"))
      .catch(() => live && setState("error"));
    return () => {
      live = false;
    };
  }, [doc.hash, page, shown]);
  // Ctrl + wheel and two-finger pinch: listeners of our own, the wheel one not passive so
  // that the browser's page zoom gives way to the document's.
  useEffect(() => {
    const el = pane.current;
    if (!zoomable || !el) return;
    const wheel = (e: WheelEvent) => {
      if (!e.ctrlKey) return;
      e.preventDefault();
      setZoom(zoomNow.current * Math.exp(-e.deltaY / 300));
    };
    const touches = new Map<number, { x: number; y: number }>();
    let start = 0;
    let from = 1;
    const spread = () => {
      const [a, b] = [...touches.values()];
      return Math.hypot(a.x - b.x, a.y - b.y);
    };
    const down = (e: PointerEvent) => {
      if (e.pointerType !== "touch") return;
      touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (touches.size === 2) {
        start = spread();
        from = zoomNow.current;
      }
    };
    const move = (e: PointerEvent) => {
      if (!touches.has(e.pointerId)) return;
      touches.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (touches.size === 2 && start > 0 && canvas.current) {
        canvas.current.style.transform = `scale(${clampZoom((from * spread()) / start) / from})`;
      }
    };
    const up = (e: PointerEvent) => {
      if (!touches.has(e.pointerId)) return;
      if (touches.size === 2 && start > 0) {
        const z = (from * spread()) / start;
        if (canvas.current) canvas.current.style.transform = "";
        setZoom(z);
      }
      touches.delete(e.pointerId);
      start = 0;
    };
    el.addEventListener("wheel", wheel, { passive: false });
    el.addEventListener("pointerdown", down);
    el.addEventListener("pointermove", move);
    el.addEventListener("pointerup", up);
    el.addEventListener("pointercancel", up);
    return () => {
      el.removeEventListener("wheel", wheel);
      el.removeEventListener("pointerdown", down);
      el.removeEventListener("pointermove", move);
      el.removeEventListener("pointerup", up);
      el.removeEventListener("pointercancel", up);
    };
  }, [zoomable]);
  const label = t("web.doc.page_of", { title: doc.title, page, pages: doc.pages });
  const content =
    doc.media_type === "application/pdf" ? (
      <canvas ref={canvas} aria-label={label} />
    ) : (
      <img src={`/api/documents/${doc.hash}`} alt={doc.title} style={{ maxWidth: zoomable ? "none" : `${width}px`, width: zoomable ? `${shown}px` : undefined }} />
    );
  return (
    <figure
      class={`doc${zoomable ? " doc-zoomable" : ""}`}
      data-testid="doc-viewer"
      data-page={page}
      data-state={state}
      data-zoom={zoomable ? zoom : undefined}
      onKeyDown={
        zoomable
          ? (e) => {
              // On the page or its zoom buttons: + and − zoom, 0 fits.
              if (e.ctrlKey || e.metaKey || e.altKey) return;
              if (e.key === "+" || e.key === "=") setZoom(stepZoom(zoomNow.current, 1));
              else if (e.key === "-" || e.key === "_") setZoom(stepZoom(zoomNow.current, -1));
              else if (e.key === "0") setZoom(1);
              else return;
              e.preventDefault();
            }
          : undefined
      }
    >
      {zoomable && (
        <div class="doc-zoom row" role="group" aria-label={t("web.doc.zoom")}>
          <button type="button" data-testid="zoom-out" disabled={zoom <= ZOOMS[0]} onClick={() => setZoom(stepZoom(zoomNow.current, -1))} aria-label={t("web.doc.zoom_out")} aria-keyshortcuts="-">
            −
          </button>
          <output data-testid="zoom-level" aria-live="polite">
            {Math.round(zoom * 100)}%
          </output>
          <button type="button" data-testid="zoom-in" disabled={zoom >= ZOOMS[ZOOMS.length - 1]} onClick={() => setZoom(stepZoom(zoomNow.current, 1))} aria-label={t("web.doc.zoom_in")} aria-keyshortcuts="+">
            +
          </button>
          <button type="button" data-testid="zoom-fit" disabled={zoom === 1} onClick={() => setZoom(1)} aria-keyshortcuts="0">
            {t("web.doc.zoom_fit")}
          </button>
        </div>
      )}
      {zoomable ? (
        <div
          ref={pane}
          class="doc-pane"
          data-testid="doc-pane"
          tabIndex={0}
          role="region"
          aria-label={`${label} · ${t("web.doc.zoom_keys")}`}
        >
          {content}
        </div>
      ) : (
        content
      )}
      <figcaption>
        {state === "loading" && t("web.doc.loading")}
        {state === "error" && t("web.doc.error")}
        {state === "ok" && label}
      </figcaption>
    </figure>
  );
}
