"""Idle-counter alerts on PostgreSQL with real threads: checks running at the same
moment raise one alert; a check racing the counter's call never leaves an alert open
on a counter that has called."""

from datetime import timedelta

import pytest
from django.utils import timezone

from queues.models import Counter, CounterAlert, CounterState, Ticket
from queues.services import counter_alerts
from queues.services.calling import ticket_call_next, ticket_no_show
from queues.services.counters import counter_open
from tests.concurrency import race
from tests.queues.conftest import walk_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_emails(monkeypatch):
    monkeypatch.setattr(counter_alerts, "enqueue_on_commit", lambda *args: None)


def idle_for(counter, minutes: int) -> None:
    """The counter has been idle, and its lane's tickets waiting, for `minutes`."""
    past = timezone.now() - timedelta(minutes=minutes)
    Counter.objects.filter(pk=counter.pk).update(state_since=past)
    Ticket.objects.filter(status="waiting").update(queued_at=past)


def test_checks_at_the_same_moment_raise_one_alert(office_a, counter_factory, operator):
    counters = [counter_factory("C") for _n in range(3)]
    for counter in counters:
        counter_open(counter=counter, by=operator)
        idle_for(counter, 10)
    walk_in(office_a)
    idle_for(counters[0], 10)

    results, errors = race(lambda _index: counter_alerts.counter_alerts_check(
        office=office_a), 6)
    assert errors == []
    assert sum(results) == 3
    assert sorted(CounterAlert.objects.values_list("counter_id", flat=True)) == sorted(
        c.pk for c in counters)


def test_a_check_racing_the_call_never_leaves_an_alert_open_on_a_calling_counter(
        office_a, counter_factory, operator):
    counter = counter_factory("C")
    counter_open(counter=counter, by=operator)
    for _round in range(12):
        walk_in(office_a)
        idle_for(counter, 10)

        def act(index):
            if index == 0:
                return ticket_call_next(counter=counter, by=operator)
            return counter_alerts.counter_alerts_check(office=office_a)

        _results, errors = race(act, 2)
        assert errors == []
        counter.refresh_from_db()
        assert counter.state == CounterState.CALLING
        assert not CounterAlert.objects.filter(counter=counter, closed_at__isnull=True).exists()
        ticket_no_show(counter=counter, by=operator)
