"""The vote storm at several scales, one hub per cell (run by `make bench`): delegates
100, 500 and 1,000 casting within one second, while 500, 2,000 and 5,000 gallery screens
watch. Each cell is `tests/load/vote_storm.py`'s storm against this checkout's hub (no
peers), pinned as there. Printed as tables of ack p99, the final tally after the last
ack, the result after the close, server CPU and the generator's CPU; a cell whose
generator passed 80 % of its core is marked INVALID (`!`), one that did not complete
(the generator or the hub gave up, or the screens did not all see the tally) `–`, with
the reason below the tables. (1,000 delegates do not fit one council: the registry holds
at most 500 members per council, so that row says so rather than guess.)
Written to artifacts/bench-storm-scale.json.

    python tests/load/storm_scale.py [--delegates 100,500,1000] [--screens 500,2000,5000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.registry import Conflict  # noqa: E402
from tests.load.generator import GENERATOR_LIMIT_PCT, GeneratorError  # noqa: E402
from tests.load.vote_storm import CLIENT_CORES, SERVER_CORES, storm  # noqa: E402

FIGURES = [
    ("ballot ack p99 (ms)", "ack_p99_ms"),
    ("final tally on every screen after the last ack (ms)", "final_tally_after_last_ack_ms"),
    ("result on every screen after the close (ms)", "result_on_every_screen_after_close_ms"),
    ("server CPU during the storm (s)", "cpu_s"),
    ("server RSS per connection (KB)", "rss_per_connection_kb"),
    ("generator CPU, go to last ack (% of its core)", "generator_storm_cpu_pct"),
]


def raise_fd_limit(want: int) -> int:
    """Each connection is a descriptor in the hub and one in the generator (inherited)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return max(soft, target)


def cell(args: argparse.Namespace, delegates: int, screens: int) -> dict[str, Any]:
    run = argparse.Namespace(**vars(args), delegates=delegates, screens=screens)
    try:
        result = storm(run)
    except (GeneratorError, OSError, RuntimeError, Conflict) as err:
        # Conflict: the registry's bound (a council of at most MEMBERS_MAX members).
        return {"delegates": delegates, "screens": screens, "error": f"{err!r}"[:200]}
    result.pop("ack_ms", None)
    fits = (
        result["screens_with_final_tally"] == screens
        and result.get("result_on_every_screen_after_close_ms") is not None
        and result["refused"] == 0
    )
    result["fits"] = fits
    result["valid"] = result["generator_storm_cpu_pct"] <= GENERATOR_LIMIT_PCT
    return result


def render(cells: dict[tuple[int, int], dict[str, Any]], ds: list[int], ss: list[int]) -> str:
    lines = []
    for label, key in FIGURES:
        lines.append(f"{label}: delegates ↓, screens →")
        lines.append(f"{'':>10}" + "".join(f"{s:>12,}" for s in ss))
        for d in ds:
            row = f"{d:>10,}"
            for s in ss:
                c = cells.get((d, s), {})
                value = c.get(key)
                if "error" in c or not c.get("fits", False) or value is None:
                    text = "–"
                else:
                    digits = 2 if key == "cpu_s" else 1
                    text = f"{value:.{digits}f}" + ("" if c["valid"] else "!")
                row += f"{text:>12}"
            lines.append(row)
        lines.append("")
    lines.append(
        f"! = INVALID (the generator passed {GENERATOR_LIMIT_PCT:.0f}% of its core);"
        " – = did not fit (no figures, or not every screen saw the tally and the result)"
    )
    for (d, s), c in sorted(cells.items()):
        if "error" in c:
            lines.append(f"  {d} × {s}: {c['error']}")
        elif not c.get("fits"):
            lines.append(
                f"  {d} × {s}: {c['screens_with_final_tally']} of {s} screens saw the final"
                f" tally, refused {c['refused']}"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delegates", default="100,500,1000")
    parser.add_argument("--screens", default="500,2000,5000")
    parser.add_argument("--nice", type=int, default=-10)
    parser.add_argument("--at-rest-n", type=int, default=20, help="commands at rest per cell")
    args = parser.parse_args()
    ds = [int(x) for x in args.delegates.split(",")]
    ss = [int(x) for x in args.screens.split(",")]
    del args.delegates, args.screens
    args.profile = None
    raise_fd_limit(2 * max(ss) + max(ds) + 1024)

    cells: dict[tuple[int, int], dict[str, Any]] = {}
    for d in ds:
        for s in ss:
            cells[(d, s)] = cell(args, d, s)
            c = cells[(d, s)]
            state = c.get("error") or f"ack p99 {c['ack_p99_ms']:.0f} ms"
            print(f"storm {d} × {s}: {state}", flush=True)
    print(
        f"vote storm at scale: the hub pinned to core(s) {SERVER_CORES}, the generator to"
        f" {CLIENT_CORES}; one cell after another, minutes apart (compare within a row)"
    )
    print(render(cells, ds, ss))
    Path("artifacts").mkdir(exist_ok=True)
    Path("artifacts/bench-storm-scale.json").write_text(
        json.dumps([{"cell": [d, s], **c} for (d, s), c in cells.items()], indent=2)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
