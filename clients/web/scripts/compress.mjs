// Brotli and gzip copies of every hashed asset (dist/assets/*.js, .css, …), made once at
// build time at the highest levels, so that the hub sends them as they are
// (server/webfiles.py) instead of compressing each answer. A copy not smaller than its
// file is not kept. Run by `npm run build` after `vite build`.
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const assets = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "assets");
const TEXT = /\.(m?js|css|svg|json|map|txt|wasm)$/;

if (!existsSync(assets)) {
  console.error("dist/assets is missing: run vite build first");
  process.exit(2);
}
let raw = 0;
let br = 0;
let gz = 0;
for (const name of readdirSync(assets)) {
  if (!TEXT.test(name)) continue;
  const file = join(assets, name);
  const data = readFileSync(file);
  const brotli = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  const gzip = gzipSync(data, { level: 9 });
  if (brotli.length < data.length) writeFileSync(`${file}.br`, brotli);
  if (gzip.length < data.length) writeFileSync(`${file}.gz`, gzip);
  raw += data.length;
  br += Math.min(brotli.length, data.length);
  gz += Math.min(gzip.length, data.length);
}
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
console.log(`compressed assets: ${kb(raw)} → brotli ${kb(br)}, gzip ${kb(gz)}`);
