"""The appointments' part of a resident's own data (registry.personal_export): their
bookings and the documents they stated or sent for them (the files' metadata, never
their content)."""

import posixpath

from registry.api.fields import office_local_iso
from registry.appointments.models import Booking, BookingDocument
from registry.models import Resident


def bookings(resident: Resident) -> list[dict]:
    rows = (Booking.objects.filter(resident=resident)
            .select_related("office", "service", "slot", "application")
            .order_by("created_at", "id"))
    return [{
        "code": b.code, "office": b.office.code, "office_name": b.office.name,
        "service": b.service.code, "service_name": b.service.name,
        "status": b.status, "channel": b.channel, "day": b.day,
        "start": b.slot.start.strftime("%H:%M") if b.slot_id else None,
        "end": b.slot.end.strftime("%H:%M") if b.slot_id else None,
        "application": b.application.number if b.application_id else None,
        "created_at": office_local_iso(b.created_at, b.office),
        "checked_in_at": office_local_iso(b.checked_in_at, b.office),
        "finished_at": office_local_iso(b.finished_at, b.office),
        "cancelled_at": office_local_iso(b.cancelled_at, b.office),
        "cancel_reason": b.cancel_reason,
        "expired_at": office_local_iso(b.expired_at, b.office),
    } for b in rows]


def documents(resident: Resident) -> list[dict]:
    rows = (BookingDocument.objects.filter(booking__resident=resident)
            .select_related("office", "booking", "requirement")
            .order_by("booking__created_at", "booking_id", "requirement__position", "id"))
    return [{
        "booking": d.booking.code, "requirement": d.requirement.code,
        "requirement_name": d.requirement.name, "issued_on": d.issued_on,
        "file_name": posixpath.basename(d.file.name) if d.file else None,
        "content_type": d.content_type or None, "size": d.size if d.file else None,
        "uploaded_at": office_local_iso(d.uploaded_at, d.office),
        "review": d.review, "reject_reason": d.reject_reason,
    } for d in rows]


SECTIONS = [("bookings", bookings), ("documents", documents)]
