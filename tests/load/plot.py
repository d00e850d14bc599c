"""The vote storm's ack latency distributions as a PNG (matplotlib, the standard plotting
library; the `bench` extra): one cumulative curve per server of the run, on a log axis,
so that p50 and the tail of the hub and its peers read side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.load.generator import GENERATOR_LIMIT_PCT


def latency_plot(columns: dict[str, dict[str, Any]], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt
    import numpy as np

    fig, (cdf, hist) = plt.subplots(1, 2, figsize=(12, 4.5))
    every = [max(v, 0.01) for col in columns.values() for v in col.get("ack_ms") or []]
    bins = np.logspace(np.log10(min(every, default=0.1)), np.log10(max(every, default=1)), 40)
    for name, col in columns.items():
        lat = sorted(col.get("ack_ms") or [])
        if not lat:
            continue
        gen = col.get("generator_storm_cpu_pct", 0.0)
        mark = "" if gen <= GENERATOR_LIMIT_PCT else ", INVALID"
        p50, p99 = lat[len(lat) // 2], lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        label = f"{name}: p50 {p50:.0f} ms, p99 {p99:.0f} ms (generator {gen:.0f}%{mark})"
        ys = [(i + 1) / len(lat) for i in range(len(lat))]
        cdf.step([max(v, 0.01) for v in lat], ys, where="post", label=label)
        hist.hist([max(v, 0.01) for v in lat], bins=bins, histtype="step", label=name)
    cdf.set_xscale("log")
    cdf.set_xlabel("ballot ack latency at the client (ms, log)")
    cdf.set_ylabel("share of ballots acknowledged")
    cdf.grid(True, which="both", alpha=0.3)
    cdf.legend(fontsize=7, loc="lower right")
    hist.set_xscale("log")
    hist.set_xlabel("ballot ack latency at the client (ms, log bins)")
    hist.set_ylabel("ballots")
    hist.legend(fontsize=8)
    first = next(iter(columns.values()), {})
    fig.suptitle(
        f"vote storm: {first.get('delegates')} delegates within 1 s,"
        f" {first.get('screens')} screens (one run, one machine)"
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
