"""The bookings chart of the office head's trends (registry.appointments.trends) on a
hand-built month: Kota Bekasi (WIB) and Kota Makassar (WITA), 15 June to 14 July
2026, bookings made at the edges of the offices' days, kept, expired (by the sweep,
and checked in but not there when called) and cancelled (by the resident and by the
staff)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from registry import extensions
from registry.appointments import trends as booking_trends
from registry.appointments.models import Booking, BookingStatus, Slot
from registry.appointments.services.attendance import (
    booking_check_in,
    booking_complete,
    booking_missed,
)
from registry.appointments.services.bookings import booking_cancel, booking_create
from registry.appointments.services.slots import slots_ensure
from registry.appointments.services.sweeps import bookings_expire_due
from registry.models import Role, Service
from registry.trends import Granularity, Period, trends_for
from tests.factories import OfficeFactory, ResidentFactory

pytestmark = pytest.mark.django_db

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
START, END = date(2026, 6, 15), date(2026, 7, 14)


def wib(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


def wita(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=WITA)


@pytest.fixture
def office_w(db):
    return OfficeFactory(code="7371", name="Disdukcapil Kota Makassar",
                         timezone="Asia/Makassar")


def book(office, made_at: datetime, day: date) -> Booking:
    """A new resident books the 08:00 slot of `day` (lane C) at `made_at`."""
    service = Service.objects.select_related("lane").get(office=office, code="KTP_TTD_FOTO")
    with time_machine.travel(made_at, tick=False):
        slots_ensure(office=office, start=day, end=day)
        slot = Slot.objects.get(lane=service.lane, date=day, start=time(8, 0))
        documents = [{"requirement": r.code,
                      **({"issued_on": made_at.date() - timedelta(days=3)} if r.valid_days
                         else {})} for r in service.requirements.all()]
        return booking_create(office=office, resident=ResidentFactory(domicile_office=office),
                              service=service, slot=slot, documents=documents, now=made_at)


def at(moment, action, **kwargs):
    with time_machine.travel(moment, tick=False):
        return action(**kwargs, now=moment)


@pytest.fixture
def month(office_a, office_w, make_staff):
    """The month's bookings, in the order they happened."""
    staff_a = make_staff(office_a, Role.FRONT_DESK, username="desk-a")
    staff_w = make_staff(office_w, Role.FRONT_DESK, username="desk-w")
    # Made before the period (12 June) for its first day; cancelled by the staff.
    before = book(office_a, wib(6, 12, 10), date(2026, 6, 15))
    at(wib(6, 13, 9), booking_cancel, booking=before, by=staff_a, reason="Kantor tutup")
    # 00:15 WITA on 15 June is still 14 June in WIB and in UTC; missed, swept after 17 June.
    swept_w = book(office_w, wita(6, 15, 0, 15), date(2026, 6, 17))
    at(wita(6, 18, 0, 5), bookings_expire_due)
    kept = book(office_a, wib(6, 19, 10), date(2026, 6, 22))
    missed = book(office_a, wib(6, 19, 23, 30), date(2026, 6, 23))
    # 00:30 on 22 June at each office: 21 June in UTC (and, for WITA, in WIB).
    cancelled = book(office_a, wib(6, 22, 0, 30), date(2026, 6, 24))
    kept_w = book(office_w, wita(6, 22, 0, 30), date(2026, 6, 24))
    at(wib(6, 22, 7, 50), booking_check_in, booking=kept)
    at(wib(6, 22, 8, 30), booking_complete, booking=kept)
    at(wib(6, 23, 10), booking_cancel, booking=cancelled)
    at(wib(6, 24, 0, 5), bookings_expire_due)
    at(wita(6, 24, 7, 45), booking_check_in, booking=kept_w)
    not_there = book(office_a, wib(6, 29, 10), date(2026, 7, 1))
    checked_in = book(office_a, wib(6, 29, 10, 5), date(2026, 7, 2))
    cancelled_w = book(office_w, wita(6, 30, 23, 30), date(2026, 7, 2))
    at(wib(7, 1, 7, 58), booking_check_in, booking=not_there)
    at(wib(7, 1, 8, 40), booking_missed, booking=not_there)
    at(wita(7, 1, 9), booking_cancel, booking=cancelled_w, by=staff_w, reason="Listrik padam")
    at(wib(7, 2, 7, 55), booking_check_in, booking=checked_in)
    upcoming = book(office_a, wib(7, 10, 9), date(2026, 7, 17))
    last_minute = book(office_a, wib(7, 14, 23, 30), date(2026, 7, 20))
    # 00:30 WIB on 15 July is still 14 July in UTC: after the period all the same.
    after = book(office_a, wib(7, 15, 0, 30), date(2026, 7, 21))
    statuses = {booking.code: booking.status for booking in Booking.objects.all()}
    assert [statuses[b.code] for b in (before, swept_w, kept, missed, cancelled, kept_w,
                                       not_there, checked_in, cancelled_w, upcoming,
                                       last_minute, after)] == [
        BookingStatus.CANCELLED, BookingStatus.EXPIRED, BookingStatus.DONE,
        BookingStatus.EXPIRED, BookingStatus.CANCELLED, BookingStatus.CHECKED_IN,
        BookingStatus.EXPIRED, BookingStatus.CHECKED_IN, BookingStatus.CANCELLED,
        BookingStatus.BOOKED, BookingStatus.BOOKED, BookingStatus.BOOKED]


def by_day(values: dict[date, int]) -> list[int]:
    return [values.get(START + timedelta(days=n), 0) for n in range((END - START).days + 1)]


def chart_of(office, granularity, offices=None):
    [chart] = booking_trends.charts(offices=offices or [office],
                                    period=Period(START, END, granularity))[office.id]
    return chart


def values(chart) -> list[list]:
    return [series.values for series in chart.series]


def d(month, day):
    return date(2026, month, day)


def test_bookings_made_kept_expired_cancelled_by_day(month, office_a, office_w):
    chart = chart_of(office_a, Granularity.DAY)
    assert (chart.key, chart.kind, len(chart.labels)) == ("bookings", "bars", 30)
    assert values(chart) == [
        by_day({d(6, 19): 2, d(6, 22): 1, d(6, 29): 2, d(7, 10): 1, d(7, 14): 1}),  # made
        by_day({d(6, 22): 1, d(7, 2): 1}),                                          # kept
        by_day({d(6, 23): 1, d(7, 1): 1}),                                          # expired
        by_day({d(6, 15): 1, d(6, 24): 1}),                                         # cancelled
    ]
    assert values(chart_of(office_w, Granularity.DAY)) == [
        by_day({d(6, 15): 1, d(6, 22): 1, d(6, 30): 1}),
        by_day({d(6, 24): 1}),
        by_day({d(6, 17): 1}),
        by_day({d(7, 2): 1}),
    ]


def test_bookings_by_week_and_month(month, office_a, office_w):
    # Weeks from Monday 15 June: 15, 22, 29 June, 6 and 13 July (the last clipped).
    assert values(chart_of(office_a, Granularity.WEEK)) == [
        [2, 1, 2, 1, 1], [0, 1, 1, 0, 0], [0, 1, 1, 0, 0], [1, 1, 0, 0, 0]]
    assert values(chart_of(office_w, Granularity.WEEK)) == [
        [1, 1, 1, 0, 0], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0]]
    # June from the 15th, July to the 14th.
    assert values(chart_of(office_a, Granularity.MONTH)) == [[5, 2], [1, 1], [1, 1], [2, 0]]
    assert values(chart_of(office_w, Granularity.MONTH)) == [[3, 0], [1, 0], [1, 0], [0, 1]]
    with translation.override("en"):
        chart = chart_of(office_a, Granularity.MONTH)
        assert (chart.header(), chart.labels) == (
            ["period", "made", "kept", "expired", "cancelled"], ["Jun 2026", "Jul 2026"])
        assert chart.rows() == [["Jun 2026", 5, 1, 1, 2], ["Jul 2026", 2, 1, 1, 0]]


def test_an_office_sees_only_its_own_bookings(month, office_a, office_w, office_b):
    """Computed for several offices at once, each office's chart is the one it has
    alone; an office without bookings has none of the others'."""
    together = booking_trends.charts(offices=[office_a, office_w, office_b],
                                     period=Period(START, END, Granularity.WEEK))
    for office in (office_a, office_w):
        assert values(together[office.id][0]) == values(chart_of(office, Granularity.WEEK))
    assert values(together[office_b.id][0]) == [[0] * 5] * 4
    assert together[office_b.id][0].is_empty()


def test_the_chart_takes_two_queries_whatever_the_offices_zones_and_days(
        month, office_a, office_w, office_b, django_assert_num_queries):
    period = Period(START, END, Granularity.DAY)
    with CaptureQueriesContext(connection) as one_office:
        booking_trends.charts(offices=[office_a], period=period)
    assert len(one_office.captured_queries) == 2
    # Three offices in two time zones; a week and two months.
    with django_assert_num_queries(2):
        booking_trends.charts(offices=[office_a, office_w, office_b], period=period)
    with django_assert_num_queries(2):
        booking_trends.charts(offices=[office_a, office_w, office_b],
                              period=Period(END - timedelta(days=6), END))
    with django_assert_num_queries(2):
        booking_trends.charts(offices=[office_a, office_w, office_b],
                              period=Period(END - timedelta(days=59), END, Granularity.WEEK))


def test_the_bookings_chart_is_registered(month, office_a):
    assert booking_trends.charts in extensions.registered(extensions.TRENDS)
    charts = trends_for(offices=[office_a], period=Period(START, END, Granularity.MONTH))
    [bookings] = [chart for chart in charts[office_a.id] if chart.key == "bookings"]
    assert values(bookings)[0] == [5, 2]
