"""Rate limits: token buckets per connection (every frame) and per principal (commands,
over the socket and over HTTP alike)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Bucket:
    """``rate`` tokens a second with a burst of two seconds' worth."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.capacity, self.clock = rate, 2 * rate, clock
        self.tokens, self.at = self.capacity, clock()
        # Refused since the bucket was last whole: only a pause long enough to refill it
        # forgives them, so a sender that keeps above the rate is a flood even though a
        # frame of its gets through now and then (a loaded hub reads slower, and each
        # read finds a token or two).
        self.refusals = 0

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= self.capacity:
            self.refusals = 0
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refusals += 1
        return False

    def full(self) -> bool:
        """Whether a refill has made it whole again (it can then be forgotten)."""
        return self.tokens + (self.clock() - self.at) * self.rate >= self.capacity

    def flooding(self) -> bool:
        """Refused more than four bursts' worth with no pause that refilled the bucket:
        close the connection."""
        return self.refusals > 4 * self.capacity


class Buckets:
    """One bucket per key (a principal), shared by every connection and request of it.
    Full buckets are forgotten once there are many, so memory follows the active keys."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, keep: int = 4096
    ) -> None:
        self.rate, self.clock, self.keep = rate, clock, keep
        self._buckets: dict[str, Bucket] = {}

    def take(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.keep:
                self._prune()
            bucket = self._buckets[key] = Bucket(self.rate, self.clock)
        return bucket.take()

    def _prune(self) -> None:
        for key in [k for k, b in self._buckets.items() if b.full()]:
            del self._buckets[key]
