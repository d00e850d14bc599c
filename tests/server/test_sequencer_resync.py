"""A write whose outcome is unknown (the batch reached the journal, its reply was lost, as
when Redis dies between its fsync and its answer): the command is answered
`server.unavailable`, the sequencer reads the journal again before its next batch, the
records that did land are published once, and the command retried with the same key gets
its stored answer instead of being applied twice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from chamber import Record
from chamber import commands as c
from chamber.ids import Role
from chamber.model import AgendaItem
from server.config import Config
from server.hub import Hub
from server.journal import Commit, SqliteJournal
from server.metrics import Metrics
from tests.chamber.play import T0, council, m

SITTING = "s1"


class LosesOneReply(SqliteJournal):
    """Writes every batch; the reply of the one after ``arm()`` is lost."""

    lose = False

    async def append(self, sitting: str, batch: Sequence[Commit]) -> None:
        await super().append(sitting, batch)
        if self.lose:
            self.lose = False
            raise ConnectionError("the reply was lost")


async def test_a_lost_reply_is_read_back_published_once_and_answered_on_retry(
    tmp_path: Path,
) -> None:
    journal = LosesOneReply(tmp_path)
    await journal.open()
    hub = Hub(journal, Config(data=tmp_path), Metrics(), clock=lambda: T0)
    await hub.start()
    published: list[int] = []
    agenda = (AgendaItem(id="i1", title="Nghị quyết"),)  # type: ignore[arg-type]
    schedule = c.ScheduleSitting(
        sitting=SITTING, council=council(30), title="Kỳ họp", scheduled_at=T0, agenda=agenda
    )
    assert (await hub.submit(SITTING, schedule, None, Role.OPERATOR, None)).answer.ok
    room = hub.rooms[SITTING]
    original = room.publish

    def publish(records: list[Record], state: object) -> None:
        published.extend(r.seq for r in records)
        original(records, state)  # type: ignore[arg-type]

    room.publish = publish  # type: ignore[method-assign]
    journal.lose = True
    lost = await hub.submit(SITTING, c.CheckIn(), m(3), Role.DELEGATE, "m03/c1")
    assert not lost.answer.ok and lost.answer.code == "server.unavailable"
    assert published == []  # not published while its fate was unknown
    landed = await journal.last_seq(SITTING)
    # The next batch reads the journal first: the landed check-in is published, once.
    other = await hub.submit(SITTING, c.CheckIn(), m(4), Role.DELEGATE, "m04/c1")
    assert other.answer.ok and other.answer.seq == (landed + 1, landed + 1)
    assert published == [landed, landed + 1]
    # The client retries its command with the same id: the stored answer, not a second one.
    retried = await hub.submit(SITTING, c.CheckIn(), m(3), Role.DELEGATE, "m03/c1")
    assert retried.replayed and retried.answer.ok and retried.answer.seq == (landed, landed)
    assert await journal.last_seq(SITTING) == landed + 1
    assert [r.seq for r in await journal.read(SITTING)] == list(range(1, landed + 2))
    await hub.stop()
    await journal.close()


class Stuck(SqliteJournal):
    """An append that never returns (a write hanging on a dead link)."""

    stuck = False

    async def append(self, sitting: str, batch: Sequence[Commit]) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        await super().append(sitting, batch)


async def test_a_stopped_sequencer_answers_what_it_was_deciding_and_what_waited(
    tmp_path: Path,
) -> None:
    """A node stepping down stops the sitting's sequencer: no command is left hanging."""
    journal = Stuck(tmp_path)
    await journal.open()
    hub = Hub(journal, Config(data=tmp_path), Metrics(), clock=lambda: T0)
    await hub.start()
    agenda = (AgendaItem(id="i1", title="Nghị quyết"),)  # type: ignore[arg-type]
    schedule = c.ScheduleSitting(
        sitting=SITTING, council=council(30), title="Kỳ họp", scheduled_at=T0, agenda=agenda
    )
    assert (await hub.submit(SITTING, schedule, None, Role.OPERATOR, None)).answer.ok
    journal.stuck = True
    seq = hub.sequencers[SITTING]
    deciding = seq.submit(c.CheckIn(), m(3), Role.DELEGATE, "m03/c1")
    await asyncio.sleep(0.05)  # taken into a batch, its append hanging
    waiting = [seq.submit(c.CheckIn(), m(i), Role.DELEGATE, f"m{i:02d}/c1") for i in (4, 5)]
    await asyncio.wait_for(seq.stop(), 2)
    for future in [deciding, *waiting]:
        assert future.done() and future.result().answer.code == "server.unavailable"
    await hub.stop()
    await journal.close()
