"""The end of the day: tickets still open when the office closes are closed by the
sweep.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from queues import lock_objects
from queues.models import (
    Counter,
    CounterState,
    Outcome,
    Ticket,
    TicketEventKind,
    TicketStatus,
)
from queues.services.board import board_changed, ticket_event_record, ticket_transition
from queues.services.notices import booking_finished, booking_no_show

logger = logging.getLogger(__name__)


# Tickets closed per sweep transaction; the task runs batches until none is due.
SWEEP_BATCH = 200


def _close_at_end_of_day(ticket: Ticket, now: datetime) -> None:
    if ticket.status in (TicketStatus.WAITING, TicketStatus.CALLED):
        ticket_transition(ticket, [ticket.status], status=TicketStatus.NO_SHOW, closed_at=now)
        ticket_event_record(
            ticket, TicketEventKind.NO_SHOW, at=now, counter=None, reason="end_of_day",
            busy_seconds=None, timeline_extra={"by_sweep": True})
    elif ticket.status == TicketStatus.SERVING:
        ticket_transition(ticket, [TicketStatus.SERVING], status=TicketStatus.DONE,
                          outcome=Outcome.UNRECORDED, finished_at=now, closed_at=now)
        ticket_event_record(ticket, TicketEventKind.CLOSED, at=now, counter=ticket.counter,
                            outcome=Outcome.UNRECORDED)
    else:
        ticket_transition(ticket, [ticket.status], closed_at=now)
    if ticket.status == TicketStatus.NO_SHOW:
        booking_no_show(ticket, now)
    elif ticket.outcome == Outcome.UNRECORDED:
        booking_finished(ticket, by=None)


def tickets_close_offices(*, now: datetime) -> list[int]:
    """The offices the end-of-day sweep has work at, at `now`: a ticket past its
    `sweep_due_at` not closed yet, or a counter not closed (left open on an earlier
    day, maybe: counters_close_stale decides). In id order."""
    due = set(Ticket.objects.filter(closed_at__isnull=True, sweep_due_at__lte=now)
              .values_list("office_id", flat=True).distinct())
    due |= set(Counter.objects.exclude(state=CounterState.CLOSED)
               .values_list("office_id", flat=True).distinct())
    return sorted(due)


def tickets_close_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH,
                      office_id: int | None = None) -> int:
    """The end-of-day sweep, one batch (of one office with `office_id`): tickets past
    their `sweep_due_at` still waiting or called become no-shows (bookings behind them
    follow the appointments rules), tickets still being served are closed without an
    outcome, and no-shows marked earlier are closed for good. Rows another transaction
    holds are skipped and taken by the next run; running it twice changes nothing."""
    now = now or timezone.now()
    tickets = lock_objects.tickets_for_update(skip_locked=True)
    if office_id is not None:
        tickets = tickets.filter(office_id=office_id)
    with transaction.atomic():
        due = list(tickets
                   .filter(closed_at__isnull=True, sweep_due_at__lte=now)
                   .select_related("office", "lane", "counter", "application", "booking")
                   .order_by("sweep_due_at", "id")[:batch])
        offices = {}
        for ticket in due:
            _close_at_end_of_day(ticket, now)
            offices[ticket.office_id] = ticket.office
        for office in offices.values():
            board_changed(office)
    return len(due)
