"""The queue's and the counters' charts of the office head's trends (queues.trends) on
a hand-built month, 15 June to 14 July 2026, of two offices: Kota Bekasi (WIB) and
Kota Makassar (WITA). Everything happens through the services, at exact times.

Kota Bekasi, counter Loket 1 (lane C) and Loket 2 (lane B):
- Mon 22 June. Booked R1 checks in 07:50 (C-001); walk-in C-002 at 08:00. Loket 1
  opens 08:00, calls C-001 08:10 (waited 20), serves 08:12-08:30; calls C-002 08:40
  (waited 40), identified as R2, not served (documents missing) 08:41-08:50. Walk-in
  C-003 at 09:00, called 09:05 (waited 5), a no-show, never identified. Closed 10:00.
  Idle with people waiting: 08:00-08:10, 08:30-08:40, 09:00-09:05 = 25 minutes.
- Tue 23 June. R3 sent away at the door 06:30 and 06:45 (no service named; 06:30 WIB
  is still 22 June in UTC). Walk-in C-001 (R2 again) at 09:00; Loket 1 opens 09:10,
  calls 09:15 (waited 15), serves 09:15-09:20 and transfers it to lane B; Loket 2
  opens 09:22, calls it 09:25 (waited 5 in B), serves it 09:25-09:35. Idle with people
  waiting: 09:10-09:15 and 09:22-09:25 = 8 minutes.
- Mon 29 June. R4 sent away at 08:00 for a signature change (a document missing); he
  books at 10:00 for 1 July and the case takes the turn-away. R5 books 1 July 08:30.
- Tue 30 June. Walk-in C-001 at 23:30 WIB; Loket 1 opens 23:35, calls 23:40 (waited
  10), R6, served 23:41-23:50. Idle with people waiting 5 minutes.
- Wed 1 July. R4 checks in 07:55 (C-001), R5 07:58 (C-002). Loket 1 opens 07:59, calls
  C-001 08:00 (waited 5), serves 08:01-08:21; calls C-002 08:25 (waited 27), a no-show;
  the end-of-day sweep expires R5's booking. Idle with people waiting 1 + 4 minutes.

Kota Makassar (WITA), counter Loket 1 (lane C):
- Wed 24 June. Booked R7 checks in 07:45 (C-001); Loket 1 opens 07:50, calls 08:00
  (waited 15), serves 08:00-08:12. Idle with people waiting 10 minutes.
- Thu 25 June. R8 sent away at the door at 07:30 WITA (still 24 June in UTC).
- Fri 3 July. R9 sent away at 08:00 for a signature change; walk-in C-001 at 10:00;
  Loket 1 opens 10:05, calls 10:10 (waited 10), R9 (the new case takes the morning's
  turn-away), served 10:10-10:30: one trip, the same day. Walk-in C-002 at 23:30;
  Loket 1 opens 23:40 and stays open overnight; the sweep closes C-002 as a no-show at
  00:05 on 4 July. Idle with people waiting 5 + 20 minutes (to midnight WITA).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from queues import counter_figures
from queues import trends as queue_trends
from queues.models import Ticket
from queues.services.calling import (
    ticket_call_next,
    ticket_finish,
    ticket_no_show,
    ticket_start,
    ticket_transfer,
)
from queues.services.closing import tickets_close_due
from queues.services.counters import counter_close, counter_open
from queues.services.issuing import ticket_check_in, ticket_identify
from registry import extensions
from registry.appointments.models import Booking, Slot
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.slots import slots_ensure
from registry.models import Role, Service, TurnAway
from registry.services.turn_aways import turn_away_record
from registry.trends import Granularity, Period, trends_for
from tests.factories import OfficeFactory, ResidentFactory
from tests.queues.conftest import lanes_of, walk_in

pytestmark = pytest.mark.django_db

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
START, END = date(2026, 6, 15), date(2026, 7, 14)
SIGNATURE = "KTP_TTD_FOTO"


def d(month, day):
    return date(2026, month, day)


@pytest.fixture
def office_w(db):
    return OfficeFactory(code="7371", name="Disdukcapil Kota Makassar",
                         timezone="Asia/Makassar")


class Floor:
    """One office's floor on the test's clock: each step at its office time."""

    def __init__(self, office, zone, operator, desk, counters):
        self.office, self.zone, self.operator, self.desk = office, zone, operator, desk
        self.counters = counters

    def at(self, month, day, hour, minute=0):
        return time_machine.travel(datetime(2026, month, day, hour, minute, tzinfo=self.zone),
                                   tick=False)

    def book(self, resident, day, start):
        service = Service.objects.select_related("lane").get(office=self.office,
                                                             code=SIGNATURE)
        slots_ensure(office=self.office, start=day, end=day)
        slot = Slot.objects.get(lane=service.lane, date=day, start=start)
        return booking_create(office=self.office, resident=resident, service=service,
                              slot=slot, documents=[{"requirement": r.code}
                                                    for r in service.requirements.all()])

    def turn_away(self, resident, reason, service=None):
        return turn_away_record(
            office=self.office, resident=resident, reason=reason, by=self.desk,
            service=Service.objects.get(office=self.office, code=service) if service else None)

    def open(self, number=1):
        counter_open(counter=self.counters[number], by=self.operator)

    def close(self, number=1):
        counter_close(counter=self.counters[number], by=self.operator)

    def call(self, number=1):
        return ticket_call_next(counter=self.counters[number], by=self.operator)

    def start(self, number=1, resident=None):
        ticket_start(counter=self.counters[number], by=self.operator)
        if resident is not None:
            ticket_identify(counter=self.counters[number], resident=resident, by=self.operator)

    def finish(self, outcome="served", number=1):
        ticket_finish(counter=self.counters[number], by=self.operator, outcome=outcome,
                      reason="missing_documents" if outcome == "not_served" else "")


@pytest.fixture
def month(office_a, office_w, counter_factory, operator, make_staff):
    kota = Floor(office_a, WIB, operator, make_staff(office_a, Role.FRONT_DESK, "desk-a"),
                 {1: counter_factory("C", number=1), 2: counter_factory("B", number=2)})
    mks = Floor(office_w, WITA, make_staff(office_w, Role.COUNTER_OPERATOR, "operator-w"),
                make_staff(office_w, Role.FRONT_DESK, "desk-w"),
                {1: counter_factory("C", number=1, office=office_w)})
    r = {n: ResidentFactory(domicile_office=office_a if n <= 6 else office_w)
         for n in range(1, 10)}

    with kota.at(6, 19, 10):
        b1 = kota.book(r[1], d(6, 22), time(8, 0))
    with mks.at(6, 22, 0, 30):
        b7 = mks.book(r[7], d(6, 24), time(8, 0))

    # Kota Bekasi, Monday 22 June.
    with kota.at(6, 22, 7, 50):
        ticket_check_in(office=office_a, booking_code=b1.code)
    with kota.at(6, 22, 8, 0):
        walk_in(office_a, limits=False)
        kota.open()
    with kota.at(6, 22, 8, 10):
        assert kota.call().booking_id == b1.id
    with kota.at(6, 22, 8, 12):
        kota.start()
    with kota.at(6, 22, 8, 30):
        kota.finish()
    with kota.at(6, 22, 8, 40):
        assert kota.call().code == "C-002"
    with kota.at(6, 22, 8, 41):
        kota.start(resident=r[2])
    with kota.at(6, 22, 8, 50):
        kota.finish("not_served")
    with kota.at(6, 22, 9, 0):
        walk_in(office_a, limits=False)
    with kota.at(6, 22, 9, 5):
        kota.call()
    with kota.at(6, 22, 9, 6):
        ticket_no_show(counter=kota.counters[1], by=operator)
    with kota.at(6, 22, 10, 0):
        kota.close()

    # Tuesday 23 June.
    with kota.at(6, 23, 6, 30):
        kota.turn_away(r[3], "no_booking")
    with kota.at(6, 23, 6, 45):
        kota.turn_away(r[3], "office_full")
    with kota.at(6, 23, 9, 0):
        walk_in(office_a, limits=False)
    with kota.at(6, 23, 9, 10):
        kota.open()
    with kota.at(6, 23, 9, 15):
        kota.call()
        kota.start(resident=r[2])
    with kota.at(6, 23, 9, 20):
        ticket_transfer(counter=kota.counters[1], to_lane=lanes_of(office_a)["B"],
                        by=operator)
    with kota.at(6, 23, 9, 22):
        kota.open(2)
    with kota.at(6, 23, 9, 25):
        kota.call(2)
        kota.start(2)
    with kota.at(6, 23, 9, 35):
        kota.finish(number=2)
    with kota.at(6, 23, 9, 40):
        kota.close()
        kota.close(2)

    # Kota Makassar, Wednesday 24 and Thursday 25 June.
    with mks.at(6, 24, 7, 45):
        ticket_check_in(office=office_w, booking_code=b7.code)
    with mks.at(6, 24, 7, 50):
        mks.open()
    with mks.at(6, 24, 8, 0):
        mks.call()
        mks.start()
    with mks.at(6, 24, 8, 12):
        mks.finish()
    with mks.at(6, 24, 8, 15):
        mks.close()
    with mks.at(6, 25, 7, 30):
        mks.turn_away(r[8], "no_booking")

    # Kota Bekasi, Monday 29 and Tuesday 30 June.
    with kota.at(6, 29, 8, 0):
        turned_r4 = kota.turn_away(r[4], "missing_document", SIGNATURE)
    with kota.at(6, 29, 10, 0):
        b4 = kota.book(r[4], d(7, 1), time(8, 0))
    with kota.at(6, 29, 10, 5):
        b5 = kota.book(r[5], d(7, 1), time(8, 30))
    with kota.at(6, 30, 23, 30):
        walk_in(office_a, limits=False)
    with kota.at(6, 30, 23, 35):
        kota.open()
    with kota.at(6, 30, 23, 40):
        kota.call()
    with kota.at(6, 30, 23, 41):
        kota.start(resident=r[6])
    with kota.at(6, 30, 23, 50):
        kota.finish()
    with kota.at(6, 30, 23, 55):
        kota.close()

    # Wednesday 1 July.
    with kota.at(7, 1, 7, 55):
        ticket_check_in(office=office_a, booking_code=b4.code)
    with kota.at(7, 1, 7, 58):
        ticket_check_in(office=office_a, booking_code=b5.code)
    with kota.at(7, 1, 7, 59):
        kota.open()
    with kota.at(7, 1, 8, 0):
        assert kota.call().booking_id == b4.id
    with kota.at(7, 1, 8, 1):
        kota.start()
    with kota.at(7, 1, 8, 21):
        kota.finish()
    with kota.at(7, 1, 8, 25):
        assert kota.call().booking_id == b5.id
    with kota.at(7, 1, 8, 30):
        ticket_no_show(counter=kota.counters[1], by=operator)
    with kota.at(7, 1, 8, 40):
        kota.close()
    with kota.at(7, 1, 20, 0):
        tickets_close_due()

    # Kota Makassar, Friday 3 July.
    with mks.at(7, 3, 8, 0):
        turned_r9 = mks.turn_away(r[9], "missing_document", SIGNATURE)
    with mks.at(7, 3, 10, 0):
        walk_in(office_w, limits=False)
    with mks.at(7, 3, 10, 5):
        mks.open()
    with mks.at(7, 3, 10, 10):
        mks.call()
        mks.start(resident=r[9])
    with mks.at(7, 3, 10, 30):
        mks.finish()
    with mks.at(7, 3, 10, 35):
        mks.close()
    with mks.at(7, 3, 23, 30):
        walk_in(office_w, limits=False)
    with mks.at(7, 3, 23, 40):
        mks.open()
    with mks.at(7, 4, 0, 5):
        tickets_close_due()
    with mks.at(7, 4, 8, 0):
        mks.close()

    # The records as the services left them.
    turned_r4.refresh_from_db()
    turned_r9.refresh_from_db()
    assert turned_r4.application == Booking.objects.get(pk=b4.pk).application
    assert turned_r9.application == Ticket.objects.get(office=office_w, day=d(7, 3),
                                                       code="C-001").application
    assert TurnAway.objects.filter(application__isnull=True).count() == 3  # R3 twice, R8
    assert Booking.objects.get(pk=b5.pk).status == "expired"
    assert list(Ticket.objects.filter(office=office_w, day=d(7, 3)).order_by("code")
                .values_list("code", "status", "outcome")) == [
        ("C-001", "done", "served"), ("C-002", "no_show", "")]
    with time_machine.travel(datetime(2026, 7, 20, 9, 0, tzinfo=WIB), tick=False):
        yield


QUEUE_KEYS = ("one_trip", "tickets", "waits", "waits_by_lane", "idle_waiting")


def by_day(values: dict[date, object], default=0) -> list:
    return [values.get(START + timedelta(days=n), default)
            for n in range((END - START).days + 1)]


def charts_of(source, office, granularity, offices=None) -> dict:
    return {chart.key: chart for chart in source(
        offices=offices or [office], period=Period(START, END, granularity))[office.id]}


def values(chart) -> list[list]:
    return [series.values for series in chart.series]


# --- One trip ------------------------------------------------------------------------


def test_one_trip_by_day(month, office_a, office_w):
    """Share (%), first trips, succeeded, sent away at the door."""
    chart = charts_of(queue_trends.one_trip_charts, office_a, Granularity.DAY)["one_trip"]
    assert (chart.kind, chart.unit) == ("lines", "%")
    assert values(chart) == [
        # 22 June: R1 served, R2 not (1 of 2); 23 June: R3 sent away (twice, one trip);
        # 29 June: R4 sent away (his case's first trip, not 1 July's visit); 30 June:
        # R6 at 23:30 WIB, served; 1 July: R5 a no-show. C-003 was never identified.
        by_day({d(6, 22): 50.0, d(6, 23): 0.0, d(6, 29): 0.0, d(6, 30): 100.0,
                d(7, 1): 0.0}, None),
        by_day({d(6, 22): 2, d(6, 23): 1, d(6, 29): 1, d(6, 30): 1, d(7, 1): 1}),
        by_day({d(6, 22): 1, d(6, 30): 1}),
        by_day({d(6, 23): 1, d(6, 29): 1}),
    ]
    # R7 served; R8 sent away at 07:30 WITA (24 June in UTC); R9 sent away in the
    # morning and served the same day: one trip.
    assert values(charts_of(queue_trends.one_trip_charts, office_w,
                            Granularity.DAY)["one_trip"]) == [
        by_day({d(6, 24): 100.0, d(6, 25): 0.0, d(7, 3): 100.0}, None),
        by_day({d(6, 24): 1, d(6, 25): 1, d(7, 3): 1}),
        by_day({d(6, 24): 1, d(7, 3): 1}),
        by_day({d(6, 25): 1}),
    ]


def test_one_trip_by_week_and_month(month, office_a, office_w):
    def one_trip(office, granularity):
        return values(charts_of(queue_trends.one_trip_charts, office,
                                granularity)["one_trip"])

    # Weeks of 15, 22, 29 June, 6 and 13 July.
    assert one_trip(office_a, Granularity.WEEK) == [
        [None, 33.3, 33.3, None, None], [0, 3, 3, 0, 0], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0]]
    assert one_trip(office_w, Granularity.WEEK) == [
        [None, 50.0, 100.0, None, None], [0, 2, 1, 0, 0], [0, 1, 1, 0, 0], [0, 1, 0, 0, 0]]
    assert one_trip(office_a, Granularity.MONTH) == [[40.0, 0.0], [5, 1], [2, 0], [2, 0]]
    assert one_trip(office_w, Granularity.MONTH) == [[50.0, 100.0], [2, 1], [1, 1], [1, 0]]
    with translation.override("en"):
        chart = charts_of(queue_trends.one_trip_charts, office_a,
                          Granularity.MONTH)["one_trip"]
        assert chart.header() == ["period", "one trip (%)", "first trips", "succeeded",
                                  "sent away at the door"]
        assert chart.rows() == [["Jun 2026", 40.0, 5, 2, 2], ["Jul 2026", 0.0, 1, 0, 0]]


# --- Tickets -------------------------------------------------------------------------


def test_walk_in_and_booked_tickets_with_the_no_shows_apart(month, office_a, office_w):
    """Walk-in, walk-in no-shows, booked, booked no-shows."""
    chart = charts_of(queue_trends.tickets_charts, office_a, Granularity.DAY)["tickets"]
    assert chart.kind == "stacked"
    assert values(chart) == [
        by_day({d(6, 22): 1, d(6, 23): 1, d(6, 30): 1}),
        by_day({d(6, 22): 1}),
        by_day({d(6, 22): 1, d(7, 1): 1}),
        by_day({d(7, 1): 1}),
    ]
    assert values(charts_of(queue_trends.tickets_charts, office_w,
                            Granularity.DAY)["tickets"]) == [
        by_day({d(7, 3): 1}), by_day({d(7, 3): 1}), by_day({d(6, 24): 1}), by_day({})]
    assert values(charts_of(queue_trends.tickets_charts, office_a,
                            Granularity.WEEK)["tickets"]) == [
        [0, 2, 1, 0, 0], [0, 1, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 0, 0]]
    assert values(charts_of(queue_trends.tickets_charts, office_a,
                            Granularity.MONTH)["tickets"]) == [[3, 0], [1, 0], [1, 1], [0, 1]]
    assert values(charts_of(queue_trends.tickets_charts, office_w,
                            Granularity.MONTH)["tickets"]) == [[0, 1], [0, 1], [1, 0], [0, 0]]


# --- Waiting and service times -------------------------------------------------------


def test_median_and_p90_wait_per_bucket(month, office_a, office_w):
    def waits(office, granularity):
        return values(charts_of(queue_trends.wait_charts, office, granularity)["waits"])

    # 22 June: 20, 40, 5 min; 23 June: 15 (lane C), 5 (lane B); 30 June: 10; 1 July:
    # 5, 27.
    assert waits(office_a, Granularity.DAY) == [
        by_day({d(6, 22): 20.0, d(6, 23): 10.0, d(6, 30): 10.0, d(7, 1): 16.0}, None),
        by_day({d(6, 22): 36.0, d(6, 23): 14.0, d(6, 30): 10.0, d(7, 1): 24.8}, None)]
    assert waits(office_a, Granularity.WEEK) == [[None, 15.0, 10.0, None, None],
                                                 [None, 32.0, 23.6, None, None]]
    assert waits(office_a, Granularity.MONTH) == [[12.5, 16.0], [30.0, 24.8]]
    assert waits(office_w, Granularity.DAY) == [
        by_day({d(6, 24): 15.0, d(7, 3): 10.0}, None),
        by_day({d(6, 24): 15.0, d(7, 3): 10.0}, None)]
    assert waits(office_w, Granularity.MONTH) == [[15.0, 10.0], [15.0, 10.0]]


def test_waiting_and_service_time_per_lane_over_the_period(month, office_a, office_w):
    with translation.override("en"):
        chart = charts_of(queue_trends.wait_charts, office_a,
                          Granularity.WEEK)["waits_by_lane"]
        assert chart.header() == ["lane", "wait, median", "wait, 90th percentile",
                                  "service, median", "service, 90th percentile"]
    # Lane C waits 20, 40, 5, 15, 10, 5, 27; services 18, 9, 5 (to the transfer), 9, 20.
    # Lane B: the transferred ticket, waited 5 since the transfer, served 10.
    assert chart.rows() == [["A - Layanan KK dan umum", None, None, None, None],
                            ["B - Cek biometrik", 5.0, 5.0, 10.0, 10.0],
                            ["C - Perubahan biodata", 15.0, 32.2, 9.0, 19.2]]
    # The granularity does not change a figure over the whole period.
    assert values(charts_of(queue_trends.wait_charts, office_a,
                            Granularity.DAY)["waits_by_lane"]) == values(chart)
    assert charts_of(queue_trends.wait_charts, office_w,
                     Granularity.MONTH)["waits_by_lane"].rows() == [
        ["A - Layanan KK dan umum", None, None, None, None],
        ["B - Cek biometrik", None, None, None, None],
        ["C - Perubahan biodata", 12.5, 14.5, 16.0, 19.2]]


def test_the_lane_times_are_the_lane_statistics_ones(month, office_a):
    """The same definitions as the statistics per day and lane: pooled over a day they
    give that day's figures."""
    from queues.selectors import lane_day_statistics

    [row] = [r for r in lane_day_statistics(office=office_a, date_from=d(6, 22),
                                            date_to=d(6, 22)) if r["lane"].letter == "C"]
    [chart] = [c for c in queue_trends.wait_charts(
        offices=[office_a], period=Period(d(6, 22), d(6, 22)))[office_a.id]
        if c.key == "waits_by_lane"]
    assert chart.rows()[2][1:] == [row["wait_median"], row["wait_p90"],
                                   row["service_median"], row["service_p90"]]


# --- Counters idle while people wait -------------------------------------------------


def test_counter_minutes_idle_while_people_wait(month, office_a, office_w):
    def idle(office, granularity):
        return values(charts_of(queue_trends.idle_waiting_charts, office,
                                granularity)["idle_waiting"])

    assert idle(office_a, Granularity.DAY) == [
        by_day({d(6, 22): 25.0, d(6, 23): 8.0, d(6, 30): 5.0, d(7, 1): 5.0}, 0)]
    assert idle(office_a, Granularity.WEEK) == [[0, 33.0, 10.0, 0, 0]]
    assert idle(office_a, Granularity.MONTH) == [[38.0, 5.0]]
    # 3 July: 10:05-10:10, and 23:40 to midnight WITA (not WIB's, an hour later) while
    # C-002 waited; the counter stood open overnight with nobody waiting on 4 July.
    assert idle(office_w, Granularity.DAY) == [by_day({d(6, 24): 10.0, d(7, 3): 25.0}, 0)]
    assert idle(office_w, Granularity.MONTH) == [[10.0, 25.0]]


def test_idle_minutes_are_the_counter_figures_ones(month, office_a, office_w):
    for office, first, last in ((office_a, d(6, 22), d(7, 1)), (office_w, d(6, 24), d(7, 4))):
        rows = counter_figures.counter_figures(office=office, date_from=first, date_to=last)
        seconds = counter_figures.idle_waiting_seconds(offices=[office_a, office_w],
                                                       date_from=first, date_to=last)
        per_day: dict[date, float] = {}
        for row in rows:
            per_day[row["day"]] = per_day.get(row["day"], 0) + row["idle_waiting_minutes"]
        assert {day: round(value / 60, 1) for (office_id, day), value in seconds.items()
                if office_id == office.id and value} == {
            day: minutes for day, minutes in per_day.items() if minutes}


# --- Scoping and queries -------------------------------------------------------------


def test_an_office_sees_only_its_own_queue(month, office_a, office_w, office_b):
    """Computed for several offices at once, each office's charts are the ones it has
    alone; an office without records has none of the others'."""
    period = Period(START, END, Granularity.WEEK)
    together = queue_trends.charts(offices=[office_a, office_w, office_b], period=period)
    for office in (office_a, office_w):
        alone = queue_trends.charts(offices=[office], period=period)[office.id]
        assert [(c.key, c.labels, values(c)) for c in together[office.id]] == [
            (c.key, c.labels, values(c)) for c in alone]
    assert [chart.key for chart in together[office_b.id]] == list(QUEUE_KEYS)
    assert all(chart.is_empty() for chart in together[office_b.id])


QUERIES = {queue_trends.one_trip_charts: 2, queue_trends.tickets_charts: 1,
           queue_trends.wait_charts: 2, queue_trends.idle_waiting_charts: 4,
           queue_trends.charts: 9}


@pytest.mark.parametrize(("source", "count"), QUERIES.items(),
                         ids=lambda value: getattr(value, "__name__", str(value)))
def test_each_chart_takes_the_same_queries_whatever_the_offices_zones_and_days(
        month, office_a, office_w, office_b, django_assert_num_queries, source, count):
    with CaptureQueriesContext(connection) as one_office_a_week:
        source(offices=[office_a], period=Period(END - timedelta(days=6), END))
    assert len(one_office_a_week.captured_queries) == count
    # Three offices in two time zones, over the month and over 60 days by week.
    with django_assert_num_queries(count):
        source(offices=[office_a, office_w, office_b], period=Period(START, END))
    with django_assert_num_queries(count):
        source(offices=[office_a, office_w, office_b],
               period=Period(END - timedelta(days=59), END, Granularity.WEEK))


def test_the_queue_charts_are_registered(month, office_a):
    assert queue_trends.charts in extensions.registered(extensions.TRENDS)
    charts = trends_for(offices=[office_a], period=Period(START, END, Granularity.MONTH))
    assert [chart.key for chart in charts[office_a.id]
            if chart.key in QUEUE_KEYS] == list(QUEUE_KEYS)

