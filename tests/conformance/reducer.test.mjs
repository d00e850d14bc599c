// The web client's reducer against the core: every conformance case (tests/conformance/
// cases.py) is replayed through clients/web/src/lib/reducer.ts, bundled here with the
// web client's own bundler (rolldown, vite's), and after every record the reducer's state
// must equal the snapshot the hub would send that audience, field by field.
//
//   NGHITRUONG_CONFORMANCE=cases.json node --test tests/conformance/reducer.test.mjs
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const web = join(root, "clients/web");

async function loadReducer() {
  const require = createRequire(join(web, "package.json"));
  const { build } = await import(pathToFileURL(require.resolve("rolldown")).href);
  const out = await build({ input: join(web, "src/lib/reducer.ts"), write: false, output: { format: "esm" } });
  const dir = mkdtempSync(join(tmpdir(), "reducer-"));
  const file = join(dir, "reducer.mjs");
  writeFileSync(file, out.output[0].code);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Sets travel as arrays in whatever order a Python frozenset iterates: compare them sorted.
const SETS = new Set(["voted", "roles"]);
// The hash chain's head is not in the events a console is sent (a snapshot brings it).
const SKIP = new Set(["head"]);

function normal(value, key = "") {
  if (Array.isArray(value)) {
    const items = value.map((v) => normal(v));
    return SETS.has(key) ? items.sort() : items;
  }
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (!SKIP.has(k)) out[k] = normal(v, k);
    return out;
  }
  return value;
}

const path = process.env.NGHITRUONG_CONFORMANCE;

test("the reducer arrives at the core's projected state after every record", { skip: !path && "NGHITRUONG_CONFORMANCE not set" }, async (t) => {
  const { applyEvents } = await loadReducer();
  const { cases } = JSON.parse(readFileSync(path, "utf8"));
  assert.ok(cases.length > 0, "no cases");
  let compared = 0;
  for (const c of cases) {
    await t.test(c.name, () => {
      let state = null;
      for (const frame of c.frames) {
        state = applyEvents(state, frame.events, frame.to);
        assert.deepStrictEqual(normal(state), normal(frame.state), `${c.name}: after seq ${frame.to}`);
        compared++;
      }
    });
  }
  console.log(`conformance: ${cases.length} cases, ${compared} frames compared`);
});
