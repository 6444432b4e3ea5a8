"""The deliveries' part of a resident's own data (registry.personal_export): how their
cards were to reach them (hand-overs) and the home deliveries with their attempts (no
courier's name, no proof photo)."""

from django.db.models import Prefetch

from registry.api.fields import office_local_iso
from registry.deliveries.models import Delivery, DeliveryAttempt, Handover
from registry.models import Resident
from registry.nik import mask_nik


def handovers(resident: Resident) -> list[dict]:
    rows = (Handover.objects.filter(application__resident=resident)
            .select_related("office", "application").order_by("created_at", "id"))
    return [{
        "application": h.application.number, "office": h.office.code,
        "method": h.method, "proxy_name": h.proxy_name,
        # The proxy's NIK is the proxy's data: the resident sees it masked.
        "proxy_nik": mask_nik(h.proxy_nik) if h.proxy_nik else "",
        "proxy_relation": h.proxy_relation,
        "chosen_at": office_local_iso(h.chosen_at, h.office),
        "completed_at": office_local_iso(h.completed_at, h.office),
        "collected_by_name": h.collected_by_name,
        "collected_relation": h.collected_relation,
    } for h in rows]


def deliveries(resident: Resident) -> list[dict]:
    rows = (Delivery.objects.filter(application__resident=resident)
            .select_related("office", "application")
            .prefetch_related(Prefetch("attempts",
                                       queryset=DeliveryAttempt.objects.order_by("number")))
            .order_by("created_at", "id"))
    return [{
        "id": d.id, "application": d.application.number, "office": d.office.code,
        "status": d.status, "address": d.address, "kelurahan": d.kelurahan,
        "kecamatan": d.kecamatan, "scheduled_for": d.scheduled_for,
        "delivered_at": office_local_iso(d.delivered_at, d.office),
        "recipient_name": d.recipient_name, "recipient_relation": d.recipient_relation,
        "failed_attempts": d.failed_attempts,
        "created_at": office_local_iso(d.created_at, d.office),
        "attempts": [{"number": a.number, "scheduled_for": a.scheduled_for,
                      "at": office_local_iso(a.at, d.office), "outcome": a.outcome,
                      "reason": a.reason, "recipient_name": a.recipient_name}
                     for a in d.attempts.all()],
    } for d in rows]


SECTIONS = [("handovers", handovers), ("deliveries", deliveries)]
