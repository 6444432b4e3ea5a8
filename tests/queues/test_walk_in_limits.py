"""The kiosk's honest limits (queues.services.walk_in_limits): no walk-in ticket on
the office's closed days, outside its hours, from its cut-off time, past a lane's
daily quota or when the wait would pass closing; the refusal says when to come back
and offers the next free booking times. Booked residents are never refused."""

from datetime import date, datetime, time

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from queues.models import LaneQuota, QueueSettings, Ticket, TicketEvent, TicketSource
from queues.services.counters import counter_open
from queues.services.issuing import ticket_check_in
from queues.services.walk_in_limits import walk_in_refusal, walk_in_refusals
from registry.errors import Conflict
from registry.models import Closure, Lane, Role
from tests.queues.conftest import BOOKED_ON, MONDAY, WIB, at, book, lanes_of, service_of, walk_in

SUNDAY = date(2026, 6, 28)
INDEPENDENCE_DAY = date(2026, 8, 17)  # a Monday
MONDAY_FREE_TIMES = ["Monday, 29 June 2026 08:00", "Monday, 29 June 2026 08:30",
                     "Monday, 29 June 2026 09:00"]
TUESDAY_FREE_TIMES = ["Tuesday, 30 June 2026 08:00", "Tuesday, 30 June 2026 08:30",
                      "Tuesday, 30 June 2026 09:00"]
BOOK_TUESDAY = ("Or book a time in the e-Open app or at the front desk; the next free "
                "times: " + "; ".join(TUESDAY_FREE_TIMES) + ".")
COME_BACK_TUESDAY = "Come back on Tuesday, 30 June 2026 from 07:00."


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def refused(office, lane="C", **kwargs) -> Conflict:
    """The refusal of a walk-in in `lane`, with nothing issued."""
    before = Ticket.objects.filter(office=office).count()
    with pytest.raises(Conflict) as refusal:
        walk_in(office, lane, **kwargs)
    assert refusal.value.code == "walk_in_refused"
    assert Ticket.objects.filter(office=office).count() == before
    return refusal.value


def free_texts(error) -> list[str]:
    return [free["text"] for free in error.extra["free_times"]]


def long_queue(office, lane="C", count=3):
    """A counter serving `lane`, open, and `count` walk-ins waiting since 13:00."""
    from queues.services.counters import counter_create

    counter = counter_create(office=office, number=9, lanes=[lanes_of(office)[lane]])
    with time_machine.travel(at(13, 0), tick=False):
        counter_open(counter=counter, by=None)
        for _n in range(count):
            walk_in(office, lane)
    return counter


# --- The office's days and hours ------------------------------------------------------


def test_sunday_is_refused_with_monday_and_its_free_times(office_a):
    with time_machine.travel(datetime(2026, 6, 28, 10, 0, tzinfo=WIB), tick=False):
        error = refused(office_a)
    assert error.message == (
        "The office is closed today. Come back on Monday, 29 June 2026 from 07:00. Or "
        "book a time in the e-Open app or at the front desk; the next free times: "
        + "; ".join(MONDAY_FREE_TIMES) + ".")
    assert error.extra == {
        "reason": "closed_day", "lane": "C", "come_back_at": "2026-06-29T07:00:00+07:00",
        "free_times": [
            {"starts_at": "2026-06-29T08:00:00+07:00", "ends_at": "2026-06-29T08:30:00+07:00",
             "text": MONDAY_FREE_TIMES[0]},
            {"starts_at": "2026-06-29T08:30:00+07:00", "ends_at": "2026-06-29T09:00:00+07:00",
             "text": MONDAY_FREE_TIMES[1]},
            {"starts_at": "2026-06-29T09:00:00+07:00", "ends_at": "2026-06-29T09:30:00+07:00",
             "text": MONDAY_FREE_TIMES[2]}]}
    assert error.status == 409


def test_a_national_holiday_and_a_closure_are_refused(office_a):
    with time_machine.travel(datetime(2026, 8, 17, 9, 0, tzinfo=WIB), tick=False):
        error = refused(office_a, "A")
    assert (error.extra["reason"], error.extra["come_back_at"]) == (
        "closed_day", "2026-08-18T07:00:00+07:00")
    Closure.objects.create(office=office_a, date=MONDAY, reason="Cuti bersama")
    with time_machine.travel(at(9, 0), tick=False):
        error = refused(office_a, "A")
    assert (error.extra["reason"], error.extra["come_back_at"]) == (
        "closed_day", "2026-06-30T07:00:00+07:00")


def test_before_the_kiosk_starts_come_back_at_seven_without_a_booking_offer(office_a):
    with time_machine.travel(at(6, 30), tick=False):
        error = refused(office_a)
    assert error.message == "The kiosk gives numbers from 07:00. Come back at 07:00."
    assert error.extra == {"reason": "outside_hours", "lane": "C",
                           "come_back_at": "2026-06-29T07:00:00+07:00", "free_times": []}


def test_the_kiosk_starts_an_hour_before_opening(office_a):
    with time_machine.travel(at(7, 0), tick=False):
        ticket = walk_in(office_a)
    assert (ticket.code, ticket.source) == ("C-001", TicketSource.WALK_IN)


def test_from_closing_time_on_come_back_the_next_working_day(office_a):
    with time_machine.travel(at(15, 0), tick=False):
        error = refused(office_a)
    assert error.message == ("The office has closed for today. " + COME_BACK_TUESDAY + " "
                             + BOOK_TUESDAY)
    assert error.extra["reason"] == "outside_hours"
    # Friday evening: Monday.
    with time_machine.travel(datetime(2026, 7, 3, 18, 0, tzinfo=WIB), tick=False):
        error = refused(office_a)
    assert error.extra["come_back_at"] == "2026-07-06T07:00:00+07:00"


# --- The office's cut-off time and the lane's quota ---------------------------------


def test_from_the_cut_off_time_no_walk_in_in_any_lane(office_a):
    QueueSettings.objects.update_or_create(office=office_a,
                                           defaults={"walk_in_until": time(13, 0)})
    with time_machine.travel(at(12, 59), tick=False):
        walk_in(office_a)
    with time_machine.travel(at(13, 0), tick=False):
        error = refused(office_a, "B")
        assert refused(office_a, "A").extra["reason"] == "cut_off"
    assert error.message == (
        "The kiosk gives no more walk-in numbers today: new numbers are given until 13:00. "
        + COME_BACK_TUESDAY + " " + BOOK_TUESDAY)
    assert error.extra["reason"] == "cut_off"


def test_a_full_quota_refuses_its_lane_only_and_bookings_do_not_count(office_a):
    lanes = lanes_of(office_a)
    LaneQuota.objects.create(office=office_a, lane=lanes["C"], daily_walk_ins=2)
    with time_machine.travel(BOOKED_ON, tick=False):
        booking = book(service_of(office_a), start="09:00")
    with time_machine.travel(at(9, 0), tick=False):
        ticket_check_in(office=office_a, booking_code=booking.code)
        walk_in(office_a)
        walk_in(office_a, priority="elderly")
        error = refused(office_a)
        other = walk_in(office_a, "A")
    # Booking today's later times is open until 10:00 (AppointmentSettings).
    later_today = ["Monday, 29 June 2026 09:30", "Monday, 29 June 2026 10:00",
                   "Monday, 29 June 2026 10:30"]
    assert error.message == (
        "Lane C has given all 2 of today's walk-in numbers. " + COME_BACK_TUESDAY
        + " Or book a time in the e-Open app or at the front desk; the next free times: "
        + "; ".join(later_today) + ".")
    assert error.extra["reason"] == "quota_reached"
    assert free_texts(error) == later_today
    assert other.code == "A-001"
    assert list(Ticket.objects.filter(office=office_a, lane=lanes["C"]).order_by("number")
                .values_list("code", "source")) == [
        ("C-001", "booking"), ("C-002", "walk_in"), ("C-003", "walk_in")]
    # The next working day the quota starts again.
    with time_machine.travel(at(9, 0, day=date(2026, 6, 30)), tick=False):
        assert walk_in(office_a).code == "C-001"


def test_the_quota_is_counted_again_under_the_lanes_number_lock(office_a, monkeypatch):
    """Two kiosks that both saw one number left: the second is refused once it holds
    the lane's number lock, and nothing of it stays (its number is not used)."""
    from queues.services import issuing
    from registry.models import Sequence

    lanes = lanes_of(office_a)
    LaneQuota.objects.create(office=office_a, lane=lanes["C"], daily_walk_ins=1)
    looks = []

    def first_look_saw_it_open(**kwargs):
        looks.append(kwargs["lane"].letter)
        return None if len(looks) == 1 else walk_in_refusal(**kwargs)

    with time_machine.travel(at(9, 0), tick=False):
        walk_in(office_a)
        monkeypatch.setattr(issuing, "walk_in_refusal", first_look_saw_it_open)
        error = refused(office_a)
    assert looks == ["C", "C"]
    assert error.extra["reason"] == "quota_reached"
    assert TicketEvent.objects.filter(office=office_a, kind="issued").count() == 1
    assert Sequence.objects.get(office=office_a, scope="ticket:C:2026-06-29").value == 1


# --- A wait past closing -------------------------------------------------------------


def test_at_1450_a_long_queue_refuses_with_the_next_free_times(office_a):
    """The issue's "done": at 14:50, a lane whose wait would pass 15:00 gives no number
    and offers the next free times; a lane with nobody waiting still gives one."""
    long_queue(office_a, "C")
    with time_machine.travel(at(14, 50), tick=False):
        error = refused(office_a, "C")
        short = walk_in(office_a, "A")
    assert error.message == (
        "A number taken now in lane C would not be called before closing time (15:00). "
        + COME_BACK_TUESDAY + " " + BOOK_TUESDAY)
    assert error.extra["reason"] == "past_closing"
    assert free_texts(error) == TUESDAY_FREE_TIMES
    assert short.code == "A-001"


def test_at_1450_a_short_queue_is_fine(office_a):
    long_queue(office_a, "C", count=0)
    with time_machine.travel(at(14, 50), tick=False):
        assert walk_in(office_a, "C").code == "C-001"


def test_the_same_queue_earlier_in_the_day_is_fine(office_a):
    long_queue(office_a, "C")
    with time_machine.travel(at(13, 5), tick=False):
        assert walk_in(office_a, "C").code == "C-004"


# --- Bookings are never refused ------------------------------------------------------


def test_a_booking_checked_in_at_1450_is_never_refused(office_a):
    lanes = lanes_of(office_a)
    LaneQuota.objects.create(office=office_a, lane=lanes["C"], daily_walk_ins=3)
    with time_machine.travel(BOOKED_ON, tick=False):
        booking = book(service_of(office_a), start="14:30")
    long_queue(office_a, "C")  # the quota is used up and the wait passes closing
    QueueSettings.objects.update_or_create(office=office_a,
                                           defaults={"walk_in_until": time(14, 0)})
    with time_machine.travel(at(14, 50), tick=False):
        assert walk_in_refusal(office=office_a, lane=lanes["C"]).reason == "cut_off"
        ticket = ticket_check_in(office=office_a, booking_code=booking.code)
    assert (ticket.code, ticket.source, ticket.booking) == ("C-004", "booking", booking)
    # After closing too, on the booking's day.
    with time_machine.travel(BOOKED_ON, tick=False):
        late = book(service_of(office_a), start="14:30")
    with time_machine.travel(at(15, 20), tick=False):
        assert ticket_check_in(office=office_a, booking_code=late.code).code == "C-005"


# --- Offices keep to themselves ------------------------------------------------------


def test_another_offices_settings_and_quotas_never_apply(office_a, office_b):
    lanes_a, lanes_b = lanes_of(office_a), lanes_of(office_b)
    QueueSettings.objects.update_or_create(office=office_b,
                                           defaults={"walk_in_until": time(8, 0)})
    LaneQuota.objects.create(office=office_b, lane=lanes_b["C"], daily_walk_ins=1)
    # A row that names one office's lane with another office is never read either.
    LaneQuota.objects.create(office=office_b, lane=lanes_a["A"], daily_walk_ins=1)
    with time_machine.travel(at(9, 0), tick=False):
        codes = [walk_in(office_a, lane).code for lane in "CCAA"]
        assert refused(office_b).extra["reason"] == "cut_off"
        # Lanes of another office are not answered for.
        assert walk_in_refusals(office=office_a, lanes=[lanes_b["C"]]) == {}
    assert codes == ["C-001", "C-002", "A-001", "A-002"]


def test_a_lane_without_services_is_not_asked_about(office_a):
    lane = Lane.objects.create(office=office_a, letter="Z", name="Kosong")
    with time_machine.travel(datetime(2026, 6, 28, 10, 0, tzinfo=WIB), tick=False):
        refusal = walk_in_refusal(office=office_a, lane=lane)
    assert (refusal.reason, refusal.free_times) == ("closed_day", ())


# --- The kiosk page ------------------------------------------------------------------


def test_the_kiosk_shows_a_full_lane_before_anyone_taps(client, office_a, make_staff):
    translation.activate("id")
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    long_queue(office_a, "C")
    with time_machine.travel(at(14, 50), tick=False):
        page = client.get(reverse("queues:kiosk"))
        body = page.content.decode()
        rows = {row["lane"].letter: row["refusal"] for row in page.context["lanes"]}
        assert {letter: refusal and refusal.reason for letter, refusal in rows.items()} == {
            "A": None, "B": None, "C": "past_closing"}
        refused_c = body[body.index('id="refused-C"'):body.index("</section>",
                                                                 body.index('id="lane-C"'))]
        for text in ["Selasa, 30 Juni 2026 08:00", "Selasa, 30 Juni 2026 08:30",
                     "Selasa, 30 Juni 2026 09:00"]:
            assert f"<li>{text}</li>" in refused_c
        assert 'value="KTP_TTD_FOTO"' not in body
        assert 'value="KK_UBAH"' in body
        assert 'name="priority"' in body
        assert page.context["office_refusal"] is None
        # A tap on a page shown earlier: refused with the same words, nothing issued.
        response = client.post(reverse("queues:kiosk"), {"service": "KTP_TTD_FOTO"},
                               follow=True)
    assert [str(m) for m in response.context["messages"]] == [rows["C"].message]
    assert Ticket.objects.filter(office=office_a).count() == 3


def test_the_kiosk_on_a_sunday_says_so_once_and_offers_no_button(client, office_a,
                                                                  make_staff):
    translation.activate("id")
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    with time_machine.travel(datetime(2026, 6, 28, 10, 0, tzinfo=WIB), tick=False):
        page = client.get(reverse("queues:kiosk"))
    body = page.content.decode()
    assert page.status_code == 200
    assert page.context["office_refusal"].reason == "closed_day"
    assert body.count('id="kiosk-closed"') == 1
    assert 'name="service"' not in body
    assert 'name="priority"' not in body
    assert "Senin, 29 Juni 2026 08:00" in body
    # The booking check-in stays.
    assert 'id="kiosk-checkin"' in body


@pytest.mark.parametrize("data", [
    {"service": "KTP_TTD_FOTO", "priority": "nope"},
    {"service": "x" * 500},
    {"service": "KTP_TTD_FOTO", "issue_key": "k" * 500},
    {},
])
def test_bad_kiosk_input_never_fails_the_page(client, office_a, make_staff, data):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    with time_machine.travel(datetime(2026, 6, 28, 10, 0, tzinfo=WIB), tick=False):
        response = client.post(reverse("queues:kiosk"), data, follow=True)
    assert response.status_code == 200
    assert Ticket.objects.count() == 0


def test_the_kiosk_page_reads_the_services_once_whatever_the_lanes(client, office_a,
                                                                    make_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.models import Lane, Service

    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    url = reverse("queues:kiosk") + "?office=3275"
    with time_machine.travel(at(9, 0), tick=False):
        client.get(url)
        with CaptureQueriesContext(connection) as three_lanes:
            assert client.get(url).status_code == 200
        lane = Lane.objects.create(office=office_a, letter="D", name="Akta")
        template = Service.objects.filter(office=office_a).first()
        Service.objects.create(office=office_a, lane=lane, code="AKTA_X", name="Akta X",
                               estimated_minutes=template.estimated_minutes)
        client.get(url)  # the office's history, cached a minute, is read again once
        with CaptureQueriesContext(connection) as four_lanes:
            page = client.get(url)
    assert "Akta X" in page.content.decode()
    assert len(four_lanes.captured_queries) == len(three_lanes.captured_queries)
