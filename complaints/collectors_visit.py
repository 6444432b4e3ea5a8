"""The chronology's facts about trips that failed at the office itself: the resident
sent away at the door (registry TurnAway), a document found not valid at the counter
and the services of a booking changed (their case events). See complaints.collectors.
"""

from django.utils.translation import gettext as _

from complaints.collectors import CaseContext, Fact, Source, when_text
from registry.models import TurnAwayReason
from registry.selectors import turn_aways_of_application


def collect_turn_aways(ctx: CaseContext) -> list[Fact]:
    """Each time the front desk sent the resident away, with the reason; before the
    case was opened too (a case takes the turn-aways of the days before it)."""
    ctx.covered_kinds.add("desk.turned_away")
    facts = []
    for turn_away in turn_aways_of_application(application=ctx.application):
        if turn_away.reason == TurnAwayReason.NO_BOOKING:
            text = _("On %(when)s the resident came to the office%(service)s and was sent "
                     "away at the door by the front desk to book in the e-Open app first.")
        else:
            text = _("On %(when)s the resident came to the office%(service)s and was sent "
                     "away at the door by the front desk: %(reason)s.")
        service = (_(" for %(service)s") % {"service": turn_away.service.name}
                   if turn_away.service_id else "")
        text = text % {"when": when_text(turn_away.at, ctx), "service": service,
                       "reason": turn_away.get_reason_display().lower()}
        if turn_away.note:
            text += " " + _("Reason noted: %(note)s.") % {"note": turn_away.note.rstrip(".")}
        facts.append(Fact(turn_away.at, text, [Source(
            "turn_away", turn_away.id, _("turn-away at the door #%(id)s") % {
                "id": turn_away.id})], 5))
    return facts


def collect_counter_findings(ctx: CaseContext) -> list[Fact]:
    """What the counter found while serving: a document not valid (which and why), and
    the booking's services changed (from what to what, and where)."""
    ctx.covered_kinds.update({"queue.requirement_invalid", "booking.services_changed"})
    facts = []
    for event in ctx.events:
        params = event.params or {}
        source = [Source("case_event", event.id, _("case timeline #%(id)s") % {"id": event.id})]
        if event.kind == "queue.requirement_invalid":
            facts.append(Fact(event.at, _(
                "On %(when)s, at the counter (ticket %(code)s), staff found that the "
                "resident's %(document)s was not valid: %(reason)s.") % {
                "when": when_text(event.at, ctx), "code": params.get("code", ""),
                "document": params.get("document", ""),
                "reason": str(params.get("reason", "")).rstrip(".")}, source, 33))
        elif event.kind == "booking.services_changed" and params.get("where") == "rebooking":
            facts.append(Fact(event.at, _(
                "On %(when)s, booking again, the case was changed from %(from)s to %(to)s, "
                "in one visit.") % {
                "when": when_text(event.at, ctx), "from": params.get("from", ""),
                "to": params.get("to", "")}, source, 34))
        elif event.kind == "booking.services_changed":
            where = (_("at the counter") if params.get("where") == "counter"
                     else _("by the office's phone desk"))
            facts.append(Fact(event.at, _(
                "On %(when)s booking %(code)s was changed %(where)s from %(from)s to "
                "%(to)s, in the same visit.") % {
                "when": when_text(event.at, ctx), "code": params.get("code", ""),
                "where": where, "from": params.get("from", ""), "to": params.get("to", "")},
                source, 34))
    return facts


COLLECTORS = [collect_turn_aways, collect_counter_findings]
