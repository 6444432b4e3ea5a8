"""Closures and changed working hours: the slots they take away close, and everyone
booked in them is told, with the next free times.
"""

from datetime import date, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.appointments import lock_objects
from registry.appointments.models import (
    BookingStatus,
    Slot,
)
from registry.appointments.services.bookings import keep_open_for_rebooking, place_free
from registry.appointments.services.notices import booking_link, date_text, slot_params
from registry.appointments.services.slots import bookable_range, slots_changed, slots_ensure_window
from registry.appointments.services.sms_offers import (
    CLOSURE_INTRO,
    HOURS_INTRO,
    booking_ended_tell,
)
from registry.calendar import (
    OfficeCalendar,
)
from registry.models import (
    Closure,
    Office,
    PhoneType,
    Service,
)
from registry.services.cases import case_event_record
from registry.services.notifications import notification_send
from registry.services.offices import closure_add

NEXT_FREE_SLOTS_OFFERED = 3


def closure_declare(*, office: Office, day: date, reason: str, by=None) -> Closure:
    """Close the office on `day`. Its slots close, and every resident booked that day
    is told, with the next free slots of their service, and keeps an open case to
    re-book: nobody is moved silently."""
    with transaction.atomic():
        closure = closure_add(office=office, day=day, reason=reason, by=by)
        _slots_close(office=office, slots=Slot.objects.filter(office=office, date=day),
                     reason=reason, by=by, kind="booking.cancelled_by_closure",
                     title=CLOSURE_TITLE, body=CLOSURE_BODY, intro=CLOSURE_INTRO)
    return closure


CLOSURE_TITLE = _("The office is closed on %(date)s")


CLOSURE_BODY = _("Your booking %(code)s on %(date)s at %(start)s is cancelled because the "
                 "office is closed (%(reason)s). Next free times: %(offers)s. Re-book in "
                 "the app; your case stays open.")


HOURS_TITLE = _("Your time on %(date)s is no longer open")


HOURS_BODY = _("The office has changed its opening hours, so your booking %(code)s on "
               "%(date)s at %(start)s is cancelled. Next free times: %(offers)s. Re-book "
               "in the app; your case stays open.")


def office_hours_changed(*, office: Office, by=None, now: datetime | None = None) -> int:
    """The office's working hours changed (office admin). The booking window is made
    again under the new hours at once (a longer day gets slots where none lies; the
    days not made yet follow the new hours). Then, from now on, the slots the new hours
    leave out (a weekday no longer worked, times before opening or after closing)
    close, and every resident booked in them is told, with the next free times, and
    keeps an open case to re-book, as for a closure; slots the new hours take in again
    reopen. Returns how many bookings were cancelled. The caller holds the transaction
    (the admin's save)."""
    now = now or timezone.now()
    slots_ensure_window(office=office, now=now, force=True)
    ahead = list(Slot.objects.filter(office=office, starts_at__gt=now)
                 .values_list("id", "date", "start", "end", "is_closed"))
    cancelled = 0
    if ahead:
        calendar = OfficeCalendar(office, min(row[1] for row in ahead),
                                  max(row[1] for row in ahead))
        outside, inside = [], []
        for slot_id, day, begins, ends, closed in ahead:
            hours = calendar.hours_on(day)
            fits = hours is not None and hours.opens <= begins and ends <= hours.closes
            if not fits and not closed:
                outside.append(slot_id)
            elif fits and closed:
                inside.append(slot_id)
        if inside:
            Slot.objects.filter(pk__in=inside).update(is_closed=False)
            slots_changed(office=office)
        if outside:
            cancelled = _slots_close(
                office=office, slots=Slot.objects.filter(pk__in=outside),
                reason=str(_("opening hours changed")), by=by,
                kind="booking.cancelled_by_hours", title=HOURS_TITLE, body=HOURS_BODY,
                intro=HOURS_INTRO, now=now)
    return cancelled


def _slots_close(*, office: Office, slots, reason: str, by, kind: str, title, body, intro,
                 now: datetime | None = None) -> int:
    """Close `slots` (a queryset of the office's) and cancel the bookings in them, each
    resident told with the next free times of their service from their booking's day
    on (the slots just closed are not among them) and the case kept open to re-book.
    A resident without the app gets `intro` and, with a bound feature phone, two free
    times to reply 1 or 2 to by SMS, else the office's contact (booking_ended_tell).
    Returns how many bookings were cancelled. The caller holds the transaction."""
    now = now or timezone.now()
    # Bookings before slots, as cancelling and rescheduling lock them: a closure and a
    # resident moving their booking at the same moment wait, never deadlock. Once the
    # slots are closed (and locked) nobody can book into them, so a second look finds
    # those who moved in meanwhile.
    in_slots = (lock_objects.bookings_for_update()
                .filter(office=office, slot__in=slots.values("pk"),
                        status=BookingStatus.BOOKED)
                .select_related("slot", "slot__lane", "service", "resident", "application",
                                "office").order_by("pk"))
    booked = list(in_slots)
    slots.update(is_closed=True)
    slots_changed(office=office)
    booked += list(in_slots.exclude(pk__in=[b.pk for b in booked]))
    actor = by if getattr(by, "pk", None) else None
    offered: dict[tuple[int, date], list[Slot]] = {}  # the same for a lane and day
    for booking in booked:
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at, booking.cancelled_by = now, actor
        booking.cancel_reason = reason[:300]
        booking.save(update_fields=["status", "cancelled_at", "cancelled_by",
                                    "cancel_reason"])
        place_free(booking)
        keep_open_for_rebooking(booking, now=now)
        key = (booking.service.lane_id, booking.day)
        if key not in offered:
            offered[key] = _next_free_slots(office=office, service=booking.service,
                                            start=booking.day, now=now)
        offers = offered[key]
        params = {**slot_params(booking), "reason": reason,
                  "offers": "; ".join(f"{date_text(s.date)} {s.start:%H:%M}" for s in offers)
                  or str(_("none in the booking window yet"))}
        case_event_record(application=booking.application, kind=kind,
                          params=params, actor=actor)
        if booking.resident.phone_type == PhoneType.SMARTPHONE:
            notification_send(
                office=office, resident=booking.resident, kind=kind, title=title, body=body,
                params=params, application=booking.application, link=booking_link(booking))
        else:
            booking_ended_tell(booking=booking, kind=kind, title=title, intro=intro,
                               params=params, now=now, start=booking.day)
    return len(booked)


def _next_free_slots(*, office: Office, service: Service, start: date,
                     now: datetime) -> list[Slot]:
    """The first free slots of the service's lane from `start` on, within the booking
    window."""
    first, last = bookable_range(office=office, now=now)
    slots_ensure_window(office=office, now=now)
    return list(Slot.objects.filter(office=office, lane_id=service.lane_id,
                                    date__gte=max(first, start), date__lte=last,
                                    is_closed=False, starts_at__gt=now,
                                    booked__lt=F("capacity"))
                .order_by("starts_at")[:NEXT_FREE_SLOTS_OFFERED])
