"""Counters and the office's queue settings: opening, closing and breaks of a counter,
and the lanes it serves.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from queues import lock_objects
from queues.models import (
    ACTIVE_STATUSES,
    Counter,
    CounterAlert,
    CounterAlertEnd,
    CounterEvent,
    CounterLane,
    CounterState,
    PauseReason,
    Ticket,
)
from queues.services.board import actor_of, board_changed
from registry.calendar import (
    office_day_bounds,
    office_today,
)
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Lane, Office

logger = logging.getLogger(__name__)

# The pause reasons an office starts with: code, name, allowed minutes, needs a note.
DEFAULT_PAUSE_REASONS = [
    ("break", _("Break"), 30, False),
    ("prayer", _("Prayer"), 20, False),
    ("system_down", _("System down"), 30, False),
    ("other", _("Other"), 10, True),
]


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


def counter_state_set(counter: Counter, state: str, *, by, now: datetime,
                      operator=None, pause_reason: PauseReason | None = None,
                      note: str = "", ticket: Ticket | None = None) -> CounterEvent | None:
    """Move the locked `counter` to `state` and append the change to its history
    (CounterEvent). `operator` is who works at it from now on (default: unchanged; None
    when it closes). An open idle-counter alert closes when the counter calls or
    closes. Nothing is written when nothing changes."""
    # By id: the operator's row is not read when it stays the same.
    operator_id = counter.operator_id if operator is None and state != CounterState.CLOSED \
        else getattr(operator, "pk", None)
    note = (note or "").strip()[:120]
    if (counter.state, counter.operator_id, counter.pause_reason_id, counter.pause_note) == (
            state, operator_id, getattr(pause_reason, "pk", None), note):
        return None
    previous = counter.state
    counter.state, counter.state_since = state, now
    if operator is not None and operator_id is not None:
        counter.operator = operator
    else:
        counter.operator_id = operator_id
    counter.pause_reason, counter.pause_note = pause_reason, note
    # An UPDATE, not save(): the state's history is the CounterEvent below, not the
    # audit of staff changes to settings (registry.audit), which records the counter's
    # name, lanes and being in use when staff edit them.
    Counter.objects.filter(pk=counter.pk).update(
        state=state, state_since=now, operator_id=operator_id, pause_reason=pause_reason,
        pause_note=note)
    event = CounterEvent.objects.create(
        office_id=counter.office_id, counter=counter, day=office_today(counter.office),
        at=now, state=state, previous=previous, operator_id=operator_id, actor=actor_of(by),
        pause_reason=pause_reason, note=note, ticket=ticket)
    if state in (CounterState.CALLING, CounterState.CLOSED):
        counter_alert_close(counter=counter, now=now,
                            ended_by=CounterAlertEnd.CALLED if state == CounterState.CALLING
                            else CounterAlertEnd.CLOSED)
    board_changed(counter.office)
    return event


def counter_alert_close(*, counter: Counter, now: datetime, ended_by: str) -> int:
    """Close the counter's open idle alert, if any (a conditional update: once)."""
    return CounterAlert.objects.filter(counter=counter, closed_at__isnull=True).update(
        closed_at=now, ended_by=ended_by)


def counter_ensure_open(counter: Counter, by, now: datetime) -> None:
    """Working at a counter opens it (or resumes it after a pause) for today, with
    `by` as its operator."""
    start_of_day = office_day_bounds(counter.office, office_today(counter.office))[0]
    operator = by if getattr(by, "pk", None) else None
    if counter.is_open and counter.state_since >= start_of_day and (
            counter.operator_id == getattr(operator, "pk", None)):
        return
    if counter.is_open and counter.state_since >= start_of_day:
        # Another operator took over the open counter: same state, new operator.
        counter_state_set(counter, counter.state, by=by, now=now, operator=operator)
        return
    counter_state_set(counter, CounterState.IDLE, by=by, now=now, operator=operator)


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


def pause_reasons_ensure(office: Office) -> list[PauseReason]:
    """The office's pause reasons in use, the defaults made on first use (an office
    administrator edits the list and the minutes in the admin)."""
    if not PauseReason.objects.filter(office=office).exists():
        # The office edits these names: written once, in the office's language.
        with translation.override(settings.LANGUAGE_CODE):
            PauseReason.objects.bulk_create(
                [PauseReason(office=office, code=code, name=str(name),
                             allowed_minutes=minutes, needs_note=needs_note, position=n)
                 for n, (code, name, minutes, needs_note)
                 in enumerate(DEFAULT_PAUSE_REASONS, 1)],
                ignore_conflicts=True)
    return list(PauseReason.objects.filter(office=office, is_active=True)
                .order_by("position", "id"))


def counter_pause(*, counter: Counter, by, reason: str = "", note: str = "") -> Counter:
    """Pause for a reason of the office's list (its code; "other" needs a note): the
    counter takes no ticket until it is resumed. Its ticket is finished first, so
    nobody is left standing at a counter with nobody behind it."""
    reasons = {r.code: r for r in pause_reasons_ensure(counter.office)}
    chosen = reasons.get(str(reason or "").strip())
    if chosen is None:
        raise DomainError(_("Choose why the counter is paused."), "pause_reason_required",
                          extra={"reasons": sorted(reasons)})
    note = (note or "").strip()[:120]
    if chosen.needs_note and not note:
        raise DomainError(_("Write a note saying why the counter is paused."),
                          "note_required")
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        counter_ensure_idle(counter)
        counter_state_set(counter, CounterState.PAUSED, by=by, now=timezone.now(),
                          operator=by if getattr(by, "pk", None) else None,
                          pause_reason=chosen, note=note)
    return counter


def counter_close(*, counter: Counter, by) -> Counter:
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        counter_ensure_idle(counter)
        counter_state_set(counter, CounterState.CLOSED, by=by, now=timezone.now())
    return counter


def counters_close_stale(*, office: Office, now: datetime | None = None) -> int:
    """Counters left open or paused on an earlier day are closed (by nobody: the
    end-of-day sweep), so a new day starts with every counter closed and no timer
    running overnight."""
    now = now or timezone.now()
    start_of_day = office_day_bounds(office, office_today(office))[0]
    closed = 0
    for pk in (Counter.objects.filter(office=office, state_since__lt=start_of_day)
               .exclude(state=CounterState.CLOSED).values_list("pk", flat=True)):
        with transaction.atomic():
            counter = lock_objects.counter_for_update(pk)
            if counter.state == CounterState.CLOSED or counter.state_since >= start_of_day:
                continue
            if Ticket.objects.filter(counter=counter, status__in=ACTIVE_STATUSES).exists():
                continue
            counter_state_set(counter, CounterState.CLOSED, by=None, now=now)
            counter_alert_close(counter=counter, now=now, ended_by=CounterAlertEnd.END_OF_DAY)
            closed += 1
    return closed
