"""Open data: a sitting's votes in the Popolo / Open Civic Data vote-event form (JSON) and
as CSV (UTF-8 with a BOM, so that Excel opens it), both carrying the head hash of the log
they were drawn from (docs/open-data.md).

Ids are stable: each is a UUID5 of the project's own id under one namespace, prefixed in
the Open Civic Data manner (``ocd-organization/…``, ``ocd-person/…``, ``ocd-event/…``,
``ocd-motion/…``, ``ocd-vote/…``), so the same council, member, motion or vote has the same
id in every export. Each object also names its own id in ``identifiers``.

Fields beyond Popolo's go in ``extras`` (as Open Civic Data does): the vote's form and
status, and a confidence poll's ratings. A secret vote carries counts only: no ``votes``
(nobody's choice is known to anyone). A named vote carries its roll call once it has
closed; an open or cancelled vote carries neither counts nor votes.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from chamber.ids import VoteForm, VoteKind, VoteStatus
from chamber.minutes import Minutes, VoteRecord
from server.record.words import local

FORMAT = "nghitruong.open-data.v1"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:nghitruong:open-data")
# Popolo's options (count.json: yes, no, abstain, absent, not voting, paired). A confidence
# poll's ratings (high, confident, low) are none of them: they go in the event's extras.
POPOLO_OPTION = {"approve": "yes", "reject": "no", "abstain": "abstain", "strike": "no"}
CSV_OPTIONS = ("approve", "reject", "abstain", "strike", "high", "confident", "low")


def ocd(kind: str, *parts: str) -> str:
    return f"ocd-{kind}/{uuid.uuid5(NAMESPACE, kind + ':' + '/'.join(parts))}"


def _iso(ms: int | None) -> str | None:
    return None if ms is None else local(ms).isoformat(timespec="seconds")


def _ident(native: str) -> list[dict[str, str]]:
    return [{"scheme": "nghitruong", "identifier": native}]


def _result(v: VoteRecord, question: str) -> str:
    """ "pass" / "fail" for a motion or a candidate; "tie" for a tied candidate; a
    confidence poll's outcome ("may_resign", "no_confidence_vote" or "none"); "pending"
    while open, "cancelled"."""
    if v.status is VoteStatus.CANCELLED:
        return "cancelled"
    if v.result is None:
        return "pending"
    outcome = next(o for o in v.result.outcomes if o.question == question)
    if v.kind is VoteKind.CONFIDENCE:
        return outcome.status or "none"
    if outcome.status == "tied":
        return "tie"
    return "pass" if outcome.passed else "fail"


def _requirement(v: VoteRecord) -> str:
    th = v.rule.threshold
    return f"{th.comparison.value} {th.num}/{th.den} of {th.base.value}"


def vote_events(m: Minutes) -> list[tuple[VoteRecord, str, str]]:
    """(vote, question, its label) for each question put: one vote event each."""
    return [(v, q.id, q.label) for v in m.votes for q in v.questions]


def popolo(m: Minutes, base: str = "") -> dict[str, Any]:
    org = ocd("organization", m.council)
    session = ocd("event", m.sitting)
    people = [
        {"id": ocd("person", m.council, a.member), "name": a.name, "identifiers": _ident(a.member)}
        for a in m.attendance
    ]
    memberships = [
        {
            "id": ocd("membership", m.council, a.member),
            "person_id": ocd("person", m.council, a.member),
            "organization_id": org,
        }
        for a in m.attendance
    ]
    motions: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for v, question, label in vote_events(m):
        native = f"{m.sitting}/{v.id}/{question}"
        motion_native = (
            f"{m.sitting}/{v.motion.id}"
            if v.motion is not None
            else f"{m.sitting}/{v.id}/{question}"
        )
        motion_id = ocd("motion", motion_native)
        text = v.title if v.kind is VoteKind.MOTION else f"{v.title}: {label}"
        result = _result(v, question)
        if not any(mo["id"] == motion_id for mo in motions):
            motion: dict[str, Any] = {
                "id": motion_id,
                "organization_id": org,
                "legislative_session_id": session,
                "text": text,
                "classification": v.kind.value,
                "date": _iso(v.opened_at),
                "requirement": _requirement(v),
                "result": result,
                "identifiers": _ident(motion_native),
            }
            if v.motion is not None:
                motion["sources"] = [
                    {"url": f"{base}/api/documents/{v.motion.doc}", "note": v.motion.doc_title}
                ]
            motions.append(motion)
        event: dict[str, Any] = {
            "id": ocd("vote", native),
            "identifier": native,
            "organization_id": org,
            "legislative_session_id": session,
            "motion_id": motion_id,
            "start_date": _iso(v.opened_at),
            "end_date": _iso(v.ended_at),
            "result": result,
            "classification": v.kind.value,
            "extras": {"form": v.form.value, "status": v.status.value},
        }
        r = v.result
        if r is not None:
            outcome = next(o for o in r.outcomes if o.question == question)
            counts = [
                {"option": POPOLO_OPTION[code], "value": outcome.counts.get(code, 0)}
                for code in v.options
                if code in POPOLO_OPTION
            ]
            if v.kind is VoteKind.CONFIDENCE:  # ratings are no Popolo option: an extra
                event["extras"]["ratings"] = [
                    {"option": code, "value": outcome.counts.get(code, 0)} for code in v.options
                ]
            counts.append({"option": "not voting", "value": r.not_voting_count()})
            counts.append({"option": "absent", "value": max(0, r.total_seats - r.present)})
            event["counts"] = counts
            if v.form is VoteForm.OPEN:
                event["votes"] = [
                    {
                        "vote_event_id": event["id"],
                        "voter_id": ocd("person", m.council, row.member),
                        "option": POPOLO_OPTION.get(
                            row.answers.get(question, ""), row.answers.get(question, "")
                        ),
                    }
                    for row in v.roll_call
                ]
        events.append(event)
    return {
        "format": FORMAT,
        "log": {
            "sitting": m.sitting,
            "head": m.head,
            "records": m.records,
            "complete": m.held_back is None,
            "held_back": None
            if m.held_back is None
            else {"seq": m.held_back.seq, "reason": m.held_back.reason, "vote": m.held_back.vote},
            "url": f"{base}/api/sittings/{m.sitting}/log",
        },
        "organization": {
            "id": org,
            "name": m.council_name,
            "classification": "legislature",
            "seats": m.total_seats,
            "identifiers": _ident(m.council),
        },
        "legislative_session": {
            "id": session,
            "name": m.title,
            "organization_id": org,
            "start_date": _iso(m.opened_at),
            "end_date": _iso(m.closed_at),
            "status": m.phase.value,
            "identifiers": _ident(m.sitting),
        },
        "people": people,
        "memberships": memberships,
        "motions": motions,
        "vote_events": events,
    }


CSV_COLUMNS = (
    "log_head",
    "sitting",
    "vote_event_id",
    "vote",
    "question",
    "kind",
    "form",
    "title",
    "status",
    "result",
    "start",
    "end",
    "total_seats",
    "present",
    "ballots",
    "needed",
    "requirement",
    *CSV_OPTIONS,
)


def votes_csv(m: Minutes) -> bytes:
    """One row per vote event, UTF-8 with a BOM; the counts of an open or cancelled vote
    are empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for v, question, label in vote_events(m):
        r = v.result
        outcome = next(o for o in r.outcomes if o.question == question) if r else None
        writer.writerow(
            (
                m.head,
                m.sitting,
                ocd("vote", f"{m.sitting}/{v.id}/{question}"),
                v.id,
                question,
                v.kind.value,
                v.form.value,
                v.title if v.kind is VoteKind.MOTION else f"{v.title}: {label}",
                v.status.value,
                _result(v, question),
                _iso(v.opened_at),
                _iso(v.ended_at) or "",
                r.total_seats if r else "",
                r.present if r else "",
                r.ballots if r else "",
                r.needed if r else "",
                _requirement(v),
                *(
                    (outcome.counts.get(code, 0) if code in v.options else "") if outcome else ""
                    for code in CSV_OPTIONS
                ),
            )
        )
    return "\ufeff".encode() + out.getvalue().encode("utf-8")
