"""Kill -9 the hub at random instants during a vote, restart it: every acknowledged ballot
is in the log exactly once, no ballot is counted twice, the log verifies, and every client
resumes without a gap or a duplicate (20 trials here; 200 in `make bench`, by
tests/load/kill_storm.py, which holds the code)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.kill_storm import storm
from tests.server.conftest import HubProcess

TRIALS = 20
SEED = 20261130


@pytest.fixture(scope="module")
def killable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    h = HubProcess(tmp_path_factory.mktemp("killable"))
    h.start(demo=True)
    yield h
    h.stop()


async def test_acknowledged_ballots_survive_kill_9_exactly_once(
    killable: HubProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    lines: list[str] = []
    counts = await storm(killable, TRIALS, SEED, report=lines.append)
    with capsys.disabled():  # the counts are the point of the test: shown even when it passes
        print("\n" + counts.line())
    assert counts.trials == TRIALS
    assert counts.lost == 0 and counts.doubled == 0
    assert counts.acked == TRIALS * 24
    assert counts.in_flight > 0  # some kills did land while ballots were in flight


def test_the_journal_files_exist(killable: HubProcess) -> None:
    assert Path(killable.data, "journal.sqlite3").exists()
