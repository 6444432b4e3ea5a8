"""A simulated morning at Kota Bekasi, through the pages and the API only: three lanes,
five counters (the demo's lane orders), walk-ins at the kiosk (some with a priority),
bookings checked in on time, early, late or not at all, operators calling, serving,
identifying, finishing, marking no-shows, calling one back out of order and
transferring one. After every call the board must say who is called, where, in which
lane and why; at the end no ticket is lost, duplicated or called twice, and every
booking has followed its ticket."""

import random
from collections import Counter as Tally
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from queues.models import Ticket, TicketEvent, TicketStatus
from queues.services.closing import tickets_close_due
from queues.services.counters import counter_create
from registry.api.auth import tokens_for_resident
from registry.appointments.models import Booking, BookingStatus
from registry.models import Role
from tests.factories import ResidentFactory
from tests.queues.conftest import BOOKED_ON, SERVICE_OF_LANE, at, book, lanes_of, service_of

COUNTERS = [(1, "AC"), (2, "BA"), (3, "BC"), (4, "CB"), (5, "CA")]
LANE_NAMES = {"A": "Layanan KK dan umum", "B": "Cek biometrik", "C": "Perubahan biodata"}
# (lane, slot start, minutes after 08:00 the resident checks in, or None: never comes)
BOOKINGS = [("C", "08:00", 2), ("B", "08:00", 5), ("A", "08:30", 20), ("C", "09:00", 35),
            ("A", "08:00", 45), ("B", "09:00", 75), ("C", "08:30", None), ("A", "09:30", 80)]
LATE = {("A", "08:00", 45)}
MINUTES = 120

# Real commits: the board's cache is dropped when each change commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class Operator:
    """One operator at one counter, acting through the counter page."""

    def __init__(self, counter, user, rng):
        self.counter, self.client, self.rng = counter, signed_in(user), rng
        self.url = reverse("queues:counter", args=[counter.pk])
        self.ticket_id, self.state, self.until = None, "idle", 0

    def post(self, action, **data):
        response = self.client.post(
            reverse("queues:counter-action", args=[self.counter.pk, action]),
            {"ticket": self.ticket_id or "", **data}, follow=True)
        assert response.status_code == 200
        return [str(m) for m in response.context["messages"]]


def check_board(board_client, ticket, counter):
    """The board (API) says the ticket is called at the counter, in its lane, and why."""
    board = board_client.get("/api/v1/offices/3275/board/").json()
    lane = next(x for x in board["lanes"] if x["lane"] == ticket.lane.letter)
    serving = [x for x in lane["now_serving"] if x["ticket"] == ticket.code]
    assert len(serving) == 1, (ticket.code, lane)
    assert serving[0]["counter"] == counter.name
    assert serving[0]["reason"] == ticket.call_reason
    assert serving[0]["reason_text"]
    last = board["recent_calls"][0]
    assert (last["ticket"], last["counter"], last["lane"], last["lane_name"]) == (
        ticket.code, counter.name, ticket.lane.letter, LANE_NAMES[ticket.lane.letter])
    assert last["text"] == f"{ticket.code} ke {counter.name} - {LANE_NAMES[ticket.lane.letter]}"
    assert last["reason_text"] == serving[0]["reason_text"]
    assert ticket.code not in lane["next"]


def test_a_simulated_morning_through_the_pages_and_the_api(office_a, office_b, make_staff):
    rng = random.Random(3275)
    lanes = lanes_of(office_a)
    with time_machine.travel(BOOKED_ON, tick=False) as clock:
        bookings = [(book(service_of(office_a, SERVICE_OF_LANE[lane]), start=start), minute)
                    for lane, start, minute in BOOKINGS]
        book(service_of(office_b, "KTP_TTD_FOTO"))  # the other office's, never seen here
        clock.move_to(at(7, 55))
        counters = [counter_create(office=office_a, number=n,
                                   lanes=[lanes[x] for x in letters])
                    for n, letters in COUNTERS]
        operators = [Operator(c, make_staff(office_a, Role.COUNTER_OPERATOR,
                                            username=f"loket{c.number}"), rng)
                     for c in counters]
        desk = signed_in(make_staff(office_a, Role.FRONT_DESK, username="kios"))
        board_client = Client()
        residents = [ResidentFactory(domicile_office=office_a) for _n in range(6)]
        issued, checked_in, calls = [], [], 0
        out_of_order_done = transfer_done = False

        for minute in range(MINUTES):
            clock.move_to(at(8, 0) + timedelta(minutes=minute))
            # Arrivals: walk-ins at the kiosk, bookings at the kiosk's check-in.
            if minute < 90 and rng.random() < 0.45:
                lane = rng.choice("ABC")
                priority = "elderly" if rng.random() < 0.1 else ""
                response = desk.post(reverse("queues:kiosk"),
                                     {"service": SERVICE_OF_LANE[lane], "priority": priority})
                assert response.status_code == 302
                issued.append(int(response["Location"].rstrip("/").split("/")[-1]))
            for booking, when in bookings:
                if when == minute:
                    response = desk.post(reverse("queues:check-in"),
                                         {"code": booking.code, "from_kiosk": "1"})
                    assert response.status_code == 302
                    checked_in.append(int(response["Location"].rstrip("/").split("/")[-1]))
            # The counters.
            for op in operators:
                if op.state == "idle":
                    messages = op.post("call-next")
                    ticket = (Ticket.objects.select_related("lane")
                              .filter(counter=op.counter, status="called").first())
                    if ticket is None:
                        assert messages == ["Tidak ada yang menunggu di jalur loket ini."]
                        continue
                    assert messages == [f"{ticket.code} dipanggil."]
                    calls += 1
                    check_board(board_client, ticket, op.counter)
                    op.ticket_id, op.state = ticket.pk, "called"
                elif op.state == "called":
                    if rng.random() < 0.06:
                        op.post("no-show")
                        op.state, op.ticket_id = "idle", None
                        continue
                    op.post("start")
                    op.state, op.until = "serving", minute + rng.randint(4, 12)
                elif op.state == "serving" and minute >= op.until:
                    ticket = Ticket.objects.select_related("lane").get(pk=op.ticket_id)
                    if not transfer_done and ticket.lane.letter == "B" and minute > 30:
                        assert op.post("transfer", lane="C", note="Perlu perubahan biodata") \
                            == [f"{ticket.code} dialihkan ke jalur C."]
                        transfer_done = True
                        op.state, op.ticket_id = "idle", None
                        continue
                    if ticket.application_id is None:
                        op.post("identify", nik=rng.choice(residents).nik)
                    assert op.post("finish", outcome="served") == [
                        f"{ticket.code} selesai: Terlayani."]
                    op.state, op.ticket_id = "idle", None
                    # A resident who missed the call comes back: called out of order.
                    missed = Ticket.objects.filter(office=office_a, status="no_show",
                                                   lane_id__in=op.counter.lanes.all()).first()
                    if missed is not None and not out_of_order_done:
                        op.ticket_id = missed.pk
                        assert op.post("call", reason="missed_call") == [
                            f"{missed.code} dipanggil di luar urutan."]
                        missed.refresh_from_db()
                        check_board(board_client, missed, op.counter)
                        assert missed.call_reason == "missed_call"
                        out_of_order_done, op.state = True, "called"
                        calls += 1

        # The resident API: a booking's resident sees their ticket with its place.
        waiting_booking = Ticket.objects.filter(office=office_a, booking__isnull=False,
                                                status__in=["waiting", "called", "serving",
                                                            "done"]).first()
        answer = board_client.get("/api/v1/tickets/", HTTP_AUTHORIZATION="Bearer " + (
            tokens_for_resident(waiting_booking.resident)["access"])).json()
        assert [t["code"] for t in answer["results"]] == [waiting_booking.code]

        # Nothing lost: every number issued at the kiosk or at check-in is a ticket.
        tickets = list(Ticket.objects.filter(office=office_a))
        assert sorted(t.pk for t in tickets) == sorted(issued + checked_in)
        assert len(checked_in) == len([b for b, m in bookings if m is not None])
        # Nothing duplicated: codes are unique, and numbered 1..n in each lane.
        assert len({t.code for t in tickets}) == len(tickets)
        for letter in "ABC":
            numbers = sorted(int(t.code[2:]) for t in tickets if t.code[0] == letter)
            assert numbers == list(range(1, len(numbers) + 1))
        # Nothing called twice: one call per visit to a lane, plus the out-of-order one.
        called = Tally(TicketEvent.objects.filter(office=office_a, kind="called")
                       .values_list("ticket_id", flat=True))
        transfers = Tally(TicketEvent.objects.filter(office=office_a, kind="transferred")
                          .values_list("ticket_id", flat=True))
        out_of_order = Tally(TicketEvent.objects.filter(office=office_a, kind="called",
                                                        reason="missed_call")
                             .values_list("ticket_id", flat=True))
        for ticket_id, count in called.items():
            assert count == 1 + transfers[ticket_id] + out_of_order[ticket_id]
        assert sum(called.values()) == calls
        assert transfer_done
        assert out_of_order_done
        # One issue event per ticket.
        assert sorted(TicketEvent.objects.filter(office=office_a, kind__in=[
            "issued", "checked_in"]).values_list("ticket_id", flat=True)) == sorted(
            t.pk for t in tickets)

        # The end of the day closes what is left; bookings follow their tickets.
        clock.move_to(at(23, 59))
        while tickets_close_due():
            pass
    assert not Ticket.objects.filter(office=office_a, status__in=["waiting", "called",
                                                                  "serving"]).exists()
    for (booking, when), row in zip(bookings, BOOKINGS, strict=True):
        booking.refresh_from_db()
        ticket = Ticket.objects.filter(booking=booking).first()
        if ticket is not None:
            assert ticket.band == (2 if row in LATE else 1)
        if when is None:
            assert (ticket, booking.status) == (None, BookingStatus.BOOKED)
        elif ticket.status == TicketStatus.NO_SHOW:
            assert booking.status == BookingStatus.EXPIRED
        else:
            assert booking.status == BookingStatus.DONE
    assert Booking.objects.filter(office=office_b).get().status == BookingStatus.BOOKED
    assert not Ticket.objects.filter(office=office_b).exists()
