"""The hand-over's trends over a hand-built July 2026: cards delivered home, handed over
at the office, failed attempts, returns to pick-up and the failures by reason, per day,
week and month of each office's calendar (Kota Bekasi in WIB, Kota Makassar in WITA),
exact; scoping; bounded queries."""

import itertools
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from registry import extensions
from registry.central.models import Card, CentralJob, CentralJobKind, CentralJobStatus
from registry.deliveries.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    FailReason,
    Handover,
    HandoverMethod,
)
from registry.deliveries.trends import charts
from registry.trends import Granularity, Period, trends_for
from tests.factories import ApplicationFactory, OfficeFactory, UserFactory
from tests.trends import queries_of

pytestmark = pytest.mark.django_db

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
JULY = (date(2026, 7, 1), date(2026, 7, 31))
SERIES = ["Delivered home", "Handed over at the office", "Failed attempts",
          "Returned to pick-up"]
_codes = itertools.count(1)


def wib(day, hour, minute=0, month=7):
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


def wita(day, hour, minute=0, month=7):
    return datetime(2026, month, day, hour, minute, tzinfo=WITA)


def per_day(values: dict[int, int]) -> list[int]:
    return [values.get(day, 0) for day in range(1, 32)]


@pytest.fixture
def office_m(db):
    return OfficeFactory(code="7371", name="Disdukcapil Kota Makassar", timezone="Asia/Makassar")


def handover(office, *, at_office=None):
    """A printed card's hand-over; `at_office` when it was collected at the counter."""
    application = ApplicationFactory(office=office)
    job = CentralJob.objects.create(office=office, application=application,
                                    kind=CentralJobKind.CARD_PRINT, key=uuid.uuid4(),
                                    status=CentralJobStatus.DONE)
    card = Card.objects.create(office=office, application=application, print_job=job,
                               receipt_code=f"{next(_codes):04d}-TEST")
    return Handover.objects.create(
        office=office, application=application, card=card,
        method=HandoverMethod.PICKUP if at_office else HandoverMethod.DELIVERY,
        completed_at=at_office, collected_by_nik="3275011705900001" if at_office else "")


def delivery(office, status, *attempts, ho=None):
    """A home delivery with its attempts: (at, reason) failed, (at, None) delivered."""
    ho = ho or handover(office)
    courier = UserFactory(username=f"kurir-{office.code}")
    made = Delivery.objects.create(office=office, application=ho.application, handover=ho,
                                   status=status, address="Jl. Mawar 1",
                                   failed_attempts=sum(1 for _at, r in attempts if r))
    for number, (at, reason) in enumerate(attempts, start=1):
        DeliveryAttempt.objects.create(
            office=office, delivery=made, number=number, courier=courier,
            scheduled_for=at.date(), at=at, reason=reason or "",
            outcome=AttemptOutcome.FAILED if reason else AttemptOutcome.DELIVERED)
        if reason is None:
            Handover.objects.filter(pk=ho.pk).update(completed_at=at)
    return made


@pytest.fixture
def month(office_a, office_m):
    """July 2026 at Kota Bekasi (WIB) and Kota Makassar (WITA)."""
    nobody, lost = FailReason.NOBODY_HOME, FailReason.ADDRESS_NOT_FOUND
    refused, no_code = FailReason.REFUSED, FailReason.NO_RECEIPT
    # Bekasi: delivered on the 2nd; failed at 23:30 on the 3rd, delivered on the 7th;
    # failed three times (8th-10th) and returned on the 10th, then collected at the
    # counter on the 13th; returned after two failures (20th, 21st) and reopened by a
    # supervisor (the return is undone, the failures stay); delivered at 23:30 on the
    # 31st; failed at 00:30 on 1 August; collected at the counter at 00:30 on the 1st
    # (17:30 UTC on 30 June) and at 23:30 on 30 June.
    delivery(office_a, DeliveryStatus.DELIVERED, (wib(2, 10), None))
    delivery(office_a, DeliveryStatus.DELIVERED, (wib(3, 23, 30), nobody), (wib(7, 10), None))
    returned = handover(office_a, at_office=wib(13, 9))
    delivery(office_a, DeliveryStatus.RETURNED, (wib(8, 10), nobody), (wib(9, 10), lost),
             (wib(10, 10), refused), ho=returned)
    delivery(office_a, DeliveryStatus.WAITING, (wib(20, 10), no_code), (wib(21, 10), nobody))
    delivery(office_a, DeliveryStatus.DELIVERED, (wib(31, 23, 30), None))
    delivery(office_a, DeliveryStatus.WAITING, (wib(1, 0, 30, month=8), nobody))
    handover(office_a, at_office=wib(1, 0, 30))
    handover(office_a, at_office=wib(30, 23, 30, month=6))
    # Makassar: refused at 23:30 WITA on the 14th; collected at the counter at 00:30 WITA
    # on the 15th (23:30 on the 14th in WIB); the address not found on the 14th, then
    # delivered on the 15th.
    delivery(office_m, DeliveryStatus.WAITING, (wita(14, 23, 30), refused))
    handover(office_m, at_office=wita(15, 0, 30))
    delivery(office_m, DeliveryStatus.DELIVERED, (wita(14, 10), lost), (wita(15, 10), None))


def figures(offices, granularity):
    result = charts(offices=offices, period=Period(*JULY, granularity))
    return {office_id: {chart.key: chart for chart in office_charts}
            for office_id, office_charts in result.items()}


def table(chart):
    return {series.name: series.values for series in chart.series}


def test_each_day(month, office_a, office_m):
    result = figures([office_a, office_m], Granularity.DAY)
    a, m = result[office_a.id], result[office_m.id]
    assert list(a) == ["deliveries", "failed_by_reason"]
    with translation.override("en"):
        english = charts(offices=[office_a], period=Period(*JULY))[office_a.id][0]
    assert [s.name for s in english.series] == SERIES
    assert [s.values for s in a["deliveries"].series] == [
        per_day({2: 1, 7: 1, 31: 1}), per_day({1: 1, 13: 1}),
        per_day({3: 1, 8: 1, 9: 1, 10: 1, 20: 1, 21: 1}), per_day({10: 1})]
    assert [s.values for s in m["deliveries"].series] == [
        per_day({15: 1}), per_day({15: 1}), per_day({14: 2}), per_day({})]


def test_each_week_and_the_month(month, office_a, office_m):
    # Weeks from Monday: 1-5 July (clipped), 6-12, 13-19, 20-26, 27-31 (clipped).
    week = figures([office_a, office_m], Granularity.WEEK)
    assert [s.values for s in week[office_a.id]["deliveries"].series] == [
        [1, 1, 0, 0, 1], [1, 0, 1, 0, 0], [1, 3, 0, 2, 0], [0, 1, 0, 0, 0]]
    assert [s.values for s in week[office_m.id]["deliveries"].series] == [
        [0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 2, 0, 0], [0, 0, 0, 0, 0]]
    month_ = figures([office_a, office_m], Granularity.MONTH)
    assert [s.values for s in month_[office_a.id]["deliveries"].series] == [[3], [2], [6], [1]]
    assert [s.values for s in month_[office_m.id]["deliveries"].series] == [[1], [1], [2], [0]]


@pytest.mark.parametrize("granularity", list(Granularity))
def test_failures_by_reason_over_the_period(month, office_a, office_m, granularity):
    result = figures([office_a, office_m], granularity)
    a, m = result[office_a.id]["failed_by_reason"], result[office_m.id]["failed_by_reason"]
    assert a.labels == [str(label) for label in FailReason.labels]
    # Nobody home, address not found, refused, no receipt code.
    assert [s.values for s in a.series] == [[3, 1, 1, 1]]
    assert [s.values for s in m.series] == [[0, 1, 1, 0]]


def test_another_offices_records_never_appear(month, office_a, office_b):
    result = figures([office_b], Granularity.MONTH)
    assert list(result) == [office_b.id]
    assert [s.values for s in result[office_b.id]["deliveries"].series] == [[0]] * 4
    assert [s.values for s in result[office_b.id]["failed_by_reason"].series] == [[0] * 4]
    alone = figures([office_a], Granularity.DAY)[office_a.id]
    together = figures([office_a, office_b], Granularity.DAY)[office_a.id]
    assert [table(c) for c in alone.values()] == [table(c) for c in together.values()]


def queries(offices, days):
    return queries_of(charts, offices, JULY[0], days)


def test_queries_do_not_grow_with_offices_zones_or_days(month, office_a, office_b, office_m):
    office_j = OfficeFactory(code="9471", timezone="Asia/Jayapura")
    # The attempts, the returns, the hand-overs at the office.
    assert queries([office_a], 7) == 3
    assert queries([office_a, office_b], 7) == 3
    assert queries([office_a, office_m, office_j], 7) == 3
    assert queries([office_a, office_b, office_m, office_j], 60) == 3


def test_registered_for_the_dashboard(office_a):
    assert charts in extensions.registered(extensions.TRENDS)
    assert {chart.key for chart in trends_for(offices=[office_a], period=Period(*JULY))[
        office_a.id]} >= {chart.key for chart in charts(offices=[office_a],
                                                        period=Period(*JULY))[office_a.id]}
