"""The end-of-day sweep: tickets past their sweep time are closed (waiting and called as
no-shows, served ones without an outcome); it is idempotent and in batches."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from queues import tasks
from queues.models import Ticket, TicketEvent
from queues.services import closing
from queues.services.calling import ticket_call_next, ticket_finish, ticket_no_show, ticket_start
from queues.services.closing import tickets_close_due
from tests.queues.conftest import walk_in

WIB = ZoneInfo("Asia/Jakarta")
FRIDAY = datetime(2022, 7, 1, 8, 0, tzinfo=WIB)


@pytest.fixture
def clock():
    with time_machine.travel(FRIDAY, tick=False) as traveller:
        yield traveller


def test_the_sweep_closes_the_day(office_a, office_b, counter_factory, operator, clock):
    serving_counter = counter_factory("C", number=1)
    called_counter = counter_factory("B", number=2)
    missed_counter = counter_factory("A", number=3)
    for lane in "CCBA":
        walk_in(office_a, lane)
    walk_in(office_b)
    ticket_call_next(counter=serving_counter, by=operator)   # C-001
    ticket_start(counter=serving_counter, by=operator)
    ticket_call_next(counter=called_counter, by=operator)    # B-001
    ticket_call_next(counter=missed_counter, by=operator)
    ticket_no_show(counter=missed_counter, by=operator)
    clock.move_to(datetime(2022, 7, 1, 16, 59, tzinfo=WIB))
    assert tickets_close_due() == 0
    clock.move_to(datetime(2022, 7, 1, 17, 0, tzinfo=WIB))
    assert tickets_close_due(batch=3) == 3
    assert tickets_close_due(batch=3) == 2
    assert tickets_close_due() == 0
    assert {(t.office.code, t.code, t.status, t.outcome)
            for t in Ticket.objects.select_related("office")} == {
        ("3275", "C-001", "done", "unrecorded"), ("3275", "C-002", "no_show", ""),
        ("3275", "B-001", "no_show", ""), ("3275", "A-001", "no_show", ""),
        ("3216", "C-001", "no_show", "")}
    assert sorted(TicketEvent.objects.filter(reason="end_of_day").values_list(
        "ticket__code", "kind")) == [("B-001", "no_show"), ("C-001", "no_show"),
                                     ("C-002", "no_show")]
    assert TicketEvent.objects.filter(kind="closed").count() == 1
    # Counters are free the next day.
    clock.move_to(datetime(2022, 7, 4, 8, 0, tzinfo=WIB))
    walk_in(office_a)
    assert ticket_call_next(counter=serving_counter, by=operator).code == "C-001"


def test_the_task_runs_batches_until_nothing_is_due(office_a, office_b, clock, monkeypatch):
    for _n in range(5):
        walk_in(office_a)
    walk_in(office_b)
    monkeypatch.setattr(closing, "SWEEP_BATCH", 2)
    clock.move_to(datetime(2022, 7, 2, 0, 0, tzinfo=WIB))
    # The beat: one task per office with work, as a group, at its moment.
    queued = []
    monkeypatch.setattr(tasks, "fan_out", lambda task, ids, *args: queued.append(
        (task.name, ids, args)) or len(ids))
    assert tasks.tickets_close_due() == 2
    moment = "2022-07-01T17:00:00+00:00"
    assert queued == [("queues.tasks.tickets_close_office", [office_a.id, office_b.id],
                       (moment,))]
    # An office's task closes its own tickets, in batches, until none is due.
    assert tasks.tickets_close_office(office_a.id, moment) == 5
    assert tasks.tickets_close_office(office_a.id, moment) == 0
    assert Ticket.objects.filter(office=office_b, status="waiting").count() == 1
    assert tasks.tickets_close_office(office_b.id, moment) == 1
    assert set(Ticket.objects.values_list("status", flat=True)) == {"no_show"}
    assert TicketEvent.objects.filter(kind="no_show").count() == 6


def test_a_ticket_finished_in_the_day_is_not_touched(office_a, counter_factory, operator,
                                                     clock):
    counter = counter_factory("C")
    walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    ticket_start(counter=counter, by=operator)
    ticket_finish(counter=counter, by=operator, outcome="not_served",
                  reason="resident_left")
    clock.shift(timedelta(days=1))
    assert tickets_close_due() == 0
    assert Ticket.objects.get().outcome == "not_served"
