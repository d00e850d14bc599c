"""A small driver that plays commands through the core as different people."""

from __future__ import annotations

import msgspec

from chamber import AnyCommand, Ctx, Record, Sitting, execute
from chamber import commands as c
from chamber.events import SecretBallot
from chamber.ids import CouncilId, ItemId, MemberId, Role
from chamber.model import AgendaItem, Council, Member
from chamber.rules import Rules

T0 = 1_766_000_000_000  # a fixed instant (ms); tests never read the clock


def council(n: int = 30, seats: int | None = None) -> Council:
    members = [
        Member(
            id=MemberId(f"m{i:02d}"),
            name=f"Đại biểu {i:02d}",
            seat=f"A{i:02d}",
            roles=frozenset({Role.CHAIR, Role.DELEGATE})
            if i == 1
            else frozenset({Role.VICE_CHAIR, Role.DELEGATE})
            if i == 2
            else frozenset({Role.SECRETARY, Role.DELEGATE})
            if i == 3
            else frozenset({Role.DELEGATE}),
        )
        for i in range(1, n + 1)
    ]
    return Council(
        id=CouncilId("phuong-ben-nghe"),
        name="HĐND phường Bến Nghé",
        total_seats=seats if seats is not None else n,
        members=tuple(members),
    )


def m(i: int) -> MemberId:
    return MemberId(f"m{i:02d}")


class Play:
    """Holds the state and the log; ``do`` executes as someone at the current time."""

    def __init__(self, n: int = 30, seats: int | None = None, rules: Rules | None = None):
        self.now = T0
        self.state: Sitting | None = None
        self.records: list[Record] = []
        self.secrets: list[SecretBallot] = []
        self.do(
            c.ScheduleSitting(
                sitting="s1",
                council=council(n, seats),
                title="Kỳ họp thứ 12",
                scheduled_at=T0,
                rules=rules,
                agenda=(
                    AgendaItem(id=ItemId("i-report"), title="Báo cáo kinh tế - xã hội"),
                    AgendaItem(id=ItemId("i-budget"), title="Dự toán ngân sách"),
                ),
            ),
            None,
            Role.OPERATOR,
        )

    @property
    def s(self) -> Sitting:
        assert self.state is not None
        return self.state

    def tick(self, seconds: float) -> None:
        self.now += int(seconds * 1000)

    def do(self, cmd: AnyCommand, actor: MemberId | None = None, role: Role = Role.CHAIR):
        if actor is None and role is Role.CHAIR:
            actor = m(1)
        self.before = self.state  # the state a refused command must leave untouched
        self.before_bytes = msgspec.msgpack.encode(self.state)
        step = execute(self.state, cmd, Ctx(actor=actor, role=role, now=self.now))
        self.state = step.state
        self.records.extend(step.records)
        if step.secret is not None:
            self.secrets.append(step.secret)
        return step

    def as_delegate(self, i: int, cmd: AnyCommand):
        return self.do(cmd, m(i), Role.DELEGATE)

    def system(self, cmd: AnyCommand):
        return self.do(cmd, None, Role.SYSTEM)

    def check_in(self, *members: int) -> None:
        for i in members:
            self.as_delegate(i, c.CheckIn())

    def open_and_start(self, present: int = 30) -> None:
        self.check_in(*range(1, present + 1))
        self.do(c.OpenSitting())
        self.do(c.StartSitting())

    def ballot_box(self) -> dict[tuple[str, str, str], int]:
        box: dict[tuple[str, str, str], int] = {}
        for b in self.secrets:
            for q, o in b.answers.items():
                box[(b.vote, q, o)] = box.get((b.vote, q, o), 0) + 1
        return box
