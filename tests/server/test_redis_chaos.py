"""Chaos on three nodes and one Redis (tests/load/chaos.py holds the code; `make bench`
runs 100 trials): at a random instant of each vote, kill -9 the owner, another node or
redis-server; no acknowledged ballot lost, none doubled, no client with a gap or a
duplicate, the clients of a killed node resumed on another, no command left unanswered."""

from __future__ import annotations

import pytest

from tests.load.chaos import Nodes, chaos
from tests.server.conftest import SCALE

pytestmark = [pytest.mark.redis, pytest.mark.slow]
TRIALS = 10
SEED = 20261201


@pytest.mark.timeout(900)  # node starts (Argon2 for the demo logins) on a busy machine
async def test_no_ballot_lost_or_doubled_whatever_is_killed(
    three_nodes: Nodes, capsys: pytest.CaptureFixture[str]
) -> None:
    run = await chaos(three_nodes, TRIALS, SEED)
    with capsys.disabled():  # the figures are the point: shown even when it passes
        print("\n" + run.line())
    counts, figures = run.counts, run.figures
    assert counts.trials == TRIALS and counts.acked == TRIALS * 24
    assert counts.lost == 0 and counts.doubled == 0
    assert all(figures.kinds.values()), figures.kinds  # each kind of kill came up
    assert figures.moved > 0  # clients did sit on the nodes that were killed
    assert max(figures.takeover_s) < 3.5 * SCALE
