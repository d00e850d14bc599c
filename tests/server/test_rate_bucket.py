"""The per-connection frame bucket (server/limits.py): when a flood closes a connection."""

from __future__ import annotations

from server.limits import Bucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_sender_above_the_rate_is_a_flood_though_some_frames_get_through() -> None:
    """Before: any frame let through forgave the refusals, so a hub read slowly (loaded)
    found a token at most reads and a never-ending flood at twice the rate went on."""
    clock = Clock()
    bucket = Bucket(40.0, clock)
    passed = refused = 0
    for _ in range(10_000):
        clock.now += 1 / 80  # twice the rate, without a pause
        if bucket.take():
            passed += 1
        else:
            refused += 1
        if bucket.flooding():
            break
    assert bucket.flooding()
    assert passed > 100 and refused > 4 * bucket.capacity  # it was let through at times


def test_bursts_with_pauses_are_never_a_flood() -> None:
    clock = Clock()
    bucket = Bucket(40.0, clock)
    for _ in range(50):
        for _ in range(200):  # a burst of 200 at once: most refused
            bucket.take()
        assert not bucket.flooding()
        clock.now += 2.5  # a pause that refills the bucket
        assert bucket.take()
        assert bucket.refusals == 0
