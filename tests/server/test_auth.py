"""Logins, password hashing, sessions and rate limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.auth import Auth, LoginFailed, RateLimited, RateLimiter, token_hash
from server.registry import Conflict, CouncilRow, MemberRow, NotFound, Registry, SittingRow

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


def test_failed_logins_are_limited_per_username_and_address(auth: Auth) -> None:
    password = auth.issue_member_login("m1", "c1", "an.nguyen")
    for _ in range(5):
        with pytest.raises(LoginFailed):
            auth.login("an.nguyen", "wrong", "10.0.0.1", T)
    with pytest.raises(RateLimited) as caught:
        auth.login("an.nguyen", password, "10.0.0.2", T + 1000)
    assert caught.value.retry_after_s == 299
    assert auth.login("an.nguyen", password, "10.0.0.2", T + 300_000).principal.id == "m1"


def test_the_limiter_forgets_old_failures() -> None:
    lim = RateLimiter(2, 1000)
    lim.fail("k", 0)
    lim.fail("k", 500)
    assert lim.retry_after_ms("k", 600) == 400
    assert lim.retry_after_ms("k", 1000) == 0
    assert lim.retry_after_ms("other", 0) == 0


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
