"""The documents a resident uploads for a booking, and the desk's review of them.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.appointments import lock_objects
from registry.appointments.models import (
    Booking,
    BookingDocument,
    BookingStatus,
    DocumentReview,
)
from registry.appointments.services.bookings import booking_lock
from registry.appointments.services.notices import booking_link
from registry.calendar import (
    office_today,
)
from registry.errors import Conflict, DomainError
from registry.services.cases import case_event_record
from registry.services.notifications import notification_send

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024


DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def booking_document_upload(*, booking: Booking, requirement_code: str, upload,
                            issued_on: date | None = None) -> BookingDocument:
    """Attach a photo or PDF of one requirement; it awaits the front desk's review.
    PDF, JPEG or PNG by content (not by name), at most 2 MB."""
    import filetype

    if booking.status != BookingStatus.BOOKED:
        raise Conflict(_("Documents can be sent only for a booking not yet used."),
                       "booking_not_open")
    requirement = booking.service.requirements.filter(code=str(requirement_code)[:32]).first()
    if requirement is None:
        raise DomainError(_("%(code)s is not a requirement of this service.")
                          % {"code": str(requirement_code)[:40]}, "requirement_unknown")
    if upload is None or not upload.size:
        raise DomainError(_("Attach the file."), "file_required")
    if upload.size > MAX_DOCUMENT_BYTES:
        raise DomainError(_("The file is larger than 2 MB; send a smaller photo or PDF."),
                          "file_too_large")
    head = upload.read(262)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in DOCUMENT_TYPES:
        raise DomainError(_("Send a PDF, JPEG or PNG file."), "file_type_not_allowed")
    if issued_on is not None and issued_on > office_today(booking.office):
        raise DomainError(_("The date of issue of %(document)s is in the future.")
                          % {"document": requirement.name}, "issued_on_future")
    now = timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking)
        document, _created = lock_objects.booking_documents_for_update().get_or_create(
            booking=booking, requirement=requirement, defaults={"office": booking.office})
        old_file = document.file.name if document.file else ""
        document.content_type, document.size, document.uploaded_at = kind.mime, upload.size, now
        if issued_on is not None:
            document.issued_on = issued_on
        document.review, document.reviewed_by, document.reviewed_at = (
            DocumentReview.PENDING, None, None)
        document.reject_reason = ""
        document.file.save("upload", upload, save=False)
        document.save()
        case_event_record(
            application=booking.application, kind="booking.document_sent",
            params={"code": booking.code, "document": requirement.name}, by_resident=True)
        if old_file:
            storage = document.file.storage
            transaction.on_commit(lambda: storage.delete(old_file))
    return document


def booking_document_review(*, document: BookingDocument, accept: bool, reason: str = "",
                            by) -> BookingDocument:
    """The front desk accepts or rejects a document sent ahead; a rejection reaches the
    resident at once with the reason and what to bring instead."""
    reason = (reason or "").strip()
    if not accept and not reason:
        raise DomainError(_("Give the reason for rejecting; the resident is told."),
                          "reason_required")
    with transaction.atomic():
        document = (lock_objects.booking_documents_for_update()
                    .select_related("booking", "booking__resident", "booking__application",
                                    "booking__office", "requirement")
                    .get(pk=document.pk))
        if document.review != DocumentReview.PENDING:
            raise Conflict(_("This document was already reviewed."), "document_reviewed")
        document.review = DocumentReview.ACCEPTED if accept else DocumentReview.REJECTED
        document.reviewed_by, document.reviewed_at = by, timezone.now()
        document.reject_reason = "" if accept else reason[:300]
        document.save(update_fields=["review", "reviewed_by", "reviewed_at", "reject_reason"])
        booking = document.booking
        params = {"code": booking.code, "document": document.requirement.name,
                  "reason": reason, "hint": document.requirement.how_to_obtain}
        case_event_record(
            application=booking.application,
            kind="booking.document_accepted" if accept else "booking.document_rejected",
            params=params, actor=by)
        if not accept:
            notification_send(
                office=booking.office, resident=booking.resident,
                kind="booking.document_rejected",
                title=_("%(document)s needs attention"),
                body=_("The office checked the %(document)s you sent for booking %(code)s "
                       "and cannot accept it: %(reason)s. Bring a valid one instead. "
                       "%(hint)s"),
                params=params, application=booking.application, link=booking_link(booking))
    return document
