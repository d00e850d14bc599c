// The presented document as large as the gallery's document column allows: the page's
// width is chosen so that the whole page fits the column's height (an A4 page until
// the PDF says otherwise), and re-chosen when the screen's size changes.
import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../lib/i18n";
import type { Document } from "../lib/types";
import { DocViewer } from "../ui/docviewer";

const A4 = 1 / Math.SQRT2; // width / height of a portrait A4 page
const CAPTION = 1.6; // the caption's height, in vw, kept free under the page

/** Width over height of `page` of a PDF (pdf.js is loaded as the viewer loads it). */
function usePageShape(doc: Document, page: number): number {
  const [shape, setShape] = useState(A4);
  useEffect(() => {
    if (doc.media_type !== "application/pdf") return;
    let live = true;
    import("../lib/pdf")
      .then((m) => m.loadPdf(doc.hash))
      .then((pdf) => pdf.getPage(Math.min(Math.max(1, page), pdf.numPages)))
      .then((p) => {
        const v = p.getViewport({ scale: 1 });
        if (live && v.height > 0) setShape(v.width / v.height);
      })
      .catch(() => undefined); // the viewer shows the error
    return () => {
      live = false;
    };
  }, [doc.hash, page]);
  return shape;
}

export function GalleryDoc({ doc, page }: { doc: Document; page: number }) {
  const box = useRef<HTMLElement>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const shape = usePageShape(doc, page);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setSize({ w: el.clientWidth, h: el.clientHeight });
    measure();
    const watch = new ResizeObserver(measure);
    watch.observe(el);
    return () => watch.disconnect();
  }, []);
  let width = 0;
  if (size) {
    const free = size.h - (CAPTION * window.innerWidth) / 100;
    width = Math.floor(Math.max(0, Math.min(size.w, free * shape)));
  }
  return (
    <section class="g-doc" data-testid="g-doc" ref={box} aria-label={t("gallery.document")}>
      {width > 0 && <DocViewer doc={doc} page={page} width={width} />}
    </section>
  );
}
