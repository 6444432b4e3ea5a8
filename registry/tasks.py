"""Celery tasks of the registry core: thin wrappers that load by id and call a service."""

from celery import shared_task

from registry import otp
from registry.background import enqueue_now
from registry.notify.backends import TemporaryFailure
from registry.services import notification_sending, retention
from registry.services.breaches import breach_notices_send_batch


@shared_task(name="registry.tasks.notification_deliver")
def notification_deliver(delivery_id: int) -> None:
    # Retries are not Celery's: a failed attempt leaves the row due later and the
    # sweep below queues it again, so a retry survives a worker or broker restart.
    notification_sending.notification_deliver(delivery_id=delivery_id)


@shared_task(name="registry.tasks.notifications_deliver_many")
def notifications_deliver_many(delivery_ids: list[int]) -> None:
    # One message for many deliveries (a sweep telling thousands of residents); each
    # delivery is still its own transaction and its own retry row.
    for delivery_id in delivery_ids:
        notification_sending.notification_deliver(delivery_id=delivery_id)


@shared_task(name="registry.tasks.notifications_resend_pending")
def notifications_resend_pending() -> int:
    return notification_sending.notifications_resend_pending()


@shared_task(name="registry.tasks.notifications_deliver_pending")
def notifications_deliver_pending(office_id: int, after_id: int) -> None:
    # One message for a whole sweep's deliveries in an office (set-based sweeps): the
    # service pages through them; when its time is up the rest goes in a new task. If
    # that task cannot be queued, the resend sweep sends the rest.
    rest = notification_sending.notifications_deliver_pending(office_id=office_id,
                                                              after_id=after_id)
    if rest is not None:
        enqueue_now(notifications_deliver_pending, office_id, rest)


# --- Sign-in codes (registry.otp) ---------------------------------------------------
# Sent here, not in the request, so the gateway's latency does not show in the answer
# (which must not tell a bound phone from any other). Celery's retries, not a sweep:
# a code is worth nothing after 5 minutes, so there is nothing to send again later.


@shared_task(name="registry.tasks.otp_send", bind=True, max_retries=3)
def otp_send(self, challenge_id: int, code: str) -> None:
    # The plaintext code is in this message because the database keeps only its hash;
    # it expires with the code (OTP_TTL, 5 minutes), see registry.otp._enqueue_code.
    try:
        otp.otp_send(challenge_id=challenge_id, code=code)
    except TemporaryFailure as exc:
        raise self.retry(exc=exc, countdown=20) from exc


@shared_task(name="registry.tasks.phone_change_notify", bind=True, max_retries=5)
def phone_change_notify(self, resident_id: int, old_phone: str, generation: int) -> None:
    try:
        otp.phone_change_notify(resident_id=resident_id, old_phone=old_phone,
                                generation=generation)
    except TemporaryFailure as exc:
        raise self.retry(exc=exc, countdown=60) from exc


@shared_task(name="registry.tasks.sign_in_records_purge")
def sign_in_records_purge() -> int:
    return otp.sign_in_records_purge()


# --- Retention (registry.services.retention) ------------------------------------------
# Longer than the default limit: a first run over a backlog deletes files and rows in
# up to MAX_BATCHES batches per rule; what is left waits for the next night.


@shared_task(name="registry.tasks.retention_sweep", time_limit=1800)
def retention_sweep() -> dict:
    return retention.retention_sweep().counts


# --- Personal-data breaches (registry.services.breaches) -----------------------------


@shared_task(name="registry.tasks.breach_notices_send")
def breach_notices_send(incident_id: int) -> None:
    # One batch per run, then the next run: each batch commits on its own, and a
    # worker lost mid-way leaves the rest for "send notices" again (never anyone twice).
    if breach_notices_send_batch(incident_id=incident_id):
        enqueue_now(breach_notices_send, incident_id)
