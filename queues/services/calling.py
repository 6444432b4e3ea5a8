"""Calling: call next, recall, transfer, finish and no-show, at a counter.

Locks: see queues.lock_objects (the counter, then the ticket).
"""

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
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
    QueueSettings,
    Ticket,
    TicketEventKind,
    TicketStatus,
)
from queues.services.board import (
    actor_of,
    board_changed,
    seconds_between,
    ticket_event_record,
    ticket_transition,
)
from queues.services.counters import (
    counter_active_ticket,
    counter_ensure_idle,
    counter_ensure_open,
    counter_state_set,
)
from queues.services.notices import booking_finished, notify_called, notify_nearly_turn
from registry import lock_objects as registry_lock_objects
from registry.calendar import (
    office_today,
)
from registry.central.services.jobs import application_visit_completed
from registry.errors import Conflict, DomainError, NotFound
from registry.models import ApplicationStatus, Lane
from registry.services.offices import office_settings_get

logger = logging.getLogger(__name__)


def _counter_lane_ids(counter: Counter) -> list[int]:
    return list(CounterLane.objects.filter(counter=counter).order_by("position")
                .values_list("lane_id", flat=True))


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
    changes = {"status": TicketStatus.CALLED, "counter": counter, "operator": actor_of(by),
               "called_at": now, "call_reason": reason, "call_count": ticket.call_count + 1}
    if first_in_lane or ticket.status == TicketStatus.NO_SHOW:
        changes["first_called_at"] = now
    ticket_transition(ticket, [TicketStatus.WAITING, TicketStatus.NO_SHOW], **changes)
    ticket_event_record(
        ticket, TicketEventKind.CALLED, at=now, counter=counter, by=by, reason=reason,
        ahead_of_turn=ahead_of_turn,
        wait_seconds=seconds_between(now, ticket.queued_at) if first_in_lane else None)
    counter_state_set(counter, CounterState.CALLING, by=by, now=now, ticket=ticket)
    notify_called(ticket, counter)
    notify_nearly_turn(counter.office, ticket.lane_id, ticket.day, settings=settings)
    board_changed(counter.office)


def _claim_next(*, counter: Counter, by, day, now: datetime,
                settings: QueueSettings) -> tuple[Ticket, bool] | None:
    """Claim the counter's next ticket by the policy and mark it called, in one
    statement (queues.policy.call_next_sql). Returns the ticket and whether the call
    passed over a ticket waiting in turn (ahead of turn)."""
    lock = " FOR UPDATE OF t SKIP LOCKED" if connection.features.has_select_for_update_skip_locked \
        else ""  # SQLite: the write lock of the transaction serialises calls
    params = {
        "counter": counter.pk, "office": counter.office_id, "operator": getattr(by, "pk", None),
        "day": day, "now": now, "cap": settings.ahead_cap,
        "fair_before": now - timedelta(minutes=settings.fairness_wait_minutes),
        "waiting": TicketStatus.WAITING, "called": TicketStatus.CALLED,
        "called_kind": TicketEventKind.CALLED,
    }
    claimed = list(Ticket.objects.raw(policy.call_next_sql(lock_clause=lock), params))
    if not claimed:
        return None
    ticket = claimed[0]
    return ticket, bool(ticket.ahead)


def _counter_ensure_idle_for_call(counter: Counter) -> None:
    """The idle check folded into the counter's lock (lock_objects.counter_for_call):
    when the counter's state and the ticket it holds agree, that is the answer; when
    they disagree (an action here committed while this one waited for the lock, or a
    sweep closed its ticket) look again with a fresh statement."""
    active = counter.state in (CounterState.CALLING, CounterState.SERVING)
    if counter.busy_code is not None and active:
        raise Conflict(_("Finish ticket %(code)s first (done, no-show or transfer).")
                       % {"code": counter.busy_code}, "counter_busy",
                       extra={"ticket": counter.busy_code})
    if counter.busy_code is not None or active:
        counter_ensure_idle(counter)


def ticket_call_next(*, counter: Counter, by) -> Ticket | None:
    """Call the next ticket for `counter` by the policy (queues.policy); None when
    nobody is waiting in its lanes.

    Locks the counter's row (one action at a time at a counter), reading its office,
    queue settings and current ticket in the same statement; then claims and marks the
    ticket in one statement with FOR UPDATE SKIP LOCKED (queues.policy.call_next_sql):
    two counters calling in the same instant take two different tickets, and the
    conditional UPDATE to "called" plus the one-active-ticket-per-counter constraint
    are the last defence. Settings and the counter's lanes are read in these
    statements, so a change in the admin applies to the next call on every worker.
    """
    with transaction.atomic():
        counter = lock_objects.counter_for_call(counter.pk)
        _counter_ensure_idle_for_call(counter)
        now = timezone.now()
        counter_ensure_open(counter, by, now)
        office = counter.office
        settings = office_settings_get(QueueSettings, office=office)
        day = office_today(office)
        claimed = _claim_next(counter=counter, by=by, day=day, now=now, settings=settings)
        if claimed is None:
            return None
        ticket, ahead = claimed
        first_in_lane = ticket.call_count == 1
        ticket_event_record(
            ticket, TicketEventKind.CALLED, at=now, counter=counter, by=by,
            reason=ticket.call_reason, ahead_of_turn=ahead,
            wait_seconds=seconds_between(now, ticket.queued_at) if first_in_lane else None)
        counter_state_set(counter, CounterState.CALLING, by=by, now=now, ticket=ticket)
        notify_called(ticket, counter)
        if ticket.anyone_to_tell:
            notify_nearly_turn(office, ticket.lane_id, day, settings=settings)
        board_changed(office)
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
        counter_ensure_idle(counter)
        now = timezone.now()
        counter_ensure_open(counter, by, now)
        ahead = ticket.status == TicketStatus.WAITING and _passes_over_in_turn(ticket, now)
        _mark_called(ticket, counter=counter, by=by, reason=reason, ahead_of_turn=ahead,
                     now=now)
    return ticket


def counter_current_ticket(counter: Counter, ticket_id: int | None, statuses) -> Ticket:
    """The counter's ticket, locked; `ticket_id` is what the operator's screen showed,
    so an action never lands on a ticket they did not see."""
    ticket = counter_active_ticket(counter)
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
        ticket = counter_current_ticket(counter, ticket_id, [TicketStatus.CALLED])
        now = timezone.now()
        ticket_transition(ticket, [TicketStatus.CALLED], called_at=now,
                          call_count=ticket.call_count + 1)
        ticket_event_record(ticket, TicketEventKind.RECALLED, at=now, counter=counter, by=by,
                            reason=CallReason.RECALL)
        notify_called(ticket, counter)
        board_changed(counter.office)
    return ticket


def ticket_start(*, counter: Counter, by, ticket_id: int | None = None) -> Ticket:
    """The resident is at the counter: service starts."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = counter_current_ticket(counter, ticket_id, [TicketStatus.CALLED])
        now = timezone.now()
        ticket_transition(ticket, [TicketStatus.CALLED], status=TicketStatus.SERVING,
                          started_at=now, operator=actor_of(by))
        ticket_event_record(ticket, TicketEventKind.STARTED, at=now, counter=counter, by=by)
        counter_state_set(counter, CounterState.SERVING, by=by, now=now, ticket=ticket)
        board_changed(counter.office)
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
        ticket = counter_current_ticket(counter, ticket_id, [TicketStatus.SERVING])
        if ticket.application_id is None and outcome != Outcome.NOT_SERVED:
            raise DomainError(_("Identify the resident (NIK) before finishing ticket "
                                "%(code)s, so the visit is on their case file.")
                              % {"code": ticket.code}, "identify_first")
        now = timezone.now()
        ticket_transition(ticket, [TicketStatus.SERVING], status=TicketStatus.DONE,
                          finished_at=now, outcome=outcome, outcome_reason=reason,
                          outcome_note=note, closed_at=now)
        ticket_event_record(ticket, TicketEventKind.FINISHED, at=now, counter=counter, by=by,
                            outcome=outcome, reason=reason, note=note,
                            service_seconds=seconds_between(now, ticket.started_at),
                            busy_seconds=seconds_between(now, ticket.first_called_at))
        counter_state_set(counter, CounterState.IDLE, by=by, now=now, ticket=ticket)
        if ticket.application_id is not None and outcome == Outcome.SERVED:
            application = registry_lock_objects.applications_for_update().get(
                pk=ticket.application_id)
            if application.status in (ApplicationStatus.OPEN, ApplicationStatus.IN_PROGRESS):
                application_visit_completed(application=application, by=by)
        booking_finished(ticket, by=by)
        board_changed(counter.office)
    return ticket


def ticket_no_show(*, counter: Counter, by, ticket_id: int | None = None) -> Ticket:
    """The resident did not come when called. The ticket may still be called out of
    order later today (reason "missed the call"); the end-of-day sweep closes it."""
    with transaction.atomic():
        counter = lock_objects.counter_for_update(counter.pk)
        ticket = counter_current_ticket(counter, ticket_id, [TicketStatus.CALLED])
        now = timezone.now()
        ticket_transition(ticket, [TicketStatus.CALLED], status=TicketStatus.NO_SHOW)
        ticket_event_record(ticket, TicketEventKind.NO_SHOW, at=now, counter=counter, by=by,
                            busy_seconds=seconds_between(now, ticket.first_called_at))
        counter_state_set(counter, CounterState.IDLE, by=by, now=now, ticket=ticket)
        board_changed(counter.office)
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
        ticket = counter_current_ticket(counter, ticket_id, ACTIVE_STATUSES)
        if ticket.lane_id == to_lane.id:
            raise DomainError(_("The ticket is already in lane %(lane)s.")
                              % {"lane": to_lane.letter}, "same_lane")
        now = timezone.now()
        from_lane = ticket.lane
        started_at, first_called_at = ticket.started_at, ticket.first_called_at
        ticket_transition(ticket, ACTIVE_STATUSES, status=TicketStatus.WAITING, lane=to_lane,
                          counter=None, queued_at=now, first_called_at=None, called_at=None,
                          call_reason="", call_count=0, started_at=None, transferred_from=from_lane,
                          ahead_told=False)
        ticket_event_record(
            ticket, TicketEventKind.TRANSFERRED, at=now, lane=from_lane, counter=counter,
            by=by, to_lane=to_lane, outcome=Outcome.REFERRED, note=note,
            service_seconds=seconds_between(now, started_at),
            busy_seconds=seconds_between(now, first_called_at))
        counter_state_set(counter, CounterState.IDLE, by=by, now=now, ticket=ticket)
        board_changed(counter.office)
    return ticket
