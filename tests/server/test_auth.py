"""Logins, password hashing, sessions and rate limits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from server.auth import Auth, LoginFailed, RateLimited, token_hash
from server.config import proxies
from server.registry import (
    Conflict,
    CouncilRow,
    MemberRow,
    NotFound,
    Registry,
    SessionRow,
    SittingRow,
)
from server.throttle import LoginLimiter, Throttle, Ticket, address_key

T = 1_766_000_000_000


@pytest.fixture
def auth(tmp_path: Path) -> Auth:
    reg = Registry(tmp_path)
    reg.add_council(CouncilRow("c1", "HĐND phường Bến Thành", 30))
    reg.add_member(MemberRow("m1", "c1", "Nguyễn Văn An", "1-01", ("chair", "delegate")))
    return Auth(reg)


def test_a_password_is_stored_hashed_and_verified(auth: Auth, tmp_path: Path) -> None:
    password = auth.issue_member_login("m1", "c1", "an.nguyen")
    row = auth.registry.login("an.nguyen")
    assert row is not None and row.hash.startswith("$argon2id$") and password not in row.hash
    session = auth.login("an.nguyen", password, "127.0.0.1", T)
    assert session.principal.id == "m1" and session.principal.kind == "member"
    with pytest.raises(LoginFailed):
        auth.login("an.nguyen", password + "x", "127.0.0.1", T)
    with pytest.raises(LoginFailed):
        auth.login("nobody", password, "127.0.0.1", T)
    assert password.encode() not in (tmp_path / "registry.sqlite3").read_bytes()


def test_tokens_expire_are_revoked_and_are_stored_only_hashed(auth: Auth, tmp_path: Path) -> None:
    password = auth.issue_member_login("m1", "c1", "an.nguyen")
    session = auth.login("an.nguyen", password, "a", T)
    assert auth.resolve(session.token, T + 1) is not None
    assert auth.resolve(session.token, session.expires) is None
    assert auth.resolve("forged", T) is None and auth.resolve("", T) is None
    db = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert session.token.encode() not in db
    assert token_hash(session.token).encode() in db
    auth.revoke(session.token)
    assert auth.resolve(session.token, T + 1) is None
    again = auth.login("an.nguyen", password, "a", T)
    auth.issue_member_login("m1", "c1", "an.nguyen")  # a reset revokes the member's sessions
    assert auth.resolve(again.token, T + 1) is None


def test_registry_rows_and_errors(auth: Auth) -> None:
    reg = auth.registry
    assert [c.name for c in reg.councils()] == ["HĐND phường Bến Thành"]
    assert reg.members("c1")[0].roles == ("chair", "delegate")
    with pytest.raises(Conflict):
        reg.add_council(CouncilRow("c1", "x", 1))
    with pytest.raises(NotFound):
        reg.add_member(MemberRow("m2", "nope", "x"))
    with pytest.raises(NotFound):
        reg.member("m9")
    reg.add_sitting(SittingRow("s1", "c1", "Kỳ họp", T))
    assert reg.sitting("s1").title == "Kỳ họp" and reg.sittings("c1")[0].id == "s1"
    auth.set_password("op", "secret-op", "operator", "op", None)
    with pytest.raises(Conflict):
        auth.set_password("op", "x", "member", "m1", "c1")  # a taken username


def attempt(auth: Auth, username: str, password: str, address: str, now: int) -> str:
    """ "ok", "failed" (a password was checked) or "wait N" (none was)."""
    try:
        auth.login(username, password, address, now)
    except LoginFailed:
        return "failed"
    except RateLimited as limited:
        return f"wait {limited.retry_after_s}"
    return "ok"


def test_failures_on_one_address_wait_longer_each_time_up_to_a_cap(auth: Auth) -> None:
    password = auth.issue_member_login("m1", "c1", "an.nguyen")
    now, waits = T, []
    for _ in range(3):  # three free failures
        assert attempt(auth, "an.nguyen", "wrong", "10.0.0.1", now) == "failed"
    for _ in range(14):
        outcome = attempt(auth, "an.nguyen", "wrong", "10.0.0.1", now)
        assert outcome.startswith("wait ")
        waits.append(int(outcome[5:]))
        # Even the right password is not checked before the wait is over, and a refused
        # attempt does not move the gate.
        assert attempt(auth, "an.nguyen", password, "10.0.0.1", now + waits[-1] * 1000 - 1) == (
            "wait 1"
        )
        now += waits[-1] * 1000
        assert attempt(auth, "an.nguyen", "wrong", "10.0.0.1", now) == "failed"
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
    now += 900_000
    assert attempt(auth, "an.nguyen", password, "10.0.0.1", now) == "ok"
    assert attempt(auth, "an.nguyen", "wrong", "10.0.0.1", now) == "failed"  # afresh


def test_nobody_can_lock_a_delegate_out_from_elsewhere(auth: Auth) -> None:
    """Before: 5 wrong passwords from anywhere shut the owner out for 5 minutes."""
    password = auth.issue_member_login("m1", "c1", "an.nguyen")
    assert attempt(auth, "an.nguyen", password, "10.0.0.7", T) == "ok"  # the owner's tablet
    outcomes = [attempt(auth, "an.nguyen", "x", f"198.51.100.{i % 40}", T) for i in range(200)]
    assert outcomes.count("failed") == 10  # the username's budget over every address
    assert attempt(auth, "an.nguyen", password, "10.0.0.7", T + 1) == "ok"
    assert attempt(auth, "an.nguyen", password, "192.0.2.1", T + 1) == "wait 1"  # a new place
    assert attempt(auth, "an.nguyen", password, "192.0.2.1", T + 1000) == "ok"
    now = T + 1000
    for i in range(6):  # a slow attack from ever new addresses: the name's wait reaches its cap
        now += 60_000
        assert attempt(auth, "an.nguyen", "x", f"203.0.113.{i}", now) == "failed"
    assert attempt(auth, "an.nguyen", password, "192.0.2.2", now) == "wait 60"  # the cap
    assert attempt(auth, "an.nguyen", password, "192.0.2.2", now + 60_000) == "ok"
    assert attempt(auth, "an.nguyen", password, "10.0.0.7", now) == "ok"  # never slowed


def test_one_address_spraying_usernames_is_slowed(auth: Auth) -> None:
    outcomes = [attempt(auth, f"user{i}", "x", "10.9.9.9", T) for i in range(30)]
    assert outcomes == ["failed"] * 20 + ["wait 1"] * 10
    assert attempt(auth, "user99", "x", "10.9.9.10", T) == "failed"  # another address
    assert attempt(auth, "user99", "x", "10.9.9.9", T + 1000) == "failed"
    assert attempt(auth, "user98", "x", "10.9.9.9", T + 1000) == "wait 2"


def test_concurrent_attempts_get_no_more_checks_than_attempts_in_a_row(tmp_path: Path) -> None:
    """Before: the limit was read before the check and written after it, so 40 wrong
    passwords at once got 10 checks where 5 in a row were allowed."""

    def run(folder: Path, together: bool) -> list[str]:
        auth = Auth(Registry(folder))
        auth.set_password("op", "a-good-password", "operator", "op", None)
        if not together:
            return [attempt(auth, "op", "wrong", "10.0.0.1", T) for _ in range(40)]
        outcomes: list[str] = []
        start = threading.Barrier(40)

        def one() -> None:
            start.wait()
            outcomes.append(attempt(auth, "op", "wrong", "10.0.0.1", T))

        threads = [threading.Thread(target=one) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    in_a_row = run(tmp_path / "a", together=False)
    at_once = run(tmp_path / "b", together=True)
    assert at_once.count("failed") == in_a_row.count("failed") == 3
    assert len(at_once) == 40


def test_a_reservation_is_taken_before_the_check_and_given_back_on_success() -> None:
    limiter = LoginLimiter()
    held = [limiter.reserve("u", "10.0.0.1", T) for _ in range(3)]
    assert all(isinstance(ticket, Ticket) for ticket in held)
    assert limiter.reserve("u", "10.0.0.1", T) == 1000  # three checks still running
    first = held[0]
    assert isinstance(first, Ticket)
    limiter.cancelled(first)  # an internal error: no password was checked
    again = limiter.reserve("u", "10.0.0.1", T)
    assert isinstance(again, Ticket)
    limiter.succeeded(again, T)
    assert isinstance(limiter.reserve("u", "10.0.0.1", T), Ticket)


def test_the_limiter_forgets_and_stays_bounded() -> None:
    limiter = LoginLimiter(forget_ms=60_000 * 60, max_keys=50)
    for i in range(500):
        assert isinstance(limiter.reserve(f"u{i}", f"10.0.{i // 250}.{i % 250}", T), Ticket)
    assert limiter.sizes() == (50, 50, 50, 0)
    limiter.prune(T + 3_600_000)
    assert limiter.sizes() == (0, 0, 0, 0)
    limiter.reserve("u", "10.0.0.1", T)
    assert limiter.reserve("v", "10.0.0.2", T + 3_600_000) and limiter.sizes()[0] == 1


def test_a_clock_stepping_back_never_lengthens_a_wait() -> None:
    limiter = LoginLimiter(pair=Throttle(free=1, base_ms=1000, cap_ms=8000))
    assert isinstance(limiter.reserve("u", "a", T), Ticket)
    assert limiter.reserve("u", "a", T - 3_600_000) == 1000


def test_ipv6_addresses_count_by_their_64_prefix() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:10.0.0.1") == address_key("10.0.0.1") == "10.0.0.1"
    assert len(address_key("x" * 10_000)) < 80


def test_expired_sessions_are_purged(auth: Auth) -> None:
    reg = auth.registry
    for name, expires, revoked in (("old", T, False), ("gone", T, True), ("live", T + 1, True)):
        reg.add_session(SessionRow(name, "u", "member", "m1", "c1", T - 10, expires, revoked))
    password = auth.issue_member_login("m1", "c1", "an.nguyen")
    fresh = auth.login("an.nguyen", password, "a", T)
    assert auth.sweep(T) == 0  # a minute's grace: an open socket learns it *expired*
    assert auth.sweep(T + 60_000) == 2
    assert reg.session("old") is None and reg.session("gone") is None
    assert reg.session("live") is not None and auth.resolve(fresh.token, T) is not None
    assert auth.sweep(T + 60_000) == 0


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert proxies("") == [] and proxies(" ") == []
    assert proxies("127.0.0.1, 10.0.0.0/8,::1") == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    for bad in ("*", "localhost", "10.0.0.1,proxy"):
        with pytest.raises(ValueError):
            proxies(bad)
