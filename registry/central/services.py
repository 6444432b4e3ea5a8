"""Every write about the central-server link: health checks and outages, transmissions
(central jobs) with their retries, blank-card stock and card printing.

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
import statistics
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import extensions
from registry.background import enqueue_on_commit
from registry.calendar import office_local_text
from registry.central import lock_objects
from registry.central.client import CentralRequest, LinkDown, Rejected, get_client
from registry.central.models import (
    CENTRAL_JOB_OPEN_STATUSES,
    AttemptOutcome,
    Card,
    CardStock,
    CardStockMovement,
    CentralJob,
    CentralJobAttempt,
    CentralJobKind,
    CentralJobStatus,
    CentralLink,
    CentralOutage,
    OutageDetection,
    StockMovementReason,
)
from registry.errors import Conflict, DomainError
from registry.models import Application, ApplicationStatus, Office, Role, StaffMembership
from registry.services.cases import application_set_status, case_event_record
from registry.services.notifications import notification_send

logger = logging.getLogger(__name__)

# The apps that take a card on from here register what they do, in the caller's
# transaction (registry.extensions): CARD_PLANNED `(*, application, card)` when the
# print is queued (deliveries opens the hand-over), CARD_PRINTED `(*, card)` when the
# central server printed it (deliveries tells the resident how to receive it).
CARD_PLANNED = "central.card_planned"
CARD_PRINTED = "central.card_printed"

# Two failures in a row (health checks or sends) open an outage: one lost packet is
# not an outage, and a minute's check interval keeps detection within two minutes.
FAILURES_FOR_OUTAGE = 2
# Until an office has a history of outages, residents are told to expect two hours.
DEFAULT_OUTAGE_ESTIMATE = timedelta(hours=2)
MIN_ESTIMATE, MAX_ESTIMATE = timedelta(minutes=30), timedelta(hours=8)
# A past estimate is moved on by this much while the link stays down.
ESTIMATE_EXTENSION = timedelta(hours=1)
# Jobs just queued by their own transaction are left to their own nudge this long.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500
# Residents told of one outage per run of the notifying task.
NOTIFY_BATCH = 500

DEFAULT_NOTICE = _("The link to the ministry's central server is down. Card printing and "
                   "data changes wait and are sent automatically as soon as it is back; "
                   "nothing is lost.")

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a door


def send_lease() -> timedelta:
    # Well beyond the client's timeout, so a slow but live send is not taken over.
    return timedelta(seconds=settings.CENTRAL_TIMEOUT * 2 + 30)


def job_backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4, 8 minutes, then every 10 minutes while the link stays down; the
    link's return releases every waiting job at once anyway."""
    return timedelta(seconds=min(600, 30 * 2 ** max(0, attempts - 1)))


# --- The link and its outages ---------------------------------------------------


def open_outage(office_id: int) -> CentralOutage | None:
    return CentralOutage.objects.filter(office_id=office_id, ended_at__isnull=True).first()


def _estimate_back(office: Office, started_at: datetime) -> datetime:
    """When the link is likely back: the median length of the office's last ten
    outages (within bounds), rounded up to a quarter hour."""
    recent = list(
        CentralOutage.objects.filter(office=office, ended_at__isnull=False)
        .order_by("-started_at").values_list("started_at", "ended_at")[:10]
    )
    if recent:
        typical = statistics.median(end - start for start, end in recent)
        typical = min(MAX_ESTIMATE, max(MIN_ESTIMATE, typical))
    else:
        typical = DEFAULT_OUTAGE_ESTIMATE
    return _round_up_quarter(started_at + typical)


def _round_up_quarter(moment: datetime) -> datetime:
    quarter = 15 * 60
    seconds = moment.timestamp()
    rounded = -(-seconds // quarter) * quarter
    return datetime.fromtimestamp(rounded, tz=moment.tzinfo)


def _outage_start(*, office: Office, started_at: datetime, detection: str, cause: str = "",
                  message: str = "", expected_back: datetime | None = None,
                  by=None) -> CentralOutage:
    """Open the office's outage, or return the one already open (the partial unique
    constraint allows one). The caller holds the transaction."""
    try:
        with transaction.atomic():
            outage = CentralOutage.objects.create(
                office=office, started_at=started_at, detection=detection, cause=cause[:300],
                message=message,
                expected_back=expected_back or _estimate_back(office, started_at),
                declared_by=by if getattr(by, "pk", None) else None,
            )
    except IntegrityError:
        return open_outage(office.id)
    logger.warning("Central link of office %s is down since %s (%s)", office.code,
                   started_at, cause)
    from registry.central.tasks import central_outage_notify

    enqueue_on_commit(central_outage_notify, outage.id)
    return outage


def _outage_end(*, outage: CentralOutage, at: datetime, detection: str, by=None) -> None:
    outage.ended_at = max(at, outage.started_at)
    outage.end_detection = detection
    outage.ended_by = by if getattr(by, "pk", None) else None
    outage.save(update_fields=["ended_at", "end_detection", "ended_by"])
    logger.warning("Central link of office %s is back at %s", outage.office_id, at)
    central_jobs_release(office_id=outage.office_id)


def central_link_record_failure(*, office: Office, error: str, detection: str,
                                at: datetime | None = None, checked: bool = False
                                ) -> CentralOutage | None:
    """A health check or a send found the link down. Opens the outage at the first
    failure of the run once FAILURES_FOR_OUTAGE failures are seen. Locks the office's
    CentralLink row."""
    at = at or timezone.now()
    with transaction.atomic():
        link = lock_objects.central_link_for_update(office.id)
        link.consecutive_failures += 1
        link.failing_since = link.failing_since or at
        link.last_error = error[:300]
        if checked:
            link.last_checked_at = at
        link.save()
        outage = open_outage(office.id)
        if outage is None and link.consecutive_failures >= FAILURES_FOR_OUTAGE:
            outage = _outage_start(office=office, started_at=link.failing_since,
                                   detection=detection, cause=error)
        elif (outage is not None and outage.detection != OutageDetection.STAFF
              and outage.expected_back and outage.expected_back <= at):
            # Residents see an estimate in the future, never one that has passed.
            outage.expected_back = _round_up_quarter(at + ESTIMATE_EXTENSION)
            outage.save(update_fields=["expected_back"])
        return outage


def central_link_record_success(*, office: Office, detection: str,
                                at: datetime | None = None, checked: bool = False) -> None:
    """The central server answered: the run of failures ends, and an outage that was
    detected (not one staff declared) ends now, releasing the work waiting on it."""
    at = at or timezone.now()
    failing = CentralLink.objects.filter(office_id=office.id, consecutive_failures__gt=0)
    outage = CentralOutage.objects.filter(office_id=office.id, ended_at__isnull=True).exclude(
        detection=OutageDetection.STAFF)
    if not checked and not failing.exists() and not outage.exists():
        return  # the common case of a send: nothing to change, no lock taken
    with transaction.atomic():
        link = lock_objects.central_link_for_update(office.id)
        link.consecutive_failures = 0
        link.failing_since = None
        link.last_ok_at = at
        if checked:
            link.last_checked_at = at
        link.save()
        current = (lock_objects.outages_for_update()
                   .filter(office_id=office.id, ended_at__isnull=True)
                   .exclude(detection=OutageDetection.STAFF).first())
        if current is not None:
            _outage_end(outage=current, at=at, detection=detection)


def central_link_check(*, office_id: int) -> bool:
    """Ask the central server whether it answers for this office; record the answer."""
    office = Office.objects.get(pk=office_id)
    try:
        get_client().health(office_code=office.code)
    except LinkDown as exc:
        central_link_record_failure(office=office, error=str(exc) or "no answer",
                                    detection=OutageDetection.HEALTH_CHECK, checked=True)
        return False
    central_link_record_success(office=office, detection=OutageDetection.HEALTH_CHECK,
                                checked=True)
    return True


def central_link_check_all() -> int:
    """Queue a health check per active office (the beat task, every minute)."""
    from registry.central.tasks import central_link_check as check_task

    office_ids = list(Office.objects.filter(is_active=True).values_list("id", flat=True))
    for office_id in office_ids:
        enqueue_on_commit(check_task, office_id)
    return len(office_ids)


@transaction.atomic
def central_outage_declare(*, office: Office, cause: str, message: str = "",
                           expected_back: datetime | None = None, by=None,
                           started_at: datetime | None = None) -> CentralOutage:
    """Staff record an outage they were told of (the ministry's maintenance, a cut
    cable). Residents are told with the message and the expected return."""
    now = timezone.now()
    started_at = started_at or now
    if open_outage(office.id) is not None:
        raise Conflict(_("An outage of this office's link is already open. Update it "
                         "instead."), "outage_open")
    if started_at > now:
        raise DomainError(_("An outage cannot start in the future."), "outage_in_future")
    if expected_back is not None and expected_back <= now:
        raise DomainError(_("The expected return must be in the future."),
                          "expected_back_past")
    if not (cause or "").strip():
        raise DomainError(_("Say what is wrong with the link."), "cause_required")
    return _outage_start(office=office, started_at=started_at,
                         detection=OutageDetection.STAFF, cause=cause.strip(),
                         message=(message or "").strip(), expected_back=expected_back, by=by)


@transaction.atomic
def central_outage_update(*, outage: CentralOutage, message: str,
                          expected_back: datetime | None, by=None) -> CentralOutage:
    """Change what residents are told about an open outage."""
    outage = lock_objects.outages_for_update().get(pk=outage.pk)
    if outage.ended_at is not None:
        raise Conflict(_("This outage has ended."), "outage_ended")
    if expected_back is not None and expected_back <= timezone.now():
        raise DomainError(_("The expected return must be in the future."),
                          "expected_back_past")
    outage.message = (message or "").strip()
    outage.expected_back = expected_back
    outage.save(update_fields=["message", "expected_back"])
    return outage


@transaction.atomic
def central_outage_end(*, outage: CentralOutage, by=None,
                       at: datetime | None = None) -> CentralOutage:
    """Staff close an outage (the link is back): the waiting work is sent at once."""
    outage = lock_objects.outages_for_update().get(pk=outage.pk)
    if outage.ended_at is not None:
        raise Conflict(_("This outage has ended."), "outage_ended")
    _outage_end(outage=outage, at=at or timezone.now(), detection=OutageDetection.STAFF,
                by=by)
    CentralLink.objects.filter(office_id=outage.office_id).update(
        consecutive_failures=0, failing_since=None)
    return outage


def _outage_notice_texts(application: Application):
    if application.service.home_delivery and not application.service.holder_in_person:
        body = _("%(office)s cannot reach the ministry's central server since %(since)s; it "
                 "is expected back around %(expected)s. Your case %(number)s waits and is "
                 "sent automatically when the link is back: nothing is lost and you do not "
                 "need to register again. You may wait at the office, come back another "
                 "day to collect your card, or choose home delivery of the card in the app.")
    else:
        body = _("%(office)s cannot reach the ministry's central server since %(since)s; it "
                 "is expected back around %(expected)s. Your case %(number)s waits and is "
                 "sent automatically when the link is back: nothing is lost and you do not "
                 "need to register again. You may wait at the office or come back another "
                 "day to collect your card; we will tell you when it is ready.")
    return _("The central server link is down"), body


def central_outage_tell(*, outage: CentralOutage, application: Application) -> bool:
    """Tell the resident of one application about the outage, once per outage."""
    title, body = _outage_notice_texts(application)
    office = outage.office
    expected = office_local_text(outage.expected_back, office) or str(_("unknown"))
    notification = notification_send(
        office=office, resident=application.resident, kind="central.outage", title=title,
        body=body, application=application, dedup_key=f"central-outage:{outage.id}",
        params={"office": office.name, "since": office_local_text(outage.started_at, office),
                "expected": expected, "number": application.number},
    )
    if notification is not None:
        CentralOutage.objects.filter(pk=outage.pk).update(
            residents_told=F("residents_told") + 1)
    return notification is not None


def central_outage_notify(*, outage_id: int) -> int:
    """Tell every resident whose case waits on the office's central work, once each.
    Safe to run again (the notification's dedup key)."""
    outage = CentralOutage.objects.select_related("office").get(pk=outage_id)
    if outage.ended_at is not None:
        return 0
    application_ids = list(
        CentralJob.objects.filter(office_id=outage.office_id,
                                  status__in=CENTRAL_JOB_OPEN_STATUSES)
        .order_by("application_id").values_list("application_id", flat=True).distinct()
    )
    told = 0
    for start in range(0, len(application_ids), NOTIFY_BATCH):
        batch = Application.objects.filter(id__in=application_ids[start:start + NOTIFY_BATCH]
                                           ).select_related("resident", "service")
        for application in batch:
            with transaction.atomic():
                told += central_outage_tell(outage=outage, application=application)
    return told


# --- Jobs -----------------------------------------------------------------------


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
    return application


def central_work_create(*, application: Application, by=None) -> list[CentralJob]:
    """Create the central work a served application needs, in the caller's
    transaction: its data change, then its card print (with the card's receipt code
    and its hand-over) for services that produce a card. Each on the timeline; the
    first send is queued after commit. Created once per application."""
    service = application.service
    if CentralJob.objects.filter(application=application).exists():
        return list(CentralJob.objects.filter(application=application).order_by("id"))
    jobs = []
    payload = {"nik": application.resident.nik, "service": service.code,
               "number": application.number}
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


def central_job_send(*, job_id: int) -> CentralJob | None:
    """Send one job to the central server and record the answer (see module doc)."""
    claimed = _claim(job_id, timezone.now())
    if claimed is None:
        return None
    job, attempt = claimed
    request = CentralRequest(job_id=str(job.key), kind=job.kind, office_code=job.office.code,
                             application_number=job.application.number, payload=job.payload)
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


def central_jobs_release(*, office_id: int) -> int:
    """The link is back: every job of the office waiting for a retry is due now, and
    the first batch is queued at once (the sweep takes the rest within a minute)."""
    from registry.central.tasks import central_job_send as send_task

    now = timezone.now()
    waiting = CentralJob.objects.filter(office_id=office_id, status=CentralJobStatus.PENDING)
    count = waiting.update(next_attempt_at=now)
    for job_id in waiting.order_by("id").values_list("id", flat=True)[:SWEEP_BATCH]:
        enqueue_on_commit(send_task, job_id)
    return count


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


# --- Blank-card stock ------------------------------------------------------------


@transaction.atomic
def card_stock_receive(*, office: Office, quantity: int, by=None, note: str = "") -> CardStock:
    """Blank cards arrived: add them, and release the prints that waited for stock
    (oldest first, as many as there are cards). Locks the office's CardStock row."""
    from registry.central.tasks import central_job_send as send_task

    if not isinstance(quantity, int) or quantity < 1 or quantity > 100_000:
        raise DomainError(_("Enter a number of cards between 1 and 100000."),
                          "quantity_invalid")
    stock = lock_objects.card_stock_for_update(office.id)
    stock.on_hand += quantity
    if stock.on_hand >= stock.alert_below:
        stock.low_alert_sent_at = None
    stock.save()
    CardStockMovement.objects.create(office=office, change=quantity, balance=stock.on_hand,
                                     reason=StockMovementReason.RECEIVED, note=note[:300],
                                     by=by if getattr(by, "pk", None) else None)
    waiting = list(CentralJob.objects.filter(
        office=office, status=CentralJobStatus.WAITING_STOCK).order_by("id")
        .values_list("id", flat=True)[:stock.on_hand])
    CentralJob.objects.filter(id__in=waiting).update(status=CentralJobStatus.PENDING,
                                                     next_attempt_at=timezone.now())
    for job_id in waiting:
        enqueue_on_commit(send_task, job_id)
    return stock


@transaction.atomic
def card_stock_correct(*, office: Office, counted: int, by, note: str) -> CardStock:
    """Staff counted the blank cards: the stock becomes what they counted."""
    if not isinstance(counted, int) or counted < 0 or counted > 1_000_000:
        raise DomainError(_("Enter the number of blank cards counted."), "quantity_invalid")
    if not (note or "").strip():
        raise DomainError(_("Say why the count is corrected."), "note_required")
    stock = lock_objects.card_stock_for_update(office.id)
    change = counted - stock.on_hand
    stock.on_hand = counted
    stock.save()
    CardStockMovement.objects.create(office=office, change=change, balance=counted,
                                     reason=StockMovementReason.CORRECTION, note=note[:300],
                                     by=by if getattr(by, "pk", None) else None)
    return stock


@transaction.atomic
def card_stock_set_threshold(*, office: Office, alert_below: int) -> CardStock:
    if not isinstance(alert_below, int) or alert_below < 0 or alert_below > 1_000_000:
        raise DomainError(_("Enter the alert threshold as a number of cards."),
                          "threshold_invalid")
    stock = lock_objects.card_stock_for_update(office.id)
    stock.alert_below = alert_below
    if stock.on_hand >= alert_below:
        stock.low_alert_sent_at = None
    stock.save()
    return stock


def card_stock_alert(*, office_id: int) -> bool:
    """Alert the office's supervisors by e-mail that blank cards run low, once until
    stock is received again. Locks the office's CardStock row while sending."""
    from django.core.mail import send_mail
    from django.utils import translation

    with transaction.atomic():
        stock = lock_objects.card_stocks_for_update().select_related("office").filter(
            office_id=office_id).first()
        if stock is None or stock.on_hand >= stock.alert_below or stock.low_alert_sent_at:
            return False
        addresses = sorted(set(
            StaffMembership.objects.filter(office_id=office_id, role=Role.SUPERVISOR,
                                           user__is_active=True)
            .exclude(user__email="").values_list("user__email", flat=True)))
        logger.warning("Office %s has %s blank cards left (alert below %s)",
                       stock.office.code, stock.on_hand, stock.alert_below)
        with translation.override(settings.LANGUAGE_CODE):
            subject = str(_("Blank KTP-el cards are running low"))
            body = str(_("%(office)s has %(count)s blank cards left (alert below %(limit)s). "
                         "Request new stock; prints wait when it runs out.")
                       % {"office": stock.office.name, "count": stock.on_hand,
                          "limit": stock.alert_below})
        if addresses:
            send_mail(subject, body, None, addresses, fail_silently=False)
        stock.low_alert_sent_at = timezone.now()
        stock.save(update_fields=["low_alert_sent_at"])
    return True


def card_stock_alerts_due() -> int:
    """Queue the low-stock alerts not yet sent (the broker was down): beat."""
    from registry.central.tasks import card_stock_alert as alert_task

    low = CardStock.objects.filter(on_hand__lt=F("alert_below"), low_alert_sent_at__isnull=True)
    office_ids = list(low.values_list("office_id", flat=True)[:SWEEP_BATCH])
    for office_id in office_ids:
        enqueue_on_commit(alert_task, office_id)
    return len(office_ids)
