"""The queue's part of a resident's own data (registry.personal_export): their
tickets, on every day, without the operator who served them."""

from queues.models import Ticket
from registry.api.fields import office_local_iso
from registry.models import Resident


def tickets(resident: Resident) -> list[dict]:
    rows = (Ticket.objects.filter(resident=resident)
            .select_related("office", "lane", "service", "application")
            .order_by("issued_at", "id"))
    return [{
        "code": t.code, "day": t.day, "office": t.office.code, "lane": t.lane.letter,
        "service": t.service.code if t.service_id else None,
        "application": t.application.number if t.application_id else None,
        "source": t.source, "status": t.status, "outcome": t.outcome,
        "issued_at": office_local_iso(t.issued_at, t.office),
        "called_at": office_local_iso(t.called_at, t.office),
        "finished_at": office_local_iso(t.finished_at, t.office),
    } for t in rows]


SECTIONS = [("tickets", tickets)]
