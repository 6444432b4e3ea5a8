"""Concurrency on PostgreSQL with real threads: ticket codes are never handed out
twice; counters calling next in the same instant never get the same ticket; one
counter's double click calls one ticket."""

from collections import Counter as Tally

import pytest

from queues.models import Ticket, TicketEvent
from queues.services.calling import ticket_call_next, ticket_no_show
from queues.services.closing import tickets_close_due
from queues.services.issuing import ticket_check_in
from registry.errors import Conflict
from tests.concurrency import race
from tests.queues.conftest import walk_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ticket_codes_are_never_duplicated(office_a, office_b):
    lanes = ["C"] * 16 + ["B"] * 8

    def issue(index):
        office = office_b if index % 6 == 5 else office_a
        return (office.code, walk_in(office, lanes[index]).code)

    results, errors = race(issue, len(lanes))
    assert errors == []
    assert len(set(results)) == len(lanes)
    for office in (office_a, office_b):
        for lane in "BC":
            numbers = sorted(int(code[2:]) for code_office, code in results
                             if code_office == office.code and code[0] == lane)
            assert numbers == list(range(1, len(numbers) + 1))
    assert Ticket.objects.count() == len(lanes)


def test_two_counters_calling_at_once_never_get_the_same_ticket(office_a, counter_factory,
                                                                operator):
    counters = [counter_factory("C"), counter_factory("BC")]
    for _round in range(15):
        walk_in(office_a)
        walk_in(office_a)

        def call(index):
            return ticket_call_next(counter=counters[index], by=operator)

        results, errors = race(call, 2)
        assert errors == []
        assert results[0].pk != results[1].pk
        for counter, ticket in zip(counters, results, strict=True):
            ticket_no_show(counter=counter, by=operator, ticket_id=ticket.pk)
    calls = Tally(TicketEvent.objects.filter(kind="called").values_list("ticket_id", flat=True))
    assert len(calls) == 30
    assert set(calls.values()) == {1}
    assert set(Ticket.objects.values_list("status", flat=True)) == {"no_show"}


def test_ten_counters_at_once_take_ten_different_tickets(office_a, counter_factory, operator):
    counters = [counter_factory("CB" if n % 2 else "C") for n in range(10)]
    for _n in range(10):
        walk_in(office_a)
    for _n in range(3):
        walk_in(office_a, "B")

    def call(index):
        return ticket_call_next(counter=counters[index], by=operator)

    results, errors = race(call, 10)
    assert errors == []
    assert len({t.pk for t in results}) == 10
    assert Ticket.objects.filter(status="called").count() == 10
    assert sorted(Ticket.objects.filter(status="called").values_list("counter_id", flat=True)
                  ) == sorted(c.pk for c in counters)
    assert {t.lane.letter for t in results} == {"C"}


def test_rounds_of_ten_counters_calling_at_once_never_fail_or_repeat(office_a,
                                                                    counter_factory,
                                                                    operator):
    """A call that commits while another counter's claim is reading must not hand the
    same ticket to the second counter (its claim re-checks the ticket's status on the
    row it locks) nor make it fail: the second counter takes the next ticket."""
    counters = [counter_factory(("CB", "BC")[n % 2]) for n in range(10)]
    for n in range(130):
        walk_in(office_a, "CB"[n % 2], priority="elderly" if n % 7 == 0 else "")
    called = []
    for _round in range(12):
        def call(index):
            return ticket_call_next(counter=counters[index], by=operator)

        results, errors = race(call, 10)
        assert errors == []
        assert None not in results
        called += [t.pk for t in results]
        for counter, ticket in zip(counters, results, strict=True):
            ticket_no_show(counter=counter, by=operator, ticket_id=ticket.pk)
    assert len(called) == len(set(called)) == 120
    calls = Tally(TicketEvent.objects.filter(kind="called").values_list("ticket_id", flat=True))
    assert set(calls.values()) == {1}
    assert Ticket.objects.filter(status="waiting").count() == 10


def test_a_double_click_at_one_counter_calls_one_ticket(office_a, counter_factory, operator):
    counter = counter_factory("C")
    for _n in range(3):
        walk_in(office_a)

    def call(index):
        return ticket_call_next(counter=counter, by=operator)

    results, errors = race(call, 3)
    assert len([r for r in results if r is not None]) == 1
    assert [e.code for e in errors] == ["counter_busy", "counter_busy"]
    assert all(isinstance(e, Conflict) for e in errors)
    assert list(Ticket.objects.order_by("code").values_list("status", flat=True)) == [
        "called", "waiting", "waiting"]


def test_the_sweep_and_a_call_at_once_touch_each_ticket_once(office_a, counter_factory,
                                                             operator):
    from datetime import timedelta

    from django.utils import timezone

    counter = counter_factory("C")
    for _n in range(6):
        walk_in(office_a)
    Ticket.objects.update(sweep_due_at=timezone.now() - timedelta(minutes=1))

    def work(index):
        if index == 0:
            return ticket_call_next(counter=counter, by=operator)
        return tickets_close_due()

    results, errors = race(work, 3)
    assert errors == []
    no_shows = Tally(TicketEvent.objects.filter(kind="no_show").values_list("ticket__code",
                                                                            flat=True))
    assert set(no_shows.values()) == {1}
    assert sum(results[1:]) == Ticket.objects.filter(closed_at__isnull=False).count()
    statuses = Tally(Ticket.objects.values_list("status", flat=True))
    if results[0] is None:
        assert statuses == {"no_show": 6}
    else:
        # The called ticket is closed by one sweep if it ran after the call committed.
        assert statuses in ({"no_show": 5, "called": 1}, {"no_show": 6})


def test_one_booking_checked_in_at_the_kiosk_and_the_desk_at_once_gets_one_ticket(
        office_a, ktp_photo):
    import time_machine

    from queues.models import TicketSource
    from registry.appointments.models import BookingStatus
    from tests.queues.conftest import BOOKED_ON, at, book

    with time_machine.travel(BOOKED_ON, tick=False) as clock:
        bookings = [book(ktp_photo) for _n in range(3)]
        clock.move_to(at(8, 0))

        def check_in(index):
            booking = bookings[index // 4]
            return ticket_check_in(office=office_a, booking_code=booking.code).pk

        results, errors = race(check_in, 12)
    assert errors == []
    assert len(set(results)) == 3
    assert Ticket.objects.filter(source=TicketSource.BOOKING).count() == 3
    assert sorted(Ticket.objects.values_list("code", flat=True)) == ["C-001", "C-002", "C-003"]
    assert TicketEvent.objects.filter(kind="checked_in").count() == 3
    for booking in bookings:
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CHECKED_IN
        assert Ticket.objects.get(booking=booking).pk in results


def test_kiosks_at_once_never_pass_a_lanes_daily_quota(office_a):
    from queues.models import LaneQuota
    from tests.queues.conftest import lanes_of

    LaneQuota.objects.create(office=office_a, lane=lanes_of(office_a)["C"], daily_walk_ins=3)

    def issue(index):
        return walk_in(office_a, "C").code

    results, errors = race(issue, 8)
    assert sorted(code for code in results if code) == ["C-001", "C-002", "C-003"]
    assert len(errors) == 5
    assert {getattr(error, "code", None) for error in errors} == {"walk_in_refused"}
    assert Ticket.objects.filter(office=office_a, lane__letter="C").count() == 3
