// The vote storm's load generator (tests/load/vote_storm.py drives it): N delegates and
// M gallery screens on one core, cheap enough that the hub, not this process, is measured.
//
// Delegates decode only their answers (ack, error); screens count frames and bytes and
// peek at two things without decoding: a `view` frame's `ballots` and the string
// "vote.closed" in an `events` frame. One JSON object per line on stdout, commands on stdin:
//
//   node storm.mjs CONFIG.json
//   -> {"ready": ...}           everyone connected (and checked in)
//   <- {"go": "<vote id>"}      each delegate casts once, at a random moment within spread_ms
//   -> {"acks": [[sent, acked], ...], "cpu": ...}    epoch milliseconds
//   -> {"screens": {"finals": [...], "closed": [...], ...}, "cpu": ...}
//
// CONFIG: {url, sitting, tokens, screens, need, bare, sio, check_in, spread_ms, watch_s,
//          connect_parallel, urls}. With `urls` (several hub nodes), client i of each
// kind connects to urls[i % urls.length]: delegates and screens spread evenly.
//
// With `sio` the clients speak Socket.IO 5 over Engine.IO 4's websocket transport to the
// peer (tests/load/socketio_peer.py; `url` ends in /socket.io/?EIO=4&transport=websocket),
// text frames by hand: `0{...}` open, `40{auth}` connect, `42N["ballot",{...}]` an
// emit with ack id N, `43N[[n,...]]` its ack, `42["tally",[n,...]]` the room broadcast, `2` a
// ping answered `3`. A screen reads the tally's number, nothing else.
//
// With no tokens and no `need` the generator only holds its screens connected (idle
// gallery connections) until stdin closes or says {"go": ...}.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { encode, decode } from "@msgpack/msgpack";
import WebSocket from "ws";

const cfg = JSON.parse(readFileSync(process.argv[2], "utf8"));
const PROTO = "nghitruong.v1.msgpack";
const now = () => performance.timeOrigin + performance.now(); // epoch ms, as Python's time.time()
// A pipe takes 64 KiB at once: the rest is written later, so exit only once it is out.
const emit = (obj) =>
  new Promise((resolve) => process.stdout.write(JSON.stringify(obj) + "\n", resolve));
const T = 0x74; // "t"
const BALLOTS = Buffer.from([0xa7, ...Buffer.from("ballots")]);
const VOTE_CLOSED = Buffer.from([0xab, ...Buffer.from("vote.closed")]);

// The frame's type from its first bytes (msgspec writes the tag first): no decoding.
function kind(buf) {
  if (buf.length < 4 || buf[1] !== 0xa1 || buf[2] !== T) return "";
  const n = buf[3] & 0x1f;
  return buf.toString("latin1", 4, 4 + n);
}

// The unsigned integer after `ballots` in a view frame, or -1.
function ballots(buf) {
  const i = buf.indexOf(BALLOTS);
  if (i < 0) return -1;
  const j = i + BALLOTS.length;
  const b = buf[j];
  if (b < 0x80) return b;
  if (b === 0xcc) return buf[j + 1];
  if (b === 0xcd) return buf.readUInt16BE(j + 1);
  if (b === 0xce) return buf.readUInt32BE(j + 1);
  return -1;
}

const URLS = cfg.urls ?? [cfg.url];

const SIO = !!cfg.sio;

function open(token, i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(URLS[i % URLS.length], SIO ? [] : PROTO, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: 60_000,
    });
    ws.once("error", reject);
    if (!SIO) {
      ws.once("open", () => ws.send(encode({ t: "hello", sitting: cfg.sitting, token })));
      ws.once("message", () => resolve(ws)); // the welcome
      return;
    }
    // Engine.IO open ("0{sid,...}"), then the namespace's connect ("40{sid}").
    const step = (buf) => {
      if (buf[0] === 0x30) ws.send("40" + JSON.stringify(token === null ? {} : { token }));
      else if (buf[0] === 0x34 && buf[1] === 0x30) {
        ws.off("message", step);
        ws.on("message", (b) => b.length === 1 && b[0] === 0x32 && ws.send("3")); // ping
        resolve(ws);
      } else if (buf[0] === 0x34 && buf[1] === 0x34) reject(new Error(buf.toString()));
    };
    ws.on("message", step);
  });
}

// Socket.IO: the ack id of a `43N[...]` frame, or -1.
function sioAck(buf) {
  if (buf[0] !== 0x34 || buf[1] !== 0x33) return -1;
  let n = 0;
  for (let i = 2; i < buf.length && buf[i] >= 0x30 && buf[i] <= 0x39; i++) n = n * 10 + buf[i] - 0x30;
  return n;
}

// Socket.IO: the ballots cast, first in `42["tally",[n,approve,reject,abstain]]`, or -1.
const TALLY = Buffer.from('42["tally",[');
function sioTally(buf) {
  if (buf.length <= TALLY.length || buf.compare(TALLY, 0, TALLY.length, 0, TALLY.length) !== 0) return -1;
  let n = 0;
  for (let i = TALLY.length; i < buf.length && buf[i] >= 0x30 && buf[i] <= 0x39; i++) n = n * 10 + buf[i] - 0x30;
  return n;
}

async function openAll(tokens) {
  const out = new Array(tokens.length);
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const i = next++;
      out[i] = await open(tokens[i], i);
    }
  };
  await Promise.all(Array.from({ length: cfg.connect_parallel ?? 32 }, worker));
  return out;
}

// CPU of this process over a window, with the busiest 250 ms slice within it.
class CpuWindow {
  constructor() {
    this.start = process.cpuUsage();
    this.wall = performance.now();
    this.peak = 0;
    this.last = { cpu: this.start, wall: this.wall };
    this.timer = setInterval(() => this.sample(), 250);
    this.lag = monitorEventLoopDelay({ resolution: 5 });
    this.lag.enable();
  }
  sample() {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const used = (cpu.user - this.last.cpu.user + cpu.system - this.last.cpu.system) / 1000;
    if (wall > this.last.wall) this.peak = Math.max(this.peak, (100 * used) / (wall - this.last.wall));
    this.last = { cpu, wall };
  }
  read() {
    this.sample();
    const cpu = process.cpuUsage(this.start);
    const wall = performance.now() - this.wall;
    return {
      cpu_ms: (cpu.user + cpu.system) / 1000,
      wall_ms: wall,
      pct: (100 * (cpu.user + cpu.system)) / 1000 / wall,
      peak_250ms_pct: this.peak,
      loop_lag_p99_ms: this.lag.percentile(99) / 1e6,
      loop_lag_max_ms: this.lag.max / 1e6,
    };
  }
  stop() {
    clearInterval(this.timer);
    this.lag.disable();
  }
}

async function main() {
  const t0 = now();
  const delegates = await openAll(cfg.tokens);
  const screens = await openAll(new Array(cfg.screens).fill(null));
  const waiters = new Map();
  let cid = 0;
  const command = (ws, cmd) =>
    new Promise((resolve) => {
      const id = SIO ? ++cid : `g${++cid}`;
      const sent = now();
      waiters.set(id, (acked, ok) => resolve([sent, acked, ok]));
      if (SIO) ws.send(`42${id}["ballot",${JSON.stringify({ choice: cmd.choice })}]`);
      else ws.send(encode({ t: "cmd", id, cmd }));
    });
  for (const ws of delegates) {
    ws.on("message", (buf) => {
      if (SIO) {
        const id = sioAck(buf);
        const done = id >= 0 && waiters.get(id);
        if (done) {
          waiters.delete(id);
          done(now(), true);
        }
        return;
      }
      const k = kind(buf);
      if (k !== "ack" && k !== "error") return;
      const at = now();
      const frame = decode(buf);
      const done = waiters.get(frame.id);
      if (done) {
        waiters.delete(frame.id);
        done(at, k === "ack");
      }
    });
  }
  if (cfg.check_in) {
    await Promise.all(delegates.map((ws) => command(ws, { type: "attendance.check_in" })));
  }
  const finals = new Array(cfg.screens).fill(null);
  const closed = new Array(cfg.screens).fill(null);
  let frames = 0;
  let bytes = 0;
  let watching = cfg.screens;
  let allSeen = () => {};
  const seen = new Promise((resolve) => (allSeen = resolve));
  const settle = (i) => {
    if (cfg.bare || SIO ? finals[i] !== null : closed[i] !== null) {
      if (--watching === 0) allSeen();
    }
  };
  screens.forEach((ws, i) => {
    let count = 0;
    ws.on("message", (buf) => {
      frames++;
      bytes += buf.length;
      if (SIO) {
        if (finals[i] === null && sioTally(buf) >= cfg.need) {
          finals[i] = now();
          settle(i);
        }
        return;
      }
      if (cfg.bare) {
        if (++count === cfg.need) {
          finals[i] = now();
          settle(i);
        }
        return;
      }
      const k = kind(buf);
      if (k === "view" && finals[i] === null && ballots(buf) >= cfg.need) finals[i] = now();
      else if (k === "events" && closed[i] === null && buf.indexOf(VOTE_CLOSED) >= 0) {
        closed[i] = now();
        settle(i);
      }
    });
  });
  emit({ ready: true, connect_s: (now() - t0) / 1000, connections: delegates.length + screens.length });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const msg = JSON.parse(line);
    if (!("go" in msg)) continue;
    const cpu = new CpuWindow();
    const spread = cfg.spread_ms ?? 1000;
    const casts = delegates.map(
      (ws) =>
        new Promise((resolve) =>
          setTimeout(() => {
            const choice = ["approve", "reject", "abstain"][Math.floor(Math.random() * 3)];
            resolve(command(ws, { type: "vote.cast", vote: msg.go, choice }));
          }, Math.random() * spread),
        ),
    );
    const acks = await Promise.all(casts);
    emit({ acks: acks.map(([s, a]) => [s, a]), refused: acks.filter((a) => !a[2]).length, cpu: cpu.read() });
    const timeout = new Promise((resolve) => setTimeout(resolve, (cfg.watch_s ?? 30) * 1000));
    await Promise.race([seen, timeout]);
    await emit({ screens: { finals, closed, frames, bytes }, cpu: cpu.read() });
    cpu.stop();
    break;
  }
  for (const ws of [...delegates, ...screens]) ws.terminate();
  process.exit(0);
}

main().catch(async (err) => {
  await emit({ error: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
