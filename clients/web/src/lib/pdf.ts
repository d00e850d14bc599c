// pdf.js, loaded only when a document is first shown; its worker is bundled by Vite.
import { getDocument, GlobalWorkerOptions, type PDFDocumentProxy, type RenderTask } from "pdfjs-dist";
import workerUrl from "pdfjs-dist/build/pdf.worker.min.mjs?url";

GlobalWorkerOptions.workerSrc = workerUrl;

const cache = new Map<string, Promise<PDFDocumentProxy>>();

/** The most device pixels one rendered page may have: a zoomed A4 page on a tablet stays
 * sharp within ~64 MB of canvas memory rather than asking for hundreds. */
export const MAX_PIXELS = 16_000_000;

export function loadPdf(hash: string): Promise<PDFDocumentProxy> {
  let p = cache.get(hash);
  if (!p) {
    p = getDocument({ url: `/api/documents/${hash}`, isEvalSupported: false /* the CSP forbids eval */ }).promise;
    cache.set(hash, p);
    p.catch(() => cache.delete(hash));
  }
  return p;
}

// The render under way for each visible canvas: a newer one (the next page, another zoom)
// cancels it, so quick taps never leave two renders racing for one canvas.
const running = new WeakMap<HTMLCanvasElement, RenderTask>();

/** Render `page` `width` CSS pixels wide into `canvas`. The page is drawn off screen and
 * copied in when done, so the old page stays visible meanwhile, with no blank flash while
 * zooming. Resolves with the document's page count; rejects if cancelled by a newer call. */
export async function renderPage(hash: string, page: number, canvas: HTMLCanvasElement, width: number): Promise<number> {
  running.get(canvas)?.cancel();
  const doc = await loadPdf(hash);
  const n = Math.min(Math.max(1, page), doc.numPages);
  const p = await doc.getPage(n);
  const base = p.getViewport({ scale: 1 });
  const css = width / base.width;
  const wanted = window.devicePixelRatio || 1;
  const fits = Math.sqrt(MAX_PIXELS / (base.width * css * base.height * css));
  const viewport = p.getViewport({ scale: css * Math.min(wanted, fits) });
  const off = document.createElement("canvas");
  off.width = Math.floor(viewport.width);
  off.height = Math.floor(viewport.height);
  running.get(canvas)?.cancel();
  const task = p.render({ canvas: off, viewport });
  running.set(canvas, task);
  try {
    await task.promise;
  } finally {
    if (running.get(canvas) === task) running.delete(canvas);
  }
  canvas.width = off.width;
  canvas.height = off.height;
  canvas.style.width = `${Math.floor(base.width * css)}px`;
  canvas.getContext("2d")?.drawImage(off, 0, 0);
  off.width = off.height = 0; // free its memory now
  return doc.numPages;
}
