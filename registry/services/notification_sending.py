"""Sending the notifications' deliveries: one delivery through its channel's backend,
once (the worker's task), the resend sweep of what is due, and an office's pending
deliveries page by page (registry.services.notifications writes them).
"""

import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry import lock_objects
from registry.background import enqueue_on_commit
from registry.models import DeliveryStatus, NotificationChannel, NotificationDelivery
from registry.notify.backends import (
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    get_backend,
)


def _backoff(attempts: int) -> timedelta:
    # 1, 2, 4, 8, 16 ... minutes, at most an hour: gateways recover in minutes.
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def notification_deliver(*, delivery_id: int) -> NotificationDelivery | None:
    """Send one delivery through its channel's backend, once.

    Holds the delivery's row lock while sending, so two workers never send it twice;
    a worker that dies mid-send rolls back and the row is sent again later (the
    gateway deduplicates by the delivery's reference). Failures are retried with
    backoff by the sweep; after NOTIFY_MAX_ATTEMPTS, or a permanent refusal, a failed
    WhatsApp message falls back to SMS.
    """
    with transaction.atomic():
        delivery = (
            lock_objects.notification_deliveries_for_update(skip_locked=True)
            .select_related("notification")
            .filter(id=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None
        notification = delivery.notification
        message = OutgoingMessage(
            channel=delivery.channel, address=delivery.address, title=notification.title,
            body=notification.body, link=notification.link, reference=f"n{delivery.id}",
            kind=notification.kind,
        )
        delivery.attempts += 1
        try:
            delivery.provider_ref = get_backend(delivery.channel).send(message)[:120]
        except TemporaryFailure as exc:
            delivery.last_error = str(exc)[:1000]
            if delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.next_attempt_at = timezone.now() + _backoff(delivery.attempts)
        except PermanentFailure as exc:
            delivery.last_error = str(exc)[:1000]
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        delivery.save()
        if delivery.status == DeliveryStatus.FAILED and delivery.channel == "whatsapp":
            _fallback_to_sms(delivery)
    return delivery


def _fallback_to_sms(delivery: NotificationDelivery) -> None:
    from registry.tasks import notification_deliver as deliver_task

    sms, created = NotificationDelivery.objects.get_or_create(
        notification_id=delivery.notification_id, channel=NotificationChannel.SMS,
        defaults={"office_id": delivery.office_id, "address": delivery.address},
    )
    if created:
        enqueue_on_commit(deliver_task, sms.id)


# Deliveries younger than this were just queued by their own transaction; the sweep
# leaves them alone. A queued delivery is not queued again for LEASE.
SWEEP_GRACE = timedelta(seconds=60)


SWEEP_LEASE = timedelta(minutes=5)


SWEEP_BATCH = 500


def notifications_resend_pending(*, now=None) -> int:
    """Queue again the deliveries that are due and were not sent (the broker was down,
    a worker died, a retry is due). Bounded batches; safe to run at any time."""
    from registry.tasks import notification_deliver as deliver_task

    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        due = list(
            lock_objects.notification_deliveries_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:SWEEP_BATCH]
        )
        NotificationDelivery.objects.filter(id__in=due).update(next_attempt_at=now + SWEEP_LEASE)
        for delivery_id in due:
            enqueue_on_commit(deliver_task, delivery_id)
            queued += 1
    return queued


# One task sends a sweep's deliveries in an office: pages of DELIVER_PAGE, leased before
# they are sent, for at most DELIVER_TASK_SECONDS (well inside the task time limit even
# with a slow gateway), then the task queues itself for the rest.
DELIVER_PAGE = 100


DELIVER_TASK_SECONDS = 60.0


def notifications_deliver_pending(*, office_id: int, after_id: int = 0,
                                  seconds: float = DELIVER_TASK_SECONDS) -> int | None:
    """Send the office's pending deliveries with an id above `after_id` whose time has
    come, in id order, for about `seconds`. Returns the id to go on after when some
    are left, else None.

    Each page is taken with FOR UPDATE SKIP LOCKED and leased as the resend sweep does
    (next attempt SWEEP_LEASE ahead), so the sweep and another runner leave it alone;
    each delivery is then sent by `notification_deliver`: its own transaction and row
    lock, sent once, retried with backoff by the resend sweep, WhatsApp falling back to
    SMS. A worker that dies mid-page leaves its leased rows to the resend sweep once
    the lease ends; rows not reached when the time is up are handed back at once.
    """
    deadline = time.monotonic() + seconds
    while True:
        now = timezone.now()
        with transaction.atomic():
            ids = list(
                lock_objects.notification_deliveries_for_update(skip_locked=True)
                .filter(office_id=office_id, id__gt=after_id, status=DeliveryStatus.PENDING,
                        next_attempt_at__lte=now)
                .order_by("id").values_list("id", flat=True)[:DELIVER_PAGE])
            NotificationDelivery.objects.filter(id__in=ids).update(
                next_attempt_at=now + SWEEP_LEASE)
        for index, delivery_id in enumerate(ids):
            if time.monotonic() > deadline:
                NotificationDelivery.objects.filter(
                    id__in=ids[index:], status=DeliveryStatus.PENDING).update(
                    next_attempt_at=timezone.now())
                return after_id
            notification_deliver(delivery_id=delivery_id)
            after_id = delivery_id
        if len(ids) < DELIVER_PAGE:
            return None
