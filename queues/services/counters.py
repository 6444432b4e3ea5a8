"""Counters and the office's queue settings: opening, closing and breaks of a counter,
and the lanes it serves.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queues import lock_objects
from queues.models import (
    ACTIVE_STATUSES,
    Counter,
    CounterLane,
    CounterState,
    Ticket,
)
from queues.services.board import board_changed
from registry.calendar import (
    office_day_bounds,
    office_today,
)
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Lane, Office

logger = logging.getLogger(__name__)


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
    board_changed(counter.office)
    return counter


def counter_ensure_open(counter: Counter, by, now: datetime) -> None:
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
    board_changed(counter.office)


def counter_active_ticket(counter: Counter) -> Ticket | None:
    """The ticket the counter calls or serves, its row locked."""
    return (lock_objects.tickets_for_update().select_related("lane", "service")
            .filter(counter=counter, status__in=ACTIVE_STATUSES).first())


def counter_ensure_idle(counter: Counter) -> None:
    busy = Ticket.objects.filter(counter=counter, status__in=ACTIVE_STATUSES).values_list(
        "code", flat=True).first()
    if busy is not None:
        raise Conflict(_("Finish ticket %(code)s first (done, no-show or transfer).")
                       % {"code": busy}, "counter_busy", extra={"ticket": busy})


def counter_open(*, counter: Counter, by) -> Counter:
    """Open the counter (or resume after a pause)."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        counter_ensure_open(counter, by, timezone.now())
    return counter


def counter_pause(*, counter: Counter, by, reason: str = "") -> Counter:
    """Pause: the counter takes no ticket until it is resumed. Its ticket is finished
    first, so nobody is left standing at a counter with nobody behind it."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        counter_ensure_idle(counter)
        counter.state = CounterState.PAUSED
        counter.state_since = timezone.now()
        counter.pause_reason = (reason or "").strip()[:120]
        counter.operator = by if getattr(by, "pk", None) else None
        counter.save(update_fields=["state", "state_since", "pause_reason", "operator"])
        board_changed(counter.office)
    return counter


def counter_close(*, counter: Counter, by) -> Counter:
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        counter_ensure_idle(counter)
        counter.state = CounterState.CLOSED
        counter.state_since = timezone.now()
        counter.pause_reason = ""
        counter.operator = None
        counter.save(update_fields=["state", "state_since", "pause_reason", "operator"])
        board_changed(counter.office)
    return counter
