"""Open data: the vote events validate against the Popolo schemas' fields they claim
(vote_event.json, count.json, vote.json, motion.json, link.json, identifier.json of the
Popolo specification, transcribed below), their ids are stable, their head hash is the
one `nghitruong verify` gives for the public log, a secret vote holds counts only, an
open vote nothing at all, and the CSV opens as UTF-8 with a BOM."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import jsonschema_rs
import pytest

from chamber import commands as c
from chamber import export, verify_export
from chamber.ids import APPROVE, REJECT, DocHash
from chamber.minutes import Minutes, minutes
from chamber.projection import Audience, project_log
from server.demo import Player
from server.record.opendata import CSV_COLUMNS, ocd, popolo, votes_csv
from tests.chamber.play import Play

NULLABLE_STRING = {"type": ["string", "null"]}
DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
LINK = {
    "type": "object",
    "properties": {"url": {"type": "string"}, "note": NULLABLE_STRING},
    "required": ["url"],
}
IDENTIFIER = {
    "type": "object",
    "properties": {"identifier": {"type": "string"}, "scheme": NULLABLE_STRING},
    "required": ["identifier"],
}
COUNT = {
    "type": "object",
    "properties": {
        "option": {"enum": ["yes", "no", "abstain", "absent", "not voting", "paired"]},
        "value": {"type": "integer"},
        "group_id": NULLABLE_STRING,
    },
    "required": ["option", "value"],
}
VOTE = {
    "type": "object",
    "properties": {
        "vote_event_id": NULLABLE_STRING,
        "voter_id": NULLABLE_STRING,
        "option": NULLABLE_STRING,
        "role": NULLABLE_STRING,
        "weight": {"type": ["integer", "null"]},
        "pair_id": NULLABLE_STRING,
    },
}
VOTE_EVENT = {
    "type": "object",
    "properties": {
        "id": NULLABLE_STRING,
        "organization_id": NULLABLE_STRING,
        "legislative_session_id": NULLABLE_STRING,
        "identifier": NULLABLE_STRING,
        "motion_id": NULLABLE_STRING,
        "classification": NULLABLE_STRING,
        "start_date": DATE_TIME,
        "end_date": DATE_TIME,
        "result": NULLABLE_STRING,
        "counts": {"type": "array", "items": COUNT},
        "votes": {"type": "array", "items": VOTE},
        "sources": {"type": "array", "items": LINK},
    },
}
MOTION = {
    "type": "object",
    "properties": {
        "id": NULLABLE_STRING,
        "organization_id": NULLABLE_STRING,
        "legislative_session_id": NULLABLE_STRING,
        "creator_id": NULLABLE_STRING,
        "text": NULLABLE_STRING,
        "classification": NULLABLE_STRING,
        "date": DATE_TIME,
        "requirement": NULLABLE_STRING,
        "result": NULLABLE_STRING,
        "sources": {"type": "array", "items": LINK},
        "identifiers": {"type": "array", "items": IDENTIFIER},
    },
}
# The fields this export claims beyond each class's optional ones.
CLAIMED_EVENT = ("id", "identifier", "organization_id", "legislative_session_id", "motion_id",
                 "start_date", "result", "classification")  # fmt: skip
CLAIMED_MOTION = ("id", "organization_id", "legislative_session_id", "text", "classification",
                  "date", "requirement", "result")  # fmt: skip


@pytest.fixture(scope="module")
def year_end() -> tuple[Player, Minutes]:
    player = Player()
    for _ in player.play():
        pass
    return player, minutes(player.records)


def _valid(schema: dict[str, Any], value: Any) -> None:
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    errors = [str(e) for e in validator.iter_errors(value)]
    assert not errors, errors


def test_the_vote_events_validate_against_popolo(year_end: tuple[Player, Minutes]) -> None:
    _, mm = year_end
    data = popolo(mm, "http://hub")
    # 3 motions, 2 candidates, 2 officials: one vote event each.
    assert len(data["vote_events"]) == 7
    for event in data["vote_events"]:
        _valid(VOTE_EVENT, event)
        assert all(event[f] is not None for f in CLAIMED_EVENT), event
    for motion in data["motions"]:
        _valid(MOTION, motion)
        assert all(motion[f] is not None for f in CLAIMED_MOTION), motion
    ids = {m["id"] for m in data["motions"]}
    assert all(e["motion_id"] in ids for e in data["vote_events"])
    people = {p["id"] for p in data["people"]}
    assert len(people) == 30
    for event in data["vote_events"]:
        assert all(v["voter_id"] in people for v in event.get("votes", []))
    budget = data["vote_events"][0]
    assert budget["result"] == "pass" and budget["extras"]["form"] == "open"
    counts = {c["option"]: c["value"] for c in budget["counts"]}
    assert counts == {"yes": 24, "no": 3, "abstain": 0, "not voting": 0, "absent": 3}
    assert len(budget["votes"]) == 27
    assert {v["option"] for v in budget["votes"]} == {"yes", "no"}
    park = data["vote_events"][2]
    assert park["result"] == "fail" and len(park["votes"]) == 20
    budget_motion = next(m for m in data["motions"] if m["id"] == budget["motion_id"])
    digest = hashlib.sha256(b"nq-du-toan-2026-v2").hexdigest()
    assert budget_motion["sources"][0]["url"] == f"http://hub/api/documents/{digest}"
    elected = [e for e in data["vote_events"] if e["classification"] == "election"]
    assert [e["result"] for e in elected] == ["pass", "fail"]
    ratings = [e["extras"]["ratings"] for e in data["vote_events"][5:]]
    assert ratings[1] == [
        {"option": "high", "value": 4},
        {"option": "confident", "value": 6},
        {"option": "low", "value": 16},
    ]
    assert [e["result"] for e in data["vote_events"][5:]] == ["none", "may_resign"]


def test_ids_are_stable_and_distinct(year_end: tuple[Player, Minutes]) -> None:
    _, mm = year_end
    first, again = popolo(mm), popolo(minutes(year_end[0].records))
    assert first == again
    assert first["organization"]["id"] == ocd("organization", "hdnd-phuong-ben-thanh")
    assert first["organization"]["id"].startswith("ocd-organization/")
    ids = [e["id"] for e in first["vote_events"]]
    assert len(set(ids)) == len(ids) and all(i.startswith("ocd-vote/") for i in ids)


def test_a_secret_vote_holds_counts_only(year_end: tuple[Player, Minutes]) -> None:
    _, mm = year_end
    data = popolo(mm)
    secret = [e for e in data["vote_events"] if e["extras"]["form"] == "secret"]
    assert len(secret) == 5
    for event in secret:
        assert "votes" not in event and event["counts"]
    works = secret[0]
    assert {c["option"]: c["value"] for c in works["counts"]}["abstain"] == 3


def test_the_head_hash_is_the_public_logs(year_end: tuple[Player, Minutes]) -> None:
    player, mm = year_end
    view = project_log(player.records, Audience.PUBLIC)
    checked = verify_export(export(view.records, view.held_back, "public"))
    assert checked.ok and popolo(mm)["log"]["head"] == checked.head
    assert popolo(mm)["log"]["complete"] is True


def test_an_open_vote_shows_no_count_and_no_choice() -> None:
    p = Play(n=5)
    doc = DocHash("cd" * 32)
    p.do(c.RegisterDocument(hash=doc, title="Dự thảo"))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=doc))
    p.open_and_start(present=5)
    p.do(c.OpenVote(motion=next(iter(p.s.motions))))
    vote = next(iter(p.s.votes))
    for i in (1, 2, 3):
        p.as_delegate(i, c.CastBallot(vote=vote, choice=APPROVE if i < 3 else REJECT))
    view = project_log(p.records, Audience.PUBLIC)
    mm = minutes(view.records, view.held_back)
    data = popolo(mm)
    (event,) = data["vote_events"]
    assert event["result"] == "pending" and "counts" not in event and "votes" not in event
    assert data["log"]["complete"] is False and data["log"]["held_back"]["reason"] == "vote.open"
    checked = verify_export(export(view.records, view.held_back, "public"))
    assert data["log"]["head"] == checked.head
    rows = list(csv.reader(io.StringIO(votes_csv(mm).decode("utf-8-sig"))))
    assert rows[1][CSV_COLUMNS.index("result")] == "pending"
    assert rows[1][CSV_COLUMNS.index("approve")] == ""


def test_the_csv_is_utf8_with_a_bom_one_row_per_vote_event(
    year_end: tuple[Player, Minutes],
) -> None:
    _, mm = year_end
    data = votes_csv(mm)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 7 and list(rows[0]) == list(CSV_COLUMNS)
    assert {r["log_head"] for r in rows} == {mm.head}
    budget = rows[0]
    assert budget["title"] == "Nghị quyết về dự toán ngân sách năm 2026"
    assert (budget["approve"], budget["reject"], budget["abstain"]) == ("24", "3", "0")
    assert (budget["needed"], budget["result"], budget["strike"]) == ("16", "pass", "")
    assert rows[3]["title"] == "Bầu Phó Chủ tịch HĐND phường: Lê Hoàng Cường"
