"""Issuing tickets: at the kiosk or the desk (walk-in), at check-in of a booking, and
the resident a ticket is for.
"""

import logging
import re
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queues import lock_objects, policy
from queues.models import (
    ACTIVE_STATUSES,
    Counter,
    Priority,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketSource,
)
from queues.services.board import board_changed, ticket_event_record, ticket_timeline_record
from queues.services.calling import counter_current_ticket
from queues.services.walk_in_limits import walk_in_quota_exceeded, walk_in_refusal
from registry.appointments import lock_objects as booking_locks
from registry.appointments.models import BookingStatus
from registry.appointments.services.attendance import (
    booking_check_in,
)
from registry.appointments.services.bookings import booking_get_by_code
from registry.calendar import (
    office_day_bounds,
    office_hours_on,
    office_local,
    office_today,
    office_zone,
)
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application, ApplicationStatus, Channel, Office, Resident, Service
from registry.services.cases import application_open
from registry.services.offices import office_settings_get
from registry.services.sequences import sequence_next

logger = logging.getLogger(__name__)


# A ticket code has three digits: a lane issues at most this many tickets a day.
MAX_TICKETS_PER_LANE_DAY = 999


def _sweep_due_at(office: Office, settings: QueueSettings, issued_at: datetime) -> datetime:
    """When the end-of-day sweep may close a ticket issued at `issued_at`: the grace
    after closing time (or after issue, when issued later or on a closed day), and by
    midnight at the latest."""
    day = issued_at.astimezone(office_zone(office)).date()
    hours = office_hours_on(office, day)
    base = max(office_local(office, day, hours.closes), issued_at) if hours else issued_at
    due = base + timedelta(minutes=settings.end_of_day_grace_minutes)
    return min(due, office_day_bounds(office, day)[1])


def _ticket_create(*, office: Office, service: Service, source: str, priority: str = "",
                   booking_on_time: bool = False, order_at: datetime | None = None,
                   resident: Resident | None = None,
                   application: Application | None = None, issue_key: str | None = None,
                   booking=None, now: datetime) -> Ticket:
    """A new ticket with the lane's next number of the day. The number's counter row
    (registry.Sequence) stays locked until the caller's transaction ends."""
    lane = service.lane
    day = office_today(office)
    number = sequence_next(office=office,
                           scope=f"ticket:{lane.letter}:{day.isoformat()}")
    if number > MAX_TICKETS_PER_LANE_DAY:
        raise Conflict(_("Lane %(lane)s has issued all its numbers for today.")
                       % {"lane": lane.letter}, "lane_numbers_exhausted")
    settings = office_settings_get(QueueSettings, office=office)
    return Ticket.objects.create(
        office=office, day=day, code=f"{lane.letter}-{number:03d}", number=number, lane=lane,
        service=service, source=source, priority=priority,
        band=policy.band_for(priority=priority, booking_on_time=booking_on_time),
        order_at=order_at or now, resident=resident, application=application,
        booking=booking, issued_at=now, queued_at=now,
        sweep_due_at=_sweep_due_at(office, settings, now), issue_key=issue_key)


class _QuotaPassed(Exception):
    """Rolls back a walk-in ticket that would pass its lane's quota."""


def ticket_issue_walk_in(*, office: Office, service: Service, priority: str = "", by=None,
                         issue_key: str | None = None, limits: bool = True) -> Ticket:
    """A walk-in ticket from the kiosk for `service`, with an optional priority category.

    The resident is identified at the counter (ticket_identify), where documents are
    seen; the kiosk asks for nothing personal. With `issue_key` (the kiosk form's
    one-time key) a double tap returns the ticket already issued.

    A lane that takes no walk-in now (queues.services.walk_in_limits: the office's
    days and hours, its cut-off time, the lane's daily quota, a wait past closing) is
    refused with Conflict "walk_in_refused", saying when to come back and the next
    free booking times. `limits=False` is for loading data (the demo's morning, the
    benchmarks' days), never for a kiosk.
    """
    if service.office_id != office.id or not service.is_active:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    if not service.lane.is_active:
        raise DomainError(_("Lane %(lane)s is closed today.") % {"lane": service.lane.letter},
                          "lane_closed")
    if priority and priority not in Priority.values:
        raise DomainError(_("Unknown priority category."), "priority_invalid")
    if issue_key:
        earlier = Ticket.objects.filter(office=office, issue_key=issue_key).first()
        if earlier is not None:
            return earlier
    now = timezone.now()
    refusal = walk_in_refusal(office=office, lane=service.lane, now=now) if limits else None
    if refusal is not None:
        raise refusal.error(office)
    try:
        with transaction.atomic():
            ticket = _ticket_create(office=office, service=service,
                                    source=TicketSource.WALK_IN, priority=priority,
                                    issue_key=issue_key, now=now)
            ticket_event_record(ticket, TicketEventKind.ISSUED, at=now, by=by,
                                reason=priority, timeline_extra={"priority": priority})
            # Counted again under the lane's number lock: two kiosks at once never
            # pass the quota together.
            if limits and walk_in_quota_exceeded(office=office, lane=service.lane,
                                                 day=ticket.day):
                raise _QuotaPassed
            board_changed(office)
    except _QuotaPassed:
        # Told outside the rolled-back transaction: the refusal reads the free slots,
        # which may make them.
        refusal = walk_in_refusal(office=office, lane=service.lane, now=now)
        if refusal is None:  # the quota was raised meanwhile
            raise Conflict(_("Take a number again."), "walk_in_retry") from None
        raise refusal.error(office) from None
    except IntegrityError:
        if issue_key:
            earlier = Ticket.objects.filter(office=office, issue_key=issue_key).first()
            if earlier is not None:
                return earlier
        raise
    return ticket


# A booking code: 8 characters of the appointments' alphabet (no 0/O, 1/I/L).
_BOOKING_CODE = re.compile(r"[2-9A-HJKMNP-Z]{8}")


def booking_code_from_scan(text: str) -> str:
    """The booking code in what was typed or scanned: the code itself in any case and
    with spaces, or a QR's text holding it (a link ending in the code, "EOPEN:CODE").
    Unrecognised text is returned as typed, cleaned, so the not-found message shows
    it."""
    cleaned = "".join(str(text or "").split()).upper()[:200]
    if _BOOKING_CODE.fullmatch(cleaned):
        return cleaned
    found = [token for token in re.split(r"[^0-9A-Z]+", cleaned)
             if _BOOKING_CODE.fullmatch(token)]
    return found[-1] if found else cleaned[:12]


def ticket_check_in(*, office: Office, booking_code: str, by=None, priority: str = ""
                    ) -> Ticket:
    """Check in a booking by its code (typed, or a QR scanned at the kiosk or the front
    desk) and issue its ticket in the lane of the booking's service, with the booking's
    resident and case.

    The booking is checked in (registry.appointments.services.booking_check_in: only on
    the slot's day, only a booking not used yet) in the same transaction. Checked in by
    the end of its slot, the ticket is in the bookings' band ordered by the slot's start
    (queues.policy); later, it queues with the walk-ins from now. Checking in again
    returns the same ticket. Another office's code answers the same NotFound as an
    unknown one.

    Locks the booking's row first, so two check-ins of one booking at once give one
    ticket."""
    if priority and priority not in Priority.values:
        raise DomainError(_("Unknown priority category."), "priority_invalid")
    booking = booking_get_by_code(office=office,
                                  code=booking_code_from_scan(booking_code))
    existing = Ticket.objects.filter(booking=booking).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        booking = (booking_locks.bookings_for_update()
                   .select_related("slot", "service__lane", "resident", "application")
                   .get(pk=booking.pk))
        existing = Ticket.objects.filter(booking=booking).first()
        if existing is not None:
            return existing
        lane = booking.service.lane
        if not lane.is_active:
            raise DomainError(_("Lane %(lane)s is closed today.") % {"lane": lane.letter},
                              "lane_closed")
        now = timezone.now()
        if booking.status == BookingStatus.CHECKED_IN:
            # Checked in without a ticket (by the appointments' own pages): the ticket
            # follows the time of that check-in, on the booking's day only.
            if booking.day != office_today(office):
                raise DomainError(_("Booking %(code)s was for another day.")
                                  % {"code": booking.code}, "booking_other_day")
            on_time = booking.checked_in_at <= booking.slot.ends_at
        else:
            on_time = booking_check_in(booking=booking, by=by, now=now)
        ticket = _ticket_create(
            office=office, service=booking.service, source=TicketSource.BOOKING,
            priority=priority, booking_on_time=on_time,
            order_at=booking.slot.starts_at if on_time else now, resident=booking.resident,
            application=booking.application, booking=booking, now=now)
        ticket_event_record(ticket, TicketEventKind.CHECKED_IN, at=now, by=by,
                            reason=priority or ("on_time" if on_time else "late"),
                            timeline_extra={"booking": booking.code, "on_time": on_time,
                                            "priority": priority})
        board_changed(office)
    return ticket


def ticket_identify(*, counter: Counter, resident: Resident, by,
                    ticket_id: int | None = None) -> Ticket:
    """The operator saw the resident's documents: the ticket gets its resident and case
    file (an open one of theirs for this service here, or a new walk-in case), and its
    history so far is written onto that case's timeline."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = counter_current_ticket(counter, ticket_id, ACTIVE_STATUSES)
        if ticket.resident_id is not None:
            if ticket.resident_id == resident.pk and ticket.application_id is not None:
                return ticket
            if ticket.resident_id != resident.pk:
                raise Conflict(_("Ticket %(code)s belongs to another resident.")
                               % {"code": ticket.code}, "ticket_other_resident")
        application = (Application.objects.filter(
            office=counter.office, resident=resident, service=ticket.service,
            status__in=[ApplicationStatus.OPEN, ApplicationStatus.IN_PROGRESS])
            .order_by("-created_at", "-id").first())
        if application is None:
            application = application_open(
                office=counter.office, resident=resident, service=ticket.service,
                channel=Channel.WALK_IN, by=by)
        Ticket.objects.filter(pk=ticket.pk).update(resident=resident, application=application)
        ticket.resident, ticket.application = resident, application
        for event in (TicketEvent.objects.filter(ticket=ticket)
                      .select_related("lane", "counter", "to_lane", "actor").order_by("at", "id")):
            ticket_timeline_record(ticket, event, {"priority": event.reason}
                      if event.kind == TicketEventKind.ISSUED else None)
        ticket_event_record(
            ticket, TicketEventKind.IDENTIFIED, at=timezone.now(), counter=counter, by=by)
    return ticket
