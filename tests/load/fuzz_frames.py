"""Coverage-guided fuzzing of the wire decoders and the core (run by `make bench`).

    python tests/load/fuzz_frames.py [--runs N] [--seconds S] [corpus dir]

Each input is one selector byte and a frame. The selector picks the codec (MessagePack
or JSON), the state (a sitting scheduled, in session with an open vote, a turn and a
request, suspended, closed) and who acts (each role, a member or the operator). The frame
goes through `Codec.decode` (a typed frame or `FrameError`, nothing else) and
`Codec.command_id` (never raises); a decoded command is executed against the state (a
result or a `ChamberError`, nothing else). Any other exception is a crash: its input is
written to the artifacts folder, the run goes on, and the count is printed at the end
with the executions per second; the exit status is 1 if there was any crash.

atheris (libFuzzer for Python) instruments chamber/ and server/protocol.py so inputs that
reach new branches are kept; a seed corpus of valid frames (one per command type, both
codecs, every selector) starts it off.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import atheris
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["chamber", "server.protocol"]):
    from chamber import ChamberError, Ctx, Sitting, execute
    from chamber import commands as c
    from chamber.ids import ItemId, MemberId, Role
    from chamber.model import AgendaItem
    from chamber.rules import Rules
    from server.protocol import Cmd, Codec, FrameError, Hello, Ping

from server.demo import START, demo_council
from tests.server.frames import COMMANDS, NASTY_JSON, NASTY_MSGPACK, body_of

CODECS = (Codec("msgpack"), Codec("json"))
#: (actor, role): the chair, vice chair, secretary and a delegate as themselves, the
#: operator, and a member claiming a role they do not hold.
ACTORS: tuple[tuple[MemberId | None, Role], ...] = (
    (MemberId("db01"), Role.CHAIR),
    (MemberId("db02"), Role.VICE_CHAIR),
    (MemberId("db03"), Role.SECRETARY),
    (MemberId("db05"), Role.DELEGATE),
    (None, Role.OPERATOR),
    (MemberId("db05"), Role.CHAIR),
    (MemberId("db01"), Role.DELEGATE),
)


def _run(state: Sitting | None, actor: MemberId | None, role: Role, cmd: Any) -> Sitting:
    step = execute(state, cmd, Ctx(actor=actor, role=role, now=START + (state.seq if state else 0)))
    assert step.state is not None
    return step.state


def states() -> list[Sitting]:
    """A sitting in each phase; the one in session has an open vote, a turn and a request."""
    op, chair = (None, Role.OPERATOR), (MemberId("db01"), Role.CHAIR)
    s = _run(
        None,
        *op,
        c.ScheduleSitting(
            sitting="fuzz",
            council=demo_council(),
            title="Kỳ họp thử",
            scheduled_at=START,
            rules=Rules(quorum_to_open=False),
            agenda=(AgendaItem(id=ItemId("i1"), title="Báo cáo"),),
        ),
    )
    scheduled = s
    for i in range(1, 21):
        s = _run(s, MemberId(f"db{i:02d}"), Role.DELEGATE, c.CheckIn())
    s = _run(s, *chair, c.OpenSitting())
    closed = _run(s, *chair, c.CloseSitting())
    s = _run(s, *chair, c.StartSitting())
    s = _run(s, *chair, c.MoveToItem(item=ItemId("i1")))
    doc = hashlib.sha256(b"fuzz").hexdigest()
    s = _run(s, *op, c.RegisterDocument(hash=doc, title="Dự thảo", item=ItemId("i1")))  # type: ignore[arg-type]
    s = _run(s, *chair, c.ProposeMotion(title="Nghị quyết", doc=doc))  # type: ignore[arg-type]
    s = _run(s, *chair, c.OpenVote(motion=next(iter(s.motions))))
    s = _run(s, MemberId("db05"), Role.DELEGATE, c.RequestFloor(note="xin phát biểu"))
    s = _run(s, MemberId("db06"), Role.DELEGATE, c.RequestFloor())
    s = _run(s, *chair, c.GrantNext())
    in_session = s
    suspended = _run(s, *chair, c.SuspendSitting(reason="nghỉ giải lao"))
    return [scheduled, in_session, suspended, closed]


STATES = states()
assert len(STATES) == 4, "the selector has two bits for the state"


def seeds() -> list[bytes]:
    """Valid frames (a hello, a resuming hello, a ping and one command of every type, with
    ids of the in-session state where a field names one) for every state and actor, and
    the frames that once escaped the decoders."""
    live = STATES[1]
    ids = {
        "vote": next(iter(live.votes)),
        "motion": next(iter(live.motions)),
        "turn": next(iter(live.turns), "t1"),
        "request": live.queue[0].id if live.queue else "r1",
        "member": "db07",
        "respondent": "db04",
        "item": "i1",
    }
    frames: list[Any] = [
        {"t": "hello", "sitting": "fuzz", "token": "x", "lang": "en"},
        {"t": "hello", "sitting": "fuzz", "last_seq": 3, "remote": True},
        {"t": "ping", "n": 7},
    ]
    for name in sorted(COMMANDS):
        body = body_of(name)
        body.update({k: v for k, v in ids.items() if k in body})
        frames.append({"t": "cmd", "id": f"c-{name}", "cmd": body})
    out = []
    for frame in frames:
        for kind, encoded in enumerate((msgspec.msgpack.encode(frame), msgspec.json.encode(frame))):
            for state in range(len(STATES)):
                for actor in range(len(ACTORS)):
                    out.append(bytes([kind | state << 1 | actor << 3]) + encoded)
    for kind, nasty in enumerate((NASTY_MSGPACK, NASTY_JSON)):  # issue 7 defect 3
        out += [bytes([kind | 0x80]) + data for data in nasty]
    return out


class Target:
    def __init__(self, artifacts: Path, runs: int, seconds: float, scratch: Path | None) -> None:
        self.artifacts, self.runs, self.seconds = artifacts, runs, seconds
        self.scratch = scratch  # a corpus folder of this run alone, removed at the end
        self.executions = 0
        self.crashes: dict[str, int] = {}  # where → count
        self.decoded = self.commands = self.accepted = 0
        self.started = time.monotonic()

    def __call__(self, data: bytes) -> None:
        self.executions += 1
        if self.executions >= self.runs or time.monotonic() - self.started >= self.seconds:
            self.finish()
        if not data:
            return
        try:
            self.one(data[0], data[1:])
        except Exception as exc:
            self.crash(data, exc)

    def one(self, selector: int, frame: bytes) -> None:
        codec = CODECS[selector & 1]
        state = STATES[(selector >> 1) & 3]
        actor, role = ACTORS[(selector >> 3 & 15) % len(ACTORS)]
        payload: bytes | str = frame
        if not codec.binary and selector & 0x80:
            payload = frame.decode("utf-8", errors="replace")  # a text frame, as the hub sees it
        cid = codec.command_id(payload)
        assert cid is None or isinstance(cid, str), cid
        try:
            decoded = codec.decode(payload)
        except FrameError:
            return
        assert isinstance(decoded, Hello | Cmd | Ping), decoded
        self.decoded += 1
        if not isinstance(decoded, Cmd):
            return
        self.commands += 1
        try:
            execute(state, decoded.cmd, Ctx(actor=actor, role=role, now=START + 3_600_000))
        except ChamberError:
            return
        self.accepted += 1

    def crash(self, data: bytes, exc: Exception) -> None:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
        first = where not in self.crashes
        self.crashes[where] = self.crashes.get(where, 0) + 1
        if first:
            path = self.artifacts / f"crash-{hashlib.sha1(data).hexdigest()}"
            path.write_bytes(data)
            print(f"\nCRASH {where}: {exc!r:.200}\n  input: {path}", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)

    def finish(self) -> None:
        elapsed = time.monotonic() - self.started
        crashes = sum(self.crashes.values())
        print(
            f"\nfuzz_frames: {self.executions} executions in {elapsed:.1f} s "
            f"({self.executions / max(elapsed, 1e-9):,.0f}/s); decoded {self.decoded}, "
            f"commands {self.commands}, accepted by the core {self.accepted}; "
            f"crashes: {crashes} ({len(self.crashes)} distinct)"
        )
        for where, count in sorted(self.crashes.items()):
            print(f"  {count} × {where}")
        if crashes:
            print(f"  inputs in {self.artifacts}")
        else:
            shutil.rmtree(self.artifacts, ignore_errors=True)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1 if crashes else 0)  # libFuzzer owns the loop: leave from here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("corpus", nargs="?", help="corpus folder (a fresh one by default)")
    args, libfuzzer = parser.parse_known_args()
    scratch = None if args.corpus else Path(tempfile.mkdtemp(prefix="fuzz-frames-corpus-"))
    corpus = Path(args.corpus) if args.corpus else scratch
    assert corpus is not None
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in seeds():
        (corpus / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    artifacts = Path(tempfile.mkdtemp(prefix="fuzz-frames-artifacts-"))
    target = Target(artifacts, args.runs, args.seconds, scratch)
    argv = [sys.argv[0], *libfuzzer, f"-artifact_prefix={artifacts}/", str(corpus)]
    atheris.Setup(argv, target)
    atheris.Fuzz()
    target.finish()  # the corpus ran dry before the budget (libFuzzer -runs given)


if __name__ == "__main__":
    main()
