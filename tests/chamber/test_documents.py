"""Documents (by content hash, in versioned series), the presentation on the hall's
screens, and motions on a document's text."""

from __future__ import annotations

import msgspec
import pytest

from chamber import ChamberError, NotPermitted
from chamber import commands as c
from chamber import events as e
from chamber.ids import DocHash, ItemId, MotionId, Phase, Role
from chamber.model import Document, Motion, Presentation
from tests.chamber.play import Play, m

D1, D2, D3, OTHER = (DocHash(x * 64) for x in "1234")
REPORT, BUDGET = ItemId("i-report"), ItemId("i-budget")
SECRETARY = m(3)


def in_session() -> Play:
    p = Play()
    p.open_and_start(25)
    return p


def ev(step: object) -> list[e.AnyEvent]:
    return [r.event for r in step.records]  # type: ignore[attr-defined]


def refused(p: Play, cmd: c.AnyCommand, code: str, params: dict[str, object]) -> None:
    before, count = msgspec.msgpack.encode(p.s), len(p.records)
    with pytest.raises(ChamberError) as caught:
        p.do(cmd)
    assert (caught.value.code, caught.value.params) == (code, params)
    assert (msgspec.msgpack.encode(p.s), len(p.records)) == (before, count)


def test_register_a_document_before_the_sitting() -> None:
    p = Play()
    step = p.do(
        c.RegisterDocument(hash=D1, title="Tờ trình", pages=12, item=BUDGET), None, Role.OPERATOR
    )
    doc = Document(hash=D1, title="Tờ trình", version=1, series=D1, pages=12, item=BUDGET)
    assert ev(step) == [e.DocumentRegistered(doc=doc)]
    assert p.s.documents == {D1: doc}


def test_versions_form_a_series() -> None:
    p = in_session()
    p.do(c.RegisterDocument(hash=D1, title="Dự thảo", pages=3))
    p.do(c.RegisterDocument(hash=D2, title="Dự thảo (lần 2)", pages=4, supersedes=D1))
    p.do(
        c.RegisterDocument(
            hash=D3, title="Dự thảo (lần 3)", media_type="text/markdown", supersedes=D2
        ),
        SECRETARY,
        Role.SECRETARY,
    )
    docs = p.s.documents
    assert [(d.version, d.series, d.pages, d.media_type) for d in docs.values()] == [
        (1, D1, 3, "application/pdf"),
        (2, D1, 4, "application/pdf"),
        (3, D1, 1, "text/markdown"),
    ]


@pytest.mark.parametrize(
    ("cmd", "code", "params"),
    [
        (c.RegisterDocument(hash=D1, title="again"), "doc.exists", {"doc": D1}),
        (c.RegisterDocument(hash=D2, title="x", pages=0), "doc.bad_document", {}),
        (c.RegisterDocument(hash=DocHash(""), title="x"), "doc.bad_document", {}),
        (c.RegisterDocument(hash=D2, title="x", supersedes=OTHER), "doc.unknown", {"doc": OTHER}),
        (
            c.RegisterDocument(hash=D2, title="x", item=ItemId("zz")),
            "agenda.unknown_item",
            {"item": "zz"},
        ),
        (c.PresentDocument(doc=OTHER), "doc.unknown", {"doc": OTHER}),
        (c.PresentDocument(doc=D1, page=0), "doc.bad_page", {"page": 0, "pages": 3}),
        (c.PresentDocument(doc=D1, page=4), "doc.bad_page", {"page": 4, "pages": 3}),
        (c.ProposeMotion(title="x", doc=OTHER), "doc.unknown", {"doc": OTHER}),
        (c.AmendMotion(motion=MotionId("mo0"), doc=D1), "motion.unknown", {"motion": "mo0"}),
    ],
)
def test_document_refusals(cmd: c.AnyCommand, code: str, params: dict[str, object]) -> None:
    p = in_session()
    p.do(c.RegisterDocument(hash=D1, title="Dự thảo", pages=3))
    refused(p, cmd, code, params)


@pytest.mark.parametrize("page", [1, 2, 3])
def test_present_within_the_page_bounds_and_stop(page: int) -> None:
    p = in_session()
    p.do(c.RegisterDocument(hash=D1, title="Dự thảo", pages=3))
    step = p.do(c.PresentDocument(doc=D1, page=page), SECRETARY, Role.SECRETARY)
    assert ev(step) == [e.PresentationChanged(doc=D1, page=page, by=SECRETARY)]
    assert p.s.presentation == Presentation(doc=D1, page=page, by=SECRETARY)
    assert ev(p.do(c.StopPresenting())) == [e.PresentationChanged(doc=None, page=0, by=m(1))]
    assert p.s.presentation is None
    assert p.do(c.StopPresenting()).records == ()  # nothing shown: nothing to stop


def test_presenting_needs_the_sitting_under_way() -> None:
    p = Play()
    p.do(c.RegisterDocument(hash=D1, title="Dự thảo"), None, Role.OPERATOR)
    with pytest.raises(NotPermitted) as caught:
        p.do(c.PresentDocument(doc=D1))
    assert (caught.value.command, caught.value.state) == ("doc.present", Phase.SCHEDULED.value)
    p.check_in(*range(1, 21))
    p.do(c.OpenSitting())
    p.do(c.PresentDocument(doc=D1))  # the opening (khai mạc) may show documents
    assert p.s.presentation == Presentation(doc=D1, page=1, by=m(1))


@pytest.mark.parametrize(("item", "expected"), [(None, REPORT), (BUDGET, BUDGET)])
def test_propose_a_motion(item: ItemId | None, expected: ItemId) -> None:
    p = in_session()
    p.do(c.RegisterDocument(hash=D1, title="Dự thảo"))
    mid = MotionId(f"mo{p.s.seq + 1}")
    step = p.do(c.ProposeMotion(title="Nghị quyết", doc=D1, item=item))
    motion = Motion(id=mid, item=expected, title="Nghị quyết", doc=D1, version=1, history=(D1,))
    assert ev(step) == [e.MotionProposed(motion=motion)]
    assert p.s.motions == {mid: motion}


def test_a_motion_proposed_before_the_sitting_has_no_item() -> None:
    p = Play()
    p.do(c.RegisterDocument(hash=D1, title="Dự thảo"), None, Role.OPERATOR)
    p.do(c.ProposeMotion(title="Nghị quyết", doc=D1), None, Role.OPERATOR)
    assert next(iter(p.s.motions.values())).item is None


def test_amend_a_motion_keeps_its_history() -> None:
    p = in_session()
    for h in (D1, D2, D3):
        p.do(c.RegisterDocument(hash=h, title=h[:1]))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=D1))
    mid = next(iter(p.s.motions))
    assert ev(p.do(c.AmendMotion(motion=mid, doc=D2))) == [
        e.MotionAmended(motion=mid, doc=D2, version=2)
    ]
    assert p.do(c.AmendMotion(motion=mid, doc=D2)).records == ()  # the same text: nothing
    p.do(c.AmendMotion(motion=mid, doc=D3), SECRETARY, Role.SECRETARY)
    amended = p.s.motions[mid]
    assert (amended.doc, amended.version, amended.history) == (D3, 3, (D1, D2, D3))
    refused(p, c.AmendMotion(motion=mid, doc=OTHER), "doc.unknown", {"doc": OTHER})


def test_closing_takes_the_document_off_the_screens() -> None:
    p = in_session()
    p.do(c.RegisterDocument(hash=D1, title="Dự thảo"))
    p.do(c.PresentDocument(doc=D1))
    p.do(c.CloseSitting())
    assert p.s.presentation is None and D1 in p.s.documents
