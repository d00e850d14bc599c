"""Kill -9 the node that sequences the sitting at random instants during a vote, with a
second node on the same Redis to take over: no acknowledged ballot lost, none counted
twice, the log verifies, every client reconnects to the other node and resumes by seq
without a gap or a duplicate (tests/load/failover_storm.py holds the code; `make bench`
runs more trials)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.failover_storm import Cluster, failover_storm
from tests.server.conftest import SCALE

pytestmark = [pytest.mark.redis, pytest.mark.slow]
TRIALS = 5
SEED = 20261201


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    c.start()
    yield c
    c.stop()


@pytest.mark.timeout(900)  # node starts (Argon2 for the demo logins) on a busy machine
async def test_acknowledged_ballots_survive_the_owners_death_exactly_once(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    run = await failover_storm(cluster, TRIALS, SEED)
    with capsys.disabled():  # the counts are the point of the test: shown even when it passes
        print("\n" + run.line())
    counts = run.counts
    assert counts.trials == TRIALS
    assert counts.lost == 0 and counts.doubled == 0
    assert counts.acked == TRIALS * 24
    assert counts.in_flight + counts.unsent > 0  # the kills did land while ballots were due
    assert max(run.takeover_s) < 3.0 * SCALE  # the lease is taken within 3 s
