"""Prometheus metrics, in a registry of the app's own (tests run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge(
            "nghitruong_connections", "Open WebSocket connections", ["audience"], registry=r
        )
        self.commands = Counter(
            "nghitruong_commands_total", "Commands answered", ["type", "outcome"], registry=r
        )
        self.latency = Histogram(
            "nghitruong_command_seconds",
            "From receiving a command to its answer",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.events = Counter("nghitruong_events_total", "Events appended", registry=r)
        self.batch = Histogram(
            "nghitruong_batch_commands",
            "Commands per group commit",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.queue_max = Gauge(
            "nghitruong_fanout_queue_max", "Longest outbound queue of any connection", registry=r
        )
        self.queue_sum = Gauge(
            "nghitruong_fanout_queue_sum", "Frames waiting in all outbound queues", registry=r
        )
