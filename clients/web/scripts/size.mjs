// Gzipped size of what each page loads up front (its entry, the chunks it preloads, its
// CSS), pdf.js excluded (it is loaded lazily, only when a document is shown).
// Usage: npm run size  (after npm run build). Fails when a page is over the budget.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const BUDGET = 150 * 1024;
const pages = { landing: "index.html", chair: "chair/index.html", delegate: "delegate/index.html", gallery: "gallery/index.html", operator: "operator/index.html", room: "room/index.html" };
const isPdf = (f) => /(^|\/)pdf[.-]/.test(f);
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

if (!existsSync(dist)) {
  console.error("dist/ is missing: run npm run build first");
  process.exit(2);
}
let failed = false;
console.log("page       gzipped (JS + CSS, without pdf.js)");
for (const [name, html] of Object.entries(pages)) {
  const text = readFileSync(join(dist, html), "utf8");
  const files = new Set();
  for (const m of text.matchAll(/(?:src|href)="\/([^"]+\.(?:js|mjs|css))"/g)) if (!isPdf(m[1])) files.add(m[1]);
  let total = 0;
  const parts = [];
  for (const f of files) {
    const n = gz(f);
    total += n;
    parts.push(`${f.replace("assets/", "")} ${kb(n)}`);
  }
  if (total > BUDGET) failed = true;
  console.log(`${name.padEnd(10)} ${kb(total).padStart(9)}  ${total > BUDGET ? "OVER BUDGET " : ""}(${parts.join(", ")})`);
}
// Chunks no page loads up front: pdf.js and its worker, the QR code library (operator cards).
const upfront = new Set();
for (const html of Object.values(pages)) for (const m of readFileSync(join(dist, html), "utf8").matchAll(/(?:src|href)="\/([^"]+)"/g)) upfront.add(m[1]);
const lazy = readdirSync(join(dist, "assets")).filter((f) => /\.(m?js)$/.test(f) && !upfront.has(`assets/${f}`));
for (const f of lazy) console.log(`lazy       ${kb(gz(`assets/${f}`)).padStart(9)}  ${f} (loaded on demand, not counted)`);
console.log(`budget     ${kb(BUDGET)} per page`);
process.exit(failed ? 1 : 0);
