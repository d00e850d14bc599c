"""What the hub says of itself in /metrics, read before and after a storm."""

from __future__ import annotations

from typing import Any

import httpx

Buckets = dict[str, dict[float, float]]


STAGES = ("read", "queue", "decide", "journal", "send", "total")


def scrape(url: str) -> Buckets:
    """The hub's cumulative histogram buckets from /metrics, by metric name (and, for the
    ack stages, `name:stage`)."""
    out: Buckets = {}
    for line in httpx.get(url + "/metrics", timeout=30).text.splitlines():
        if "_bucket{" not in line or line.startswith("#"):
            continue
        name, rest = line.split("_bucket{", 1)
        labels = dict(
            part.split("=", 1) for part in rest.split("}", 1)[0].split(",") if "=" in part
        )
        bound = float(labels.pop("le").strip('"'))
        if "stage" in labels:
            name += ":" + labels["stage"].strip('"')
        out.setdefault(name, {})[bound] = float(line.rsplit(" ", 1)[1])
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
    for stage in STAGES:
        key = "nghitruong_ack_stage_seconds:" + stage
        if key in after:
            for q in (50, 99):
                out[f"hub_{stage}_p{q}_ms"] = 1000 * bucket_quantile(
                    before.get(key, {}), after[key], q / 100
                )
    lag0, lag1 = before.get("nghitruong_loop_lag_seconds", {}), after["nghitruong_loop_lag_seconds"]
    for q in (50, 99, 100):
        out[f"hub_loop_lag_p{q}_ms"] = 1000 * bucket_quantile(lag0, lag1, q / 100)
    return out


def stage_table(hub: dict[str, Any]) -> str:
    """The hub's stages of a ballot's way, p50 and p99 (bucket upper bounds)."""
    lines = [f"{'at the hub (≤ bucket bound, ms)':34}{'p50':>8}{'p99':>8}"]
    for stage in STAGES:
        if f"hub_{stage}_p50_ms" in hub:
            p50, p99 = hub[f"hub_{stage}_p50_ms"], hub[f"hub_{stage}_p99_ms"]
            lines.append(f"  {stage:32}{p50:8.2f}{p99:8.2f}")
    lag = [hub.get(f"hub_loop_lag_p{q}_ms") for q in (50, 99, 100)]
    if None not in lag:
        lines.append(
            f"  event-loop lag (10 ms timer)    {lag[0]:8.2f}{lag[1]:8.2f}   max ≤ {lag[2]:.1f}"
        )
    return "\n".join(lines)
