"""Check-in of a booking at the office (queues.services.ticket_check_in): the ticket in
the service's lane with the booking's resident and case, the bookings' band when on
time, in turn with walk-ins when late, refusals that change nothing, idempotency, and
what becomes of the booking when its ticket ends (served, no-show at the end of the
day)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation

from queues import selectors
from queues.models import Band, Ticket, TicketEvent, TicketSource, TicketStatus
from queues.services.calling import (
    ticket_call_next,
    ticket_finish,
    ticket_no_show,
    ticket_start,
    ticket_transfer,
)
from queues.services.closing import tickets_close_due
from queues.services.issuing import booking_code_from_scan, ticket_check_in
from registry.appointments.models import Booking, BookingStatus
from registry.appointments.services.attendance import booking_check_in
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application, ApplicationStatus, CaseEvent, Notification
from tests.queues.conftest import (
    BOOKED_ON,
    MONDAY,
    TUESDAY,
    at,
    book,
    lanes_of,
    walk_in,
)


@pytest.fixture
def clock():
    with time_machine.travel(BOOKED_ON, tick=False) as traveller:
        yield traveller


def kinds(application):
    """The booking's and the queue's entries on the case timeline, in order."""
    return [kind for kind in CaseEvent.objects.filter(application=application)
            .order_by("at", "id").values_list("kind", flat=True)
            if kind.startswith(("booking.", "queue.", "application.status"))]


def test_on_time_the_booking_is_served_ahead_of_the_walk_ins(office_a, ktp_photo,
                                                             counter_factory, operator,
                                                             make_staff, clock):
    booking = book(ktp_photo, start="08:00")
    counter = counter_factory("C")
    frontdesk = make_staff(office_a, "front_desk")
    clock.move_to(at(8, 0))
    walk_in(office_a)                                    # C-001
    walk_in(office_a)                                    # C-002
    clock.move_to(at(8, 10))
    ticket = ticket_check_in(office=office_a, booking_code=booking.code,
                             by=frontdesk)
    assert (ticket.code, ticket.source, ticket.band) == ("C-003", TicketSource.BOOKING,
                                                         Band.BOOKING_ON_TIME)
    assert ticket.order_at == at(8, 0)
    assert (ticket.resident, ticket.application, ticket.booking) == (
        booking.resident, booking.application, booking)
    assert (ticket.lane.letter, ticket.service) == ("C", ktp_photo)
    booking.refresh_from_db()
    assert (booking.status, booking.checked_in_at) == (BookingStatus.CHECKED_IN, at(8, 10))
    assert kinds(booking.application) == ["booking.created", "booking.checked_in",
                                          "queue.checked_in"]
    with translation.override("id"):
        event = CaseEvent.objects.get(application=booking.application, kind="queue.checked_in")
        assert event.message == (
            f"Lapor hadir dengan pemesanan {booking.code} tepat waktu: nomor C-003 di lajur C "
            "(Perubahan biodata), dilayani lebih dulu daripada pemohon yang datang langsung.")
        assert event.actor == frontdesk
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.reason, event.actor) == ("checked_in", "on_time", frontdesk)

    called = ticket_call_next(counter=counter, by=operator)
    assert (called.code, called.call_reason) == ("C-003", "booking")
    with translation.override("id"):
        board = selectors.board(office=office_a)
    assert board["recent_calls"][0]["reason_text"] == "Pemesanan, tepat waktu"
    assert board["lanes"][2]["next"] == ["C-001", "C-002"]


def test_an_early_booking_waits_in_turn_until_its_slot_begins(office_a, ktp_photo,
                                                              counter_factory, operator,
                                                              clock):
    booking = book(ktp_photo, start="10:00")
    counter = counter_factory("C")
    clock.move_to(at(8, 0))
    walk_in(office_a)                                    # C-001 at 08:00
    clock.move_to(at(8, 5))
    ticket = ticket_check_in(office=office_a, booking_code=booking.code)
    assert (ticket.code, ticket.band, ticket.order_at) == ("C-002", Band.BOOKING_ON_TIME,
                                                           at(10, 0))
    clock.move_to(at(9, 0))
    walk_in(office_a)                                    # C-003 at 09:00
    clock.move_to(at(10, 30))
    walk_in(office_a)                                    # C-004 at 10:30
    clock.move_to(at(9, 30))
    # Before 10:00 the booking is behind everyone who came before 10:00.
    assert [t.code for t in _waiting(office_a)] == ["C-001", "C-003", "C-002", "C-004"]
    assert ticket_call_next(counter=counter, by=operator).code == "C-001"
    ticket_no_show(counter=counter, by=operator)
    clock.move_to(at(10, 31))
    # From 10:00 it is ahead of the walk-ins.
    assert [t.code for t in _waiting(office_a)] == ["C-002", "C-003", "C-004"]
    called = ticket_call_next(counter=counter, by=operator)
    assert (called.code, called.call_reason) == ("C-002", "booking")
    assert TicketEvent.objects.get(ticket=called, kind="called").ahead_of_turn is True


def _waiting(office):
    state = selectors.queue_state(office=office)
    lane_c = next(lane for lane in state.lanes if lane.letter == "C")
    return [Ticket.objects.get(pk=pk) for pk, _code in state.waiting[lane_c.id]]


def test_a_late_booking_queues_with_the_walk_ins(office_a, ktp_photo, counter_factory,
                                                 operator, clock):
    booking = book(ktp_photo, start="08:00")             # 08:00-08:30
    counter = counter_factory("C")
    clock.move_to(at(8, 40))
    walk_in(office_a)                                    # C-001
    clock.move_to(at(9, 0))
    ticket = ticket_check_in(office=office_a, booking_code=booking.code)
    assert (ticket.code, ticket.band, ticket.order_at) == ("C-002", Band.IN_TURN, at(9, 0))
    clock.move_to(at(9, 5))
    walk_in(office_a)                                    # C-003
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN
    with translation.override("id"):
        event = CaseEvent.objects.get(application=booking.application, kind="queue.checked_in")
        assert event.message == (
            f"Lapor hadir dengan pemesanan {booking.code} melewati jadwalnya: nomor C-002 di "
            "lajur C (Perubahan biodata), mengantre bersama pemohon yang datang langsung.")
    assert TicketEvent.objects.get(ticket=ticket).reason == "late"
    first = ticket_call_next(counter=counter, by=operator)
    assert first.code == "C-001"
    ticket_no_show(counter=counter, by=operator)
    second = ticket_call_next(counter=counter, by=operator)
    assert (second.code, second.call_reason) == ("C-002", "next")


def test_a_booking_of_another_day_is_refused_and_nothing_changes(office_a, ktp_photo, clock):
    booking = book(ktp_photo, day=TUESDAY)
    clock.move_to(at(8, 0))
    with pytest.raises(DomainError) as error:
        ticket_check_in(office=office_a, booking_code=booking.code)
    assert error.value.code == "booking_other_day"
    assert booking.code in str(error.value.message)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.BOOKED
    assert not Ticket.objects.exists()
    assert kinds(booking.application) == ["booking.created"]
    assert walk_in(office_a).code == "C-001"  # no number was used up


def test_another_offices_code_or_an_unknown_one_is_not_found(office_a, office_b, ktp_photo,
                                                             clock):
    booking = book(ktp_photo)
    clock.move_to(at(8, 0))
    for office, code in ((office_b, booking.code), (office_a, "ZZZZ2222"),
                         (office_a, ""), (office_a, "x" * 300)):
        with pytest.raises(NotFound) as error:
            ticket_check_in(office=office, booking_code=code)
        assert error.value.code == "booking_not_found"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.BOOKED
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.EXPIRED,
                                    BookingStatus.DONE])
def test_a_booking_no_longer_usable_is_refused(office_a, ktp_photo, clock, status):
    booking = book(ktp_photo)
    Booking.objects.filter(pk=booking.pk).update(status=status)
    clock.move_to(at(8, 0))
    with pytest.raises(DomainError) as error:
        ticket_check_in(office=office_a, booking_code=booking.code)
    assert error.value.code == "booking_not_usable"
    assert not Ticket.objects.exists()


def test_checking_in_twice_gives_the_same_ticket(office_a, ktp_photo, clock):
    booking = book(ktp_photo)
    clock.move_to(at(8, 5))
    first = ticket_check_in(office=office_a, booking_code=booking.code)
    clock.move_to(at(8, 6))
    for typed in (booking.code, booking.code.lower(), f" {booking.code[:4]} {booking.code[4:]} ",
                  f"https://e-open.example/bookings/{booking.code}/", f"EOPEN:{booking.code}"):
        assert ticket_check_in(office=office_a, booking_code=typed) == first
    assert Ticket.objects.count() == 1
    assert TicketEvent.objects.filter(kind="checked_in").count() == 1
    assert kinds(booking.application).count("booking.checked_in") == 1
    booking.refresh_from_db()
    assert booking.checked_in_at == at(8, 5)
    assert walk_in(office_a).code == "C-002"


def test_a_booking_checked_in_without_a_ticket_gets_one(office_a, ktp_photo, clock):
    """The appointments' own pages (or its demo) may check a booking in; its ticket
    follows the time of that check-in."""
    booking = book(ktp_photo, start="08:00")
    clock.move_to(at(8, 20))
    assert booking_check_in(booking=booking) is True
    clock.move_to(at(9, 0))
    ticket = ticket_check_in(office=office_a, booking_code=booking.code)
    assert (ticket.band, ticket.order_at) == (Band.BOOKING_ON_TIME, at(8, 0))
    assert kinds(booking.application) == ["booking.created", "booking.checked_in",
                                          "queue.checked_in"]


def test_a_booking_checked_in_without_a_ticket_on_another_day_gets_none(office_a, ktp_photo,
                                                                        clock):
    booking = book(ktp_photo, start="08:00")
    clock.move_to(at(8, 20))
    booking_check_in(booking=booking)
    clock.move_to(at(8, 20, day=TUESDAY))
    with pytest.raises(DomainError) as error:
        ticket_check_in(office=office_a, booking_code=booking.code)
    assert error.value.code == "booking_other_day"
    assert not Ticket.objects.exists()


def test_a_priority_at_check_in(office_a, ktp_photo, clock):
    booking = book(ktp_photo, start="08:00")
    clock.move_to(at(8, 0))
    ticket = ticket_check_in(office=office_a, booking_code=booking.code,
                             priority="elderly")
    assert (ticket.band, ticket.priority) == (Band.PRIORITY, "elderly")
    with pytest.raises(DomainError):
        ticket_check_in(office=office_a, booking_code=book(ktp_photo).code,
                        priority="vip")


def test_served_makes_the_booking_done(office_a, ktp_photo, counter_factory, operator,
                                       clock):
    booking = book(ktp_photo)
    counter = counter_factory("C")
    clock.move_to(at(8, 0))
    ticket_check_in(office=office_a, booking_code=booking.code)
    ticket_call_next(counter=counter, by=operator)
    clock.move_to(at(8, 2))
    ticket_start(counter=counter, by=operator)
    clock.move_to(at(8, 14))
    ticket_finish(counter=counter, by=operator, outcome="served")
    booking.refresh_from_db()
    assert (booking.status, booking.finished_at) == (BookingStatus.DONE, at(8, 14))
    application = Application.objects.get(pk=booking.application_id)
    assert application.status == ApplicationStatus.IN_PROGRESS
    assert kinds(application) == [
        "booking.created", "booking.checked_in", "queue.checked_in", "queue.called",
        "queue.started", "queue.finished", "application.status", "booking.done"]
    # Done, the resident may book this service again.
    assert book(ktp_photo, day=TUESDAY, resident=booking.resident).status == "booked"


def test_not_served_also_ends_the_booking(office_a, ktp_photo, counter_factory, operator,
                                          clock):
    booking = book(ktp_photo)
    counter = counter_factory("C")
    clock.move_to(at(8, 0))
    ticket_check_in(office=office_a, booking_code=booking.code)
    ticket_call_next(counter=counter, by=operator)
    ticket_start(counter=counter, by=operator)
    ticket_finish(counter=counter, by=operator, outcome="not_served",
                  reason="expired_documents")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DONE
    assert Application.objects.get(pk=booking.application_id).status == ApplicationStatus.OPEN


def test_a_transfer_keeps_the_booking_checked_in(office_a, ktp_photo, counter_factory,
                                                 operator, clock):
    booking = book(ktp_photo)
    counter = counter_factory("C")
    clock.move_to(at(8, 0))
    ticket_check_in(office=office_a, booking_code=booking.code)
    ticket_call_next(counter=counter, by=operator)
    ticket_transfer(counter=counter, to_lane=lanes_of(office_a)["B"], by=operator)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN


def test_end_of_day_no_show_expires_the_booking(office_a, ktp_photo, counter_factory,
                                                operator, clock):
    missed_call = book(ktp_photo, start="08:00")
    never_called = book(ktp_photo, start="08:30")
    counter = counter_factory("C")
    clock.move_to(at(8, 0))
    ticket_check_in(office=office_a, booking_code=missed_call.code)
    ticket_check_in(office=office_a, booking_code=never_called.code)
    ticket_call_next(counter=counter, by=operator)
    ticket_no_show(counter=counter, by=operator)
    missed_call.refresh_from_db()
    # Until the end of the day the resident may still come back to the counter.
    assert missed_call.status == BookingStatus.CHECKED_IN
    day_end = Ticket.objects.order_by("sweep_due_at").first().sweep_due_at
    assert tickets_close_due(now=day_end - timedelta(seconds=1)) == 0
    assert tickets_close_due(now=day_end) == 2
    for booking in (missed_call, never_called):
        booking.refresh_from_db()
        assert (booking.status, booking.expired_at) == (BookingStatus.EXPIRED, day_end)
        application = Application.objects.get(pk=booking.application_id)
        assert application.rebook_until == MONDAY + timedelta(days=30)
        assert kinds(application)[-2:] == ["queue.no_show", "booking.expired"]
        assert Notification.objects.filter(resident=booking.resident,
                                           kind="booking.expired").count() == 1
    assert set(Ticket.objects.values_list("status", flat=True)) == {TicketStatus.NO_SHOW}
    # Running the sweep again changes nothing.
    assert tickets_close_due(now=day_end + timedelta(hours=1)) == 0
    assert Notification.objects.filter(kind="booking.expired").count() == 2


def test_a_ticket_closed_while_being_served_ends_its_booking(office_a, ktp_photo,
                                                             counter_factory, operator,
                                                             clock):
    booking = book(ktp_photo)
    counter = counter_factory("C")
    clock.move_to(at(8, 0))
    ticket = ticket_check_in(office=office_a, booking_code=booking.code)
    ticket_call_next(counter=counter, by=operator)
    ticket_start(counter=counter, by=operator)
    ticket.refresh_from_db()
    tickets_close_due(now=ticket.sweep_due_at)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DONE


@pytest.mark.parametrize(("typed", "code"), [
    ("abcd2345", "ABCD2345"),
    (" ABCD 2345 ", "ABCD2345"),
    ("https://e-open.example/bookings/ABCD2345/", "ABCD2345"),
    ("EOPEN:abcd2345", "ABCD2345"),
    ("ABCD1234", "ABCD1234"),        # not a code (1): returned as typed for the message
    ("", ""),
])
def test_the_code_is_found_in_what_was_typed_or_scanned(typed, code):
    assert booking_code_from_scan(typed) == code


def test_conflict_is_not_raised_for_a_second_check_in(office_a, ktp_photo, clock):
    """booking_check_in refuses a second check-in (Conflict); ticket_check_in answers
    with the ticket instead, even when the first one is seen only under the lock."""
    booking = book(ktp_photo)
    clock.move_to(at(8, 0))
    first = ticket_check_in(office=office_a, booking_code=booking.code)
    with pytest.raises(Conflict):
        booking_check_in(booking=booking)
    assert ticket_check_in(office=office_a, booking_code=booking.code) == first
