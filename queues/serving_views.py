"""The counter's actions on the visit being served (queues.services.serving): change the
services of the booked visit with the documents checked on the spot, and record a
document found not valid. Called by queues.views.counter_action; the rules are in the
services."""

from django.utils.translation import gettext as _

from queues.models import Counter, Ticket
from queues.services.serving import (
    requirements_at_counter,
    ticket_requirement_invalid_record,
    ticket_services_change,
)
from registry.appointments.forms import documents_from_post
from registry.errors import DomainError
from registry.models import Service
from registry.service_sets import service_set_get, service_set_of

SERVING_ACTIONS = ("change-services", "requirement-invalid")


def _ticket_id(data) -> int | None:
    """The ticket the operator's screen showed (None when the form sent none)."""
    raw = str(data.get("ticket", "") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise DomainError(_("The page was out of date; reload it."), "ticket_invalid")
    return int(raw)


def serving_action(counter: Counter, action: str, data, by) -> str:
    """Run one serving action from the posted data; the message to show."""
    ticket_id = _ticket_id(data)
    if action == "change-services":
        codes = [str(code)[:32] for code in data.getlist("services")][:8]
        service_set = service_set_get(office=counter.office, codes=codes)
        documents = documents_from_post(data, service_set)
        ticket = ticket_services_change(counter=counter, service_set=service_set,
                                        documents=documents, by=by, ticket_id=ticket_id)
        return _("Ticket %(code)s is now for %(services)s.") % {
            "code": ticket.code, "services": service_set.name}
    if action == "requirement-invalid":
        ticket_requirement_invalid_record(
            counter=counter, ticket_id=ticket_id, by=by,
            requirement_code=str(data.get("requirement", ""))[:32],
            reason=str(data.get("reason", ""))[:200])
        return _("Recorded on the case: the document is not valid.")
    raise DomainError(_("Choose an action."), "action_unknown")


def serving_context(ticket: Ticket | None) -> dict:
    """What the counter page shows for these actions about the current ticket."""
    if ticket is None or ticket.application_id is None:
        return {}
    visit = service_set_of(ticket.application)
    return {
        "visit": visit,
        "visit_services": Service.objects.filter(office_id=ticket.office_id, is_active=True,
                                                 lane_id=ticket.lane_id).order_by("name"),
        "visit_requirements": requirements_at_counter(ticket.application),
    }
