"""A small run of the cluster fan-out benchmark (tests/load/cluster_fanout.py, which
`make bench` runs at full size), so that it cannot rot: one node on SQLite and two nodes
on one Redis, a few screens and delegates each; every screen shows the final tally and
every figure is produced."""

from __future__ import annotations

import pytest

from tests.load.cluster_fanout import Options, append_figures, bench, report
from tests.server.conftest import SCALE

pytestmark = [pytest.mark.redis, pytest.mark.slow]


@pytest.mark.timeout(600)
def test_every_screen_on_every_node_gets_the_final_tally(
    capsys: pytest.CaptureFixture[str],
) -> None:
    opts = Options(screens_per_node=12, delegates=8, at_rest_n=10, pin=False)
    opts.deadline_s *= SCALE
    runs = bench([2], opts, baseline=True)
    with capsys.disabled():
        report(runs)
    assert [(r["nodes"], r["journal"]) for r in runs] == [(1, "sqlite"), (2, "redis")]
    for run in runs:
        assert run["refused"] == 0
        assert run["screens"] == 12 * run["nodes"]
        assert run["screens_with_final_tally"] == run["screens"]
        assert run["tally_after_last_ack_ms"]["max"] is not None
        assert run["at_rest_owner_p50_ms"] > 0
        for i, node in enumerate(run["per_node"]):
            assert node["with_final_tally"] == node["screens"] == 12
            chair = 1 if i == 0 else 0
            assert node["connections"] == node["screens"] + node["delegates"] + chair
            assert node["cpu_s"] > 0 and node["cpu_ms_per_screen"] > 0
    two = runs[1]
    assert [n["role"] for n in two["per_node"]] == ["owner", "follower"]
    assert two["at_rest_forwarded_p50_ms"] > 0
    # The ballots of the follower's delegates went through Redis to the owner and back.
    calls = two["redis"]["calls"]
    assert calls["EVALSHA"] >= 1 and calls["XADD"] >= 4 and calls["BLPOP"] >= 4
    assert two["redis"]["calls_per_command"] > 0
    assert all(n["redis_calls"] > 0 for n in two["per_node"])


def test_append_figures_beside_a_bare_xadd() -> None:
    figures = append_figures(20)
    assert figures["journal_append_p50_ms"] > 0 and figures["bare_xadd_p50_ms"] > 0
