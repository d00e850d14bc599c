"""The core's error tree.

    ChamberError               anything the core refuses
    ├── NotPermitted           the role may not issue this command in this state
    └── Refused                the command is well-formed and permitted but the
                               sitting's state or rules refuse it (a vote after close,
                               a second ballot, an unreachable threshold, ...)

Every error carries a stable ``code`` (dotted, e.g. ``vote.closed``) and ``params`` for
the message catalogue; ``server/`` alone maps them to wire errors and words.
"""

from __future__ import annotations

from collections.abc import Mapping


class ChamberError(Exception):
    code: str = "chamber.error"

    def __init__(self, code: str, params: Mapping[str, str | int] | None = None) -> None:
        self.code = code
        self.params: dict[str, str | int] = dict(params or {})
        super().__init__(f"{code} {self.params}" if self.params else code)


class NotPermitted(ChamberError):
    """Raised for a command the acting role may not issue in the current state.

    The message names the command, the role and the state that refused it.
    """

    def __init__(self, command: str, role: str, state: str) -> None:
        super().__init__("permission.denied", {"command": command, "role": role, "state": state})
        self.command = command
        self.role = role
        self.state = state


class Refused(ChamberError):
    """The sitting's state or rules of procedure refuse a permitted command."""
