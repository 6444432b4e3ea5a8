"""Reads of appointments that are more than a filter, always given the office (or the
resident, for their own bookings)."""

from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.appointments import services
from registry.appointments.models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingDocument,
    BookingStatus,
    DocumentReview,
    Slot,
)
from registry.models import Office, Resident, Service

MAX_SLOT_DAYS = 31


def slots_bookable(*, office: Office, service: Service, date_from: date | None = None,
                   date_to: date | None = None, now: datetime | None = None) -> QuerySet[Slot]:
    """The slots of `service`'s lane a resident may book now between the two dates,
    within the office's booking window, with at least one place left."""
    now = now or timezone.now()
    first, last = services.bookable_range(office=office, now=now)
    start = max(first, date_from or first)
    end = min(last, date_to or last, start + timedelta(days=MAX_SLOT_DAYS))
    if start > end:
        return Slot.objects.none()
    services.slots_ensure(office=office, start=start, end=end)
    return (Slot.objects.filter(office=office, lane_id=service.lane_id, date__gte=start,
                                date__lte=end, is_closed=False, starts_at__gt=now,
                                booked__lt=F("capacity"))
            .order_by("starts_at", "id"))


def bookings_for_resident(*, resident: Resident) -> QuerySet[Booking]:
    return (Booking.objects.filter(resident=resident)
            .select_related("office", "service", "service__lane", "slot", "slot__lane",
                            "application")
            .order_by("-day", "-slot__start", "-id"))


def booking_for_resident(*, resident: Resident, code: str) -> Booking | None:
    code = "".join(str(code or "").split()).upper()[:12]
    return bookings_for_resident(resident=resident).filter(code=code).first()


def slots_day(*, office: Office, day: date) -> list[dict]:
    """The day view: every slot of every lane with its places, booked and remaining,
    and the bookings by status."""
    services.slots_ensure(office=office, start=day, end=day)
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
