"""The login throttle: a growing wait after failed logins, never a lockout.

Three counts of failures, each with a few free failures and then a wait that doubles with
every further failure, up to a cap:

- per (username, address): the tightest. A delegate who mistypes is slowed only where
  they mistype; nobody elsewhere can make them wait by failing on their name.
- per address: one address spraying many usernames.
- per username, over every address: bounds guessing spread over many addresses. Its cap
  is short, so it slows the account's owner at worst; it never shuts them out.

A (username, address) pair that has logged in successfully (within ``known_ms``) counts
only against its own pair: a crowd failing on a name, or a neighbour on the hall's shared
address, cannot make the owner wait where they usually log in.

An attempt *reserves* its failure under one lock before the password is checked, and a
success gives it back: N attempts at once get no more checks than N in a row would. A
refused attempt changes nothing, so polling a closed gate does not push it further away.

Counts are forgotten ``forget_ms`` after their last failure (longer than every cap), and
each table holds at most ``max_keys`` keys (the least recently failing go first), so the
memory stays bounded whatever is sent. Times are wall-clock ms passed in by the caller;
a clock that steps back never makes a wait longer than the throttle's own step.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Throttle:
    """``free`` failures without a wait, then ``base_ms``, doubling per failure, at most
    ``cap_ms``."""

    free: int
    base_ms: int
    cap_ms: int

    def wait_ms(self, failures: int) -> int:
        if failures < self.free:
            return 0
        return min(self.cap_ms, self.base_ms << min(failures - self.free, 32))


@dataclass(slots=True)
class _Count:
    failures: int
    last: int


class _Table:
    """Failure counts per key, least recently failing first."""

    def __init__(self, throttle: Throttle, forget_ms: int, max_keys: int) -> None:
        self.throttle, self.forget_ms, self.max_keys = throttle, forget_ms, max_keys
        self.counts: dict[Hashable, _Count] = {}

    def wait_ms(self, key: Hashable, now: int) -> int:
        count = self.counts.get(key)
        if count is None:
            return 0
        step = self.throttle.wait_ms(count.failures)
        return max(0, min(step, count.last + step - now))

    def add(self, key: Hashable, now: int) -> None:
        count = self.counts.pop(key, None) or _Count(0, now)
        count.failures += 1
        count.last = max(count.last, now)
        self.counts[key] = count  # to the end: the order is by last failure
        while len(self.counts) > self.max_keys:
            del self.counts[next(iter(self.counts))]

    def refund(self, key: Hashable) -> None:
        count = self.counts.get(key)
        if count is not None:
            count.failures -= 1
            if count.failures <= 0:
                del self.counts[key]

    def clear(self, key: Hashable) -> None:
        self.counts.pop(key, None)

    def prune(self, now: int) -> None:
        while self.counts:
            key = next(iter(self.counts))
            if now - self.counts[key].last < self.forget_ms:
                return
            del self.counts[key]


@dataclass(frozen=True, slots=True)
class Ticket:
    """A reserved attempt: settle it with ``succeeded`` or ``cancelled``; a failure keeps it."""

    username: str
    address: str
    known: bool


def address_key(address: str) -> str:
    """IPv4 addresses as they are; IPv6 by their /64 (one subscriber's usual share)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return _bounded(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _bounded(text: str) -> str:
    """A key of bounded size: long strings (no real username is) by their digest."""
    return text if len(text) <= 64 else "#" + hashlib.sha256(text.encode()).hexdigest()


MINUTE = 60_000


@dataclass
class LoginLimiter:
    pair: Throttle = Throttle(free=3, base_ms=1000, cap_ms=15 * MINUTE)
    address: Throttle = Throttle(free=20, base_ms=1000, cap_ms=1 * MINUTE)
    username: Throttle = Throttle(free=10, base_ms=1000, cap_ms=1 * MINUTE)
    forget_ms: int = 60 * MINUTE
    known_ms: int = 30 * 24 * 60 * MINUTE
    max_keys: int = 100_000
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._pairs = _Table(self.pair, self.forget_ms, self.max_keys)
        self._addresses = _Table(self.address, self.forget_ms, self.max_keys)
        self._usernames = _Table(self.username, self.forget_ms, self.max_keys)
        self._known: dict[tuple[str, str], int] = {}  # pair -> last success, oldest first

    def reserve(self, username: str, address: str, now: int) -> Ticket | int:
        """A ticket to check one password, or the ms to wait before trying again."""
        name, place = _bounded(username), address_key(address)
        pair = (name, place)
        with self._lock:
            self._prune(now)
            known = pair in self._known
            wait = self._pairs.wait_ms(pair, now)
            if not known:
                wait = max(
                    wait, self._addresses.wait_ms(place, now), self._usernames.wait_ms(name, now)
                )
            if wait > 0:
                return wait
            self._pairs.add(pair, now)
            if not known:
                self._addresses.add(place, now)
                self._usernames.add(name, now)
        return Ticket(name, place, known)

    def succeeded(self, ticket: Ticket, now: int) -> None:
        """The password was right: the pair starts afresh and is known from now on."""
        pair = (ticket.username, ticket.address)
        with self._lock:
            self._pairs.clear(pair)
            if not ticket.known:
                self._addresses.refund(ticket.address)
                self._usernames.refund(ticket.username)
            self._known.pop(pair, None)
            self._known[pair] = now
            while len(self._known) > self.max_keys:
                del self._known[next(iter(self._known))]

    def cancelled(self, ticket: Ticket) -> None:
        """No password was checked after all (an internal error): give the attempt back."""
        with self._lock:
            self._pairs.refund((ticket.username, ticket.address))
            if not ticket.known:
                self._addresses.refund(ticket.address)
                self._usernames.refund(ticket.username)

    def prune(self, now: int) -> None:
        with self._lock:
            self._prune(now)

    def _prune(self, now: int) -> None:
        for table in (self._pairs, self._addresses, self._usernames):
            table.prune(now)
        while self._known:
            pair = next(iter(self._known))
            if now - self._known[pair] < self.known_ms:
                break
            del self._known[pair]

    def sizes(self) -> tuple[int, int, int, int]:
        """Keys held: pairs, addresses, usernames, known pairs (for tests and metrics)."""
        with self._lock:
            return (
                len(self._pairs.counts),
                len(self._addresses.counts),
                len(self._usernames.counts),
                len(self._known),
            )
