"""`manage.py load_demo` gives both demo offices 60 days of past work (registry.
demo_history, each app's HISTORY part): records of every kind on most working days,
none on closed days or in the future, every office-owned reference within the office,
outcomes varied enough for the office head's charts, and nothing written twice."""

import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, F

from complaints.models import Complaint, ComplaintDeadline, SurveyAnswer
from queues.models import CounterAlert, CounterEvent, Ticket, TicketEvent
from registry.appointments.models import Booking, Slot
from registry.calendar import OfficeCalendar, office_today, office_zone
from registry.central.models import (
    Card,
    CardStock,
    CardStockMovement,
    CentralJob,
    CentralJobAttempt,
    CentralOutage,
)
from registry.deliveries.models import Delivery, DeliveryAttempt, Handover
from registry.models import Application, CaseEvent, Office, Resident, TurnAway

pytestmark = pytest.mark.django_db

# A Wednesday morning at the offices (WIB): the 60 days before it hold national holidays.
NOW = datetime(2026, 7, 15, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
DAYS = 60

# Every office-owned reference of the history's rows, which must stay in the row's office.
SCOPED = [(Application, ["service"]),
          (Booking, ["slot", "service", "application"]),
          (Ticket, ["lane", "service", "counter", "application", "booking"]),
          (TicketEvent, ["ticket", "lane", "counter", "to_lane"]),
          (CounterEvent, ["counter", "ticket"]), (CounterAlert, ["counter"]),
          (CentralJob, ["application", "after"]), (CentralJobAttempt, ["job"]),
          (Card, ["application", "print_job"]), (CardStockMovement, ["job"]),
          (Handover, ["application", "card"]), (Delivery, ["application", "handover"]),
          (DeliveryAttempt, ["delivery"]), (Complaint, ["application"]),
          (ComplaintDeadline, ["complaint"]),
          (SurveyAnswer, ["application", "lane", "service", "counter"]),
          (CaseEvent, ["application"]), (TurnAway, ["service"])]


def _days(queryset, field: str, office: Office) -> set[date]:
    zone = office_zone(office)
    return {value if not isinstance(value, datetime) else value.astimezone(zone).date()
            for value in queryset.filter(office=office).values_list(field, flat=True)
            if value is not None}


def _records_by_day(office: Office) -> dict[str, set[date]]:
    """The days on which each kind of record was written at `office`."""
    return {
        "booking made": _days(Booking.objects.all(), "created_at", office),
        "booking's visit": _days(Booking.objects.all(), "day", office),
        "case opened": _days(Application.objects.all(), "created_at", office),
        "ticket": _days(Ticket.objects.all(), "day", office),
        "call with its wait": _days(TicketEvent.objects.filter(
            kind="called", wait_seconds__isnull=False), "day", office),
        "service finished": _days(TicketEvent.objects.filter(
            kind="finished", service_seconds__isnull=False), "day", office),
        "counter state": _days(CounterEvent.objects.all(), "day", office),
        "data change accepted": _days(CentralJob.objects.filter(
            kind="data_change", status="done"), "done_at", office),
        "card printed": _days(Card.objects.all(), "printed_at", office),
        "blank card used": _days(CardStockMovement.objects.filter(reason="printed"), "at",
                                 office),
        "card handed over": _days(Handover.objects.all(), "completed_at", office),
        "delivery attempt": _days(DeliveryAttempt.objects.all(), "scheduled_for", office),
        "survey answered": _days(SurveyAnswer.objects.all(), "answered_at", office),
    }


def _counts() -> dict[str, int]:
    models = {model for model, _fks in SCOPED} | {Resident, CardStockMovement, Slot,
                                                  CentralOutage}
    return {model._meta.label: model.objects.count() for model in models}


def _outside_office(model, path: str) -> int:
    return (model.objects.filter(**{f"{path}__isnull": False})
            .exclude(**{f"{path}__office": F("office")}).count())


def test_load_demo_writes_sixty_days_of_history_at_each_office_once():
    with time_machine.travel(NOW, tick=True):
        call_command("load_demo", quiet=True)
        offices = list(Office.objects.filter(code__in=["3275", "3216"]))
        assert len(offices) == 2
        for office in offices:
            _assert_history(office)
        assert {f"{model.__name__}.{path}": _outside_office(model, path)
                for model, paths in SCOPED for path in paths} == {
            f"{model.__name__}.{path}": 0 for model, paths in SCOPED for path in paths}

        written = _counts()
        call_command("load_demo", quiet=True)
        assert _counts() == written


def _assert_history(office: Office) -> None:
    today = office_today(office)
    first, last = today - timedelta(days=DAYS), today - timedelta(days=1)
    working = set(OfficeCalendar(office, first, last).working_days())
    assert 35 <= len(working) <= 45
    for name, days in _records_by_day(office).items():
        covered = len(working & days)
        assert covered >= 0.85 * len(working), (office.code, name, covered, len(working))
    # Visits on working days only; nothing after the present.
    assert _days(Ticket.objects.filter(day__lt=today), "day", office) <= working
    assert not TicketEvent.objects.filter(office=office, at__gt=NOW + timedelta(hours=1)
                                          ).exclude(day=today).exists()
    past = Ticket.objects.filter(office=office, day__lt=today)
    assert not past.filter(closed_at__isnull=True).exists()
    assert not Booking.objects.filter(office=office, day__lt=today,
                                      status__in=["booked", "checked_in"]).exists()

    # Bookings kept, missed and cancelled; tickets from both sources, most served.
    bookings = dict(Booking.objects.filter(office=office, day__lt=today)
                    .values_list("status").annotate(n=Count("id")))
    assert bookings["done"] > bookings["expired"] > 0
    assert bookings["cancelled"] > 0
    assert not Booking.objects.filter(office=office, status="done", ticket__isnull=True).exists()
    sources = dict(past.values_list("source").annotate(n=Count("id")))
    assert sources["walk_in"] > 0
    assert sources["booking"] > 0
    outcomes = dict(past.values_list("outcome").annotate(n=Count("id")))
    assert outcomes["served"] > 0.75 * past.count()
    assert outcomes["not_served"] > 0
    assert outcomes["partly_served"] > 0
    assert outcomes[""] > 0  # no-shows
    assert past.filter(status="no_show").exists()
    assert past.filter(outcome="not_served").exclude(outcome_reason="").count() == \
        outcomes["not_served"]
    statuses = set(Application.objects.filter(office=office).values_list("status", flat=True))
    assert {"in_progress", "ready", "completed", "cancelled", "lapsed", "open"} <= statuses

    # Waits and service times as the statistics read them.
    waits = list(TicketEvent.objects.filter(office=office, day__lt=today, kind="called",
                                            wait_seconds__isnull=False)
                 .values_list("wait_seconds", flat=True))
    services = list(TicketEvent.objects.filter(office=office, day__lt=today, kind="finished",
                                               service_seconds__isnull=False)
                    .values_list("service_seconds", flat=True))
    assert 3 * 60 <= statistics.median(waits) <= 60 * 60
    assert statistics.quantiles(waits, n=10)[-1] >= 20 * 60
    assert 5 * 60 <= statistics.median(services) <= 20 * 60
    assert TicketEvent.objects.filter(office=office, kind="transferred").exists()
    assert CounterEvent.objects.filter(office=office, state="paused").exists()
    assert CounterAlert.objects.filter(office=office, day__lt=today).exists()
    # Some residents were sent away at the door before (the one-trip charts).
    assert TurnAway.objects.filter(office=office, at__lt=NOW).count() >= 5

    # The link: outages, most work done within a day, some for days, a few refused.
    assert CentralOutage.objects.filter(office=office, ended_at__lt=NOW).exists()
    prints = CentralJob.objects.filter(office=office, kind="card_print", status="done")
    slow = prints.filter(done_at__gt=F("created_at") + timedelta(days=1)).count()
    assert 0 < slow < 0.2 * prints.count()
    assert CentralJob.objects.filter(office=office, status="rejected").exists()
    balance = 0
    for change, after in (CardStockMovement.objects.filter(office=office)
                          .order_by("at", "id").values_list("change", "balance")):
        balance += change
        assert after == balance >= 0
    assert balance == CardStock.objects.get(office=office).on_hand
    assert CardStockMovement.objects.filter(office=office, reason="received",
                                            at__lt=NOW - timedelta(days=7)).exists()

    # Cards collected at the counter (by the holder or a proxy) and delivered home, some
    # after failed attempts.
    methods = set(Handover.objects.filter(office=office, completed_at__isnull=False)
                  .values_list("method", flat=True))
    assert {"pickup", "proxy", "delivery"} <= methods
    assert DeliveryAttempt.objects.filter(office=office, outcome="failed").exclude(
        reason="").exists()
    assert Delivery.objects.filter(office=office, status="delivered").exists()

    # Complaints from several channels, answered in time, late, and still open past a
    # deadline; survey answers mostly 3 and 4.
    complaints = Complaint.objects.filter(office=office, received_at__lt=NOW - timedelta(
        days=1))
    assert complaints.count() >= 10
    assert complaints.values("channel").distinct().count() >= 5
    deadlines = ComplaintDeadline.objects.filter(office=office)
    assert deadlines.filter(met_at__lte=F("due_at")).exists()
    assert deadlines.filter(met_at__gt=F("due_at")).exists()
    assert deadlines.filter(met_at__isnull=True, due_at__lt=NOW).exists()
    answers = list(SurveyAnswer.objects.filter(office=office))
    scores = [score for answer in answers for score in answer.scores().values()]
    assert len(answers) >= 100
    assert sum(1 for score in scores if score >= 3) >= 0.8 * len(scores)
    low = [answer for answer in answers if min(answer.scores().values()) <= 2]
    assert 0 < len(low) < 0.5 * len(answers)
    assert any(answer.comment for answer in low)
