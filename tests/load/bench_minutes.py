"""The minutes of a full day (95 members, 80 speeches, 25 named votes with their roll
calls in the annex) rendered to PDF and DOCX, against the same documents of a sitting where
nothing happened, measured in the same run (`make bench`). Target: a full day in ≤ 2 s of
CPU per document. CPU time of the process (every thread) is reported beside wall time: the
machine is shared, so the ratio to the baseline is the steadier figure.

    python tests/load/bench_minutes.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from chamber.minutes import Minutes  # noqa: E402
from server.record.compose import compose  # noqa: E402
from server.record.docx import render_docx  # noqa: E402
from server.record.pdf import render_pdf  # noqa: E402
from tests.record.test_documents import full_day, minutes_of_nothing  # noqa: E402

TARGET_CPU_S = 2.0


def measure(render: Callable[[object], bytes], day: Minutes, runs: int) -> tuple[float, float, int]:
    cpus, walls, size = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        size = len(render(compose(day, "vi")))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(cpus), statistics.median(walls), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    day, nothing = full_day(), minutes_of_nothing()
    render_pdf(compose(nothing, "vi"))  # the fonts are read once per process
    failed = False
    for kind, render in (("PDF", render_pdf), ("DOCX", render_docx)):
        cpu, wall, size = measure(render, day, args.runs)  # type: ignore[arg-type]
        base_cpu, base_wall, base_size = measure(render, nothing, args.runs)  # type: ignore[arg-type]
        holds = cpu <= TARGET_CPU_S
        failed |= not holds
        print(
            f"minutes {kind}: full day ({day.records} records) {size:,} B in {cpu:.3f} s CPU "
            f"({wall:.3f} s wall); empty sitting {base_size:,} B in {base_cpu:.3f} s CPU "
            f"({base_wall:.3f} s wall); ratio {cpu / max(base_cpu, 1e-6):.1f}x; "
            f"target <= {TARGET_CPU_S} s CPU: {'HOLDS' if holds else 'MISSED'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
