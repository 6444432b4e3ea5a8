"""Celery tasks of the central link, transmissions and card stock: thin wrappers that
load by id and call a service.

Retries are rows with their own due time (CentralJob.next_attempt_at), queued again by
the sweep, so they survive a worker or broker restart.
"""

from celery import shared_task

from registry.central.services import jobs, link, stock


@shared_task(name="central.tasks.central_link_check")
def central_link_check(office_id: int) -> bool:
    return link.central_link_check(office_id=office_id)


@shared_task(name="central.tasks.central_link_check_all")
def central_link_check_all() -> int:
    return link.central_link_check_all()


@shared_task(name="central.tasks.central_job_send")
def central_job_send(job_id: int) -> None:
    jobs.central_job_send(job_id=job_id)


@shared_task(name="central.tasks.central_jobs_resend_due")
def central_jobs_resend_due() -> int:
    return jobs.central_jobs_resend_due()


@shared_task(name="central.tasks.central_outage_notify")
def central_outage_notify(outage_id: int) -> int:
    return link.central_outage_notify(outage_id=outage_id)


@shared_task(name="central.tasks.card_stock_alert")
def card_stock_alert(office_id: int) -> bool:
    return stock.card_stock_alert(office_id=office_id)


@shared_task(name="central.tasks.card_stock_alerts_due")
def card_stock_alerts_due() -> int:
    return stock.card_stock_alerts_due()


