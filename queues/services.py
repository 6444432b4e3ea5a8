"""Every write of the queues: one function per operation, one transaction each. Each
step of a ticket writes its history (TicketEvent) and, once the resident is known, the
case timeline; the display board's cache is dropped when the step commits.

Locks: see queues.lock_objects (the counter, then the ticket).
"""

import logging
import re
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queues import lock_objects, policy
from queues.models import (
    ACTIVE_STATUSES,
    FINISH_OUTCOMES,
    OUT_OF_ORDER_REASONS,
    Band,
    CallReason,
    Counter,
    CounterLane,
    CounterState,
    NotServedReason,
    Outcome,
    Priority,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketSource,
    TicketStatus,
)
from registry import lock_objects as registry_lock_objects
from registry.appointments import lock_objects as booking_locks
from registry.appointments.models import BookingStatus
from registry.appointments.services.attendance import (
    booking_check_in,
    booking_complete,
    booking_missed,
)
from registry.appointments.services.bookings import booking_get_by_code
from registry.calendar import (
    office_day_bounds,
    office_hours_on,
    office_local,
    office_today,
    office_zone,
)
from registry.central.services.jobs import application_visit_completed
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application, ApplicationStatus, Channel, Lane, Office, Resident, Service
from registry.selectors import office_settings_get
from registry.services.cases import application_open, case_event_record
from registry.services.notifications import notification_send
from registry.services.sequences import sequence_next

logger = logging.getLogger(__name__)

# A ticket code has three digits: a lane issues at most this many tickets a day.
MAX_TICKETS_PER_LANE_DAY = 999
# Tickets closed per sweep transaction; the task runs batches until none is due.
SWEEP_BATCH = 200
BOARD_CACHE_KEY = "queues:board:{code}:{language}"


# --- Settings, counters ------------------------------------------------------------




@transaction.atomic
def counter_create(*, office: Office, number: int, lanes: list[Lane], name: str = "",
                   by=None) -> Counter:
    """A counter serving `lanes` in the order given."""
    if Counter.objects.filter(office=office, number=number).exists():
        raise Conflict(_("Counter %(number)s exists already.") % {"number": number},
                       "counter_exists")
    counter = Counter(office=office, number=number, name=name or f"Loket {number}")
    counter.full_clean()
    counter.save()
    counter_set_lanes(counter=counter, lanes=lanes)
    return counter


@transaction.atomic
def counter_set_lanes(*, counter: Counter, lanes: list[Lane]) -> Counter:
    """Replace the counter's lanes with `lanes`, served in that order."""
    if not lanes:
        raise DomainError(_("A counter serves at least one lane."), "lanes_required")
    if any(lane.office_id != counter.office_id for lane in lanes):
        raise NotFound(_("This lane is not one of this office's."), "lane_not_found")
    if len({lane.id for lane in lanes}) != len(lanes):
        raise DomainError(_("Each lane appears once in a counter's order."), "lane_twice")
    CounterLane.objects.filter(counter=counter).delete()
    CounterLane.objects.bulk_create(
        CounterLane(office_id=counter.office_id, counter=counter, lane=lane, position=n)
        for n, lane in enumerate(lanes, start=1))
    _board_changed(counter.office)
    return counter


def _ensure_open(counter: Counter, by, now: datetime) -> None:
    """Working at a counter opens it (or resumes it after a pause) for today."""
    start_of_day = office_day_bounds(counter.office, office_today(counter.office))[0]
    if counter.state == CounterState.OPEN and counter.state_since >= start_of_day and (
            counter.operator_id == getattr(by, "pk", None)):
        return
    counter.state = CounterState.OPEN
    counter.state_since = now
    counter.pause_reason = ""
    counter.operator = by if getattr(by, "pk", None) else None
    counter.save(update_fields=["state", "state_since", "pause_reason", "operator"])
    _board_changed(counter.office)


def _active_ticket(counter: Counter) -> Ticket | None:
    """The ticket the counter calls or serves, its row locked."""
    return (lock_objects.tickets_for_update().select_related("lane", "service")
            .filter(counter=counter, status__in=ACTIVE_STATUSES).first())


def _ensure_idle(counter: Counter) -> None:
    busy = Ticket.objects.filter(counter=counter, status__in=ACTIVE_STATUSES).values_list(
        "code", flat=True).first()
    if busy is not None:
        raise Conflict(_("Finish ticket %(code)s first (done, no-show or transfer).")
                       % {"code": busy}, "counter_busy", extra={"ticket": busy})


def counter_open(*, counter: Counter, by) -> Counter:
    """Open the counter (or resume after a pause)."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        _ensure_open(counter, by, timezone.now())
    return counter


def counter_pause(*, counter: Counter, by, reason: str = "") -> Counter:
    """Pause: the counter takes no ticket until it is resumed. Its ticket is finished
    first, so nobody is left standing at a counter with nobody behind it."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        _ensure_idle(counter)
        counter.state = CounterState.PAUSED
        counter.state_since = timezone.now()
        counter.pause_reason = (reason or "").strip()[:120]
        counter.operator = by if getattr(by, "pk", None) else None
        counter.save(update_fields=["state", "state_since", "pause_reason", "operator"])
        _board_changed(counter.office)
    return counter


def counter_close(*, counter: Counter, by) -> Counter:
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        _ensure_idle(counter)
        counter.state = CounterState.CLOSED
        counter.state_since = timezone.now()
        counter.pause_reason = ""
        counter.operator = None
        counter.save(update_fields=["state", "state_since", "pause_reason", "operator"])
        _board_changed(counter.office)
    return counter


# --- The board's cache and the history ----------------------------------------------


def board_cache_keys(office: Office) -> list[str]:
    from django.conf import settings

    return [BOARD_CACHE_KEY.format(code=office.code, language=code)
            for code, _name in settings.LANGUAGES]


def _board_changed(office: Office) -> None:
    """The board's cached answer is dropped when the change commits."""
    keys = board_cache_keys(office)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _actor(by):
    return by if getattr(by, "pk", None) else None


def _event_params(ticket: Ticket, event: TicketEvent) -> dict:
    params = {"code": ticket.code, "lane": event.lane.letter, "lane_name": event.lane.name}
    if event.counter_id:
        params["counter"] = event.counter.name
    if event.reason:
        params["reason"] = event.reason
    if event.outcome:
        params["outcome"] = event.outcome
    if event.to_lane_id:
        params["to_lane"] = event.to_lane.letter
        params["to_lane_name"] = event.to_lane.name
    return params


def _timeline(ticket: Ticket, event: TicketEvent, extra: dict | None = None) -> None:
    if ticket.application_id is None:
        return
    case_event_record(
        application=ticket.application, kind=f"queue.{event.kind}",
        params={**_event_params(ticket, event), **(extra or {})}, actor=event.actor,
        at=event.at, note=event.note)


def _record(ticket: Ticket, kind: str, *, at: datetime, lane: Lane | None = None,
            counter: Counter | None = None, by=None, timeline_extra: dict | None = None,
            **fields) -> TicketEvent:
    event = TicketEvent.objects.create(
        office_id=ticket.office_id, ticket=ticket, day=ticket.day, at=at, kind=kind,
        lane=lane or ticket.lane, counter=counter, actor=_actor(by), **fields)
    _timeline(ticket, event, timeline_extra)
    return event


def _seconds(later: datetime, earlier: datetime | None) -> int | None:
    if earlier is None:
        return None
    return max(0, int((later - earlier).total_seconds()))


def _transition(ticket: Ticket, from_statuses, **changes) -> None:
    """A conditional UPDATE: the last defence should a lock ever be missing."""
    updated = Ticket.objects.filter(pk=ticket.pk, status__in=from_statuses).update(**changes)
    if updated != 1:
        raise Conflict(_("Ticket %(code)s was changed at the same moment; look again.")
                       % {"code": ticket.code}, "ticket_changed")
    for field, value in changes.items():
        setattr(ticket, field, value)


# --- Issuing -----------------------------------------------------------------------


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


def ticket_issue_walk_in(*, office: Office, service: Service, priority: str = "", by=None,
                         issue_key: str | None = None) -> Ticket:
    """A walk-in ticket from the kiosk for `service`, with an optional priority category.

    The resident is identified at the counter (ticket_identify), where documents are
    seen; the kiosk asks for nothing personal. With `issue_key` (the kiosk form's
    one-time key) a double tap returns the ticket already issued.
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
    try:
        with transaction.atomic():
            ticket = _ticket_create(office=office, service=service,
                                    source=TicketSource.WALK_IN, priority=priority,
                                    issue_key=issue_key, now=now)
            _record(ticket, TicketEventKind.ISSUED, at=now, by=by,
                    reason=priority, timeline_extra={"priority": priority})
            _board_changed(office)
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
        _record(ticket, TicketEventKind.CHECKED_IN, at=now, by=by,
                reason=priority or ("on_time" if on_time else "late"),
                timeline_extra={"booking": booking.code, "on_time": on_time,
                                "priority": priority})
        _board_changed(office)
    return ticket


# --- Calling -----------------------------------------------------------------------


def _counter_lane_ids(counter: Counter) -> list[int]:
    return list(CounterLane.objects.filter(counter=counter).order_by("position")
                .values_list("lane_id", flat=True))


def _claim_in_lane(*, office: Office, lane_id: int, day, now: datetime,
                   settings: QueueSettings) -> tuple[Ticket, bool] | None:
    """The lane's next ticket by the policy, its row locked (SKIP LOCKED), and whether
    the fairness cap chose it.

    The conditions are on the locked rows themselves, never in a subquery: when another
    counter's call commits while this statement runs, PostgreSQL re-checks them on the
    row's new version and passes over the ticket just called. (A `pk IN (subquery)`
    would be re-checked against the statement's old snapshot and hand the same ticket
    to both counters' claims.)"""
    waiting = Ticket.objects.filter(office=office, lane_id=lane_id, day=day,
                                    status=TicketStatus.WAITING)
    recent = list(TicketEvent.objects.filter(
        office=office, lane_id=lane_id, day=day, kind=TicketEventKind.CALLED)
        .order_by("-at", "-id").values_list("ahead_of_turn", flat=True)[:settings.ahead_cap])
    claim = (lock_objects.tickets_for_update(skip_locked=True).select_related("lane", "service")
             .filter(office=office, lane_id=lane_id, day=day, status=TicketStatus.WAITING))
    if policy.cap_reached(recent, settings.ahead_cap) and waiting.exclude(
            policy.in_turn_q(now)).exists():
        longest = claim.filter(
            policy.in_turn_q(now),
            order_at__lte=now - timedelta(minutes=settings.fairness_wait_minutes),
        ).order_by(*policy.FAIRNESS_ORDER).first()
        if longest is not None:
            return longest, True
    ticket = claim.order_by(*policy.lane_order(now)).first()
    return (ticket, False) if ticket is not None else None


def _passes_over_in_turn(ticket: Ticket, now: datetime) -> bool:
    """Would calling `ticket` now pass over a ticket waiting in turn (band 2) before
    it?"""
    others = (Ticket.objects.filter(office_id=ticket.office_id, lane_id=ticket.lane_id,
                                    day=ticket.day, status=TicketStatus.WAITING)
              .filter(policy.in_turn_q(now)).exclude(pk=ticket.pk))
    if policy.effective_band(band=ticket.band, order_at=ticket.order_at, now=now) \
            != Band.IN_TURN:
        return others.exists()
    return others.filter(Q(order_at__lt=ticket.order_at)
                         | Q(order_at=ticket.order_at, pk__lt=ticket.pk)).exists()


def _mark_called(ticket: Ticket, *, counter: Counter, by, reason: str, ahead_of_turn: bool,
                 now: datetime, settings: QueueSettings | None = None) -> None:
    first_in_lane = ticket.call_count == 0
    changes = {"status": TicketStatus.CALLED, "counter": counter, "operator": _actor(by),
               "called_at": now, "call_reason": reason, "call_count": ticket.call_count + 1}
    if first_in_lane or ticket.status == TicketStatus.NO_SHOW:
        changes["first_called_at"] = now
    _transition(ticket, [TicketStatus.WAITING, TicketStatus.NO_SHOW], **changes)
    _record(ticket, TicketEventKind.CALLED, at=now, counter=counter, by=by, reason=reason,
            ahead_of_turn=ahead_of_turn,
            wait_seconds=_seconds(now, ticket.queued_at) if first_in_lane else None)
    _notify_called(ticket, counter)
    _notify_nearly_turn(counter.office, ticket.lane, ticket.day, settings=settings)
    _board_changed(counter.office)


def ticket_call_next(*, counter: Counter, by) -> Ticket | None:
    """Call the next ticket for `counter` by the policy (queues.policy); None when
    nobody is waiting in its lanes.

    Locks the counter's row (one action at a time at a counter), then claims the ticket
    with SELECT ... FOR UPDATE SKIP LOCKED: two counters calling in the same instant
    take two different tickets, and the conditional UPDATE to "called" plus the
    one-active-ticket-per-counter constraint are the last defence.
    """
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        _ensure_idle(counter)
        now = timezone.now()
        _ensure_open(counter, by, now)
        office = counter.office
        settings = office_settings_get(QueueSettings, office=office)
        day = office_today(office)
        for lane_id in _counter_lane_ids(counter):
            claimed = _claim_in_lane(office=office, lane_id=lane_id, day=day, now=now,
                                     settings=settings)
            if claimed is not None:
                break
        else:
            return None
        ticket, forced = claimed
        band = policy.effective_band(band=ticket.band, order_at=ticket.order_at, now=now)
        reason = policy.call_reason(band=band,
                                    transferred=ticket.transferred_from_id is not None,
                                    forced_by_fairness=forced)
        ahead = band != Band.IN_TURN and _passes_over_in_turn(ticket, now)
        _mark_called(ticket, counter=counter, by=by, reason=reason, ahead_of_turn=ahead,
                     now=now, settings=settings)
    return ticket


def ticket_call(*, counter: Counter, ticket_id: int, reason: str, by) -> Ticket:
    """Call one ticket out of order, with a reason code shown on the board. The ticket
    is waiting in one of the counter's lanes, or missed its call earlier today."""
    if reason not in OUT_OF_ORDER_REASONS:
        raise DomainError(_("Choose why this ticket is called out of order."),
                          "reason_required")
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        office = counter.office
        ticket = (lock_objects.tickets_for_update().select_related("lane", "service")
                  .filter(pk=ticket_id, office=office).first())
        if ticket is None:
            raise NotFound(_("No such ticket at this office."), "ticket_not_found")
        if ticket.day != office_today(office) or ticket.status not in (
                TicketStatus.WAITING, TicketStatus.NO_SHOW) or ticket.closed_at is not None:
            raise Conflict(_("Ticket %(code)s is not waiting.") % {"code": ticket.code},
                           "ticket_not_waiting")
        if ticket.lane_id not in _counter_lane_ids(counter):
            raise DomainError(
                _("%(counter)s does not serve lane %(lane)s; transfer the ticket instead.")
                % {"counter": counter.name, "lane": ticket.lane.letter}, "lane_not_served")
        _ensure_idle(counter)
        now = timezone.now()
        _ensure_open(counter, by, now)
        ahead = ticket.status == TicketStatus.WAITING and _passes_over_in_turn(ticket, now)
        _mark_called(ticket, counter=counter, by=by, reason=reason, ahead_of_turn=ahead,
                     now=now)
    return ticket


def _current(counter: Counter, ticket_id: int | None, statuses) -> Ticket:
    """The counter's ticket, locked; `ticket_id` is what the operator's screen showed,
    so an action never lands on a ticket they did not see."""
    ticket = _active_ticket(counter)
    if ticket is None or (ticket_id is not None and ticket.pk != ticket_id):
        raise Conflict(_("%(counter)s has no such ticket now; the page was out of date.")
                       % {"counter": counter.name}, "no_current_ticket")
    if ticket.status not in statuses:
        if ticket.status == TicketStatus.SERVING:
            raise Conflict(_("Ticket %(code)s is already being served.") % {"code": ticket.code},
                           "ticket_serving")
        raise Conflict(_("Start serving ticket %(code)s first.") % {"code": ticket.code},
                       "ticket_not_started")
    ticket.counter = counter
    ticket.office = counter.office
    return ticket


def ticket_recall(*, counter: Counter, by, ticket_id: int | None = None) -> Ticket:
    """Call the counter's ticket again (the resident did not come yet)."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = _current(counter, ticket_id, [TicketStatus.CALLED])
        now = timezone.now()
        _transition(ticket, [TicketStatus.CALLED], called_at=now,
                    call_count=ticket.call_count + 1)
        _record(ticket, TicketEventKind.RECALLED, at=now, counter=counter, by=by,
                reason=CallReason.RECALL)
        _notify_called(ticket, counter)
        _board_changed(counter.office)
    return ticket


def ticket_start(*, counter: Counter, by, ticket_id: int | None = None) -> Ticket:
    """The resident is at the counter: service starts."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = _current(counter, ticket_id, [TicketStatus.CALLED])
        now = timezone.now()
        _transition(ticket, [TicketStatus.CALLED], status=TicketStatus.SERVING,
                    started_at=now, operator=_actor(by))
        _record(ticket, TicketEventKind.STARTED, at=now, counter=counter, by=by)
        _board_changed(counter.office)
    return ticket


def ticket_finish(*, counter: Counter, by, outcome: str, reason: str = "", note: str = "",
                  ticket_id: int | None = None) -> Ticket:
    """Finish the counter's ticket with its outcome: served, partly served, or could
    not be served (with why). A served ticket moves its case on
    (registry.central.services.application_visit_completed) in this transaction."""
    if outcome not in FINISH_OUTCOMES:
        raise DomainError(_("Choose the outcome."), "outcome_invalid")
    note = (note or "").strip()[:300]
    if outcome == Outcome.NOT_SERVED:
        if reason not in NotServedReason.values:
            raise DomainError(_("Say why the resident could not be served."),
                              "reason_required")
        if reason == NotServedReason.OTHER and not note:
            raise DomainError(_("Write a note saying why."), "note_required")
    else:
        reason = ""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = _current(counter, ticket_id, [TicketStatus.SERVING])
        if ticket.application_id is None and outcome != Outcome.NOT_SERVED:
            raise DomainError(_("Identify the resident (NIK) before finishing ticket "
                                "%(code)s, so the visit is on their case file.")
                              % {"code": ticket.code}, "identify_first")
        now = timezone.now()
        _transition(ticket, [TicketStatus.SERVING], status=TicketStatus.DONE,
                    finished_at=now, outcome=outcome, outcome_reason=reason,
                    outcome_note=note, closed_at=now)
        _record(ticket, TicketEventKind.FINISHED, at=now, counter=counter, by=by,
                outcome=outcome, reason=reason, note=note,
                service_seconds=_seconds(now, ticket.started_at),
                busy_seconds=_seconds(now, ticket.first_called_at))
        if ticket.application_id is not None and outcome == Outcome.SERVED:
            application = registry_lock_objects.applications_for_update().get(
                pk=ticket.application_id)
            if application.status in (ApplicationStatus.OPEN, ApplicationStatus.IN_PROGRESS):
                application_visit_completed(application=application, by=by)
        _booking_finished(ticket, by=by)
        _board_changed(counter.office)
    return ticket


def ticket_no_show(*, counter: Counter, by, ticket_id: int | None = None) -> Ticket:
    """The resident did not come when called. The ticket may still be called out of
    order later today (reason "missed the call"); the end-of-day sweep closes it."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = _current(counter, ticket_id, [TicketStatus.CALLED])
        now = timezone.now()
        _transition(ticket, [TicketStatus.CALLED], status=TicketStatus.NO_SHOW)
        _record(ticket, TicketEventKind.NO_SHOW, at=now, counter=counter, by=by,
                busy_seconds=_seconds(now, ticket.first_called_at))
        _board_changed(counter.office)
    return ticket


def ticket_transfer(*, counter: Counter, to_lane: Lane, by, note: str = "",
                    ticket_id: int | None = None) -> Ticket:
    """Refer the counter's ticket to another lane. It keeps its code and its original
    issue time, so it is called there by when it was issued, not from the back."""
    note = (note or "").strip()[:300]
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        if to_lane.office_id != counter.office_id:
            raise NotFound(_("This lane is not one of this office's."), "lane_not_found")
        if not to_lane.is_active:
            raise DomainError(_("Lane %(lane)s is closed today.") % {"lane": to_lane.letter},
                              "lane_closed")
        ticket = _current(counter, ticket_id, ACTIVE_STATUSES)
        if ticket.lane_id == to_lane.id:
            raise DomainError(_("The ticket is already in lane %(lane)s.")
                              % {"lane": to_lane.letter}, "same_lane")
        now = timezone.now()
        from_lane = ticket.lane
        started_at, first_called_at = ticket.started_at, ticket.first_called_at
        _transition(ticket, ACTIVE_STATUSES, status=TicketStatus.WAITING, lane=to_lane,
                    counter=None, queued_at=now, first_called_at=None, called_at=None,
                    call_reason="", call_count=0, started_at=None, transferred_from=from_lane,
                    ahead_told=False)
        _record(ticket, TicketEventKind.TRANSFERRED, at=now, lane=from_lane, counter=counter,
                by=by, to_lane=to_lane, outcome=Outcome.REFERRED, note=note,
                service_seconds=_seconds(now, started_at),
                busy_seconds=_seconds(now, first_called_at))
        _board_changed(counter.office)
    return ticket


# --- Identifying the resident ------------------------------------------------------


def ticket_identify(*, counter: Counter, resident: Resident, by,
                    ticket_id: int | None = None) -> Ticket:
    """The operator saw the resident's documents: the ticket gets its resident and case
    file (an open one of theirs for this service here, or a new walk-in case), and its
    history so far is written onto that case's timeline."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = _current(counter, ticket_id, ACTIVE_STATUSES)
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
            _timeline(ticket, event, {"priority": event.reason}
                      if event.kind == TicketEventKind.ISSUED else None)
        _record(ticket, TicketEventKind.IDENTIFIED, at=timezone.now(), counter=counter, by=by)
    return ticket


# --- Bookings (registry.appointments) ----------------------------------------------


def _booking_finished(ticket: Ticket, *, by) -> None:
    """The checked-in booking's visit happened (whatever its outcome): the booking is
    done, so the resident may book this service again if needed."""
    if ticket.booking_id is None:
        return

    booking_complete(booking=ticket.booking, by=_actor(by))


def _booking_no_show(ticket: Ticket, now: datetime) -> None:
    """The checked-in resident's ticket ended as a no-show: the booking expires as a
    missed day does (the resident is told and may re-book)."""
    if ticket.booking_id is None:
        return

    booking_missed(booking=ticket.booking, now=now)


# --- Notifications -----------------------------------------------------------------


def _notify_called(ticket: Ticket, counter: Counter) -> None:
    if ticket.resident_id is None:
        return
    notification_send(
        office=counter.office, resident=ticket.resident, kind="queue.called",
        title=_("Your number %(code)s is called"),
        body=_("Please go to %(counter)s now (lane %(lane)s, %(lane_name)s)."),
        params={"code": ticket.code, "counter": counter.name, "lane": ticket.lane.letter,
                "lane_name": ticket.lane.name},
        application=ticket.application)


def _notify_nearly_turn(office: Office, lane: Lane, day,
                        settings: QueueSettings | None = None) -> None:
    """Residents with `notify_ahead` or fewer tickets ahead of them in the lane are told
    once per lane; the dedup key keeps it once even if two calls race."""
    settings = settings or office_settings_get(QueueSettings, office=office)
    head = list(Ticket.objects.filter(office=office, lane=lane, day=day,
                                      status=TicketStatus.WAITING)
                .order_by(*policy.lane_order(timezone.now()))
                .values_list("id", "resident_id", "ahead_told")[:settings.notify_ahead + 1])
    to_tell = {pk: ahead for ahead, (pk, resident_id, told) in enumerate(head)
               if resident_id is not None and not told}
    if not to_tell:
        return
    for ticket in Ticket.objects.filter(pk__in=to_tell).select_related("resident",
                                                                         "application"):
        notification_send(
            office=office, resident=ticket.resident, kind="queue.nearly_turn",
            title=_("Your turn is near: %(code)s"),
            body=_("%(ahead)s ticket(s) ahead of yours in lane %(lane)s (%(lane_name)s). "
                   "Please stay in the hall and watch the board."),
            params={"code": ticket.code, "ahead": to_tell[ticket.pk], "lane": lane.letter,
                    "lane_name": lane.name},
            application=ticket.application,
            dedup_key=f"queue:{ticket.pk}:ahead:{lane.pk}")
    Ticket.objects.filter(pk__in=to_tell).update(ahead_told=True)


# --- End of day --------------------------------------------------------------------


def _close_at_end_of_day(ticket: Ticket, now: datetime) -> None:
    if ticket.status in (TicketStatus.WAITING, TicketStatus.CALLED):
        _transition(ticket, [ticket.status], status=TicketStatus.NO_SHOW, closed_at=now)
        _record(ticket, TicketEventKind.NO_SHOW, at=now, counter=None, reason="end_of_day",
                busy_seconds=None, timeline_extra={"by_sweep": True})
    elif ticket.status == TicketStatus.SERVING:
        _transition(ticket, [TicketStatus.SERVING], status=TicketStatus.DONE,
                    outcome=Outcome.UNRECORDED, finished_at=now, closed_at=now)
        _record(ticket, TicketEventKind.CLOSED, at=now, counter=ticket.counter,
                outcome=Outcome.UNRECORDED)
    else:
        _transition(ticket, [ticket.status], closed_at=now)
    if ticket.status == TicketStatus.NO_SHOW:
        _booking_no_show(ticket, now)
    elif ticket.outcome == Outcome.UNRECORDED:
        _booking_finished(ticket, by=None)


def tickets_close_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """The end-of-day sweep, one batch: tickets past their `sweep_due_at` still waiting
    or called become no-shows (bookings behind them follow the appointments rules),
    tickets still being served are closed without an outcome, and no-shows marked
    earlier are closed for good. Rows another transaction holds are skipped and taken
    by the next run; running it twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(lock_objects.tickets_for_update(skip_locked=True)
                   .filter(closed_at__isnull=True, sweep_due_at__lte=now)
                   .select_related("office", "lane", "counter", "application", "booking")
                   .order_by("sweep_due_at", "id")[:batch])
        offices = {}
        for ticket in due:
            _close_at_end_of_day(ticket, now)
            offices[ticket.office_id] = ticket.office
        for office in offices.values():
            _board_changed(office)
    return len(due)
