"""Deciders for the sitting's lifecycle, agenda, roster, attendance, documents, motions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from chamber import commands as c
from chamber import events as e
from chamber.commands import Ctx
from chamber.decisions import NOTHING, Decision, new_id, subject
from chamber.errors import Refused
from chamber.ids import (
    PRESENT,
    DocHash,
    ItemId,
    MemberId,
    MotionId,
    Phase,
    Presence,
    TurnStatus,
    VoteStatus,
    Withdrawal,
)
from chamber.limits import AGENDA_MAX, GUESTS_MAX
from chamber.model import AgendaItem, Document, Motion, Sitting
from chamber.rules import DEFAULT_RULES


def schedule(state: Sitting | None, cmd: c.ScheduleSitting, ctx: Ctx) -> Decision:
    if state is not None:
        raise Refused("sitting.exists", {"sitting": state.id})
    council = cmd.council
    ids = [m.id for m in council.members]
    if len(set(ids)) != len(ids):
        raise Refused("council.duplicate_member")
    if council.total_seats < len(ids) or council.total_seats <= 0:
        raise Refused("council.bad_seats", {"members": len(ids), "seats": council.total_seats})
    item_ids = [i.id for i in cmd.agenda]
    if len(set(item_ids)) != len(item_ids):
        raise Refused("agenda.duplicate_item")
    rules = cmd.rules or DEFAULT_RULES
    # The journal stores an event's maps in key order (the canonical bytes): the live state
    # takes the presets in that order too, so a replayed state is the live one, order and
    # all (a console lists them in the order it gets them).
    rules = msgspec.structs.replace(rules, presets=dict(sorted(rules.presets.items())))
    return Decision(
        (
            e.SittingScheduled(
                sitting=cmd.sitting,
                council=council,
                title=cmd.title,
                scheduled_at=cmd.scheduled_at,
                rules=rules,
                agenda=cmd.agenda,
            ),
        )
    )


def open_sitting(s: Sitting, cmd: c.OpenSitting, ctx: Ctx) -> Decision:
    # "Kỳ họp Hội đồng nhân dân được tiến hành khi có ít nhất hai phần ba tổng số đại biểu
    # Hội đồng nhân dân tham gia."
    if s.rules.quorum_to_open and not s.quorate():
        raise Refused("quorum.not_met", {"present": s.present_count(), "needed": s.quorum_needed()})
    return Decision((e.PhaseChanged(phase=Phase.OPENED),))


def start_sitting(s: Sitting, cmd: c.StartSitting, ctx: Ctx) -> Decision:
    events: list[e.AnyEvent] = [e.PhaseChanged(phase=Phase.IN_SESSION)]
    if s.current_item is None and s.agenda:
        events.append(e.CurrentItemChanged(item=s.agenda[0].id))
    return Decision(tuple(events))


def suspend(s: Sitting, cmd: c.SuspendSitting, ctx: Ctx) -> Decision:
    """Suspending stops every running countdown; the chair resumes turns by hand."""
    paused: list[e.AnyEvent] = [
        e.TurnPaused(
            turn=t.id,
            elapsed_ms=t.elapsed_ms + ctx.now - t.since,
            remaining_ms=max(0, (t.deadline or ctx.now) - ctx.now),
        )
        for t in s.turns.values()
        if t.status is TurnStatus.SPEAKING
    ]
    return Decision((*paused, e.PhaseChanged(phase=Phase.SUSPENDED, reason=cmd.reason)))


def resume(s: Sitting, cmd: c.ResumeSitting, ctx: Ctx) -> Decision:
    return Decision((e.PhaseChanged(phase=Phase.IN_SESSION),))


def close(s: Sitting, cmd: c.CloseSitting, ctx: Ctx) -> Decision:
    if any(v.status is VoteStatus.OPEN for v in s.votes.values()):
        raise Refused("vote.still_open")
    ended: list[e.AnyEvent] = [
        e.TurnEnded(
            turn=t.id,
            speaker=t.speaker,
            elapsed_ms=t.elapsed_ms + (ctx.now - t.since if t.status is TurnStatus.SPEAKING else 0),
            reason="closed",
        )
        for t in s.turns.values()
    ]
    return Decision((*ended, e.PhaseChanged(phase=Phase.CLOSED)))


def add_item(s: Sitting, cmd: c.AddItem, ctx: Ctx) -> Decision:
    position = len(s.agenda) if cmd.position is None else cmd.position
    if not 0 <= position <= len(s.agenda):
        raise Refused("agenda.bad_position", {"position": position})
    if not cmd.title.strip():
        raise Refused("agenda.empty_title")
    if len(s.agenda) >= AGENDA_MAX:  # as many as a schedule or a reorder may list
        raise Refused("agenda.full", {"limit": AGENDA_MAX})
    item = AgendaItem(id=ItemId(new_id(s, "i")), title=cmd.title, presenter=cmd.presenter)
    return Decision((e.ItemAdded(item=item, position=position),))


def reorder(s: Sitting, cmd: c.ReorderAgenda, ctx: Ctx) -> Decision:
    current = [i.id for i in s.agenda]
    if sorted(cmd.order) != sorted(current) or len(set(cmd.order)) != len(cmd.order):
        raise Refused("agenda.bad_order")
    return Decision((e.AgendaReordered(order=cmd.order),))


def move(s: Sitting, cmd: c.MoveToItem, ctx: Ctx) -> Decision:
    if all(i.id != cmd.item for i in s.agenda):
        raise Refused("agenda.unknown_item", {"item": cmd.item})
    if s.current_item == cmd.item:
        return NOTHING
    # Requests are for the item under discussion: leaving it drops its queue, and each
    # member is told why their request went.
    dropped = tuple(
        e.RequestWithdrawn(request=r.id, member=r.member, reason=Withdrawal.ITEM_CHANGED)
        for r in s.queue
        if r.item == s.current_item
    )
    return Decision((*dropped, e.CurrentItemChanged(item=cmd.item)))


def remove_item(s: Sitting, cmd: c.RemoveItem, ctx: Ctx) -> Decision:
    """Strike an item that has no record yet. Its motions (none voted on) fall with it."""
    if all(i.id != cmd.item for i in s.agenda):
        raise Refused("agenda.unknown_item", {"item": cmd.item})
    if s.current_item == cmd.item:
        raise Refused("agenda.remove_current", {"item": cmd.item})
    spoken = any(key.split("|", 1)[0] == cmd.item for key in s.speeches)
    if spoken or any(r.item == cmd.item for r in s.rounds.values()):
        raise Refused("agenda.item_has_speeches", {"item": cmd.item})
    motions = tuple(m.id for m in s.motions.values() if m.item == cmd.item)
    if any(v.motion in motions for v in s.votes.values()):
        raise Refused("agenda.item_has_votes", {"item": cmd.item})
    return Decision((e.ItemRemoved(item=cmd.item, motions=motions),))


def add_guest(s: Sitting, cmd: c.AddGuest, ctx: Ctx) -> Decision:
    if cmd.guest.id in s.roster or cmd.guest.id in s.guests:
        raise Refused("guest.exists", {"guest": cmd.guest.id})
    if len(s.guests) >= GUESTS_MAX:  # as many as a council may list
        raise Refused("guest.too_many", {"limit": GUESTS_MAX})
    return Decision((e.GuestAdded(guest=cmd.guest),))


def _presence(s: Sitting, member: MemberId, presence: Presence, note: str = "") -> Decision:
    if s.attendance.get(member, Presence.ABSENT) is presence:
        return NOTHING
    return Decision((e.PresenceChanged(member=member, presence=presence, note=note),))


def check_in(s: Sitting, cmd: c.CheckIn, ctx: Ctx) -> Decision:
    return _presence(s, subject(s, cmd.member, ctx, "attendance.check_in"), Presence.IN_HALL)


def check_in_many(s: Sitting, cmd: c.CheckInMany, ctx: Ctx) -> Decision:
    """Check in every listed member not in the hall yet: one decision, one batch of events,
    or a refusal that changes nothing."""
    if not cmd.members:
        raise Refused("attendance.no_members")
    seen: set[MemberId] = set()
    for member in cmd.members:
        if member in seen:
            raise Refused("attendance.duplicate_member", {"member": member})
        if s.member(member) is None:
            raise Refused("member.unknown", {"member": member})
        seen.add(member)
    return Decision(
        tuple(
            e.PresenceChanged(member=m, presence=Presence.IN_HALL)
            for m in cmd.members
            if s.attendance.get(m, Presence.ABSENT) is not Presence.IN_HALL
        )
    )


def join_remote(s: Sitting, cmd: c.JoinRemote, ctx: Ctx) -> Decision:
    member = subject(s, cmd.member, ctx, "attendance.join_remote")
    if s.attendance.get(member) is Presence.IN_HALL:
        return NOTHING  # in the hall already: a second device does not make them remote
    return _presence(s, member, Presence.REMOTE)


def leave(s: Sitting, cmd: c.Leave, ctx: Ctx) -> Decision:
    member = subject(s, cmd.member, ctx, "attendance.leave")
    if s.attendance.get(member, Presence.ABSENT) not in PRESENT:
        return NOTHING
    return _presence(s, member, Presence.LEFT)


def excuse(s: Sitting, cmd: c.Excuse, ctx: Ctx) -> Decision:
    """Excused absence (vắng có lý do): by the member themself or a clerk, never without
    the reason, which the minutes record."""
    member = subject(s, cmd.member, ctx, "attendance.excuse")
    reason = cmd.reason.strip()
    if not reason:
        raise Refused("attendance.reason_required", {"member": member})
    if s.attendance.get(member) is Presence.EXCUSED and s.excuses.get(member) != reason:
        return Decision((e.PresenceChanged(member=member, presence=Presence.EXCUSED, note=reason),))
    return _presence(s, member, Presence.EXCUSED, reason)


def register_document(s: Sitting, cmd: c.RegisterDocument, ctx: Ctx) -> Decision:
    if cmd.hash in s.documents:
        raise Refused("doc.exists", {"doc": cmd.hash})
    if cmd.pages < 1 or not cmd.hash:
        raise Refused("doc.bad_document")
    version, series = 1, cmd.hash
    if cmd.supersedes is not None:
        old = s.documents.get(cmd.supersedes)
        if old is None:
            raise Refused("doc.unknown", {"doc": cmd.supersedes})
        version, series = old.version + 1, old.series
    if cmd.item is not None and all(i.id != cmd.item for i in s.agenda):
        raise Refused("agenda.unknown_item", {"item": cmd.item})
    doc = Document(
        hash=cmd.hash,
        title=cmd.title,
        version=version,
        series=series,
        media_type=cmd.media_type,
        pages=cmd.pages,
        item=cmd.item,
    )
    return Decision((e.DocumentRegistered(doc=doc),))


def _document(s: Sitting, doc: DocHash) -> Document:
    found = s.documents.get(doc)
    if found is None:
        raise Refused("doc.unknown", {"doc": doc})
    return found


def present(s: Sitting, cmd: c.PresentDocument, ctx: Ctx) -> Decision:
    doc = _document(s, cmd.doc)
    if not 1 <= cmd.page <= doc.pages:
        raise Refused("doc.bad_page", {"page": cmd.page, "pages": doc.pages})
    return Decision((e.PresentationChanged(doc=doc.hash, page=cmd.page, by=ctx.actor),))


def stop_presenting(s: Sitting, cmd: c.StopPresenting, ctx: Ctx) -> Decision:
    if s.presentation is None:
        return NOTHING
    return Decision((e.PresentationChanged(doc=None, page=0, by=ctx.actor),))


def propose_motion(s: Sitting, cmd: c.ProposeMotion, ctx: Ctx) -> Decision:
    doc = _document(s, cmd.doc)
    item = cmd.item if cmd.item is not None else s.current_item
    if item is not None and all(i.id != item for i in s.agenda):
        raise Refused("agenda.unknown_item", {"item": item})
    motion = Motion(
        id=MotionId(new_id(s, "mo")),
        item=item,
        title=cmd.title,
        doc=doc.hash,
        version=1,
        history=(doc.hash,),
    )
    return Decision((e.MotionProposed(motion=motion),))


def amend_motion(s: Sitting, cmd: c.AmendMotion, ctx: Ctx) -> Decision:
    motion = s.motions.get(cmd.motion)
    if motion is None:
        raise Refused("motion.unknown", {"motion": cmd.motion})
    _document(s, cmd.doc)
    if any(v.motion == motion.id and v.status is VoteStatus.OPEN for v in s.votes.values()):
        raise Refused("motion.vote_open", {"motion": motion.id})
    if cmd.doc == motion.doc:
        return NOTHING
    return Decision((e.MotionAmended(motion=motion.id, doc=cmd.doc, version=motion.version + 1),))


DECIDERS: dict[type[Any], Callable[[Sitting, Any, Ctx], Decision]] = {
    c.OpenSitting: open_sitting,
    c.StartSitting: start_sitting,
    c.SuspendSitting: suspend,
    c.ResumeSitting: resume,
    c.CloseSitting: close,
    c.AddItem: add_item,
    c.ReorderAgenda: reorder,
    c.MoveToItem: move,
    c.RemoveItem: remove_item,
    c.AddGuest: add_guest,
    c.CheckIn: check_in,
    c.CheckInMany: check_in_many,
    c.JoinRemote: join_remote,
    c.Leave: leave,
    c.Excuse: excuse,
    c.RegisterDocument: register_document,
    c.PresentDocument: present,
    c.StopPresenting: stop_presenting,
    c.ProposeMotion: propose_motion,
    c.AmendMotion: amend_motion,
}
