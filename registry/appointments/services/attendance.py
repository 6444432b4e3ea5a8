"""A booking at the office, called by queues: check-in, completion and a missed visit.
"""

import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.appointments.models import (
    Booking,
    BookingStatus,
)
from registry.appointments.services.bookings import booking_lock
from registry.appointments.services.notices import date_text, slot_params
from registry.appointments.services.slots import office_rebook_until
from registry.appointments.services.sweeps import expired_followup
from registry.calendar import (
    office_now,
)
from registry.errors import Conflict, DomainError
from registry.services.cases import case_event_record


def booking_check_in(*, booking: Booking, by=None, now: datetime | None = None) -> bool:
    """The resident arrived with their booking: checked in, True when on time (by the
    slot's end), False when late. Only on the slot's day, only once."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking)
        today = now.astimezone(office_now(booking.office).tzinfo).date()
        if booking.status == BookingStatus.CHECKED_IN:
            raise Conflict(_("Booking %(code)s is already checked in.") % {"code": booking.code},
                           "booking_already_checked_in")
        if booking.status != BookingStatus.BOOKED:
            raise DomainError(_("Booking %(code)s is %(status)s and cannot be used.") % {
                "code": booking.code, "status": booking.get_status_display().lower()},
                "booking_not_usable")
        if booking.day != today:
            raise DomainError(_("Booking %(code)s is for %(date)s, not today.") % {
                "code": booking.code, "date": date_text(booking.day)}, "booking_other_day")
        on_time = now <= booking.slot.ends_at
        booking.status, booking.checked_in_at = BookingStatus.CHECKED_IN, now
        booking.save(update_fields=["status", "checked_in_at"])
        case_event_record(
            application=booking.application, kind="booking.checked_in",
            params={**slot_params(booking), "on_time": on_time}, actor=by, at=now)
    return on_time


def booking_complete(*, booking: Booking, by=None, now: datetime | None = None) -> Booking:
    """The checked-in resident was served."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking)
        if booking.status != BookingStatus.CHECKED_IN:
            return booking
        booking.status, booking.finished_at = BookingStatus.DONE, now
        booking.save(update_fields=["status", "finished_at"])
        case_event_record(application=booking.application,
                          kind="booking.done",
                          params={"code": booking.code}, actor=by, at=now)
    return booking


def booking_missed(*, booking: Booking, now: datetime | None = None) -> Booking:
    """A checked-in resident was not there when called (their ticket ended as a
    no-show): the booking expires as a missed visit does."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking)
        if booking.status not in (BookingStatus.BOOKED, BookingStatus.CHECKED_IN):
            return booking
        token = uuid.uuid4().hex
        booking.status, booking.expired_at = BookingStatus.EXPIRED, now
        booking.sweep_token = token
        booking.save(update_fields=["status", "expired_at", "sweep_token"])
        expired_followup(office_id=booking.office_id, token=token, now=now,
                         until=office_rebook_until(booking.office, now))
    return booking
