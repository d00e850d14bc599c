"""Issue 7's ten probes, replayed as an attacker would against live demo hubs (run by
`make bench`, not by `make test`).

Each probe prints one line: what it tried, what it measured (the hub's RSS before, after
and at its peak, bytes, counts, times, status and close codes) and HOLDS or FAILS. The
script exits 1 if any probe fails. The demo data is seeded once and copied for each hub:
probes that measure memory or spend the login budget get a hub of their own.

    python tests/load/probe_hardening.py [--quick]

--quick scales the floods down (the whole run well under a minute on an idle machine).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.load.probes.base import DEADLINE_S, FULL, QUICK, Hubs, Result, Scale  # noqa: E402
from tests.load.probes.logins import probe_huge_login, probe_login_limiter  # noqa: E402
from tests.load.probes.operator import probe_reused_id, probe_schedule, probe_uploads  # noqa: E402
from tests.load.probes.records import probe_big_notes, probe_log_export  # noqa: E402
from tests.load.probes.sockets import (  # noqa: E402
    probe_hostile_bytes,
    probe_ping_flood,
    probe_revoked,
)
from tests.server.conftest import HubProcess  # noqa: E402

# The run


Probe = Callable[[HubProcess, Scale], Awaitable[Result]]


async def guarded(number: int, name: str, run: Awaitable[Result], limit_s: float) -> Result:
    """A probe that raises or overruns fails with what it raised; the others go on."""
    try:
        return await asyncio.wait_for(run, limit_s)
    except Exception as exc:  # a probe that raises fails
        return Result(number, name, f"probe error: {type(exc).__name__}: {exc}"[:300], False)


async def run(scale: Scale, only: set[int]) -> list[Result]:
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="probe-hardening-") as tmp:
        hubs = Hubs(Path(tmp))
        began = time.monotonic()
        hubs.prepare()
        print(f"demo data seeded in {time.monotonic() - began:.1f} s", flush=True)

        def report(result: Result) -> None:
            results.append(result)
            print(result.line(), flush=True)

        async def on_own_hub(number: int, probe: Probe) -> Result:
            hub = hubs.fresh(f"probe{number}")
            try:
                return await probe(hub, scale)
            finally:
                hubs.stop(hub)

        try:
            if {1, 3, 4, 8, 9, 10} & only:
                hub = hubs.fresh("shared")
                export_probe = functools.partial(probe_log_export, workdir=Path(tmp))
                shared: dict[int, tuple[str, Probe]] = {  # in this order: 4 opens the vote
                    4: ("log export", export_probe),
                    3: ("hostile bytes", probe_hostile_bytes),
                    10: ("reused command id", probe_reused_id),
                    8: ("raw sitting.schedule", probe_schedule),
                    9: ("uploads and pages", probe_uploads),
                    1: ("revoked sessions", probe_revoked),
                }
                for number, (name, probe) in shared.items():
                    if number in only:
                        report(await guarded(number, name, probe(hub, scale), 60))
                hubs.stop(hub)
            alone: dict[int, tuple[str, Probe, float]] = {
                2: ("ping flood", probe_ping_flood, 90),
                6: ("chunked login body", probe_huge_login, 120),
                5: ("900 kB notes", probe_big_notes, 120),
                7: ("login limiter", probe_login_limiter, 120),
            }
            for number, (name, probe_of, limit_s) in alone.items():
                if number in only:
                    report(await guarded(number, name, on_own_hub(number, probe_of), limit_s))
        finally:
            hubs.stop_all()
    return sorted(results, key=lambda r: r.number)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller floods (under a minute)")
    parser.add_argument(
        "--only", type=int, nargs="+", default=list(range(1, 11)), help="probe numbers to run"
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    started = time.monotonic()
    try:
        results = asyncio.run(asyncio.wait_for(run(scale, set(args.only)), DEADLINE_S))
    except TimeoutError:
        print(f"the run overran its {DEADLINE_S} s: stopped", file=sys.stderr)
        return 1
    print()
    for result in results:
        print(result.line())
    failed = [r.number for r in results if not r.holds]
    print(
        f"\n{len(results) - len(failed)} of {len(results)} hold"
        + (f"; failing: {', '.join(map(str, failed))}" if failed else "")
        + f" ({time.monotonic() - started:.0f} s)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
