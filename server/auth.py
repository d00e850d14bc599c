"""Logins, sessions and the limits on guessing.

Passwords are hashed with Argon2id (argon2-cffi, the reference implementation's binding)
and re-hashed when the parameters change. A session token is 32 random bytes shown once to
the client; only its SHA-256 is stored. Failed logins are throttled (server/throttle.py)
per (username, address), per address and per username, with a wait that grows instead of
a lockout; the clock is passed in, so the throttle is tested without sleeping. Sessions
past their expiry are deleted by ``Auth.sweep``, which the app runs periodically.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.registry import LoginRow, Registry, SessionRow
from server.throttle import LoginLimiter, Ticket

# Hashing cost: argon2-cffi's RFC 9106 "low memory" profile (64 MiB, 3 passes).
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("timing-equaliser")
PURGE_AFTER_MS = 60_000  # a session's row is deleted this long after its expiry


class AuthError(Exception):
    code = "auth.error"


class LoginFailed(AuthError):
    code = "auth.login_failed"


class Inactive(LoginFailed):
    """The right password of a member the operator deactivated: no session."""

    code = "auth.inactive"


class RateLimited(AuthError):
    code = "auth.rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a session token speaks for."""

    kind: str  # "operator", "member" or "room" (a linked hall's computer)
    id: str
    council: str | None
    username: str


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    principal: Principal
    expires: int


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches a stored hash (no rate limit: for local tools only)."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password(length: int = 12) -> str:
    """A password for a printed login card: 12 characters without look-alikes by default
    (about 59 bits; 20 give about 99)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class Auth:
    registry: Registry
    session_ttl_ms: int = 12 * 3600 * 1000
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    #: Called after a session is revoked here, before the revoking call returns.
    on_revoke: list[Callable[[], object]] = field(default_factory=list)

    def set_password(
        self, username: str, password: str, kind: str, subject: str, council: str | None
    ) -> None:
        self.registry.set_login(LoginRow(username, hash_password(password), kind, subject, council))

    def login(self, username: str, password: str, address: str, now: int) -> Session:
        """A new session, or LoginFailed, or RateLimited (no password checked) while the
        throttle of server/throttle.py makes this username or address wait."""
        ticket = self.limiter.reserve(username, address, now)
        if not isinstance(ticket, Ticket):
            raise RateLimited(max(1, -(-ticket // 1000)))
        try:
            session = self._check(username, password, now)
        except LoginFailed:
            raise  # the reserved failure stands
        except BaseException:
            self.limiter.cancelled(ticket)
            raise
        self.limiter.succeeded(ticket, now)
        return session

    def _check(self, username: str, password: str, now: int) -> Session:
        row = self.registry.login(username)
        try:
            _hasher.verify(row.hash if row else _DUMMY, password)
            if row is None:
                raise VerificationError("unknown user")
        except (VerificationError, InvalidHashError) as exc:
            raise LoginFailed("wrong username or password") from exc
        if row.kind == "member" and not self.registry.member(row.subject).active:
            raise Inactive("the member is deactivated")
        if _hasher.check_needs_rehash(row.hash):
            self.registry.update_hash(username, hash_password(password))
        token = secrets.token_urlsafe(32)
        expires = now + self.session_ttl_ms
        self.registry.add_session(
            SessionRow(
                token_hash(token), username, row.kind, row.subject, row.council, now, expires, False
            )
        )
        return Session(token, Principal(row.kind, row.subject, row.council, username), expires)

    def sweep(self, now: int) -> int:
        """Delete sessions a minute past their expiry (revoked or not) and forget stale
        throttle counts; returns the number of sessions deleted. The minute lets whoever
        follows open connections see a session expire before its row is gone."""
        self.limiter.prune(now)
        return self.registry.purge_sessions(now - PURGE_AFTER_MS)

    def resolve(self, token: str, now: int) -> Principal | None:
        """The principal of a live session, or None (unknown, expired, revoked)."""
        if not token:
            return None
        row = self.registry.session(token_hash(token))
        if row is None or row.revoked or row.expires <= now:
            return None
        return Principal(row.kind, row.subject, row.council, row.username)

    def revoke(self, token: str) -> None:
        self.registry.revoke_session(token_hash(token))
        self._revoked()

    def _revoked(self) -> None:
        """Tell whoever follows open connections (server/sessions.py) before returning."""
        for hook in self.on_revoke:
            hook()

    def end_sessions(self, kind: str, subject: str) -> None:
        """End every session of a member or a room, and their open connections, before
        returning (a member deleted, a login reset)."""
        self.registry.revoke_subject(kind, subject)
        self._revoked()

    def issue_member_login(self, member_id: str, council: str, username: str) -> str:
        """Create or reset a member's login; returns the new password, shown once."""
        return self.issue_login("member", member_id, council, username)

    def issue_login(self, kind: str, subject: str, council: str, username: str) -> str:
        """Create or reset the login of a member or a room (a linked hall's computer);
        returns the new password, shown once, and ends the subject's open sessions."""
        password = new_password()
        self.set_password(username, password, kind, subject, council)
        self.end_sessions(kind, subject)
        return password
