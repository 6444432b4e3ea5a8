"""The counter floor: counter states with their history, idle counters caught while
people wait (alerted to the supervisors once, closed when the counter calls), and the
day's figures per counter and operator."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from queues import counter_figures, tasks
from queues.models import (
    Counter,
    CounterAlert,
    CounterEvent,
    CounterState,
    QueueSettings,
)
from queues.services import counter_alerts
from queues.services.calling import (
    ticket_call,
    ticket_call_next,
    ticket_finish,
    ticket_no_show,
    ticket_start,
)
from queues.services.counters import (
    counter_close,
    counter_open,
    counter_pause,
    counters_close_stale,
)
from queues.services.issuing import ticket_identify
from registry.errors import DomainError
from registry.models import ExportRecord, Role
from tests.queues.conftest import MONDAY, at, walk_in


@pytest.fixture
def clock():
    with time_machine.travel(at(7, 55), tick=False) as traveller:
        yield traveller


@pytest.fixture
def supervisor(make_staff, office_a):
    return make_staff(office_a, Role.SUPERVISOR, username="spv-a", email="spv-a@example.go.id",
                      first_name="Sri", last_name="Wahyuni")


@pytest.fixture
def supervisor_b(make_staff, office_b):
    return make_staff(office_b, Role.SUPERVISOR, username="spv-b", email="spv-b@example.go.id")


@pytest.fixture
def queued_emails(monkeypatch):
    """The alert e-mails handed to Celery, as (alert id, user id)."""
    queued = []
    monkeypatch.setattr(counter_alerts, "enqueue_on_commit",
                        lambda task, *args: queued.append((task.name, *args)))
    return queued


def check(office, clock, hour, minute):
    clock.move_to(at(hour, minute))
    return counter_alerts.counter_alerts_check(office=office)


def test_a_simulated_morning_an_idle_counter_is_caught_once_and_closed_by_its_call(
        client, office_a, office_b, counter_factory, operator, supervisor, supervisor_b,
        queued_emails, resident_a, clock, mailoutbox):
    loket = counter_factory("B", number=5)
    other_office_counter = counter_factory("B", number=1, office=office_b)
    clock.move_to(at(8, 0))
    counter_open(counter=loket, by=operator)
    counter_open(counter=other_office_counter, by=None)
    for minute in range(1, 6):
        clock.move_to(at(8, minute))
        walk_in(office_a, "B")
    # Five people wait from 08:01; the counter has been idle since 08:00.
    assert check(office_a, clock, 8, 5) == 0
    assert check(office_a, clock, 8, 6) == 1          # five minutes with people waiting
    assert check(office_a, clock, 8, 7) == 0          # once per episode
    assert check(office_a, clock, 8, 9) == 0
    alert = CounterAlert.objects.get()
    assert (alert.counter, alert.operator, alert.kind, alert.waiting, alert.since,
            alert.closed_at) == (loket, operator, "idle", 5, at(8, 1), None)
    assert queued_emails == [("queues.tasks.counter_alert_email", alert.pk, supervisor.pk)]
    # The supervisor sees it on the staff start page and the admin index; the operator
    # and the other office's supervisor do not.
    client.force_login(supervisor)
    text = "Loket 5 (operator-a) belum memanggil siapa pun sejak 08:01 padahal 5 warga menunggu"
    assert text in client.get(reverse("registry:staff-home")).content.decode()
    assert text in client.get(reverse("admin:index")).content.decode()
    for user in (operator, supervisor_b):
        client.force_login(user)
        assert "belum memanggil" not in client.get(reverse("registry:staff-home")).content.decode()
    # The e-mail, sent by the task, in Indonesian.
    assert tasks.counter_alert_email(alert.pk, supervisor.pk) is True
    assert [m.to for m in mailoutbox] == [["spv-a@example.go.id"]]
    assert text in mailoutbox[0].body

    # 08:10: the counter calls; the alert closes by itself.
    clock.move_to(at(8, 10))
    first = ticket_call_next(counter=loket, by=operator)
    alert.refresh_from_db()
    assert (alert.closed_at, alert.ended_by) == (at(8, 10), "called")
    assert tasks.counter_alert_email(alert.pk, supervisor.pk) is False  # too late now
    clock.move_to(at(8, 11))
    ticket_start(counter=loket, by=operator)
    ticket_identify(counter=loket, resident=resident_a, by=operator)
    clock.move_to(at(8, 20))
    ticket_finish(counter=loket, by=operator, outcome="served")
    clock.move_to(at(8, 21))
    ticket_call_next(counter=loket, by=operator)
    clock.move_to(at(8, 24))
    ticket_no_show(counter=loket, by=operator)
    assert check(office_a, clock, 8, 26) == 0   # idle 2 minutes only

    # The counter's history: every change, who and when.
    assert list(CounterEvent.objects.filter(counter=loket).values_list(
        "at", "state", "operator__username", "ticket__code")) == [
        (at(8, 0), "idle", "operator-a", None),
        (at(8, 10), "calling", "operator-a", first.code),
        (at(8, 11), "serving", "operator-a", first.code),
        (at(8, 20), "idle", "operator-a", first.code),
        (at(8, 21), "calling", "operator-a", "B-002"),
        (at(8, 24), "idle", "operator-a", "B-002"),
    ]
    # The day's figures at 08:30: idle 08:00-08:10, 08:20-08:21 and 08:24-08:30 (17
    # minutes), of which with people waiting 08:01-08:10, 08:20-08:21, 08:24-08:30.
    clock.move_to(at(8, 30))
    rows = counter_figures.counter_figures(office=office_a, date_from=MONDAY, date_to=MONDAY)
    assert [(r["counter"], r["operator"], r["served"], r["no_shows"], r["service_median"],
             r["idle_minutes"], r["idle_waiting_minutes"], r["alerts"]) for r in rows] == [
        ("Loket 5", "operator-a", 1, 1, 9.0, 17.0, 16.0, 1)]
    # Shown in the admin to the supervisor, for this office only.
    client.force_login(supervisor)
    page = client.get(reverse("admin:queues_counter_figures"),
                      {"office": office_a.pk, "date_from": "2026-06-29",
                       "date_to": "2026-06-29"})
    assert page.status_code == 200
    assert [(r["counter"], r["idle_waiting_minutes"]) for r in page.context["rows"]] == [
        ("Loket 5", 16.0)]
    # ... and exported as the page shows it, recorded.
    [(csv_label, csv_url), _xlsx] = page.context["export_links"]
    assert csv_label == "Ekspor CSV"
    exported = client.get(reverse("admin:queues_counter_figures") + csv_url)
    assert exported["Content-Disposition"] == (
        'attachment; filename="counter_figures-3275-20260629-20260629.csv"')
    assert list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))) == [
        ["Hari", "Loket", "Petugas", "Terlayani", "Terlayani sebagian", "Tidak terlayani",
         "Tidak hadir", "Layanan, median", "Layanan, p90", "Menganggur",
         "Menganggur saat ada yang menunggu", "Jeda, per alasan",
         "Panggilan di luar urutan, per alasan", "Peringatan menganggur"],
        ["2026-06-29", "Loket 5", "operator-a", "1", "0", "0", "1", "9.0", "9.0", "17.0",
         "16.0", "-", "-", "1"]]
    record = ExportRecord.objects.get()
    assert (record.office, record.row_count, record.list_name) == (
        office_a, 1, "queues.counter_figures")
    assert client.get(reverse("admin:queues_counter_figures"),
                      {"office": office_b.pk, "date_from": "2026-06-29",
                       "date_to": "2026-06-29"}).context["form"].errors


def test_nobody_waits_when_the_counter_is_idle_so_no_alert(office_a, counter_factory,
                                                            operator, supervisor, clock,
                                                            queued_emails):
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    counter_open(counter=loket, by=operator)
    assert check(office_a, clock, 9, 0) == 0
    # Someone comes at 09:00: the five minutes count from then.
    walk_in(office_a, "B")
    assert check(office_a, clock, 9, 4) == 0
    assert check(office_a, clock, 9, 5) == 1


def test_people_waiting_in_another_lane_do_not_count(office_a, counter_factory, operator,
                                                      supervisor, clock, queued_emails):
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    counter_open(counter=loket, by=operator)
    walk_in(office_a, "C")
    assert check(office_a, clock, 9, 0) == 0


def test_an_alert_closes_when_nobody_waits_any_more(office_a, counter_factory, operator,
                                                     supervisor, clock, queued_emails):
    idle, busy = counter_factory("B", number=1), counter_factory("B", number=2)
    clock.move_to(at(8, 0))
    counter_open(counter=idle, by=operator)
    walk_in(office_a, "B")
    assert check(office_a, clock, 8, 6) == 1
    ticket_call_next(counter=busy, by=operator)
    check(office_a, clock, 8, 7)
    alert = CounterAlert.objects.get()
    assert (alert.counter, alert.closed_at, alert.ended_by) == (idle, at(8, 7),
                                                                "nobody_waiting")
    # A new episode is a new alert.
    walk_in(office_a, "B")
    assert check(office_a, clock, 8, 13) == 1
    assert CounterAlert.objects.filter(counter=idle).count() == 2


def test_a_pause_alerts_only_past_its_reasons_minutes(office_a, counter_factory, operator,
                                                       supervisor, clock, queued_emails):
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    counter_pause(counter=loket, by=operator, reason="prayer")   # 20 minutes allowed
    walk_in(office_a, "B")
    assert check(office_a, clock, 8, 24) == 0
    assert check(office_a, clock, 8, 25) == 1                     # 20 + 5
    alert = CounterAlert.objects.get()
    assert (alert.kind, alert.pause_reason.code, alert.since) == ("paused_long", "prayer",
                                                                  at(8, 20))
    # Resuming does not end it (still nobody called); the call does.
    counter_open(counter=loket, by=operator)
    assert CounterAlert.objects.get().closed_at is None
    clock.move_to(at(8, 30))
    ticket_call_next(counter=loket, by=operator)
    assert CounterAlert.objects.get().ended_by == "called"
    clock.move_to(at(9, 0))
    rows = counter_figures.counter_figures(office=office_a, date_from=MONDAY, date_to=MONDAY)
    assert [(r["paused"], r["paused_minutes"]) for r in rows] == [({"Salat": 25.0}, 25.0)]


def test_the_office_sets_the_minutes(office_a, counter_factory, operator, supervisor, clock,
                                     queued_emails):
    QueueSettings.objects.update_or_create(office=office_a,
                                           defaults={"idle_alert_minutes": 15})
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    counter_open(counter=loket, by=operator)
    walk_in(office_a, "B")
    assert check(office_a, clock, 8, 14) == 0
    assert check(office_a, clock, 8, 15) == 1


def test_closing_the_counter_ends_its_alert(office_a, counter_factory, operator, supervisor,
                                            clock, queued_emails):
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    counter_open(counter=loket, by=operator)
    walk_in(office_a, "B")
    check(office_a, clock, 8, 6)
    counter_close(counter=loket, by=operator)
    assert CounterAlert.objects.get().ended_by == "closed"
    assert check(office_a, clock, 8, 20) == 0      # a closed counter is not idle


def test_pausing_needs_a_reason_of_the_office_list(office_a, counter_factory, operator,
                                                    clock):
    loket = counter_factory("B")
    for reason, note, code in (("", "", "pause_reason_required"),
                               ("lunch", "", "pause_reason_required"),
                               ("other", "", "note_required")):
        with pytest.raises(DomainError) as refused:
            counter_pause(counter=loket, by=operator, reason=reason, note=note)
        assert refused.value.code == code
    assert not CounterEvent.objects.exists()
    counter_pause(counter=loket, by=operator, reason="other", note="Printer macet")
    loket.refresh_from_db()
    assert (loket.state, loket.pause_reason.code, loket.pause_note) == (
        "paused", "other", "Printer macet")


def test_out_of_order_calls_are_counted_by_reason(office_a, counter_factory, operator, clock):
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    walk_in(office_a, "B")
    late = walk_in(office_a, "B")
    ticket_call(counter=loket, ticket_id=late.pk, reason="urgent", by=operator)
    clock.move_to(at(8, 30))
    rows = counter_figures.counter_figures(office=office_a, date_from=MONDAY, date_to=MONDAY)
    assert [(r["out_of_order"], r["out_of_order_calls"]) for r in rows] == [
        ({"Keperluan mendesak": 1}, 1)]


def test_a_counter_left_open_overnight_is_closed_by_the_sweep(office_a, counter_factory,
                                                               operator, clock):
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    counter_open(counter=loket, by=operator)
    clock.move_to(at(1, 0, day=MONDAY + timedelta(days=1)))
    assert counters_close_stale(office=office_a) == 1
    assert counters_close_stale(office=office_a) == 0
    loket.refresh_from_db()
    assert (loket.state, loket.operator) == (CounterState.CLOSED, None)
    event = CounterEvent.objects.filter(counter=loket).last()
    assert (event.state, event.actor) == ("closed", None)
    # Monday's idle time ends at midnight, not at the sweep.
    rows = counter_figures.counter_figures(office=office_a, date_from=MONDAY, date_to=MONDAY)
    assert [r["idle_minutes"] for r in rows] == [16 * 60.0]


def test_the_beat_task_fans_out_to_offices_with_open_counters(office_a, office_b,
                                                               counter_factory, operator,
                                                               clock, monkeypatch):
    counter_open(counter=counter_factory("B"), by=operator)
    counter_factory("B", office=office_b)     # closed: nothing to check there
    queued = []
    monkeypatch.setattr(tasks, "fan_out", lambda task, ids, *args: queued.append(
        (task.name, ids)) or len(ids))
    assert tasks.counter_alerts_due() == 1
    assert queued == [("queues.tasks.counter_alerts_office", [office_a.pk])]


def test_the_counter_page_shows_its_state_and_timer(client, office_a, counter_factory,
                                                    operator, clock):
    loket = counter_factory("B")
    clock.move_to(at(8, 0))
    counter_pause(counter=loket, by=operator, reason="break")
    clock.move_to(at(8, 12, ))
    client.force_login(operator)
    page = client.get(reverse("queues:counter", args=[loket.pk])).content.decode()
    assert 'id="counter-state">Jeda (Istirahat)' in page
    assert '>12:00</span>' in page
    assert 'data-allowed="30"' in page
    assert Counter.objects.get(pk=loket.pk).state == "paused"


def test_only_those_who_see_statistics_open_the_figures(client, office_a, operator, clock,
                                                        make_staff):
    client.force_login(operator)
    assert client.get(reverse("admin:queues_counter_figures")).status_code == 403
    client.force_login(make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas-a"))
    assert client.get(reverse("admin:queues_counter_figures"), {
        "office": office_a.pk, "date_from": "2026-06-29", "date_to": "2026-06-01",
    }).context["form"].errors


def test_the_figures_take_the_same_queries_for_a_day_or_a_month(
        office_a, counter_factory, operator, clock, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lokets = [counter_factory("B"), counter_factory("C")]
    clock.move_to(at(8, 0))
    for loket in lokets:
        counter_open(counter=loket, by=operator)
        walk_in(office_a, "B")
        ticket_call_next(counter=loket, by=operator)
    clock.move_to(at(9, 0))
    with CaptureQueriesContext(connection) as one_day:
        counter_figures.counter_figures(office=office_a, date_from=MONDAY, date_to=MONDAY)
    with django_assert_num_queries(len(one_day.captured_queries)):
        counter_figures.counter_figures(office=office_a, date_from=MONDAY - timedelta(30),
                                        date_to=MONDAY)
