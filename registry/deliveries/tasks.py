"""Celery tasks of hand-over and delivery: thin wrappers that load by id and call a
service. Each is safe to run twice."""

from datetime import date, datetime

from celery import shared_task

from registry.deliveries.services import dispatch
from registry.models import Office


@shared_task(name="deliveries.tasks.deliveries_dispatch_due")
def deliveries_dispatch_due(now: str | None = None) -> int:
    """Every five minutes: one deliveries_dispatch per office whose dispatch is due
    (`now`, ISO 8601, for a benchmark or a replay); how many were queued."""
    return len(dispatch.deliveries_dispatch_due(
        now=datetime.fromisoformat(now) if now else None))


@shared_task(name="deliveries.tasks.deliveries_dispatch")
def deliveries_dispatch(office_id: int, day: str) -> int:
    run = dispatch.deliveries_dispatch(office=Office.objects.get(pk=office_id),
                                       day=date.fromisoformat(day))
    return run.assigned


@shared_task(name="deliveries.tasks.deliveries_notify_scheduled")
def deliveries_notify_scheduled(office_id: int, day: str) -> int:
    return dispatch.deliveries_notify_scheduled(office_id=office_id,
                                                day=date.fromisoformat(day))
