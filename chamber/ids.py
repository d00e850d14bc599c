"""Identifiers and the small enumerations of the domain.

Enum values are the strings clients see on the wire and in the journal.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

from chamber.limits import Id

# Each id is bounded (chamber/limits.py) wherever it is decoded.
SittingId = NewType("SittingId", Id)
CouncilId = NewType("CouncilId", Id)
MemberId = NewType("MemberId", Id)
ItemId = NewType("ItemId", Id)
RequestId = NewType("RequestId", Id)
TurnId = NewType("TurnId", Id)
RoundId = NewType("RoundId", Id)
MotionId = NewType("MotionId", Id)
VoteId = NewType("VoteId", Id)
DocHash = NewType("DocHash", Id)  # a SHA-256, 64 hex digits


class Role(StrEnum):
    """The capacity in which someone issues a command."""

    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    SECRETARY = "secretary"
    DELEGATE = "delegate"
    GUEST = "guest"
    OPERATOR = "operator"
    SYSTEM = "system"  # the hub itself: timers, presence that follows a connection


#: Roles a council member can hold on the roster.
MEMBER_ROLES = frozenset({Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY, Role.DELEGATE})
#: Roles that preside over the floor (the vice-chair presides in the chair's absence).
PRESIDING = frozenset({Role.CHAIR, Role.VICE_CHAIR})


class Phase(StrEnum):
    """Sitting lifecycle: scheduled → opened (khai mạc) → in session ⇄ suspended → closed."""

    SCHEDULED = "scheduled"
    OPENED = "opened"
    IN_SESSION = "in_session"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Presence(StrEnum):
    ABSENT = "absent"
    IN_HALL = "in_hall"
    REMOTE = "remote"
    LEFT = "left"
    EXCUSED = "excused"  # vắng có lý do


PRESENT = frozenset({Presence.IN_HALL, Presence.REMOTE})


class TurnKind(StrEnum):
    CONTRIBUTION = "contribution"  # thảo luận
    DEBATE_REPLY = "debate_reply"  # tranh luận
    QUESTION = "question"  # chất vấn
    ANSWER = "answer"  # trả lời chất vấn
    POINT_OF_ORDER = "point_of_order"
    EXPLANATION = "explanation"  # giải trình of the presenting body


class TurnStatus(StrEnum):
    SPEAKING = "speaking"
    PAUSED = "paused"


class VoteKind(StrEnum):
    MOTION = "motion"  # biểu quyết
    ELECTION = "election"  # bầu cử
    CONFIDENCE = "confidence"  # lấy phiếu tín nhiệm


class VoteForm(StrEnum):
    OPEN = "open"  # named: who voted how is part of the record
    SECRET = "secret"


class VoteStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Base(StrEnum):
    """What a threshold fraction is taken of."""

    TOTAL_SEATS = "total_seats"
    PRESENT = "present"
    CAST = "cast"


class Comparison(StrEnum):
    MORE_THAN = "more_than"  # quá
    AT_LEAST = "at_least"  # ít nhất


class Unreachable(StrEnum):
    """What opening a vote does when the members present cannot reach its threshold."""

    REFUSE = "refuse"
    WARN = "warn"


# Ballot options. Labels live in the i18n catalogue under "option.<code>".
APPROVE = "approve"  # tán thành
REJECT = "reject"  # không tán thành
ABSTAIN = "abstain"  # không biểu quyết
STRIKE = "strike"  # gạch tên (election)
HIGH = "high"  # tín nhiệm cao
CONFIDENT = "confident"  # tín nhiệm
LOW = "low"  # tín nhiệm thấp


class Occupied(StrEnum):
    """What giving the floor does to whoever is speaking: one speaker at a time, unless the
    chair says otherwise (``floor.occupied`` is refused without it)."""

    PAUSE = "pause"  # a point of order interrupts: the speaker is paused, resumed afterwards
    SECOND_MIC = "second_mic"  # both speak: a second microphone, opened deliberately


class Withdrawal(StrEnum):
    """Why a request for the floor left the queue without being granted."""

    MEMBER = "member"  # the member withdrew it
    CHAIR = "chair"  # the presiding officer withdrew it
    ITEM_CHANGED = "item_changed"  # the sitting moved to another agenda item
    ROUND_CLOSED = (
        "round_closed"  # a question left waiting when the answer began or the round closed
    )
