"""The idle-counter check on a real Celery worker (SQLite and the filesystem broker by
default; PostgreSQL and Redis in CI): the beat task queued twice, as a doubled beat
would, queues one task per office with an open counter each time, and each idle
counter is alerted once. (The fan-out is registry.background.fan_out, whose offices
run apart: tests/appointments.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from queues.models import Counter, CounterAlert, Ticket
from queues.services.counters import counter_open
from queues.services.issuing import _ticket_create
from queues.tasks import counter_alerts_due, counter_alerts_office
from tests.queues.conftest import service_of
from tests.worker import real_worker, runs_of, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


@pytest.fixture
def _office_hours():
    """The worker runs on the real clock: so does this test (no office-hours clock)."""


def idle_with_people_waiting(office, counter_factory, operator, *, minutes=10):
    """An open counter of lane C idle `minutes` ago, two people waiting since then (the
    worker runs on the real clock, whatever the day)."""
    counter = counter_factory("C", office=office)
    counter_open(counter=counter, by=operator)
    past = timezone.now() - timedelta(minutes=minutes)
    for _n in range(2):
        _ticket_create(office=office, service=service_of(office), source="walk_in",
                       now=past)
    Counter.objects.filter(pk=counter.pk).update(state_since=past)
    Ticket.objects.filter(office=office).update(queued_at=past)
    return counter


def test_the_beat_task_queued_twice_alerts_each_idle_counter_once(
        office_a, office_b, counter_factory, operator, operator_b, tmp_path):
    counters = [idle_with_people_waiting(office_a, counter_factory, operator),
                idle_with_people_waiting(office_b, counter_factory, operator_b)]
    with real_worker(tmp_path) as worker:
        counter_alerts_due.apply_async()
        counter_alerts_due.apply_async()
        wait_for(lambda: len(runs_of(counter_alerts_office.name, worker)) == 4,
                 timeout=120, message="the worker did not check both offices twice")
        assert runs_of(counter_alerts_due.name, worker) == [2, 2]
        assert sorted(runs_of(counter_alerts_office.name, worker)) == [0, 0, 1, 1]
    assert sorted(CounterAlert.objects.filter(closed_at__isnull=True).values_list(
        "counter_id", "waiting")) == sorted((c.pk, 2) for c in counters)
