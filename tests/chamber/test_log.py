"""The sealed log: canonical encoding, hash chain, replay and verification."""

from __future__ import annotations

import msgspec
import pytest

from chamber import ChamberError, replay, verify, verify_export
from chamber import commands as c
from chamber.ids import APPROVE
from chamber.log import GENESIS, Entry, canonical, chain, decode_record, export, load, seal
from tests.chamber.play import Play


@pytest.fixture(scope="module")
def played() -> Play:
    p = Play()
    p.open_and_start(25)
    p.as_delegate(5, c.RequestFloor())
    p.do(c.GrantNext())
    p.tick(42)
    p.do(c.EndTurn(turn=p.records[-1].event.turn.id))  # type: ignore[union-attr]
    p.do(c.RegisterDocument(hash="d" * 64, title="Dự thảo", pages=2))
    p.do(c.ProposeMotion(title="Nghị quyết", doc="d" * 64))
    p.do(c.OpenVote(motion=next(iter(p.s.motions)), preset="dismissal"))
    vote = p.s.open_vote()
    assert vote is not None
    for i in range(1, 11):
        p.as_delegate(i, c.CastBallot(vote=vote.id, choice=APPROVE))
    return p


def test_chain_starts_from_zero_bytes_and_links_every_record(played: Play) -> None:
    first = played.records[0]
    payload = canonical(Entry(seq=1, at=first.at, sitting="s1", event=first.event))
    import hashlib

    assert first.hash == hashlib.sha256(GENESIS + payload).hexdigest()
    for prev, rec in zip(played.records, played.records[1:], strict=False):
        entry = Entry(seq=rec.seq, at=rec.at, sitting=rec.sitting, event=rec.event)
        assert rec.hash == chain(prev.hash, canonical(entry))


def test_seqs_are_gap_free_from_one(played: Play) -> None:
    assert [r.seq for r in played.records] == list(range(1, len(played.records) + 1))
    assert played.s.seq == len(played.records)
    assert played.s.head == played.records[-1].hash


def test_canonical_bytes_sort_keys_and_have_no_white_space(played: Play) -> None:
    rec = played.records[0]
    raw = canonical(Entry(seq=rec.seq, at=rec.at, sitting=rec.sitting, event=rec.event))
    assert raw.startswith(b'{"at":')
    assert b": " not in raw and b", " not in raw
    decoded = msgspec.json.decode(raw)
    assert list(decoded) == sorted(decoded)


def test_schema_free_canonical_form_equals_the_typed_one(played: Play) -> None:
    """An offline verifier that knows no schema re-derives the same bytes."""
    for rec in played.records:
        typed = canonical(Entry(seq=rec.seq, at=rec.at, sitting=rec.sitting, event=rec.event))
        untyped = msgspec.json.encode(msgspec.json.decode(typed), order="sorted")
        assert typed == untyped


def test_journal_payload_round_trips(played: Play) -> None:
    state = None
    prev = ""
    for rec in played.records:
        new, payload = seal(prev, rec.seq, rec.at, rec.sitting, rec.event)
        assert new == rec
        assert load(payload, new.hash) == rec
        prev = new.hash
    del state


def test_replay_rebuilds_the_live_state_with_the_ballot_box(played: Play) -> None:
    assert replay(played.records, played.ballot_box()) == played.s
    # Without the ballot box an open secret vote has only who voted, never the counts.
    bare = replay(played.records)
    assert bare is not None
    vote = bare.open_vote()
    assert vote is not None and len(vote.voted) == 10
    assert all(n == 0 for per in vote.counts.values() for n in per.values())


def test_replay_of_nothing_is_nothing() -> None:
    assert replay([]) is None


def test_verify_accepts_the_untouched_log(played: Play) -> None:
    result = verify(played.records)
    assert result.ok and result.count == len(played.records)
    assert result.head == played.records[-1].hash


def test_verify_finds_an_altered_record(played: Play) -> None:
    records = list(played.records)
    victim = records[40]
    records[40] = msgspec.structs.replace(victim, at=victim.at + 1)
    result = verify(records)
    assert (result.ok, result.problem, result.seq) == (False, "altered", 41)


def test_verify_finds_a_missing_record(played: Play) -> None:
    records = played.records[:10] + played.records[11:]
    result = verify(records)
    assert (result.ok, result.problem, result.seq) == (False, "missing", 11)


def test_verify_finds_reordered_records(played: Play) -> None:
    records = list(played.records)
    records[5], records[6] = records[6], records[5]
    result = verify(records)
    assert not result.ok and result.problem in {"missing", "reordered"}
    assert result.seq == 6


def test_verify_finds_a_record_of_another_sitting(played: Play) -> None:
    records = list(played.records)
    records[3] = msgspec.structs.replace(records[3], sitting="other")
    assert verify(records).problem == "sitting"


def test_export_verifies_offline_and_any_changed_byte_fails(played: Play) -> None:
    document = export(played.records)
    assert verify_export(document).ok
    assert verify_export(document).count == len(played.records)
    tampered = document.replace(b'"Ngh\xe1\xbb\x8b quy\xe1\xba\xbft"', b'"Nghi quyet"', 1)
    assert tampered != document
    assert verify_export(tampered).problem == "altered"


def test_export_of_an_empty_log_and_garbage() -> None:
    assert verify_export(export([])).ok
    assert verify_export(b"not json").problem == "format"
    assert verify_export(b'{"records":[{"seq":"x"}]}').problem == "format"


def test_decode_record_reads_an_exported_record(played: Play) -> None:
    rec = played.records[7]
    assert decode_record(msgspec.json.encode(rec)) == rec


def test_apply_refuses_a_gap_and_a_log_not_starting_with_the_schedule(played: Play) -> None:
    with pytest.raises(ChamberError) as gap:
        replay([played.records[0], played.records[2]])
    assert gap.value.code == "log.gap"
    renumbered = msgspec.structs.replace(played.records[1], seq=1)
    with pytest.raises(ChamberError) as start:
        replay([renumbered])
    assert start.value.code == "log.no_schedule"


def test_a_state_replayed_from_stored_payloads_lists_the_presets_in_the_live_order() -> None:
    """Before: a map inside an event (the rules' vote presets) came back from the journal
    in key order, so after a restart the chair's console offered another preset first
    (the dismissal rule, secret and two thirds, instead of a resolution)."""
    from server.demo import Player

    player = Player()
    for _ in player.play():
        pass
    prev, stored = "", []
    for rec in player.records:
        new, payload = seal(prev, rec.seq, rec.at, rec.sitting, rec.event)
        stored.append(load(payload, new.hash))
        prev = new.hash
    replayed = replay(stored)  # the sitting is closed: no ballot box
    assert replayed == player.state
    assert list(replayed.rules.presets) == list(player.state.rules.presets)
    assert list(player.state.rules.presets) == sorted(player.state.rules.presets)
