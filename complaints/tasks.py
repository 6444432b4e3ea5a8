"""Celery tasks of complaints: thin wrappers that load by id and call a service. Each
is safe to run twice."""

from celery import shared_task

from complaints.services import deadlines


@shared_task(name="complaints.tasks.complaint_deadlines_sweep")
def complaint_deadlines_sweep() -> int:
    return deadlines.deadlines_sweep()


@shared_task(name="complaints.tasks.complaint_alert_email")
def complaint_alert_email(deadline_id: int, user_id: int, kind: str) -> bool:
    return deadlines.alert_email(deadline_id=deadline_id, user_id=user_id, kind=kind)
