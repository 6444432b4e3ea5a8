"""Issuing walk-in tickets: codes per office, lane and day; the kiosk's double tap."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from queues.models import Band, QueueSettings, Ticket, TicketEvent, TicketStatus
from queues.services.issuing import _sweep_due_at, ticket_issue_walk_in
from registry.errors import DomainError, NotFound
from registry.models import CaseEvent
from registry.services.offices import office_settings_get
from tests.factories import OfficeFactory
from tests.queues.conftest import service_of, walk_in

WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")


def test_codes_are_lane_letter_and_three_digits_per_lane(office_a):
    codes = [walk_in(office_a, lane).code for lane in "CCBCAB"]
    assert codes == ["C-001", "C-002", "B-001", "C-003", "A-001", "B-002"]
    ticket = Ticket.objects.get(office=office_a, code="C-003")
    assert (ticket.number, ticket.lane.letter, ticket.status, ticket.band, ticket.source) == (
        3, "C", TicketStatus.WAITING, Band.IN_TURN, "walk_in")


def test_codes_are_per_office(office_a, office_b):
    assert walk_in(office_a).code == "C-001"
    assert walk_in(office_b).code == "C-001"
    assert walk_in(office_a).code == "C-002"


def test_numbering_starts_again_each_day_in_the_office_zone(office_a):
    # The kiosk gives numbers in office hours only: 07:30 WIT on Friday 1 July is still
    # 30 June in UTC, and the ticket's day is the office's.
    jayapura = OfficeFactory(code="9471", timezone="Asia/Jayapura")
    with time_machine.travel(datetime(2022, 7, 1, 7, 30, tzinfo=WIT), tick=False):
        east = walk_in(jayapura)
    with time_machine.travel(datetime(2022, 7, 1, 14, 0, tzinfo=WIT), tick=False):
        east_second = walk_in(jayapura)
        west = walk_in(office_a)  # 12:00 WIB
    with time_machine.travel(datetime(2022, 7, 4, 7, 30, tzinfo=WIT), tick=False):
        east_monday = walk_in(jayapura)
    assert [(t.code, str(t.day)) for t in (east, east_second, east_monday, west)] == [
        ("C-001", "2022-07-01"), ("C-002", "2022-07-01"), ("C-001", "2022-07-04"),
        ("C-001", "2022-07-01")]


def test_the_database_refuses_a_second_ticket_with_one_code(office_a):
    ticket = walk_in(office_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(
            office=office_a, day=ticket.day, code=ticket.code, number=ticket.number,
            lane=ticket.lane, service=ticket.service, source="walk_in",
            order_at=ticket.order_at, sweep_due_at=ticket.sweep_due_at)


def test_a_lane_issues_at_most_999_numbers_a_day(office_a):
    from registry.models import Sequence

    ticket = walk_in(office_a)
    Sequence.objects.filter(office=office_a, scope=f"ticket:C:{ticket.day}").update(value=998)
    assert walk_in(office_a).code == "C-999"
    with pytest.raises(DomainError) as refused:
        walk_in(office_a)
    assert refused.value.code == "lane_numbers_exhausted"
    assert Ticket.objects.filter(office=office_a).count() == 2


def test_a_double_tap_on_the_kiosk_gives_one_ticket(office_a):
    first = walk_in(office_a, issue_key="form-1")
    again = walk_in(office_a, issue_key="form-1")
    other = walk_in(office_a, issue_key="form-2")
    assert (first.pk, first.code, other.code) == (again.pk, "C-001", "C-002")
    assert TicketEvent.objects.filter(kind="issued").count() == 2


def test_priority_tickets_are_in_band_zero_and_say_so(office_a):
    ticket = walk_in(office_a, priority="elderly")
    assert (ticket.band, ticket.priority) == (Band.PRIORITY, "elderly")
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.reason, event.lane.letter) == ("issued", "elderly", "C")


def test_refused_issues_change_nothing(office_a, office_b):
    with pytest.raises(NotFound):
        ticket_issue_walk_in(office=office_a, service=service_of(office_b))
    with pytest.raises(DomainError) as refused:
        walk_in(office_a, priority="vip")
    assert refused.value.code == "priority_invalid"
    service = service_of(office_a)
    service.lane.is_active = False
    service.lane.save()
    with pytest.raises(DomainError) as closed:
        ticket_issue_walk_in(office=office_a, service=service)
    assert closed.value.code == "lane_closed"
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_an_anonymous_walk_in_has_no_case_yet(office_a):
    walk_in(office_a)
    assert CaseEvent.objects.filter(kind__startswith="queue.").count() == 0


def test_the_sweep_time_is_after_closing_with_the_grace(office_a):
    # Friday 1 July 2022; the office closes at 15:00 and the grace is 120 minutes. The
    # kiosk gives no walk-in outside hours now; a booking checked in late, or a ticket
    # of another day's rule, still follows the same time (_sweep_due_at).
    with time_machine.travel(datetime(2022, 7, 1, 8, 0, tzinfo=WIB), tick=False):
        morning = walk_in(office_a)
    settings = office_settings_get(QueueSettings, office=office_a)
    later = [_sweep_due_at(office_a, settings, datetime(*moment, tzinfo=WIB))
             for moment in ((2022, 7, 1, 16, 0), (2022, 7, 1, 23, 0), (2022, 7, 2, 9, 0))]
    # Saturday: closed, so two hours after issue.
    assert [due.astimezone(WIB).strftime("%d %H:%M")
            for due in (morning.sweep_due_at, *later)] == [
        "01 17:00", "01 18:00", "02 00:00", "02 11:00"]
