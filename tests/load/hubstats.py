"""What the hub says of itself in /metrics, read before and after a storm."""

from __future__ import annotations

from typing import Any

import httpx

Buckets = dict[str, dict[float, float]]


def scrape(url: str) -> Buckets:
    """The hub's cumulative histogram buckets from /metrics, by metric name."""
    out: Buckets = {}
    for line in httpx.get(url + "/metrics", timeout=30).text.splitlines():
        if "_bucket{" not in line or line.startswith("#"):
            continue
        name, rest = line.split("_bucket{", 1)
        bound = rest.split('le="', 1)[1].split('"', 1)[0]
        out.setdefault(name, {})[float(bound)] = float(line.rsplit(" ", 1)[1])
    return out


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding quantile q of what was observed in between."""
    bounds = sorted(after)
    total = after[bounds[-1]] - before.get(bounds[-1], 0)
    for bound in bounds:
        if after[bound] - before.get(bound, 0) >= q * total:
            return bound
    return float("inf")


def hub_figures(before: Buckets, after: Buckets) -> dict[str, Any]:
    """Quantiles (bucket upper bounds, in ms) of what the hub observed during the storm."""
    out: dict[str, Any] = {}
    lat0, lat1 = before["nghitruong_command_seconds"], after["nghitruong_command_seconds"]
    out["hub_side_ack_p50_ms_at_most"] = 1000 * bucket_quantile(lat0, lat1, 0.5)
    out["hub_side_ack_p99_ms_at_most"] = 1000 * bucket_quantile(lat0, lat1, 0.99)
    b0, b1 = before["nghitruong_batch_commands"], after["nghitruong_batch_commands"]
    out["group_commit_batch_p50_at_most"] = bucket_quantile(b0, b1, 0.5)
    return out
