"""Celery tasks of complaints: thin wrappers that load by id and call a service. Each
is safe to run twice."""

from celery import shared_task

from complaints import services


@shared_task(name="complaints.tasks.complaint_deadlines_sweep")
def complaint_deadlines_sweep() -> int:
    return services.deadlines_sweep()


@shared_task(name="complaints.tasks.complaint_alert_email")
def complaint_alert_email(deadline_id: int, user_id: int, kind: str) -> bool:
    return services.alert_email(deadline_id=deadline_id, user_id=user_id, kind=kind)
