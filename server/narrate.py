"""Events told in words, for the demo and for plain-text minutes."""

from __future__ import annotations

from chamber import events as e
from chamber.ids import Withdrawal
from chamber.model import Sitting
from chamber.projection import Audience, project_event
from server.i18n import t
from server.verdicts import threshold_words, verdict_lines


def name_of(state: Sitting, who: str | None) -> str:
    if who is None:
        return ""
    member = state.roster.get(who)  # type: ignore[call-overload]
    if member is not None:
        return str(member.name)
    guest = state.guests.get(who)  # type: ignore[call-overload]
    return str(guest.name) if guest is not None else who


def _mmss(ms: int) -> dict[str, int]:
    return {"minutes": ms // 60_000, "seconds": ms // 1000 % 60}


def narrate(event: e.AnyEvent, after: Sitting, lang: str) -> list[str]:
    """Lines describing ``event`` (as the public sees it), given the state after it."""
    shown = project_event(event, after, Audience.PUBLIC)
    if shown is None:
        return []
    s, n = after, name_of
    match shown:
        case e.SittingScheduled():
            return [
                t(
                    "event.sitting.scheduled",
                    lang,
                    title=shown.title,
                    members=len(shown.council.members),
                    seats=shown.council.total_seats,
                )
            ]
        case e.PhaseChanged():
            return [t(f"event.sitting.phase.{shown.phase.value}", lang)]
        case e.ItemAdded():
            return [t("event.agenda.added", lang, title=shown.item.title)]
        case e.AgendaReordered():
            return [t("event.agenda.reordered", lang)]
        case e.ItemRemoved():
            key = "event.agenda.removed_motions" if shown.motions else "event.agenda.removed"
            return [t(key, lang, motions=len(shown.motions))]
        case e.CurrentItemChanged():
            title = next(i.title for i in s.agenda if i.id == shown.item)
            return [t("event.agenda.current", lang, title=title)]
        case e.GuestAdded():
            return [t("event.roster.guest_added", lang, name=shown.guest.name)]
        case e.PresenceChanged():
            return [
                t(
                    "event.attendance.changed",
                    lang,
                    name=n(s, shown.member),
                    presence=t(f"presence.{shown.presence.value}", lang).lower(),
                    present=s.present_count(),
                    seats=s.council.total_seats,
                    needed=s.quorum_needed(),
                )
            ]
        case e.FloorRequested():
            kind = t(f"turn.{shown.request.kind.value}", lang).lower()
            return [t("event.floor.requested", lang, name=n(s, shown.request.member), kind=kind)]
        case e.RequestWithdrawn():
            key = "event.floor.withdrawn"
            if shown.reason is not None and shown.reason is not Withdrawal.MEMBER:
                key = f"event.floor.withdrawn.{shown.reason.value}"
            return [t(key, lang, name=n(s, shown.member))]
        case e.TurnStarted():
            turn = shown.turn
            kind = t(f"turn.{turn.kind.value}", lang).lower()
            minutes = turn.limit_ms // 60_000
            return [
                t("event.turn.started", lang, name=n(s, turn.speaker), kind=kind, minutes=minutes)
            ]
        case e.TurnPaused() | e.TurnResumed():
            return [t(f"event.{shown.__struct_config__.tag}", lang)]
        case e.TurnExtended():
            return [t("event.turn.extended", lang, seconds=shown.seconds)]
        case e.TurnEnded():
            key = "event.turn.ended.expired" if shown.reason == "expired" else "event.turn.ended"
            return [t(key, lang, name=n(s, shown.speaker), **_mmss(shown.elapsed_ms))]
        case e.RoundOpened():
            return [t("event.round.opened", lang, name=n(s, shown.round.respondent))]
        case e.RoundClosed():
            return [t("event.round.closed", lang)]
        case e.DocumentRegistered():
            return [
                t("event.doc.registered", lang, title=shown.doc.title, version=shown.doc.version)
            ]
        case e.PresentationChanged():
            if shown.doc is None:
                return [t("event.doc.stopped", lang)]
            title = s.documents[shown.doc].title
            return [t("event.doc.presented", lang, title=title, page=shown.page)]
        case e.MotionProposed():
            return [t("event.motion.proposed", lang, title=shown.motion.title)]
        case e.MotionAmended():
            title = s.motions[shown.motion].title
            return [t("event.motion.amended", lang, title=title, version=shown.version)]
        case e.VoteOpened():
            v = shown.vote
            return [
                t(
                    "event.vote.opened",
                    lang,
                    kind=t(f"kind.{v.kind.value}", lang),
                    title=v.title,
                    form=t(f"form.{v.form.value}", lang).lower(),
                    threshold=threshold_words(v.rule.threshold, lang),
                )
            ]
        case e.BallotCast():  # pragma: no cover - the public never sees single ballots
            return []
        case e.VoteClosed():
            vote = s.votes[shown.vote]
            names = {q.id: q.label for q in vote.questions}
            head = t("event.vote.closed", lang, title=vote.title)
            return [
                head,
                *("   " + line for line in verdict_lines(vote, shown.result, lang, names)),
            ]
        case e.VoteCancelled():
            return [t("event.vote.cancelled", lang, title=s.votes[shown.vote].title)]
    return []  # pragma: no cover
