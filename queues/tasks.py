"""Celery tasks of the queues: thin wrappers that call a service. Each is safe to run
twice."""

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from queues.services import closing, counter_alerts
from queues.services.counters import counters_close_stale
from registry.background import fan_out
from registry.models import Office

# Batches per office and run: an office's evening fits easily; the next beat takes the rest.
MAX_BATCHES = 50


@shared_task(name="queues.tasks.tickets_close_due")
def tickets_close_due(now: str | None = None) -> int:
    """The end-of-day sweep: one tickets_close_office per office with a ticket due or
    a counter still open (closing.tickets_close_offices), as one Celery group, each
    closing at the beat's moment; how many were queued. At national scale an evening
    closes a few thousand tickets over hundreds of offices: side by side on the
    workers, and one office's failure does not hold up the others."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    return fan_out(tickets_close_office, closing.tickets_close_offices(now=moment),
                   moment.isoformat())


@shared_task(name="queues.tasks.tickets_close_office")
def tickets_close_office(office_id: int, now: str | None = None) -> int:
    """Close the office's tickets whose day is over, batch by batch (each its own
    transaction), then its counters left open on an earlier day, so no timer runs
    overnight; how many tickets were closed."""
    moment = datetime.fromisoformat(now) if now else timezone.now()
    closed = 0
    for _batch in range(MAX_BATCHES):
        count = closing.tickets_close_due(now=moment, batch=closing.SWEEP_BATCH,
                                          office_id=office_id)
        closed += count
        if count < closing.SWEEP_BATCH:
            break
    office = Office.objects.filter(pk=office_id).first()
    if office is not None:
        counters_close_stale(office=office, now=moment)
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
