"""The appointments' part of the retention sweep (registry.services.retention): the
files residents sent with their bookings."""

from django.utils.translation import gettext_lazy as _

from registry.appointments.models import BookingDocument
from registry.models import ACTIVE_APPLICATION_STATUSES
from registry.services.retention import RetentionRule, files_remover

# Every booking belongs to an application (Booking.application is required), so a
# document's time runs from its application's closing: completed, lapsed or cancelled.
# A reopened application has no closing time, and its documents wait for the next one.
DOCUMENTS = RetentionRule(
    name="documents", limit="documents", label=_("documents sent with bookings"),
    due=lambda before: BookingDocument.objects.filter(
        booking__application__closed_at__lt=before).exclude(
        booking__application__status__in=ACTIVE_APPLICATION_STATUSES).exclude(file=""),
    remove=files_remover(BookingDocument, "file", "file_removed_at"),
    dated_by="booking__application__closed_at",
)
