"""Reads of appointments that are more than a filter, always given the office (or the
resident, for their own bookings)."""

import hashlib
import time
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.appointments.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingDocument,
    BookingStatus,
    DocumentReview,
    Slot,
    SmsInbound,
    SmsOffer,
)
from registry.appointments.services.slots import (
    SLOTS_VERSION_KEY,
    bookable_range,
    slots_ensure,
    slots_ensure_window,
)
from registry.breaches import in_period
from registry.models import Application, BreachDataKind, Office, Resident, Service
from registry.service_sets import ServiceSet

MAX_SLOT_DAYS = 31


def slots_bookable(*, office: Office, service: Service | ServiceSet,
                   date_from: date | None = None, date_to: date | None = None,
                   now: datetime | None = None) -> QuerySet[Slot]:
    """The slots of the lane of `service` (or of a visit of several) a resident may
    book now between the two dates, within the office's booking window, with at least
    one place left."""
    now = now or timezone.now()
    first, last = bookable_range(office=office, now=now)
    start = max(first, date_from or first)
    end = min(last, date_to or last, start + timedelta(days=MAX_SLOT_DAYS))
    if start > end:
        return Slot.objects.none()
    slots_ensure_window(office=office, now=now)
    return (Slot.objects.filter(office=office, lane_id=service.lane_id, date__gte=start,
                                date__lte=end, is_closed=False, starts_at__gt=now,
                                booked__lt=F("capacity"))
            .order_by("starts_at", "id"))


def slots_cached(*, code: str, query: dict) -> tuple[str, int, bytes | None]:
    """The cached answer of the slot list for this office and query, if still good:
    (its key, the office's slot version now, the body or None). One round trip: the
    version (slots_changed) and the entry, which holds the version it was
    read under; an entry of an older version is a miss. The version is taken before
    the rows, so a list read before a change commits is never stored as newer."""
    version_key = SLOTS_VERSION_KEY.format(code=code)
    wanted = sorted((name, query.get(name, "")[:40]) for name in SLOT_QUERY_KEYS)
    digest = hashlib.blake2b(repr(wanted).encode(), digest_size=12).hexdigest()
    key = f"appointments:slots:{code}:{digest}"
    found = cache.get_many([version_key, key])
    version = found.get(version_key)
    if version is None:
        version = time.time_ns()
        if not cache.add(version_key, version, None):
            version = cache.get(version_key, version)
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return key, version, entry[1]
    return key, version, None


SLOT_QUERY_KEYS = ("service", "services", "date_from", "date_to", "page", "page_size")


def bookings_for_resident(*, resident: Resident) -> QuerySet[Booking]:
    return (Booking.objects.filter(resident=resident)
            .select_related("office", "service", "service__lane", "slot", "slot__lane",
                            "slot__office", "office__appointment_settings", "application")
            .order_by("-day", "-slot__start", "-id"))


def booking_for_resident(*, resident: Resident, code: str) -> Booking | None:
    code = "".join(str(code or "").split()).upper()[:12]
    return bookings_for_resident(resident=resident).filter(code=code).first()


def slots_day(*, office: Office, day: date) -> list[dict]:
    """The day view: every slot of every lane with its places, booked and remaining,
    and the bookings by status."""
    slots_ensure(office=office, start=day, end=day)
    rows = (Slot.objects.filter(office=office, date=day)
            .select_related("lane").order_by("lane__letter", "start")
            .annotate(checked_in=Count("bookings", filter=Q(
                bookings__status=BookingStatus.CHECKED_IN)),
                done=Count("bookings", filter=Q(bookings__status=BookingStatus.DONE)),
                cancelled=Count("bookings", filter=Q(bookings__status=BookingStatus.CANCELLED)),
                expired=Count("bookings", filter=Q(bookings__status=BookingStatus.EXPIRED))))
    return [{"slot": slot, "lane": slot.lane, "start": slot.start, "end": slot.end,
             "capacity": slot.capacity, "booked": slot.booked, "remaining": slot.remaining,
             "checked_in": slot.checked_in, "done": slot.done, "cancelled": slot.cancelled,
             "expired": slot.expired, "closed": slot.is_closed} for slot in rows]


def documents_awaiting_review(*, office: Office) -> QuerySet[BookingDocument]:
    """Documents sent ahead for bookings still to come, oldest visit first."""
    return (BookingDocument.objects.filter(
        office=office, review=DocumentReview.PENDING, booking__status=BookingStatus.BOOKED)
        .select_related("booking", "booking__resident", "booking__service", "booking__slot",
                        "requirement")
        .order_by("booking__day", "booking__slot__start", "id"))


def dashboard_figures(*, office, day) -> list[tuple[str, object]]:
    """Today's figures of this app for the admin index: (label, value) pairs."""
    today = Booking.objects.filter(office=office, day=day).aggregate(
        booked=Count("id", filter=Q(status__in=ACTIVE_BOOKING_STATUSES)),
        checked_in=Count("id", filter=Q(status__in=[BookingStatus.CHECKED_IN,
                                                     BookingStatus.DONE])))
    places = Slot.objects.filter(office=office, date=day, is_closed=False).aggregate(
        capacity=Sum("capacity"), booked=Sum("booked"))
    pending = BookingDocument.objects.filter(office=office, review=DocumentReview.PENDING,
                                             booking__status=BookingStatus.BOOKED).count()
    return [
        (_("Bookings today"), today["booked"] + 0),
        (_("Checked in today"), today["checked_in"]),
        (_("Places left today"), (places["capacity"] or 0) - (places["booked"] or 0)),
        (_("Documents awaiting review"), pending),
    ]


# --- A case's bookings (read by complaints) ----------------------------------------


def application_by_booking_code(*, office: Office, code: str) -> Application | None:
    """The case of the office's booking with this code (any case), or None."""
    found = Booking.objects.filter(office=office, code__iexact=code.strip()).select_related(
        "application").first()
    return getattr(found, "application", None)


def bookings_of_application(*, application: Application) -> QuerySet[Booking]:
    """The case's bookings with their slot, in the order they were made."""
    return (Booking.objects.filter(application=application)
            .select_related("slot").order_by("created_at", "id"))


def breach_data(*, kinds: set[str], start, end) -> list[QuerySet]:
    """BREACH_DATA (registry.breaches): bookings made (cases), documents uploaded
    (documents) and SMS offers and replies (contact) in the period."""
    sources = []
    if BreachDataKind.CASES in kinds:
        sources.append(Booking.objects.filter(in_period("created_at", start, end))
                       .values("resident_id"))
    if BreachDataKind.DOCUMENTS in kinds:
        sources.append(BookingDocument.objects.exclude(file="")
                       .filter(in_period("uploaded_at", start, end))
                       .values("booking__resident_id"))
    if BreachDataKind.CONTACT in kinds:
        sources.append(SmsOffer.objects.filter(in_period("created_at", start, end))
                       .values("resident_id"))
        sources.append(SmsInbound.objects.filter(in_period("received_at", start, end),
                                                 resident__isnull=False)
                       .values("resident_id"))
    return sources
