"""The demo and the plain-text minutes tell why a request left the queue, and that an
item was struck from the agenda."""

from __future__ import annotations

from chamber import commands as c
from chamber.ids import DocHash, ItemId, TurnKind
from chamber.log import apply
from chamber.model import Sitting
from server.narrate import narrate
from tests.chamber.play import Play, m

BUDGET = ItemId("i-budget")


def told(p: Play, since: int, lang: str) -> list[str]:
    state: Sitting | None = None
    lines: list[str] = []
    for record in p.records:
        state = apply(state, record)
        if record.seq > since:
            lines += narrate(record.event, state, lang)
    return lines


def test_withdrawals_and_removals_are_told_with_their_reason() -> None:
    p = Play()
    p.open_and_start(25)
    since = p.s.seq
    for i in (5, 6, 7):
        p.as_delegate(i, c.RequestFloor())
    p.as_delegate(5, c.WithdrawRequest(request=p.s.queue[0].id))
    p.do(c.WithdrawRequest(request=p.s.queue[0].id))
    p.do(c.MoveToItem(item=BUDGET))
    p.do(c.AddItem(title="Miễn nhiệm"))
    p.do(c.RemoveItem(item=p.s.agenda[-1].id))
    vi = told(p, since + 3, "vi")
    assert vi == [
        "Đại biểu 05 rút đăng ký phát biểu",
        "Chủ tọa hủy đăng ký phát biểu của Đại biểu 06",
        "Đăng ký phát biểu của Đại biểu 07 được hủy do chuyển nội dung",
        "Chuyển sang nội dung: Dự toán ngân sách",
        "Bổ sung vào chương trình: Miễn nhiệm",
        "Rút một nội dung khỏi chương trình",
    ]
    assert told(p, p.s.seq - 1, "en") == ["An item was removed from the agenda"]


def test_a_removal_tells_how_many_motions_fell_with_the_item() -> None:
    p = Play()
    p.do(c.AddItem(title="Miễn nhiệm"))
    item = p.s.agenda[-1].id
    p.do(c.RegisterDocument(hash=DocHash("d" * 64), title="Tờ trình"))
    p.do(c.ProposeMotion(title="Nghị quyết", doc=DocHash("d" * 64), item=item))
    p.do(c.RemoveItem(item=item))
    assert told(p, p.s.seq - 1, "vi") == [
        "Rút một nội dung khỏi chương trình, cùng 1 tờ trình chưa biểu quyết"
    ]


def test_a_question_dropped_when_the_answer_begins_is_told() -> None:
    p = Play()
    p.open_and_start(25)
    p.do(c.OpenRound(respondent=m(2)))
    p.as_delegate(5, c.RequestFloor(kind=TurnKind.QUESTION))
    p.do(c.AnswerRound(round=next(iter(p.s.rounds))))
    assert told(p, p.s.seq - 1, "vi") == [
        "Câu hỏi đăng ký của Đại biểu 05 được hủy do phiên chất vấn chuyển sang trả lời"
    ]
