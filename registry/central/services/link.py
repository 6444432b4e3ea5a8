"""The link to the central server: health checks, outages (detected or declared by
staff), and what residents are told while it is down.
"""

import logging
import statistics
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from registry import extensions
from registry.background import enqueue_on_commit, fan_out
from registry.calendar import office_local_text
from registry.central import lock_objects
from registry.central.client import LinkDown, get_client
from registry.central.models import (
    CENTRAL_JOB_OPEN_STATUSES,
    CentralJob,
    CentralJobStatus,
    CentralLink,
    CentralOutage,
    OutageDetection,
)
from registry.errors import Conflict, DomainError
from registry.models import Application, Office, PhoneType
from registry.service_sets import service_set_of
from registry.services.notifications import notification_send

logger = logging.getLogger(__name__)


# Two failures in a row (health checks or sends) open an outage: one lost packet is
# not an outage, and a minute's check interval keeps detection within two minutes.
FAILURES_FOR_OUTAGE = 2
# Apps above register `(*, office_id)` here (registry.extensions): called, in the
# transaction, when an office's outage starts, changes what residents are told, or
# ends (the display board drops its cached answer, which shows the notice).
OUTAGE_CHANGED = "central.outage_changed"


# Until an office has a history of outages, residents are told to expect two hours.
DEFAULT_OUTAGE_ESTIMATE = timedelta(hours=2)


MIN_ESTIMATE, MAX_ESTIMATE = timedelta(minutes=30), timedelta(hours=8)


# A past estimate is moved on by this much while the link stays down.
ESTIMATE_EXTENSION = timedelta(hours=1)


SWEEP_BATCH = 500


# Residents told of one outage per run of the notifying task.
NOTIFY_BATCH = 500


DEFAULT_NOTICE = _("The link to the ministry's central server is down. Card printing and "
                   "data changes wait and are sent automatically as soon as it is back; "
                   "nothing is lost.")


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


def _outage_changed(office_id: int) -> None:
    for changed in extensions.registered(OUTAGE_CHANGED):
        changed(office_id=office_id)


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
    _outage_changed(office.id)
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
    _outage_changed(outage.office_id)
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
    """Queue a health check per active office (the beat task, every minute), as one
    Celery group: one message to the broker, not one per office (514 a minute at
    national scale)."""
    from registry.central.tasks import central_link_check as check_task

    return fan_out(check_task, list(Office.objects.filter(is_active=True).order_by("id")
                                    .values_list("id", flat=True)))


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
    _outage_changed(outage.office_id)
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
    service = service_set_of(application)
    phone_type = application.resident.phone_type
    if (service.home_delivery and not service.holder_in_person
            and phone_type != PhoneType.SMARTPHONE):
        how = (_("reply ANTAR to this SMS.") if phone_type == PhoneType.FEATURE_PHONE
               else _("tell the front desk or call %(contact)s."))
        body = format_lazy("{} {}", _(
            "%(office)s cannot reach the ministry's central server since %(since)s; it "
            "is expected back around %(expected)s. Your case %(number)s waits and is "
            "sent automatically when the link is back: nothing is lost and you do not "
            "need to register again. You may wait at the office, come back another "
            "day to collect your card, or have it delivered to your home:"), how)
    elif service.home_delivery and not service.holder_in_person:
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
                "expected": expected, "number": application.number,
                "contact": office.whatsapp or office.name},
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
                                           ).select_related("resident", "service"
                                                            ).prefetch_related("extra_services")
        for application in batch:
            with transaction.atomic():
                told += central_outage_tell(outage=outage, application=application)
    return told


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
