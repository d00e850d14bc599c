"""`nghitruong demo`: a scripted year-end ward council sitting played through the core,
told step by step (in Vietnamese by default; `--lang en` for English); with `--data DIR`
the sitting is also kept in that data folder (journal and registry)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

from chamber import AnyCommand, Ctx, Record, Sitting, execute, verify
from chamber import commands as c
from chamber.ids import (
    ABSTAIN,
    APPROVE,
    CONFIDENT,
    HIGH,
    LOW,
    REJECT,
    STRIKE,
    CouncilId,
    DocHash,
    ItemId,
    MemberId,
    MotionId,
    RequestId,
    Role,
    RoundId,
    TurnId,
    TurnKind,
    VoteForm,
    VoteId,
)
from chamber.log import Entry, canonical
from chamber.model import AgendaItem, Council, Guest, Member, Question
from server.i18n import t
from server.narrate import name_of, narrate

START = 1_766_041_200_000  # 2025-12-18 07:00 UTC: a fixed instant, the demo reads no clock

NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Hoàng Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Vũ Thị Phương",
    "Đặng Quốc Gia",
    "Bùi Thị Hạnh",
    "Đỗ Minh Hiếu",
    "Hồ Thị Hoa",
    "Ngô Văn Khánh",
    "Dương Thị Lan",
    "Lý Văn Long",
    "Phan Thị Mai",
    "Trịnh Văn Nam",
    "Đinh Thị Ngọc",
    "Lâm Văn Phúc",
    "Mai Thị Quỳnh",
    "Tạ Văn Sơn",
    "Châu Thị Tâm",
    "Quách Văn Thắng",
    "Lương Thị Thu",
    "Kiều Văn Toàn",
    "Võ Thị Trang",
    "Hà Văn Trung",
    "Tôn Thị Uyên",
    "Khúc Văn Việt",
    "La Thị Xuân",
    "Ninh Văn Yên",
    "Âu Thị Yến",
]


def member_id(i: int) -> MemberId:
    return MemberId(f"db{i:02d}")


def demo_council() -> Council:
    def roles(i: int) -> frozenset[Role]:
        extra = {1: Role.CHAIR, 2: Role.VICE_CHAIR, 3: Role.SECRETARY}.get(i)
        return frozenset({Role.DELEGATE, extra}) if extra else frozenset({Role.DELEGATE})

    members = tuple(
        Member(
            id=member_id(i),
            name=name,
            seat=f"{(i - 1) // 10 + 1}-{(i - 1) % 10 + 1:02d}",
            roles=roles(i),
        )
        for i, name in enumerate(NAMES, start=1)
    )
    return Council(
        id=CouncilId("hdnd-phuong-ben-thanh"),
        name="Hội đồng nhân dân phường Bến Thành",
        total_seats=30,
        members=members,
        guests=(
            Guest(
                id=MemberId("kh-ubnd"),
                name="Chủ tịch UBND phường",
                affiliation="Ủy ban nhân dân phường",
            ),
        ),
    )


Step = tuple[int, Role, AnyCommand, int]  # (member number or 0, role, command, seconds after)


def script(state_of: Player) -> Iterator[Step]:
    """The year-end sitting. ``state_of`` gives the live state where a step needs an id."""
    chair, op, sysrole, d = Role.CHAIR, Role.OPERATOR, Role.SYSTEM, Role.DELEGATE
    report = DocHash(hashlib.sha256(b"bao-cao-ktxh-2025").hexdigest())
    budget_v1 = DocHash(hashlib.sha256(b"nq-du-toan-2026-v1").hexdigest())
    budget_v2 = DocHash(hashlib.sha256(b"nq-du-toan-2026-v2").hexdigest())
    works = DocHash(hashlib.sha256(b"nq-cong-trinh-2026").hexdigest())
    park = DocHash(hashlib.sha256(b"nq-cong-vien-2026").hexdigest())
    for i in range(1, 27):
        yield i, d, c.CheckIn(), 5
    yield 0, sysrole, c.JoinRemote(member=member_id(27)), 5
    yield 3, Role.SECRETARY, c.Excuse(member=member_id(28), reason="Công tác"), 5
    yield 3, Role.SECRETARY, c.Excuse(member=member_id(29), reason="Ốm"), 5
    yield (
        0,
        op,
        c.RegisterDocument(
            hash=report, title="Báo cáo kinh tế - xã hội năm 2025", pages=12, item=ItemId("bao-cao")
        ),
        0,
    )
    yield 1, chair, c.OpenSitting(), 60
    yield 1, chair, c.StartSitting(), 10
    yield 1, chair, c.PresentDocument(doc=report, page=1), 0
    yield 1, chair, c.GrantFloor(speaker=MemberId("kh-ubnd"), kind=TurnKind.EXPLANATION), 6 * 60
    yield 1, chair, c.EndTurn(turn=state_of.turn_of("kh-ubnd")), 5
    yield 1, chair, c.MoveToItem(item=ItemId("thao-luan")), 5
    for i in (5, 9, 14):
        yield i, d, c.RequestFloor(kind=TurnKind.CONTRIBUTION), 2
    yield 1, chair, c.GrantFloor(request=state_of.request_of(member_id(9))), 5 * 60  # any order
    yield 1, chair, c.EndTurn(turn=state_of.turn_of(member_id(9))), 2
    yield 1, chair, c.GrantNext(), 7 * 60  # db05 uses all 7 minutes: the timer ends it
    yield 0, sysrole, c.ExpireTurn(turn=state_of.turn_of(member_id(5))), 2
    yield 6, d, c.RequestFloor(kind=TurnKind.DEBATE_REPLY), 2
    yield 1, chair, c.GrantNext(), 4 * 60
    yield 1, chair, c.EndTurn(turn=state_of.turn_of(member_id(14))), 2
    yield 1, chair, c.GrantNext(), 90
    yield 1, chair, c.PauseTurn(turn=state_of.turn_of(member_id(6))), 30
    yield 1, chair, c.ResumeTurn(turn=state_of.turn_of(member_id(6))), 60
    yield 1, chair, c.EndTurn(turn=state_of.turn_of(member_id(6))), 5
    yield 1, chair, c.OpenRound(respondent=MemberId("kh-ubnd")), 2
    for i in (11, 17):
        yield i, d, c.RequestFloor(kind=TurnKind.QUESTION), 2
    for i in (11, 17):
        yield 1, chair, c.GrantNext(), 100
        yield 1, chair, c.EndTurn(turn=state_of.turn_of(member_id(i))), 2
    yield 1, chair, c.AnswerRound(round=state_of.open_round()), 4 * 60
    yield 1, chair, c.EndTurn(turn=state_of.turn_of("kh-ubnd")), 10
    yield 1, chair, c.MoveToItem(item=ItemId("nghi-quyet")), 5
    for doc, title in (
        (budget_v1, "Dự thảo nghị quyết dự toán ngân sách 2026"),
        (budget_v2, "Dự thảo nghị quyết dự toán ngân sách 2026 (chỉnh lý)"),
        (works, "Dự thảo nghị quyết danh mục công trình 2026"),
        (park, "Dự thảo nghị quyết chuyển đổi công viên"),
    ):
        yield (
            0,
            op,
            c.RegisterDocument(
                hash=doc,
                title=title,
                pages=4,
                item=ItemId("nghi-quyet"),
                supersedes=budget_v1 if doc == budget_v2 else None,
            ),
            0,
        )
    yield (
        3,
        Role.SECRETARY,
        c.ProposeMotion(title="Nghị quyết về dự toán ngân sách năm 2026", doc=budget_v1),
        5,
    )
    yield 3, Role.SECRETARY, c.AmendMotion(motion=state_of.motion(0), doc=budget_v2), 5
    yield (
        3,
        Role.SECRETARY,
        c.ProposeMotion(title="Nghị quyết về danh mục công trình năm 2026", doc=works),
        5,
    )
    yield (
        3,
        Role.SECRETARY,
        c.ProposeMotion(title="Nghị quyết chuyển đổi công viên phường", doc=park),
        5,
    )
    # Resolution 1: named, passes.
    yield 1, chair, c.OpenVote(motion=state_of.motion(0), preset="resolution"), 3
    for i in range(1, 28):
        yield i, d, c.CastBallot(vote=state_of.vote(), choice=APPROVE if i <= 24 else REJECT), 1
    yield 1, chair, c.CloseVote(vote=state_of.vote()), 10
    # Resolution 2: secret, passes.
    yield (
        1,
        chair,
        c.OpenVote(motion=state_of.motion(1), preset="resolution", form=VoteForm.SECRET),
        3,
    )
    for i in range(1, 28):
        yield i, d, c.CastBallot(vote=state_of.vote(), choice=APPROVE if i % 9 else ABSTAIN), 1
    yield 1, chair, c.CloseVote(vote=state_of.vote()), 60
    # Seven delegates leave in the afternoon; resolution 3 fails for want of the threshold
    # though 15 of the 20 present approve: more than half of the 30 seats is 16.
    for i in range(21, 28):
        yield i, d, c.Leave(), 5
    yield 1, chair, c.OpenVote(motion=state_of.motion(2), preset="resolution"), 3
    for i in range(1, 21):
        yield (
            i,
            d,
            c.CastBallot(
                vote=state_of.vote(), choice=APPROVE if i <= 15 else REJECT if i <= 18 else ABSTAIN
            ),
            1,
        )
    yield 1, chair, c.CloseVote(vote=state_of.vote()), 30
    for i in range(21, 27):
        yield i, d, c.CheckIn(), 5
    # Election of a vice-chair of the council: one position, two candidates, secret.
    candidates = (
        Question(id="uv-1", label="Lê Hoàng Cường"),
        Question(id="uv-2", label="Phan Thị Mai"),
    )
    yield (
        1,
        chair,
        c.OpenElection(title="Bầu Phó Chủ tịch HĐND phường", positions=1, candidates=candidates),
        3,
    )
    for i in range(1, 27):
        first = APPROVE if i <= 19 else STRIKE
        yield (
            i,
            d,
            c.CastBallot(
                vote=state_of.vote(),
                answers={"uv-1": first, "uv-2": STRIKE if first == APPROVE else APPROVE},
            ),
            1,
        )
    yield 1, chair, c.CloseVote(vote=state_of.vote()), 30
    # Confidence poll on two officials, secret.
    officials = (
        Question(id="ct-ubnd", label="Chủ tịch UBND phường"),
        Question(id="pct-ubnd", label="Phó Chủ tịch UBND phường"),
    )
    yield 1, chair, c.OpenConfidencePoll(title="Lấy phiếu tín nhiệm", officials=officials), 3
    for i in range(1, 27):
        second = HIGH if i <= 4 else CONFIDENT if i <= 10 else LOW
        yield (
            i,
            d,
            c.CastBallot(
                vote=state_of.vote(),
                answers={"ct-ubnd": HIGH if i <= 18 else CONFIDENT, "pct-ubnd": second},
            ),
            1,
        )
    yield 1, chair, c.CloseVote(vote=state_of.vote()), 30
    yield 1, chair, c.StopPresenting(), 0
    yield 1, chair, c.CloseSitting(), 0


class Player:
    """Plays the script, keeping the state and the log."""

    def __init__(self) -> None:
        self.now = START
        self.records: list[Record] = []
        council = demo_council()
        agenda = (
            AgendaItem(
                id=ItemId("bao-cao"),
                title="Báo cáo tình hình kinh tế - xã hội năm 2025",
                presenter="Chủ tịch UBND phường",
            ),
            AgendaItem(id=ItemId("thao-luan"), title="Thảo luận và chất vấn"),
            AgendaItem(id=ItemId("nghi-quyet"), title="Xem xét, thông qua các nghị quyết"),
        )
        step = execute(
            None,
            c.ScheduleSitting(
                sitting="ky-hop-cuoi-nam-2025",
                council=council,
                title="Kỳ họp thường lệ cuối năm 2025",
                scheduled_at=START,
                agenda=agenda,
            ),
            Ctx(actor=None, role=Role.OPERATOR, now=self.now),
        )
        assert step.state is not None
        self.state: Sitting = step.state
        self.records.extend(step.records)

    def turn_of(self, speaker: str) -> TurnId:
        return next(tid for tid, t in self.state.turns.items() if t.speaker == speaker)

    def request_of(self, member: MemberId) -> RequestId:
        return next(r.id for r in self.state.queue if r.member == member)

    def open_round(self) -> RoundId:
        return next(r.id for r in self.state.rounds.values() if not r.answered)

    def motion(self, index: int) -> MotionId:
        return list(self.state.motions)[index]

    def vote(self) -> VoteId:
        vote = self.state.open_vote()
        assert vote is not None
        return vote.id

    def play(self) -> Iterator[tuple[Record, Sitting]]:
        yield self.records[0], self.state
        for who, role, command, seconds in script(self):
            actor = None if who == 0 else member_id(who)
            step = execute(self.state, command, Ctx(actor=actor, role=role, now=self.now))
            assert step.state is not None
            self.state = step.state
            for record in step.records:
                self.records.append(record)
                yield record, self.state
            self.now += seconds * 1000


async def store(player: Player, data: Path) -> bool:
    """Keep the played sitting in the data folder ``data``: its log in the journal and its
    council, members, guests and sitting in the registry, so that `nghitruong minutes`
    (and a hub started on that folder) find it. False if the folder already holds it."""
    from server.journal import Commit, SqliteJournal, Stored
    from server.registry import CouncilRow, GuestRow, MemberRow, NotFound, Registry, SittingRow

    state = player.state
    registry = Registry(data)
    try:
        try:
            registry.council(state.council.id)
        except NotFound:
            registry.add_council(
                CouncilRow(state.council.id, state.council.name, state.council.total_seats)
            )
            for m in state.council.members:
                roles = tuple(sorted(r.value for r in m.roles))
                registry.add_member(MemberRow(m.id, state.council.id, m.name, m.seat, roles))
            for g in state.council.guests:
                registry.add_guest(GuestRow(g.id, state.council.id, g.name, g.affiliation))
        try:
            registry.sitting(state.id)
        except NotFound:
            registry.add_sitting(
                SittingRow(state.id, state.council.id, state.title, state.scheduled_at)
            )
    finally:
        registry.close()
    journal = SqliteJournal(data)
    await journal.open()
    try:
        if await journal.last_seq(state.id) > 0:
            return False
        stored = [
            Stored(
                r.seq,
                r.hash,
                canonical(Entry(seq=r.seq, at=r.at, sitting=r.sitting, event=r.event)),
            )
            for r in player.records
        ]
        await journal.append(state.id, [Commit(records=stored)])
    finally:
        await journal.close()
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nghitruong demo", description=__doc__)
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    parser.add_argument(
        "--data",
        type=Path,
        help="also keep the sitting (journal and registry) in this data folder, for "
        "`nghitruong minutes`",
    )
    args = parser.parse_args(argv)
    lang: str = args.lang
    player = Player()
    out = sys.stdout
    out.write(t("demo.title", lang, council=player.state.council.name) + "\n\n")
    for record, state in player.play():
        for line in narrate(record.event, state, lang):
            out.write(t("demo.step", lang, text=line) + "\n")
    out.write("\n")
    final = player.state
    for member_key, spoken in sorted(final.speaking_ms.items()):
        out.write(
            t(
                "demo.speaking",
                lang,
                name=name_of(final, member_key),
                minutes=spoken // 60_000,
                seconds=spoken // 1000 % 60,
            )
            + "\n"
        )
    check = verify(player.records)
    out.write(
        "\n"
        + t(
            "demo.footer",
            lang,
            count=check.count,
            status=t("demo.chain_ok" if check.ok else "demo.chain_bad", lang),
            head=check.head[:16],
        )
        + "\n"
    )
    if args.data is not None and check.ok:
        fresh = asyncio.run(store(player, args.data))
        key = "demo.stored" if fresh else "demo.already_stored"
        out.write(t(key, lang, sitting=final.id, data=str(args.data)) + "\n")
    return 0 if check.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
