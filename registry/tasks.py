"""Celery tasks of the registry core: thin wrappers that load by id and call a service."""

from celery import shared_task

from registry import services


@shared_task(name="registry.tasks.notification_deliver")
def notification_deliver(delivery_id: int) -> None:
    # Retries are not Celery's: a failed attempt leaves the row due later and the
    # sweep below queues it again, so a retry survives a worker or broker restart.
    services.notification_deliver(delivery_id=delivery_id)


@shared_task(name="registry.tasks.notifications_resend_pending")
def notifications_resend_pending() -> int:
    return services.notifications_resend_pending()
