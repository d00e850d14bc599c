// pdf.js, loaded only when a document is first shown; its worker is bundled by Vite.
import { getDocument, GlobalWorkerOptions, type PDFDocumentProxy } from "pdfjs-dist";
import workerUrl from "pdfjs-dist/build/pdf.worker.min.mjs?url";

GlobalWorkerOptions.workerSrc = workerUrl;

const cache = new Map<string, Promise<PDFDocumentProxy>>();

export function loadPdf(hash: string): Promise<PDFDocumentProxy> {
  let p = cache.get(hash);
  if (!p) {
    p = getDocument({ url: `/api/documents/${hash}`, isEvalSupported: false /* the CSP forbids eval */ }).promise;
    cache.set(hash, p);
    p.catch(() => cache.delete(hash));
  }
  return p;
}

export async function renderPage(hash: string, page: number, canvas: HTMLCanvasElement, width: number): Promise<number> {
  const doc = await loadPdf(hash);
  const n = Math.min(Math.max(1, page), doc.numPages);
  const p = await doc.getPage(n);
  const base = p.getViewport({ scale: 1 });
  const ratio = window.devicePixelRatio || 1;
  const viewport = p.getViewport({ scale: (width / base.width) * ratio });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  canvas.style.width = `${Math.floor(viewport.width / ratio)}px`;
  await p.render({ canvas, viewport }).promise;
  return doc.numPages;
}
