"""Celery tasks of the queues: thin wrappers that call a service. Each is safe to run
twice."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from queues.models import Counter, CounterState
from queues.services import closing, counter_alerts
from queues.services.counters import counters_close_stale
from registry.background import fan_out
from registry.models import Office

# Batches per run: a busy deployment's evening fits easily; the next beat takes the rest.
MAX_BATCHES = 50


@shared_task(name="queues.tasks.tickets_close_due")
def tickets_close_due() -> int:
    """The end-of-day sweep: close the tickets whose day is over, batch by batch."""
    closed = 0
    for _batch in range(MAX_BATCHES):
        count = closing.tickets_close_due()
        closed += count
        if count < closing.SWEEP_BATCH:
            break
    # Counters left open on an earlier day close, so no timer runs overnight.
    for office in Office.objects.filter(pk__in=Counter.objects.exclude(
            state=CounterState.CLOSED).values("office_id")):
        counters_close_stale(office=office)
    return closed


@shared_task(name="queues.tasks.counter_alerts_due")
def counter_alerts_due(now: str | None = None) -> int:
    """Every minute: one counter_alerts_office per office with a counter idle or
    paused (or an alert open), each checking at the beat's moment (`now`, ISO 8601,
    for a benchmark or a replay); how many were queued."""
    return fan_out(counter_alerts_office, counter_alerts.offices_with_open_counters(),
                   now or timezone.now().isoformat())


@shared_task(name="queues.tasks.counter_alerts_office")
def counter_alerts_office(office_id: int, now: str | None = None) -> int:
    """Raise the office's idle-counter alerts now due, close those nobody waits for."""
    office = Office.objects.filter(pk=office_id).first()
    if office is None:
        return 0
    return counter_alerts.counter_alerts_check(
        office=office, now=datetime.fromisoformat(now) if now else None)


@shared_task(name="queues.tasks.counter_alert_email")
def counter_alert_email(alert_id: int, user_id: int) -> bool:
    return counter_alerts.counter_alert_email(alert_id=alert_id, user_id=user_id)
