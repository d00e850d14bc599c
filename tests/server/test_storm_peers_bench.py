"""Small runs of the vote storm's newer parts (tests/load: the python-socketio peer, the
scale table, idle connections, the restart), which `make bench` runs at full size, so
that they cannot rot: each produces its figures with a few clients, unpinned."""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

import pytest

from tests.load.idle_gallery import hold
from tests.load.idle_gallery import report as idle_report
from tests.load.journal_commit import report as journal_commit_report
from tests.load.journal_commit import run as journal_commit_run
from tests.load.plot import latency_plot
from tests.load.restart_resync import report as restart_report
from tests.load.restart_resync import run as restart_run
from tests.load.storm_scale import cell, render
from tests.load.vote_storm import storm

pytestmark = pytest.mark.slow


def small(**extra: object) -> argparse.Namespace:
    return argparse.Namespace(nice=0, profile=None, pin=False, at_rest_n=5, **extra)


@pytest.mark.timeout(300)
def test_the_socketio_peer_and_the_bare_server_produce_their_figures(tmp_path: Path) -> None:
    columns = {kind: storm(small(delegates=20, screens=20), kind) for kind in ("socketio", "bare")}
    for kind, col in columns.items():
        assert col["kind"] == kind
        assert col["refused"] == 0
        assert len(col["ack_ms"]) == 20 and col["ack_p99_ms"] > 0
        assert col["screens_with_final_tally"] == 20, kind
        assert col["final_tally_after_last_ack_ms"] is not None
        assert col["at_rest_p50_ms"] > 0
        assert col["generator_storm_cpu_pct"] >= 0
        # Every ballot broadcast to every screen: each gets all 20 (the tally, the ballot).
        assert col["frames_to_screens"] == 20 * 20, kind
    png = latency_plot(columns, tmp_path / "latency.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.timeout(300)
def test_a_cell_of_the_scale_table() -> None:
    result = cell(small(), 6, 10)
    assert result["fits"], result
    assert result["screens_with_final_tally"] == 10
    table = render({(6, 10): result, (6, 20): {"error": "gave up"}}, [6], [10, 20])
    row = next(line for line in table.splitlines() if line.strip().startswith("6"))
    assert row.split()[1] != "–" and row.split()[2] == "–"
    assert "6 × 20: gave up" in table


@pytest.mark.timeout(300)
def test_idle_connections_are_held_and_weighed() -> None:
    columns = {kind: hold(kind, 30, 10, settle_s=0.2, pinning=False) for kind in ("hub", "bare")}
    for col in columns.values():
        assert col["screens"] == 30
        assert col["rss_held_mb"] >= col["rss_empty_mb"] > 0
    assert "server RSS per connection (KB)" in idle_report(columns)


@pytest.mark.timeout(300)
def test_screens_resume_at_the_last_seq_after_a_kill() -> None:
    result = restart_run(20, 10, [signal.SIGKILL], pinning=False)
    (r,) = result["rounds"]
    assert r["signal"] == "SIGKILL" and r["last_seq"] > 20
    assert r["dropped"] == r["caught_up"] == r["screens"] == 20
    assert r["resumed"] == 20 and r["snapshots"] == 0  # with their last seq, not afresh
    assert r["listening_after_start_ms"] > 0 and r["all_caught_up_after_start_ms"] > 0
    assert "SIGKILL" in restart_report(result)


def test_the_journal_commit_bench_measures_both_ways(tmp_path: Path) -> None:
    out = asyncio.run(journal_commit_run(60, 3, tmp_path))
    assert [len(ms) for ms in out.values()] == [60, 60]
    assert all(m > 0 for ms in out.values() for m in ms)
    journal_commit_report(out)  # prints, with the ratio to the bare fsync
