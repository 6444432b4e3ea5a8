"""Transmissions to the central server (central jobs) with their retries, and card
printing.

The rules that keep work from being lost or done twice:
- A job is a row created in the transaction of the change that needs it; the Celery
  task queued after commit is only a nudge, and `central_jobs_resend_due` (beat, every
  minute) queues again whatever is due, including sends whose worker died.
- A send is claimed under a lease (status SENDING, `lease_until`) in one short
  transaction, sent with no transaction open, and recorded in another. The job's `key`
  travels with it and the central server deduplicates by it, so a job sent again after
  a crash is done once there; its answer (the same reference) is recorded once here.
"""

import logging
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import extensions
from registry.background import enqueue_on_commit
from registry.calendar import office_local_text
from registry.central import lock_objects
from registry.central.client import CentralRequest, LinkDown, Rejected, get_client
from registry.central.models import (
    AttemptOutcome,
    Card,
    CardStock,
    CardStockMovement,
    CentralJob,
    CentralJobAttempt,
    CentralJobKind,
    CentralJobStatus,
    CentralOutage,
    OutageDetection,
    StockMovementReason,
)
from registry.central.services.link import (
    SWEEP_BATCH,
    central_link_record_failure,
    central_link_record_success,
    central_outage_tell,
    open_outage,
)
from registry.encryption import decrypt, encrypt, is_ciphertext
from registry.errors import Conflict
from registry.models import Application, ApplicationStatus, Office
from registry.service_sets import service_set_of
from registry.services.cases import application_set_status, case_event_record

logger = logging.getLogger(__name__)


# The apps that take a card on from here register what they do, in the caller's
# transaction (registry.extensions): CARD_PLANNED `(*, application, card)` when the
# print is queued (deliveries opens the hand-over), CARD_PRINTED `(*, card)` when the
# central server printed it (deliveries tells the resident how to receive it).
CARD_PLANNED = "central.card_planned"


CARD_PRINTED = "central.card_printed"

# VISIT_COMPLETED `(*, application)`: the resident was served at the counter and the
# case moved on, in the caller's transaction (complaints invites the resident to the
# satisfaction survey).
VISIT_COMPLETED = "central.visit_completed"


# Jobs just queued by their own transaction are left to their own nudge this long.
SWEEP_GRACE = timedelta(seconds=60)


RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a door


def send_lease() -> timedelta:
    # Well beyond the client's timeout, so a slow but live send is not taken over.
    return timedelta(seconds=settings.CENTRAL_TIMEOUT * 2 + 30)


def job_backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4, 8 minutes, then every 10 minutes while the link stays down; the
    link's return releases every waiting job at once anyway."""
    return timedelta(seconds=min(600, 30 * 2 ** max(0, attempts - 1)))


def _kind_event_params(job: CentralJob) -> dict:
    return {"kind": job.kind}


def _new_receipt_code(office: Office) -> str:
    for _attempt in range(20):
        raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _i in range(8))
        code = f"{raw[:4]}-{raw[4:]}"
        if not Card.objects.filter(office=office, receipt_code=code).exists():
            return code
    raise RuntimeError("No free receipt code after 20 tries")  # 32^8 codes: not reached


def application_visit_completed(*, application: Application, by=None) -> Application:
    """The resident was served at the counter: the case moves on to processing.

    Called by queues when a ticket is finished as served, inside its transaction. Work
    that needs the central server (the data change, then the card print for services
    that produce a card) is created here as central jobs, in the same transaction, each
    on the timeline (central_work_create).
    """
    with transaction.atomic():
        application_set_status(application=application,
                               status=ApplicationStatus.IN_PROGRESS, actor=by)
        central_work_create(application=application, by=by)
        for completed in extensions.registered(VISIT_COMPLETED):
            completed(application=application)
    return application


def central_work_create(*, application: Application, by=None) -> list[CentralJob]:
    """Create the central work a served application needs, in the caller's
    transaction: its data change, then its card print (with the card's receipt code
    and its hand-over) for services that produce a card. Each on the timeline; the
    first send is queued after commit. Created once per application."""
    service = service_set_of(application)
    if CentralJob.objects.filter(application=application).exists():
        return list(CentralJob.objects.filter(application=application).order_by("id"))
    jobs = []
    # One data change and one print for all the services of the visit: one card.
    payload = {"nik": encrypt(application.resident.nik), "service": service.primary.code,
               "services": service.codes, "number": application.number}
    first = None
    if service.needs_central:
        first = CentralJob.objects.create(
            office_id=application.office_id, application=application,
            kind=CentralJobKind.DATA_CHANGE, key=uuid.uuid4(), payload=payload)
        jobs.append(first)
    if service.produces_card:
        print_job = CentralJob.objects.create(
            office_id=application.office_id, application=application,
            kind=CentralJobKind.CARD_PRINT, key=uuid.uuid4(), payload=payload, after=first,
            status=CentralJobStatus.BLOCKED if first else CentralJobStatus.PENDING)
        jobs.append(print_job)
        card = Card.objects.create(office_id=application.office_id, application=application,
                                   print_job=print_job,
                                   receipt_code=_new_receipt_code(application.office))
        for planned in extensions.registered(CARD_PLANNED):
            planned(application=application, card=card)
    from registry.central.tasks import central_job_send

    for job in jobs:
        case_event_record(application=application, kind="central.job_queued",
                          params=_kind_event_params(job), actor=by)
        if job.status == CentralJobStatus.PENDING:
            enqueue_on_commit(central_job_send, job.id)
    outage = open_outage(application.office_id)
    if jobs and outage is not None:
        central_outage_tell(outage=outage, application=application)
        _note_waiting(jobs[0], outage)
    return jobs


def _note_waiting(job: CentralJob, outage: CentralOutage | None) -> None:
    """Write once per outage (or once without one) that the job waits for the link."""
    if outage is not None and job.noted_outage_id == outage.id:
        return
    if outage is None and job.attempts > 1:
        return
    office = job.office
    params = {**_kind_event_params(job)}
    if outage is not None:
        params.update(since=office_local_text(outage.started_at, office),
                      expected=office_local_text(outage.expected_back, office))
        job.noted_outage = outage
        CentralJob.objects.filter(pk=job.pk).update(noted_outage=outage)
    case_event_record(application=job.application, kind="central.job_waiting", params=params)


def _claim(job_id: int, now: datetime):
    """Claim a pending job for one send: (job, attempt) or None. Stock is checked for a
    print; a print with no blank card waits (on the timeline) instead of being sent."""
    with transaction.atomic():
        job = (
            lock_objects.central_jobs_for_update(skip_locked=True)
            .select_related("office", "application")
            .filter(id=job_id, status=CentralJobStatus.PENDING)
            .first()
        )
        if job is None:
            return None
        if job.kind == CentralJobKind.CARD_PRINT and not CardStock.objects.filter(
                office_id=job.office_id, on_hand__gt=0).exists():
            job.status = CentralJobStatus.WAITING_STOCK
            job.save(update_fields=["status"])
            case_event_record(application=job.application, kind="card.waiting_stock")
            return None
        job.attempts += 1
        job.status = CentralJobStatus.SENDING
        job.lease_until = now + send_lease()
        job.save(update_fields=["attempts", "status", "lease_until"])
        attempt = CentralJobAttempt.objects.create(office_id=job.office_id, job=job,
                                                   number=job.attempts, started_at=now)
    return job, attempt


def payload_in_clear(payload: dict) -> dict:
    """The payload as the central server takes it: the NIK is stored encrypted
    (registry.encryption) and decrypted only to be sent."""
    nik = payload.get("nik", "")
    return {**payload, "nik": decrypt(nik)} if is_ciphertext(nik) else payload


def central_job_send(*, job_id: int) -> CentralJob | None:
    """Send one job to the central server and record the answer (see module doc)."""
    claimed = _claim(job_id, timezone.now())
    if claimed is None:
        return None
    job, attempt = claimed
    request = CentralRequest(job_id=str(job.key), kind=job.kind, office_code=job.office.code,
                             application_number=job.application.number,
                             payload=payload_in_clear(job.payload))
    try:
        answer = get_client().submit(request)
    except LinkDown as exc:
        return _record_link_down(job, attempt, str(exc) or "no answer")
    except Rejected as exc:
        return _record_rejected(job, attempt, str(exc))
    return _record_accepted(job, attempt, answer.reference)


def _lock_claimed(job: CentralJob, attempt: CentralJobAttempt, outcome: str, error: str = "",
                  reference: str = ""):
    """Lock the job again and close the attempt. None when the lease was lost (the
    sweep gave the job to another sender): then only the attempt is recorded."""
    now = timezone.now()
    CentralJobAttempt.objects.filter(pk=attempt.pk).update(
        finished_at=now, outcome=outcome, error=error[:300], central_ref=reference[:120])
    current = (lock_objects.central_jobs_for_update()
               .select_related("office", "application", "application__service",
                               "application__resident")
               .get(pk=job.pk))
    if current.status != CentralJobStatus.SENDING or current.attempts != attempt.number:
        return None
    current.lease_until = None
    return current


def _record_link_down(job, attempt, error: str) -> CentralJob | None:
    with transaction.atomic():
        current = _lock_claimed(job, attempt, AttemptOutcome.LINK_DOWN, error=error)
        if current is None:
            return None
        current.status = CentralJobStatus.PENDING
        current.last_error = error[:300]
        current.next_attempt_at = timezone.now() + job_backoff(current.attempts)
        current.save(update_fields=["status", "last_error", "next_attempt_at", "lease_until"])
    outage = central_link_record_failure(office=current.office, error=error,
                                         detection=OutageDetection.SEND_FAILURE)
    with transaction.atomic():
        _note_waiting(current, outage)
    return current


def _record_rejected(job, attempt, error: str) -> CentralJob | None:
    with transaction.atomic():
        current = _lock_claimed(job, attempt, AttemptOutcome.REJECTED, error=error)
        if current is None:
            return None
        current.status = CentralJobStatus.REJECTED
        current.last_error = error[:300]
        current.save(update_fields=["status", "last_error", "lease_until"])
        case_event_record(application=current.application, kind="central.job_rejected",
                          params={**_kind_event_params(current), "error": error[:200]})
    central_link_record_success(office=current.office, detection=OutageDetection.SEND_FAILURE)
    return current


def _record_accepted(job, attempt, reference: str) -> CentralJob | None:
    from registry.central.tasks import central_job_send as send_task
    with transaction.atomic():
        current = _lock_claimed(job, attempt, AttemptOutcome.ACCEPTED, reference=reference)
        if current is None:
            return None
        current.central_ref = reference[:120]
        current.last_error = ""
        if current.kind == CentralJobKind.CARD_PRINT:
            _print_card(current)
        else:
            current.status = CentralJobStatus.DONE
            current.done_at = timezone.now()
            case_event_record(application=current.application, kind="central.job_accepted",
                              params={**_kind_event_params(current), "ref": reference[:120]})
        current.save(update_fields=["status", "done_at", "central_ref", "last_error",
                                    "lease_until"])
        if current.status == CentralJobStatus.DONE:
            followers = list(CentralJob.objects.filter(
                after=current, status=CentralJobStatus.BLOCKED).values_list("id", flat=True))
            CentralJob.objects.filter(id__in=followers).update(
                status=CentralJobStatus.PENDING, next_attempt_at=timezone.now())
            for follower_id in followers:
                enqueue_on_commit(send_task, follower_id)
    central_link_record_success(office=current.office, detection=OutageDetection.SEND_FAILURE)
    return current


def _print_card(job: CentralJob) -> None:
    """The central server approved the print: take a blank card and print. With no
    blank card left (taken by another print meanwhile) the job waits for stock; it is
    sent again then, and the central server answers it as the same job."""
    taken = CardStock.objects.filter(office_id=job.office_id, on_hand__gt=0).update(
        on_hand=F("on_hand") - 1)
    if not taken:
        job.status = CentralJobStatus.WAITING_STOCK
        case_event_record(application=job.application, kind="card.waiting_stock")
        return
    now = timezone.now()
    stock = CardStock.objects.get(office_id=job.office_id)
    CardStockMovement.objects.create(office_id=job.office_id, at=now, change=-1,
                                     balance=stock.on_hand, reason=StockMovementReason.PRINTED,
                                     job=job, note=job.application.number)
    job.status = CentralJobStatus.DONE
    job.done_at = now
    card = Card.objects.get(print_job=job)
    card.printed_at = now
    card.save(update_fields=["printed_at"])
    case_event_record(application=job.application, kind="card.printed",
                      params={"ref": job.central_ref})
    application_set_status(application=job.application, status=ApplicationStatus.READY)
    for printed in extensions.registered(CARD_PRINTED):
        printed(card=card)
    if stock.on_hand < stock.alert_below and stock.low_alert_sent_at is None:
        from registry.central.tasks import card_stock_alert

        enqueue_on_commit(card_stock_alert, job.office_id)


def central_jobs_resend_due(*, now: datetime | None = None) -> int:
    """Queue again the jobs that are due (a retry's time came, the broker was down when
    they were created) and take back sends whose lease ran out (the worker died): their
    attempt is recorded as abandoned and the job is sent again, as the same job.
    Bounded batches; safe to run at any time."""
    from registry.central.tasks import central_job_send as send_task

    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            lock_objects.central_jobs_for_update(skip_locked=True)
            .filter(status=CentralJobStatus.SENDING, lease_until__lt=now)
            .order_by("id").values_list("id", flat=True)[:SWEEP_BATCH]
        )
        if expired:
            CentralJobAttempt.objects.filter(job_id__in=expired, finished_at__isnull=True
                                             ).update(outcome=AttemptOutcome.ABANDONED,
                                                      finished_at=now)
            CentralJob.objects.filter(id__in=expired).update(
                status=CentralJobStatus.PENDING, lease_until=None, next_attempt_at=now)
        due = list(
            lock_objects.central_jobs_for_update(skip_locked=True)
            .filter(status=CentralJobStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE)
            .order_by("next_attempt_at").values_list("id", flat=True)[:SWEEP_BATCH]
        )
        due = list(dict.fromkeys(expired + due))
        # Not queued again for a lease, unless the send records an earlier retry time.
        CentralJob.objects.filter(id__in=due).update(next_attempt_at=now + send_lease())
        for job_id in due:
            enqueue_on_commit(send_task, job_id)
    return len(due)


@transaction.atomic
def central_job_retry(*, job: CentralJob, by=None) -> CentralJob:
    """Staff fixed what the central server refused: send the job again (same id)."""
    from registry.central.tasks import central_job_send as send_task
    job = lock_objects.central_jobs_for_update().select_related("application").get(pk=job.pk)
    if job.status != CentralJobStatus.REJECTED:
        raise Conflict(_("Only a job the central server refused can be sent again."),
                       "job_not_rejected")
    job.status = CentralJobStatus.PENDING
    job.next_attempt_at = timezone.now()
    job.save(update_fields=["status", "next_attempt_at"])
    case_event_record(application=job.application, kind="central.job_retried",
                      params=_kind_event_params(job), actor=by)
    enqueue_on_commit(send_task, job.id)
    return job
