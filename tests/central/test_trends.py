"""The central link's trends over a hand-built July 2026: outage minutes, cards waiting
for print and the blank-card stock, per day, week and month of each office's calendar
(Kota Bekasi in WIB, Kota Makassar in WITA), exact; scoping; bounded queries."""

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from registry import extensions
from registry.central.models import (
    AttemptOutcome,
    CardStockMovement,
    CentralJob,
    CentralJobAttempt,
    CentralJobKind,
    CentralJobStatus,
    CentralOutage,
    OutageDetection,
    StockMovementReason,
)
from registry.central.trends import charts
from registry.trends import Granularity, Period, trends_for
from tests.factories import ApplicationFactory, OfficeFactory, card_stock_for
from tests.trends import queries_of

pytestmark = pytest.mark.django_db

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
JULY = (date(2026, 7, 1), date(2026, 7, 31))
# After the month: the open outage and the jobs and movements after it are in the past.
NOW = datetime(2026, 8, 3, 10, 0, tzinfo=WIB)


def wib(day, hour, minute=0, month=7):
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


def wita(day, hour, minute=0, month=7):
    return datetime(2026, month, day, hour, minute, tzinfo=WITA)


def july(granularity):
    return Period(*JULY, granularity)


def per_day(values: dict[int, float], default=0) -> list:
    """The 31 days of July: `values` by day of the month, `default` elsewhere."""
    return [values.get(day, default) for day in range(1, 32)]


def carried(changes: dict[int, int]) -> list:
    """A level over the 31 days of July, from the days it changed to a new value."""
    out, level = [], changes.get(0, 0)
    for day in range(1, 32):
        level = changes.get(day, level)
        out.append(level)
    return out


@pytest.fixture
def office_m(db):
    return OfficeFactory(code="7371", name="Disdukcapil Kota Makassar", timezone="Asia/Makassar")


def outage(office, start, end):
    return CentralOutage.objects.create(office=office, started_at=start, ended_at=end,
                                        detection=OutageDetection.HEALTH_CHECK)


def print_job(office, created, *, status=CentralJobStatus.PENDING, done=None,
              kind=CentralJobKind.CARD_PRINT, refused=()):
    """A job of a new case of `office`; `refused` the finish times of refused sends."""
    job = CentralJob.objects.create(
        office=office, application=ApplicationFactory(office=office), kind=kind,
        key=uuid.uuid4(), status=status, created_at=created, done_at=done,
        attempts=len(refused) + (1 if done else 0))
    for number, at in enumerate(refused, start=1):
        CentralJobAttempt.objects.create(office=office, job=job, number=number, started_at=at,
                                         finished_at=at, outcome=AttemptOutcome.REJECTED)
    return job


def movement(office, at, change, reason=StockMovementReason.PRINTED):
    CardStockMovement.objects.create(office=office, at=at, change=change, balance=0,
                                     reason=reason)


@pytest.fixture
def month(office_a, office_m):
    """July 2026 at Kota Bekasi (WIB) and Kota Makassar (WITA)."""
    # Outages. Bekasi: 10 minutes of one begun in June, 09:00-13:00 on the 2nd, 23:30 on
    # Sunday the 5th to 00:45 on Monday the 6th (across a week), one open since 23:00
    # on the 31st (up to the period's end). Makassar: 09:00-10:00 WITA on the 2nd and
    # 00:30-00:50 WITA on the 11th (23:30 on the 10th in WIB).
    outage(office_a, wib(30, 23, month=6), wib(1, 0, 10))
    outage(office_a, wib(2, 9), wib(2, 13))
    outage(office_a, wib(5, 23, 30), wib(6, 0, 45))
    outage(office_a, wib(31, 23), None)
    outage(office_m, wita(2, 9), wita(2, 10))
    outage(office_m, wita(11, 0, 30), wita(11, 0, 50))

    # Print jobs. Bekasi: two waiting from June (one printed on the 2nd); one made at
    # 23:30 on the 3rd, printed at 00:30 on the 6th; one refused on the 7th; one refused
    # then sent again and printed the next day; one waiting since the 20th; one made on
    # the 28th and printed after the month; a data change, never counted.
    print_job(office_a, wib(28, 10, month=6), status=CentralJobStatus.DONE, done=wib(2, 10))
    print_job(office_a, wib(29, 10, month=6), status=CentralJobStatus.WAITING_STOCK)
    print_job(office_a, wib(3, 23, 30), status=CentralJobStatus.DONE, done=wib(6, 0, 30))
    print_job(office_a, wib(6, 8), status=CentralJobStatus.REJECTED, refused=[wib(7, 10)])
    print_job(office_a, wib(14, 10), status=CentralJobStatus.DONE, done=wib(15, 10),
              refused=[wib(14, 11)])
    print_job(office_a, wib(20, 10), status=CentralJobStatus.BLOCKED)
    print_job(office_a, wib(28, 10), status=CentralJobStatus.DONE, done=wib(1, 9, month=8))
    print_job(office_a, wib(1, 10), kind=CentralJobKind.DATA_CHANGE)
    # Makassar: one made at 23:30 WITA on the 9th, one at 00:30 WITA on the 10th (23:30
    # on the 9th in WIB), printed on the 20th.
    print_job(office_m, wita(9, 23, 30))
    print_job(office_m, wita(10, 0, 30), status=CentralJobStatus.DONE, done=wita(20, 8))

    # Blank cards. Bekasi has 95 now, after: +100 in June, -1 on the 2nd, -1 at 00:30 on
    # the 6th, +50 on the 10th, -1 on the 15th, a count 3 short at 23:30 on the 20th,
    # -1 on 1 August. Makassar has 10 now, after -1 at 23:30 WITA on the 31st and -1 at
    # 00:30 WITA on 1 August (23:30 on the 31st in WIB).
    card_stock_for(office_a, on_hand=95)
    movement(office_a, wib(30, 10, month=6), 100, StockMovementReason.RECEIVED)
    movement(office_a, wib(2, 10), -1)
    movement(office_a, wib(6, 0, 30), -1)
    movement(office_a, wib(10, 10), 50, StockMovementReason.RECEIVED)
    movement(office_a, wib(15, 10), -1)
    movement(office_a, wib(20, 23, 30), -3, StockMovementReason.CORRECTION)
    movement(office_a, wib(1, 9, month=8), -1)
    card_stock_for(office_m, on_hand=10)
    movement(office_m, wita(31, 23, 30), -1)
    movement(office_m, wita(1, 0, 30, month=8), -1)


def figures(offices, granularity):
    with time_machine.travel(NOW, tick=False):
        result = charts(offices=offices, period=july(granularity))
    return {office_id: {chart.key: chart for chart in office_charts}
            for office_id, office_charts in result.items()}


def values(chart):
    return [series.values for series in chart.series]


def test_each_day(month, office_a, office_m):
    result = figures([office_a, office_m], Granularity.DAY)
    a, m = result[office_a.id], result[office_m.id]
    assert list(a) == ["outage_minutes", "cards_waiting", "card_stock"]
    assert values(a["outage_minutes"]) == [per_day({1: 10.0, 2: 240.0, 5: 30.0, 6: 45.0,
                                                    31: 60.0}, 0.0)]
    assert values(m["outage_minutes"]) == [per_day({2: 60.0, 11: 20.0}, 0.0)]
    assert values(a["cards_waiting"]) == [carried({0: 2, 2: 1, 3: 2, 7: 1, 14: 2, 15: 1,
                                                   20: 2, 28: 3})]
    assert values(m["cards_waiting"]) == [carried({9: 1, 10: 2, 20: 1})]
    assert values(a["card_stock"]) == [carried({0: 52, 2: 51, 6: 50, 10: 100, 15: 99,
                                                20: 96})]
    assert values(m["card_stock"]) == [carried({0: 12, 31: 11})]
    assert a["outage_minutes"].labels == july(Granularity.DAY).labels()


def test_each_week(month, office_a, office_m):
    # Weeks from Monday: 1-5 July (clipped), 6-12, 13-19, 20-26, 27-31 (clipped).
    result = figures([office_a, office_m], Granularity.WEEK)
    a, m = result[office_a.id], result[office_m.id]
    assert values(a["outage_minutes"]) == [[280.0, 45.0, 0.0, 0.0, 60.0]]
    assert values(m["outage_minutes"]) == [[60.0, 20.0, 0.0, 0.0, 0.0]]
    assert values(a["cards_waiting"]) == [[2, 1, 1, 2, 3]]
    assert values(m["cards_waiting"]) == [[0, 2, 2, 1, 1]]
    assert values(a["card_stock"]) == [[51, 100, 99, 96, 96]]
    assert values(m["card_stock"]) == [[12, 12, 12, 12, 11]]


def test_the_month(month, office_a, office_m):
    result = figures([office_a, office_m], Granularity.MONTH)
    a, m = result[office_a.id], result[office_m.id]
    assert [values(a[key]) for key in ("outage_minutes", "cards_waiting", "card_stock")] == [
        [[385.0]], [[3]], [[96]]]
    assert [values(m[key]) for key in ("outage_minutes", "cards_waiting", "card_stock")] == [
        [[80.0]], [[1]], [[11]]]


def test_an_open_outage_counts_up_to_now(office_a):
    outage(office_a, wib(31, 23), None)
    with time_machine.travel(wib(31, 23, 20), tick=False):
        chart = charts(offices=[office_a], period=july(Granularity.MONTH))[office_a.id][0]
    assert values(chart) == [[20.0]]


def test_another_offices_records_never_appear(month, office_a, office_b):
    """Office B has nothing of its own; A's records and Makassar's stay theirs."""
    result = figures([office_b], Granularity.MONTH)
    assert list(result) == [office_b.id]
    assert [values(chart) for chart in result[office_b.id].values()] == [
        [[0.0]], [[0]], [[0]]]
    alone = figures([office_a], Granularity.DAY)[office_a.id]
    together = figures([office_a, office_b], Granularity.DAY)[office_a.id]
    assert [values(c) for c in alone.values()] == [values(c) for c in together.values()]


def queries(offices, days):
    return queries_of(charts, offices, JULY[0], days, now=NOW)


def test_queries_do_not_grow_with_offices_zones_or_days(month, office_a, office_b, office_m):
    office_j = OfficeFactory(code="9471", timezone="Asia/Jayapura")
    # The outages, prints made, prints closed, the stock rows, the stock movements.
    assert queries([office_a], 7) == 5
    assert queries([office_a, office_b], 7) == 5
    assert queries([office_a, office_m, office_j], 7) == 5
    assert queries([office_a, office_b, office_m, office_j], 60) == 5


def test_registered_for_the_dashboard(office_a):
    assert charts in extensions.registered(extensions.TRENDS)
    assert {chart.key for chart in trends_for(offices=[office_a], period=Period(*JULY))[
        office_a.id]} >= {chart.key for chart in charts(offices=[office_a],
                                                        period=Period(*JULY))[office_a.id]}
