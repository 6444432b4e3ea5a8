"""What the counter finds while serving a ticket: the services are not the ones booked
(a signature change whose card is in fact lost), or a document the resident brought is
not valid (an expired police letter). Both go on the case file, and the chronology of a
later complaint states them.

Locks: the counter, then the ticket (queues.lock_objects), then the booking.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from queues import lock_objects
from queues.models import ACTIVE_STATUSES, Counter, Ticket
from queues.services.board import board_changed
from queues.services.calling import counter_current_ticket
from registry.appointments.services.booking_services import booking_services_change
from registry.errors import DomainError
from registry.models import Application, CaseEvent, Requirement
from registry.service_sets import ServiceSet, service_set_of
from registry.services.cases import case_event_record


def ticket_services_change(*, counter: Counter, service_set: ServiceSet, documents: list[dict],
                           by, ticket_id: int | None = None) -> Ticket:
    """Change the services of the booked visit being served at `counter`, with the
    documents checked on the spot (valid today): the same ticket goes on, its service
    following the set's primary (registry.appointments booking_services_change)."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = counter_current_ticket(counter, ticket_id, ACTIVE_STATUSES)
        if ticket.booking_id is None:
            raise DomainError(_("Ticket %(code)s has no booking: take the resident's "
                                "services as a new walk-in ticket.") % {"code": ticket.code},
                              "ticket_without_booking")
        booking_services_change(booking=ticket.booking, service_set=service_set,
                                documents=documents, by=by, at_counter=True)
        if ticket.service_id != service_set.primary.id:
            ticket.service = service_set.primary
            ticket.save(update_fields=["service"])
        board_changed(counter.office)
    return ticket


def requirements_at_counter(application: Application) -> list[Requirement]:
    """The documents a counter may find invalid for a case: those of its services and
    those of the services that replace a lost one (the police letter of KTP-el hilang
    beside a signature change)."""
    service_set = service_set_of(application)
    found = {}
    for requirement in service_set.requirements():
        found.setdefault(requirement.code, requirement)
        if requirement.lost_instead_id:
            for other in requirement.lost_instead.requirements.all():
                found.setdefault(other.code, other)
    return list(found.values())


def ticket_requirement_invalid_record(*, counter: Counter, requirement_code: str, reason: str,
                                      by, ticket_id: int | None = None) -> CaseEvent:
    """The counter found a document of the resident at the counter not valid (which
    document, and why): a case event "queue.requirement_invalid" on the case."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise DomainError(_("Say why the document is not valid."), "reason_required")
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = counter_current_ticket(counter, ticket_id, ACTIVE_STATUSES)
        if ticket.application_id is None:
            raise DomainError(_("Identify the resident first."), "resident_required")
        application = ticket.application
        requirement = next((r for r in requirements_at_counter(application)
                            if r.code == str(requirement_code or "")[:32]), None)
        if requirement is None:
            raise DomainError(_("%(code)s is not a requirement of this service.")
                           % {"code": str(requirement_code or "")[:40]},
                           "requirement_unknown")
        return case_event_record(
            application=application, kind="queue.requirement_invalid", actor=by,
            params={"code": ticket.code, "counter": counter.name,
                    "requirement": requirement.code, "document": requirement.name,
                    "reason": reason})
