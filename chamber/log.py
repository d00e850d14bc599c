"""The sealed event log: records, their canonical encoding, the hash chain, replay and
verification.

Canonical encoding of a record (what is hashed): the JSON object
``{"at": …, "event": {…}, "seq": …, "sitting": …}`` in UTF-8, with the keys of every
object sorted, no insignificant white space, integers only (no floats), strings with only
the escapes JSON requires. The chain::

    hash_0 = 32 zero bytes
    hash_n = SHA-256(hash_{n-1} ‖ canonical(record_n))

hashes are written as lowercase hex. A record as exported is the canonical object plus
``"hash"``; to check one offline, drop ``hash``, re-encode canonically and chain.

An export is always a prefix of the chain, records 1..n whole: ``head`` is the hash of
record n, and ``complete`` says whether n is the last record of the log. An audience that
may not see a record yet (a ballot of a vote still open: chamber/projection.py
``project_log``) gets the records before it, and ``held_back`` names it (``seq``), says
why (``reason``) and which vote. A prefix of a valid chain verifies on its own; a record
is never altered or replaced by a placeholder, so nothing is asserted that cannot be
checked. Exports written before ``complete`` existed are complete.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import msgspec
from msgspec import Struct

from chamber.apply import APPLIERS, scheduled
from chamber.errors import ChamberError
from chamber.events import AnyEvent, SittingScheduled
from chamber.ids import VoteForm, VoteId, VoteStatus
from chamber.model import Sitting

GENESIS = bytes(32)
FORMAT = "nghitruong.log.v1"

_encoder = msgspec.json.Encoder(order="sorted")


class Entry(Struct, frozen=True, kw_only=True):
    """What is hashed: a record without its hash."""

    seq: int
    at: int
    sitting: str
    event: AnyEvent


class Record(Struct, frozen=True, kw_only=True):
    seq: int
    at: int
    sitting: str
    event: AnyEvent
    hash: str


_entry_decoder = msgspec.json.Decoder(Entry)
_record_decoder = msgspec.json.Decoder(Record)


def canonical(entry: Entry) -> bytes:
    return _encoder.encode(entry)


def chain(prev_hex: str, payload: bytes) -> str:
    prev = bytes.fromhex(prev_hex) if prev_hex else GENESIS
    return hashlib.sha256(prev + payload).hexdigest()


def seal(prev_hex: str, seq: int, at: int, sitting: str, event: AnyEvent) -> tuple[Record, bytes]:
    """Number, stamp and chain an event. Returns the record and its canonical bytes (what
    the journal stores)."""
    payload = canonical(Entry(seq=seq, at=at, sitting=sitting, event=event))
    digest = chain(prev_hex, payload)
    return Record(seq=seq, at=at, sitting=sitting, event=event, hash=digest), payload


def load(payload: bytes, digest: str) -> Record:
    """A record from the journal's canonical bytes and stored hash."""
    entry = _entry_decoder.decode(payload)
    return Record(seq=entry.seq, at=entry.at, sitting=entry.sitting, event=entry.event, hash=digest)


def apply(state: Sitting | None, record: Record) -> Sitting:
    """The state after ``record``; the record must be the next one of this sitting."""
    expected = 1 if state is None else state.seq + 1
    if record.seq != expected:
        raise ChamberError("log.gap", {"expected": expected, "got": record.seq})
    event = record.event
    if state is None:
        if not isinstance(event, SittingScheduled):
            raise ChamberError("log.no_schedule")
        new = scheduled(event)
    else:
        new = APPLIERS[type(event)](state, event, record.at)
    return msgspec.structs.replace(new, seq=record.seq, head=record.hash)


BallotBox = Mapping[tuple[str, str, str], int]


def replay(records: Iterable[Record], ballot_box: BallotBox | None = None) -> Sitting | None:
    """Rebuild the state from the log; open secret votes take their counts from the
    ballot box (vote, question, option) → count, which is kept apart from the log."""
    state: Sitting | None = None
    for record in records:
        state = apply(state, record)
    return counted(state, ballot_box) if state is not None and ballot_box else state


def counted(state: Sitting, ballot_box: BallotBox) -> Sitting:
    """The state with its open secret votes' counts taken from the ballot box."""
    for (vote_id, question, option), count in ballot_box.items():
        vote = state.votes.get(VoteId(vote_id))
        if vote is None or vote.status is not VoteStatus.OPEN or vote.form is not VoteForm.SECRET:
            continue
        counts = {q: dict(per) for q, per in vote.counts.items()}
        counts.setdefault(question, {})[option] = count
        state = msgspec.structs.replace(
            state, votes={**state.votes, vote.id: msgspec.structs.replace(vote, counts=counts)}
        )
    return state


class HeldBack(Struct, frozen=True, kw_only=True):
    """Where an export stops short of the log: ``seq`` is the first record left out, and
    every later one is left out too."""

    seq: int
    reason: str  # "vote.open", "vote.cancelled": the ballots of that vote are not public yet
    vote: str


class Verification(Struct, frozen=True, kw_only=True):
    ok: bool
    count: int
    head: str
    problem: str = ""  # altered, missing, reordered, sitting, envelope, format
    seq: int | None = None
    complete: bool = True  # False: the export says it stops before the end of the log
    held_back: HeldBack | None = None


def _check(items: Iterable[tuple[int, str, str, bytes]]) -> Verification:
    """Walk (seq, sitting, hash, canonical bytes) in file order."""
    prev, count, sitting = "", 0, None
    for seq, sit, digest, payload in items:
        expected = count + 1
        if seq != expected:
            problem = "reordered" if seq < expected else "missing"
            return Verification(ok=False, count=count, head=prev, problem=problem, seq=expected)
        if sitting is not None and sit != sitting:
            return Verification(ok=False, count=count, head=prev, problem="sitting", seq=seq)
        sitting = sit
        if chain(prev, payload) != digest:
            return Verification(ok=False, count=count, head=prev, problem="altered", seq=seq)
        prev, count = digest, seq
    return Verification(ok=True, count=count, head=prev)


def verify(records: Iterable[Record]) -> Verification:
    """Find any altered, missing or reordered record of a typed log."""
    return _check(
        (
            r.seq,
            r.sitting,
            r.hash,
            canonical(Entry(seq=r.seq, at=r.at, sitting=r.sitting, event=r.event)),
        )
        for r in records
    )


def _held_back(data: dict[str, object]) -> HeldBack | None:
    """The export's ``held_back`` (absent in exports that predate it: complete)."""
    raw = data.get("held_back")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise TypeError("held_back")
    return HeldBack(seq=int(raw["seq"]), reason=str(raw["reason"]), vote=str(raw["vote"]))


def verify_export(document: bytes) -> Verification:
    """Verify an exported log (JSON) without the schema: each record's canonical bytes are
    re-derived from its JSON object, so any reader can check a log of any version. The
    envelope must agree with the chain: its format, sitting and head hash, and, for an
    export that stops short of the log, the record it says it held back (the next one)."""
    try:
        data = msgspec.json.decode(document)
        complete = data.get("complete", True)
        held = _held_back(data)
        if not isinstance(complete, bool):
            raise TypeError("complete")
        raw = data["records"]
        items = [
            (
                int(r["seq"]),
                str(r["sitting"]),
                str(r["hash"]),
                _encoder.encode({k: v for k, v in r.items() if k != "hash"}),
            )
            for r in raw
        ]
        envelope = (data["format"], data["sitting"], data["head"])
    except (msgspec.DecodeError, KeyError, TypeError, ValueError, AttributeError):
        return Verification(ok=False, count=0, head="", problem="format")
    result = _check(items)
    if not result.ok:
        return result
    sitting = items[0][1] if items else ""
    stated = complete is (held is None) and (held is None or held.seq == result.count + 1)
    if envelope != (FORMAT, sitting, result.head) or not stated:
        return Verification(ok=False, count=result.count, head=result.head, problem="envelope")
    return msgspec.structs.replace(result, complete=complete, held_back=held)


def export(
    records: Iterable[Record], held_back: HeldBack | None = None, audience: str = ""
) -> bytes:
    """The exported log: JSON with each record and its hash; ``held_back`` when the records
    stop before the end of the log (they must then be the prefix before it), and the
    ``audience`` it was cut for."""
    rows = list(records)
    document: dict[str, object] = {
        "format": FORMAT,
        "sitting": rows[0].sitting if rows else "",
        "head": rows[-1].hash if rows else "",
        "records": rows,
        "complete": held_back is None,
        "held_back": held_back,
    }
    if audience:
        document["audience"] = audience
    return msgspec.json.encode(document, order="sorted")


def decode_record(raw: bytes) -> Record:
    return _record_decoder.decode(raw)
