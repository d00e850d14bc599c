"""Votes on motions: open → closed | cancelled, ballots, deadlines, changes, revotes and
the verdict on each base."""

from __future__ import annotations

import msgspec
import pytest

from chamber import ChamberError
from chamber import commands as c
from chamber import events as e
from chamber.ids import (
    ABSTAIN,
    APPROVE,
    REJECT,
    Base,
    Comparison,
    DocHash,
    MemberId,
    MotionId,
    Role,
    VoteForm,
    VoteId,
    VoteKind,
    VoteStatus,
)
from chamber.model import Question, Vote
from chamber.rules import PRESETS, PassRule, Rules, Threshold
from tests.chamber.play import Play, m

DOC, DOC2 = DocHash("d" * 64), DocHash("e" * 64)
MORE, LEAST = Comparison.MORE_THAN, Comparison.AT_LEAST
OPTIONS = (APPROVE, REJECT, ABSTAIN)
PRESENT, UNREACHABLE = Base.PRESENT, "vote.unreachable"


def setup(present: int = 25, n: int = 30, rules: Rules | None = None) -> Play:
    p = Play(n=n, rules=rules)
    p.open_and_start(present)
    p.do(c.RegisterDocument(hash=DOC, title="Dự thảo", pages=3))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=DOC))
    return p


def motion(p: Play) -> MotionId:
    return next(iter(p.s.motions))


def last(p: Play) -> Vote:
    return list(p.s.votes.values())[-1]


def ev(step: object) -> list[e.AnyEvent]:
    return [r.event for r in step.records]  # type: ignore[attr-defined]


def cast(p: Play, choices: dict[int, str]) -> None:
    for i, option in choices.items():
        p.as_delegate(i, c.CastBallot(vote=last(p).id, choice=option))


def refused(p: Play, act, code: str, params: dict[str, object] | None = None) -> None:  # type: ignore[no-untyped-def]
    before, count = msgspec.msgpack.encode(p.s), len(p.records)
    with pytest.raises(ChamberError) as caught:
        act()
    assert caught.value.code == code
    if params is not None:
        assert caught.value.params == params
    assert (msgspec.msgpack.encode(p.s), len(p.records)) == (before, count)


def th(num: int, den: int, comparison: Comparison, base: Base) -> Threshold:
    return Threshold(base=base, num=num, den=den, comparison=comparison)


@pytest.mark.parametrize(
    ("preset", "form", "change"),
    [
        ("resolution", VoteForm.OPEN, False),
        ("dismissal", VoteForm.SECRET, False),
        ("majority_cast", VoteForm.OPEN, True),
    ],
)
def test_open_a_vote_from_a_preset(preset: str, form: VoteForm, change: bool) -> None:
    p = setup()
    p.tick(1)
    vid = VoteId(f"v{p.s.seq + 1}")
    step = p.do(c.OpenVote(motion=motion(p), preset=preset))
    rule = PRESETS[preset].rule
    expected = Vote(
        id=vid,
        kind=VoteKind.MOTION,
        title="Nghị quyết",
        form=form,
        options=OPTIONS,
        questions=(Question(id=motion(p), label="Nghị quyết"),),
        rule=rule,
        allow_change=change,
        opened_at=p.now,
        deadline=p.now + 60_000,
        duration_s=60,
        unreachable=PRESETS[preset].unreachable,
        motion=motion(p),
        text_hash=DOC,
        text_version=1,
        present_at_open=25,
        counts={motion(p): {APPROVE: 0, REJECT: 0, ABSTAIN: 0}},
    )
    assert ev(step) == [e.VoteOpened(vote=expected)]  # the record carries no item
    # The state keeps the item under way when it opened (a screen shows its result only
    # while that item is).
    assert p.s.open_vote() == msgspec.structs.replace(expected, item=p.s.current_item)
    assert p.s.current_item is not None


def test_every_setting_may_be_overridden() -> None:
    p = setup()
    rule = PassRule(threshold=th(3, 4, LEAST, Base.PRESENT), option=REJECT)
    p.do(
        c.OpenVote(
            motion=motion(p),
            preset="dismissal",  # secret, no change, two thirds of the seats: all overridden
            title="Biểu quyết điều 5",
            form=VoteForm.OPEN,
            options=(APPROVE, REJECT),
            rule=rule,
            allow_change=True,
            duration_s=15,
        )
    )
    v = last(p)
    want = ("Biểu quyết điều 5", VoteForm.OPEN, (APPROVE, REJECT), rule, True, 15, p.now + 15_000)
    assert (v.title, v.form, v.options, v.rule, v.allow_change, v.duration_s, v.deadline) == want


# (rule, present, approve/reject/abstain) -> (base_count, needed, passed)
VERDICTS = [
    # More than half of the 30 seats: 16. Most of those present approved, yet it fails.
    (th(1, 2, MORE, Base.TOTAL_SEATS), 20, (15, 3, 2), (30, 16, False)),
    (th(1, 2, MORE, Base.TOTAL_SEATS), 20, (16, 4, 0), (30, 16, True)),
    (th(2, 3, LEAST, Base.TOTAL_SEATS), 25, (19, 0, 6), (30, 20, False)),
    (th(2, 3, LEAST, Base.TOTAL_SEATS), 25, (20, 5, 0), (30, 20, True)),
    (th(1, 2, MORE, Base.PRESENT), 25, (12, 0, 13), (25, 13, False)),
    (th(1, 2, MORE, Base.PRESENT), 25, (13, 12, 0), (25, 13, True)),
    # Votes cast: abstentions are not votes cast.
    (th(1, 2, MORE, Base.CAST), 25, (10, 4, 11), (14, 8, True)),
    (th(1, 2, MORE, Base.CAST), 25, (7, 7, 11), (14, 8, False)),
    (th(3, 4, LEAST, Base.CAST), 25, (10, 4, 3), (14, 11, False)),
    (th(1, 2, MORE, Base.CAST), 25, (0, 0, 5), (0, 1, False)),  # nothing cast
    (th(1, 2, LEAST, Base.CAST), 25, (0, 0, 5), (0, 1, False)),  # nor at least half of it
]


@pytest.mark.parametrize(("threshold", "present", "ballots", "verdict"), VERDICTS)
def test_the_verdict_on_each_base(
    threshold: Threshold,
    present: int,
    ballots: tuple[int, int, int],
    verdict: tuple[int, int, bool],
) -> None:
    p = setup(present)
    p.do(c.OpenVote(motion=motion(p), preset="majority_cast", rule=PassRule(threshold=threshold)))
    yes, no, abstain = ballots
    choices = [APPROVE] * yes + [REJECT] * no + [ABSTAIN] * abstain
    cast(p, {i + 1: choice for i, choice in enumerate(choices)})
    [closed] = ev(p.do(c.CloseVote(vote=last(p).id)))
    assert isinstance(closed, e.VoteClosed) and closed.reason == "closed"
    r, q = closed.result, motion(p)
    base, needed, passed = verdict
    status = "passed" if passed else "failed"
    assert (r.kind, r.ballots, r.present, r.total_seats, r.threshold) == (
        (VoteKind.MOTION, yes + no + abstain, present, 30, threshold)
    )
    assert (r.base_count, r.needed, r.passed) == (base, needed, passed)
    assert [(o.question, o.approvals, o.passed, o.status) for o in r.outcomes] == [
        (q, yes, passed, status)
    ]
    assert r.outcomes[0].counts == {APPROVE: yes, REJECT: no, ABSTAIN: abstain}
    assert r.roll_call == {m(i + 1): {q: choice} for i, choice in enumerate(choices)}
    assert last(p).status is VoteStatus.CLOSED and last(p).result == r


def test_the_rule_may_count_another_option() -> None:
    p = setup()
    rule = PassRule(threshold=th(1, 2, MORE, Base.CAST), option=REJECT)
    p.do(c.OpenVote(motion=motion(p), rule=rule, preset="majority_cast"))
    cast(p, {1: REJECT, 2: REJECT, 3: APPROVE})
    p.do(c.CloseVote(vote=last(p).id))
    r = last(p).result
    assert r is not None and (r.needed, r.outcomes[0].approvals, r.passed) == (2, 2, True)


@pytest.mark.parametrize(
    ("present", "preset", "rule", "outcome"),
    [
        (15, "resolution", None, ("vote.unreachable", {"present": 15, "needed": 16})),
        (19, "dismissal", None, ("vote.unreachable", {"present": 19, "needed": 20})),
        (16, "resolution", None, ""),
        (1, "majority_cast", None, ""),  # one present can carry a majority of votes cast
        (0, "majority_cast", None, "vote.unreachable"),  # warned, not refused
        (10, "majority_cast", th(1, 2, MORE, Base.TOTAL_SEATS), "vote.unreachable"),
        (25, "resolution", th(1, 1, MORE, PRESENT), (UNREACHABLE, {"present": 25, "needed": 26})),
    ],
)
def test_an_unreachable_threshold_is_refused_or_warned(
    present: int, preset: str, rule: Threshold | None, outcome: object
) -> None:
    p = setup(present, rules=Rules(quorum_to_open=False))
    cmd = c.OpenVote(
        motion=motion(p), preset=preset, rule=None if rule is None else PassRule(threshold=rule)
    )
    if isinstance(outcome, tuple):
        refused(p, lambda: p.do(cmd), *outcome)
    else:
        opened = ev(p.do(cmd))[0]
        assert isinstance(opened, e.VoteOpened) and opened.warning == outcome


OPTS = ", ".join((APPROVE, REJECT, ABSTAIN))


def bad(n: int, d: int) -> PassRule:
    return PassRule(threshold=th(n, d, MORE, Base.PRESENT))


@pytest.mark.parametrize(
    ("kw", "code", "params"),
    [
        ({"motion": "mo0"}, "motion.unknown", {"motion": "mo0"}),
        ({"preset": "nope"}, "vote.unknown_preset", {"preset": "nope"}),
        ({"options": (REJECT, ABSTAIN)}, "vote.bad_rule", {}),  # the rule counts approve
        ({"options": (APPROVE, APPROVE)}, "vote.bad_rule", {}),
        ({"options": (APPROVE,)}, "vote.bad_options", {"options": OPTS}),
        ({"options": (APPROVE, "frob")}, "vote.bad_options", {"options": OPTS}),
        ({"form": VoteForm.SECRET, "allow_change": True}, "vote.secret_no_change", {}),
        ({"duration_s": -5}, "vote.bad_duration", {"seconds": -5}),
        ({"rule": bad(1, 0)}, "vote.bad_rule", {}),
        ({"rule": bad(0, 2)}, "vote.bad_rule", {}),
        ({"rule": bad(3, 2)}, "vote.bad_rule", {}),
        ({"rule": bad(-1, 2)}, "vote.bad_rule", {}),
    ],
)
def test_opening_refusals(kw: dict[str, object], code: str, params: dict[str, object]) -> None:
    p = setup()
    cmd = c.OpenVote(**{"motion": motion(p), **kw})  # type: ignore[arg-type]
    refused(p, lambda: p.do(cmd), code, params)


def test_one_vote_at_a_time() -> None:
    p = setup()
    p.do(c.OpenVote(motion=motion(p)))
    refused(p, lambda: p.do(c.OpenVote(motion=motion(p))), "vote.already_open", {})


def test_the_deadline() -> None:
    p = setup()
    p.do(c.OpenVote(motion=motion(p), duration_s=30))
    vid = last(p).id
    cast(p, dict.fromkeys(range(1, 17), APPROVE))
    p.tick(29.999)
    cast(p, {17: REJECT})  # one ms before the deadline: counted
    assert p.system(c.CloseVote(vote=vid)).records == ()  # the timer too early: nothing
    p.tick(0.001)
    refused(p, lambda: cast(p, {18: APPROVE}), "vote.closed", {"vote": vid, "state": "deadline"})
    [closed] = ev(p.system(c.CloseVote(vote=vid)))
    assert isinstance(closed, e.VoteClosed) and closed.reason == "expired"
    assert (closed.result.ballots, closed.result.passed) == (17, True)
    assert p.system(c.CloseVote(vote=vid)).records == ()  # a second timer: nothing
    assert p.system(c.CloseVote(vote=VoteId("v0"))).records == ()


def test_a_vote_without_a_deadline_is_closed_by_the_chair_only() -> None:
    untimed = msgspec.structs.replace(PRESETS["resolution"], id="untimed", duration_s=None)
    p = setup(rules=Rules(presets={"untimed": untimed}))
    p.do(c.OpenVote(motion=motion(p), preset="untimed"))
    assert last(p).deadline is None
    p.tick(86_400)
    cast(p, {4: APPROVE})
    assert p.system(c.CloseVote(vote=last(p).id)).records == ()
    p.do(c.CloseVote(vote=last(p).id), m(2), Role.VICE_CHAIR)
    assert last(p).status is VoteStatus.CLOSED


@pytest.mark.parametrize(
    ("preset", "form", "second", "outcome"),
    [
        ("majority_cast", None, REJECT, "changed"),
        ("majority_cast", None, APPROVE, "same"),  # the same choice again: nothing
        ("resolution", None, REJECT, "vote.already_voted"),
        ("resolution", None, APPROVE, "vote.already_voted"),
        ("majority_cast", VoteForm.SECRET, REJECT, "vote.already_voted"),  # never in secret
    ],
)
def test_a_change_only_by_rule_and_never_in_secret(
    preset: str, form: VoteForm | None, second: str, outcome: str
) -> None:
    p = setup()
    # majority_cast allows a change; made secret, the vote does not (nothing to change).
    p.do(c.OpenVote(motion=motion(p), preset=preset, form=form))
    assert last(p).allow_change is (outcome in ("changed", "same"))
    vid, q = last(p).id, motion(p)
    cast(p, {4: APPROVE, 5: APPROVE})
    if outcome.startswith("vote."):
        refused(p, lambda: cast(p, {4: second}), outcome, {"vote": vid})
        return
    step = p.as_delegate(4, c.CastBallot(vote=vid, choice=second))
    changed = [e.BallotCast(vote=vid, member=m(4), answers={q: REJECT}, changed=True)]
    assert ev(step) == ([] if outcome == "same" else changed)
    yes = 2 if outcome == "same" else 1
    assert last(p).counts[q] == {APPROVE: yes, REJECT: 2 - yes, ABSTAIN: 0}
    assert last(p).ballots[m(4)] == {q: second}
    assert last(p).voted == {m(4), m(5)}


def closed(p: Play) -> None:
    p.do(c.CloseVote(vote=last(p).id))


def cancelled(p: Play) -> None:
    p.do(c.CancelVote(vote=last(p).id, reason="Sai sót"))


@pytest.mark.parametrize(
    ("before", "who", "role", "choice", "code"),
    [
        (closed, 4, Role.DELEGATE, APPROVE, "vote.closed"),
        (cancelled, 4, Role.DELEGATE, APPROVE, "vote.closed"),
        (None, 28, Role.DELEGATE, APPROVE, "member.not_present"),
        (None, 4, Role.DELEGATE, "maybe", "ballot.bad_choice"),
        (None, 4, Role.DELEGATE, None, "ballot.bad_choice"),
        (None, 4, Role.GUEST, APPROVE, "permission.denied"),
        (None, 4, Role.CHAIR, APPROVE, "permission.denied"),  # a role not held
        (None, "g1", Role.DELEGATE, APPROVE, "permission.denied"),  # not on the roster
        (None, 4, Role.DELEGATE, "v0", "vote.unknown"),
    ],
)
def test_ballot_refusals(before, who, role: Role, choice: str | None, code: str) -> None:  # type: ignore[no-untyped-def]
    p = setup()
    p.do(c.OpenVote(motion=motion(p)))
    if before is not None:
        before(p)
    vid, actor = last(p).id, m(who) if isinstance(who, int) else MemberId(who)
    if code == "vote.unknown":
        vid, choice = VoteId("v0"), APPROVE
    refused(p, lambda: p.do(c.CastBallot(vote=vid, choice=choice), actor, role), code)


@pytest.mark.parametrize(
    ("first", "second", "state"),
    [
        (c.CloseVote, c.CloseVote, "closed"),
        (c.CloseVote, c.CancelVote, "closed"),
        (c.CancelVote, c.CancelVote, "cancelled"),
        (c.CancelVote, c.CloseVote, "cancelled"),
    ],
)
def test_a_finished_vote_stays_finished(first, second, state: str) -> None:  # type: ignore[no-untyped-def]
    p = setup()
    p.do(c.OpenVote(motion=motion(p)))
    vid = last(p).id
    p.do(first(vote=vid))
    refused(p, lambda: p.do(second(vote=vid)), "vote.closed", {"vote": vid, "state": state})


@pytest.mark.parametrize("finish", [None, closed, cancelled])
def test_a_revote_keeps_the_settings_with_fresh_ballots(finish) -> None:  # type: ignore[no-untyped-def]
    p = setup()
    p.do(c.OpenVote(motion=motion(p), preset="majority_cast", form=VoteForm.SECRET, duration_s=45))
    old = last(p)
    cast(p, {1: APPROVE, 2: REJECT})
    if finish is not None:
        finish(p)
    p.tick(10)
    step = p.do(c.Revote(vote=old.id))
    new = last(p)
    cancelled_first = [e.VoteCancelled(vote=old.id, reason="revote")] if finish is None else []
    assert ev(step) == [*cancelled_first, e.VoteOpened(vote=new)]
    assert new.id == f"v{p.s.seq}" != old.id
    assert (new.revote_of, new.status, new.result) == (old.id, VoteStatus.OPEN, None)
    assert (new.voted, new.ballots) == (frozenset(), {})
    same = [
        "form",
        "options",
        "rule",
        "allow_change",
        "duration_s",
        "unreachable",
        "motion",
        "text_hash",
    ]
    assert [getattr(new, f) for f in same] == [getattr(old, f) for f in same]
    assert (new.opened_at, new.deadline) == (p.now, p.now + 45_000)
    assert new.counts == {motion(p): {APPROVE: 0, REJECT: 0, ABSTAIN: 0}}
    if finish is not closed:  # a void secret box is discarded unread
        assert p.s.votes[old.id].counts == {motion(p): {APPROVE: 0, REJECT: 0, ABSTAIN: 0}}
    cast(p, {1: REJECT})  # those who voted before vote again
    assert p.s.votes[new.id].voted == {m(1)}


def test_a_revote_with_a_new_duration_and_refusals() -> None:
    p = setup()
    p.do(c.OpenVote(motion=motion(p)))
    first = last(p).id
    p.do(c.CloseVote(vote=first))
    p.do(c.Revote(vote=first, duration_s=20))
    assert (last(p).duration_s, last(p).deadline) == (20, p.now + 20_000)
    refused(p, lambda: p.do(c.Revote(vote=first)), "vote.already_open", {})
    refused(p, lambda: p.do(c.Revote(vote=VoteId("v0"))), "vote.unknown", {"vote": "v0"})


def test_a_vote_records_the_exact_text_it_was_taken_on() -> None:
    p = setup()
    p.do(c.OpenVote(motion=motion(p)))
    v1 = last(p)
    assert (v1.text_hash, v1.text_version) == (DOC, 1)
    p.do(c.RegisterDocument(hash=DOC2, title="Dự thảo (chỉnh lý)", supersedes=DOC))
    amend = c.AmendMotion(motion=motion(p), doc=DOC2)
    refused(p, lambda: p.do(amend), "motion.vote_open", {"motion": motion(p)})
    p.do(c.CloseVote(vote=v1.id))
    p.do(c.AmendMotion(motion=motion(p), doc=DOC2))
    p.do(c.OpenVote(motion=motion(p)))
    assert (last(p).text_hash, last(p).text_version) == (DOC2, 2)
    p.do(c.CancelVote(vote=last(p).id))
    p.do(c.Revote(vote=v1.id))  # a revote is taken on the text as it stands
    assert (last(p).revote_of, last(p).text_hash, last(p).text_version) == (v1.id, DOC2, 2)
    assert p.s.votes[v1.id].text_hash == DOC


def test_the_present_base_is_counted_at_the_close() -> None:
    p = setup(25)
    rule = PassRule(threshold=th(1, 2, MORE, Base.PRESENT))
    p.do(c.OpenVote(motion=motion(p), rule=rule))
    cast(p, dict.fromkeys(range(1, 13), APPROVE))  # 12 of 25: not more than half
    for i in (20, 21, 22):
        p.as_delegate(i, c.Leave())
    p.do(c.CloseVote(vote=last(p).id))
    r = last(p).result
    assert r is not None
    got = (last(p).present_at_open, r.present, r.base_count, r.needed, r.passed)
    assert got == (25, 22, 22, 12, True)
