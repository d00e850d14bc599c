"""Prometheus metrics, in a registry of the app's own (tests run several apps)."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Fine buckets, 0.1 ms to 2.5 s: a p99 of 10 ms and one of 15 ms are told apart.
FINE = (
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075,
    0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5,
)  # fmt: skip

#: A command's way through the hub, in stages (docs/performance.md).
STAGES = ("read", "queue", "decide", "journal", "send", "total")


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
            buckets=FINE,
            registry=r,
        )
        stages = Histogram(
            "nghitruong_ack_stage_seconds",
            "A command's way from its bytes read to its answer written, by stage: read (bytes"
            " read to command handed to the sequencer), queue (to its batch being decided),"
            " decide (the batch's deciding), journal (the batch's durable write), send (answer"
            " queued to written to the socket), total (bytes read to answer written)",
            ["stage"],
            buckets=FINE,
            registry=r,
        )
        self.stage = {name: stages.labels(stage=name) for name in STAGES}
        self.loop_lag = Histogram(
            "nghitruong_loop_lag_seconds",
            "How late the event loop ran a timer due every 10 ms",
            buckets=FINE,
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

    def batch_stages(
        self, received: list[float], picked: float, decided: float, durable: float
    ) -> None:
        """A batch's commands: how long each waited for it, and what the batch took."""
        queue, decide, journal = self.stage["queue"], self.stage["decide"], self.stage["journal"]
        for at in received:
            queue.observe(picked - at)
            decide.observe(decided - picked)
            journal.observe(durable - decided)

    def written(self, since: float, queued: float, now: float) -> None:
        """A command's answer was written to its socket."""
        self.stage["send"].observe(now - queued)
        self.stage["total"].observe(now - since)


class LagMonitor:
    """Event-loop lag: a timer due every `interval` seconds, and how late it runs."""

    def __init__(self, histogram: Histogram, interval: float = 0.01) -> None:
        self.histogram, self.interval = histogram, interval
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0

    def start(self) -> None:
        self._schedule(asyncio.get_running_loop())

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = loop.time() + self.interval
        self._handle = loop.call_at(self._due, self._fire, loop)

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self.histogram.observe(max(0.0, loop.time() - self._due))
        self._schedule(loop)
