"""A complaint's deadlines and the alerts about them.

Deadlines (first response, response, next update, resolution) are rows with their own
due time in the office's working time (complaints.clock), by the office's complaint
settings; while the complaint waits for the complainant they stand still, and on
resuming each keeps the working time it had left. The sweep warns the assignee of a
deadline coming up and alerts the supervisors of one passed.
"""

from datetime import datetime

from django.conf import settings as django_settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from complaints import lock_objects
from complaints.clock import WorkingClock
from complaints.models import (
    Complaint,
    ComplaintDeadline,
    ComplaintPause,
    ComplaintSettings,
    ComplaintStatus,
    DeadlineKind,
    StaffAlert,
)
from complaints.services.handling import complaint_lock
from registry.background import enqueue_on_commit
from registry.calendar import office_local_text
from registry.errors import Conflict, DomainError
from registry.selectors import office_supervisors
from registry.services.offices import office_settings_get

# Alerts sent per sweep; the next sweep (every five minutes) takes the rest.
SWEEP_BATCH = 200


def _deadline_spec(settings: ComplaintSettings, kind: str) -> tuple[int, int]:
    return {
        DeadlineKind.ACKNOWLEDGE: (settings.acknowledge_days, settings.acknowledge_hours),
        DeadlineKind.RESPOND: (settings.respond_days, settings.respond_hours),
        DeadlineKind.RESOLVE: (settings.resolve_days, settings.resolve_hours),
        DeadlineKind.UPDATE: (settings.update_every_days, 0),
    }[kind]


def _warn_at(clock: WorkingClock, start: datetime, due: datetime, hours: int) -> datetime:
    total = clock.minutes_between(start, due)
    lead = hours * 60
    if total <= lead:
        return clock.start_of_work(start)
    return clock.add(start, minutes=total - lead)


def deadline_create(complaint: Complaint, kind: str, start: datetime,
                    clock: WorkingClock | None = None) -> ComplaintDeadline:
    """A deadline of `kind` counted from `start` in the office's working time
    by its complaint settings; paused while the complaint waits for the complainant."""
    settings = office_settings_get(ComplaintSettings, office=complaint.office)
    clock = clock or WorkingClock(complaint.office)
    days, hours = _deadline_spec(settings, kind)
    due = clock.add(start, days=days, hours=hours)
    return ComplaintDeadline.objects.create(
        office_id=complaint.office_id, complaint=complaint, kind=kind, due_at=due,
        warn_at=_warn_at(clock, start, due, settings.warn_before_hours),
        paused=complaint.waiting_since is not None)


def deadlines_open(complaint: Complaint) -> None:
    """The deadlines every complaint starts with, counted from its receipt."""
    clock = WorkingClock(complaint.office)
    for kind in (DeadlineKind.ACKNOWLEDGE, DeadlineKind.RESPOND, DeadlineKind.RESOLVE):
        deadline_create(complaint, kind, complaint.received_at, clock)


def first_due(complaint: Complaint) -> datetime | None:
    """When the first deadline not yet met is due (None when all are met)."""
    deadline = complaint.deadlines.filter(met_at__isnull=True).order_by("due_at").first()
    return deadline.due_at if deadline else None


def local_text(complaint: Complaint, moment: datetime | None) -> str:
    """A moment as the complaint's office writes it, in its zone."""
    return office_local_text(moment, complaint.office)


def deadlines_meet(complaint: Complaint, kinds, at: datetime) -> None:
    """Mark the complaint's open deadlines of these kinds met at `at`."""
    ComplaintDeadline.objects.filter(complaint=complaint, kind__in=kinds,
                                     met_at__isnull=True).update(met_at=at)


def net_minutes(complaint: Complaint, until: datetime) -> int:
    """Working minutes from receipt to `until`, less the time waiting for the
    complainant."""
    clock = WorkingClock(complaint.office)
    total = clock.minutes_between(complaint.received_at, until)
    for pause in complaint.pauses.all():
        end = min(pause.ended_at or until, until)
        total -= clock.minutes_between(max(pause.started_at, complaint.received_at), end)
    return max(0, total)


@transaction.atomic
def complaint_wait(*, complaint: Complaint, reason: str, by) -> Complaint:
    """The office asked the complainant for something (a document, a detail): the
    deadlines stand still until they answer."""
    complaint = complaint_lock(complaint)
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError(_("Say what the complainant was asked for."), "reason_required")
    if complaint.status == ComplaintStatus.RESOLVED:
        raise Conflict(_("This complaint is resolved."), "complaint_resolved")
    if complaint.waiting_since is not None:
        raise Conflict(_("The complaint already waits for the complainant."), "already_waiting")
    now = timezone.now()
    complaint.waiting_since = now
    complaint.status = ComplaintStatus.WAITING
    complaint.save(update_fields=["waiting_since", "status"])
    ComplaintPause.objects.create(office_id=complaint.office_id, complaint=complaint,
                                  started_at=now, reason=reason,
                                  by=by if getattr(by, "pk", None) else None)
    complaint.deadlines.filter(met_at__isnull=True).update(paused=True)
    return complaint


@transaction.atomic
def complaint_resume(*, complaint: Complaint, by, at: datetime | None = None) -> Complaint:
    """The complainant answered: each open deadline gets back the working time it had
    left when the wait began."""
    complaint = complaint_lock(complaint)
    if complaint.waiting_since is None:
        raise Conflict(_("The complaint is not waiting for the complainant."), "not_waiting")
    now = at or timezone.now()
    clock = WorkingClock(complaint.office)
    pause = complaint.pauses.get(ended_at__isnull=True)
    pause.ended_at = now
    pause.working_minutes = clock.minutes_between(pause.started_at, now)
    pause.save(update_fields=["ended_at", "working_minutes"])
    open_deadlines = lock_objects.deadlines_for_update(complaint=complaint).filter(
        met_at__isnull=True)
    for deadline in open_deadlines:
        left = clock.minutes_between(pause.started_at, deadline.due_at)
        warn_left = clock.minutes_between(pause.started_at, deadline.warn_at)
        if left > 0:
            deadline.due_at = clock.add(now, minutes=left)
        if warn_left > 0:
            deadline.warn_at = clock.add(now, minutes=warn_left)
        deadline.paused = False
        deadline.save(update_fields=["due_at", "warn_at", "paused"])
    complaint.waiting_since = None
    complaint.status = (ComplaintStatus.RESPONDED if complaint.responded_at
                        else ComplaintStatus.IN_PROGRESS if complaint.acknowledged_at
                        else ComplaintStatus.RECEIVED)
    complaint.save(update_fields=["waiting_since", "status"])
    return complaint


def _alert(deadline: ComplaintDeadline, users, kind: str, now: datetime) -> int:
    complaint = deadline.complaint
    due = local_text(complaint, deadline.due_at)
    if kind == "warning":
        message = _("%(reference)s: %(deadline)s is due at %(due)s.")
    else:
        message = _("%(reference)s: %(deadline)s was due at %(due)s and is overdue.")
    # Stored once for every reader, so written in the office's language.
    with translation.override(django_settings.LANGUAGE_CODE):
        text = str(message % {"reference": complaint.reference,
                              "deadline": str(deadline.get_kind_display()).lower(),
                              "due": due})
    alerts = StaffAlert.objects.bulk_create(
        [StaffAlert(office_id=deadline.office_id, complaint=complaint, deadline=deadline,
                    user=user, kind=kind, message=text[:400], created_at=now)
         for user in users], ignore_conflicts=True)
    from complaints.tasks import complaint_alert_email

    for user in users:
        if user.email:
            enqueue_on_commit(complaint_alert_email, deadline.id, user.id, kind)
    return len(alerts)


def deadlines_sweep(*, now: datetime | None = None) -> int:
    """Warn the assignee of deadlines coming up and alert the supervisors of deadlines
    passed, each once (a conditional update claims each row, so two sweeps at once
    alert once). Deadlines of complaints waiting for the complainant stand still.
    Bounded batches; safe to run at any time."""
    now = now or timezone.now()
    sent = 0
    base = ComplaintDeadline.objects.filter(met_at__isnull=True, paused=False)
    overdue = list(base.filter(escalated_at__isnull=True, due_at__lte=now)
                   .order_by("due_at").values_list("id", flat=True)[:SWEEP_BATCH])
    for deadline_id in overdue:
        with transaction.atomic():
            if not ComplaintDeadline.objects.filter(
                    pk=deadline_id, escalated_at__isnull=True, met_at__isnull=True).update(
                    escalated_at=now, warned_at=now):
                continue
            deadline = ComplaintDeadline.objects.select_related(
                "complaint", "complaint__office").get(pk=deadline_id)
            sent += _alert(deadline, list(office_supervisors(deadline.office_id)), "overdue", now)
    upcoming = list(base.filter(warned_at__isnull=True, warn_at__lte=now, due_at__gt=now)
                    .order_by("warn_at").values_list("id", flat=True)[:SWEEP_BATCH])
    for deadline_id in upcoming:
        with transaction.atomic():
            if not ComplaintDeadline.objects.filter(
                    pk=deadline_id, warned_at__isnull=True, met_at__isnull=True).update(
                    warned_at=now):
                continue
            deadline = ComplaintDeadline.objects.select_related(
                "complaint", "complaint__office", "complaint__assignee").get(pk=deadline_id)
            assignee = deadline.complaint.assignee
            users = ([assignee] if assignee is not None
                     else list(office_supervisors(deadline.office_id)))
            sent += _alert(deadline, users, "warning", now)
    return sent


def alert_email(*, deadline_id: int, user_id: int, kind: str) -> bool:
    """E-mail one alert to a staff member (the alert row is already in their list)."""
    alert = (StaffAlert.objects.filter(deadline_id=deadline_id, user_id=user_id, kind=kind)
             .select_related("user").first())
    if alert is None or not alert.user.email:
        return False
    send_mail(subject=alert.message[:150], message=alert.message, from_email=None,
              recipient_list=[alert.user.email])
    return True


@transaction.atomic
def alerts_mark_read(*, user, ids: list[int] | None = None) -> int:
    unread = StaffAlert.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(id__in=ids)
    return unread.update(read_at=timezone.now())
