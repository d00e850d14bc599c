// The restart benchmark's screens (tests/load/restart_resync.py drives it): M gallery
// screens that follow a sitting's seq and, when the hub goes away, reconnect with their
// last seq (protocol.md, Resume rules) until it is back. One JSON object per line:
//
//   node resync.mjs CONFIG.json          CONFIG: {url, sitting, screens, connect_parallel}
//   -> {"ready": ...}                    every screen welcomed
//   <- {"arm": SEQ}                      from now: note when each screen, after a drop,
//                                        is connected again and at SEQ or beyond
//   <- {"wait": SECONDS}                 -> {"caught": [epoch ms | null, ...], ...}
//   <- {"at": SEQ, "timeout_s": S}       -> {"at": true|false} once every screen is at SEQ
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { decode, encode } from "@msgpack/msgpack";
import WebSocket from "ws";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const PROTO = "nghitruong.v1.msgpack";
const now = () => performance.timeOrigin + performance.now();
const emit = (obj) =>
  new Promise((resolve) => process.stdout.write(JSON.stringify(obj) + "\n", resolve));

const n = cfg.screens;
const seq = new Array(n).fill(null); // the last seq applied, kept across reconnects
const live = new Array(n).fill(false); // welcomed on the current connection
const drops = new Array(n).fill(0); // since arm
let caught = new Array(n).fill(null);
let target = Infinity;
let stats = { attempts: 0, refused: 0, resumed: 0, snapshots: 0, resyncs: 0 };
let onChange = () => {};
const sockets = new Array(n).fill(null);
let stopping = false;

function check(i) {
  if (live[i] && drops[i] > 0 && caught[i] === null && seq[i] !== null && seq[i] >= target) {
    caught[i] = now();
  }
  onChange();
}

function connect(i) {
  return new Promise((resolve) => {
    stats.attempts++;
    const ws = new WebSocket(cfg.url, PROTO, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    sockets[i] = ws;
    let welcomed = false;
    ws.on("open", () =>
      ws.send(encode({ t: "hello", sitting: cfg.sitting, token: null, last_seq: seq[i] })),
    );
    ws.on("message", (buf) => {
      const f = decode(buf);
      if (f.t === "welcome") {
        if (f.snapshot === null) stats.resumed++;
        else stats.snapshots++;
        seq[i] = f.seq;
        live[i] = welcomed = true;
        resolve(true);
      } else if (f.t === "events") {
        if (f.from !== seq[i]) {
          seq[i] = null; // a gap: start again from a snapshot
          ws.terminate();
          return;
        }
        seq[i] = f.to;
      } else if (f.t === "snapshot") {
        stats.resyncs++;
        seq[i] = f.seq;
      }
      check(i);
    });
    ws.on("error", () => {}); // "close" follows
    ws.on("close", () => {
      if (!welcomed) stats.refused++;
      live[i] = false;
      drops[i]++;
      if (stopping) return;
      // Back again soon (with jitter, so that 2,000 screens do not knock at once).
      setTimeout(() => connect(i).then(resolve), 50 + Math.random() * 100);
    });
  });
}

async function openAll() {
  let next = 0;
  const worker = async () => {
    while (next < n) await connect(next++);
  };
  await Promise.all(Array.from({ length: cfg.connect_parallel ?? 32 }, worker));
}

function until(pred, timeoutS) {
  return new Promise((resolve) => {
    if (pred()) return resolve(true);
    const timer = setTimeout(() => {
      onChange = () => {};
      resolve(false);
    }, timeoutS * 1000);
    onChange = () => {
      if (pred()) {
        clearTimeout(timer);
        onChange = () => {};
        resolve(true);
      }
    };
  });
}

async function main() {
  const t0 = now();
  await openAll();
  drops.fill(0);
  emit({ ready: true, connect_s: (now() - t0) / 1000, connections: n });
  for await (const line of createInterface({ input: process.stdin })) {
    const msg = JSON.parse(line);
    if ("at" in msg) {
      const ok = await until(() => seq.every((s) => s !== null && s >= msg.at), msg.timeout_s ?? 30);
      emit({ at: ok });
    } else if ("arm" in msg) {
      target = msg.arm;
      caught = new Array(n).fill(null);
      drops.fill(0);
      stats = { attempts: 0, refused: 0, resumed: 0, snapshots: 0, resyncs: 0 };
    } else if ("wait" in msg) {
      const cpu0 = process.cpuUsage();
      await until(() => caught.every((c) => c !== null), msg.wait);
      const cpu = process.cpuUsage(cpu0);
      emit({ caught, stats, dropped: drops.filter((d) => d > 0).length, cpu_ms: (cpu.user + cpu.system) / 1000 });
    }
  }
  stopping = true;
  for (const ws of sockets) ws?.terminate();
  process.exit(0);
}

main().catch(async (err) => {
  await emit({ error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
