"""chamber: the pure domain core of Nghị trường.

No I/O, no clock, no randomness: the acting member, their role and the current time come
in with each command (``Ctx``); ids of new things derive from the log's seq.

    state = None
    step = execute(state, ScheduleSitting(...), Ctx(actor=None, role=Role.OPERATOR, now=t))
    state = step.state            # records in step.records, to be journalled
    replay(records) == state      # the log rebuilds the state
    verify(records).ok            # and proves it was not altered
"""

from chamber.commands import AnyCommand, Command, Ctx
from chamber.core import Step, command_name, decide, execute
from chamber.decisions import Decision
from chamber.errors import ChamberError, NotPermitted, Refused
from chamber.events import AnyEvent, Event, SecretBallot
from chamber.log import Record, Verification, export, replay, verify, verify_export
from chamber.model import Sitting

__all__ = [
    "AnyCommand",
    "AnyEvent",
    "ChamberError",
    "Command",
    "Ctx",
    "Decision",
    "Event",
    "NotPermitted",
    "Record",
    "Refused",
    "SecretBallot",
    "Sitting",
    "Step",
    "Verification",
    "command_name",
    "decide",
    "execute",
    "export",
    "replay",
    "verify",
    "verify_export",
]
