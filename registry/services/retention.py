"""Keeping personal data no longer than its purpose needs (UU PDP 27/2022).

Each kind of personal data with a time limit is a RetentionRule: the rows due for
removal at a moment (a queryset), and how they are removed (a file deleted from storage
and its column cleared, a column blanked, a row deleted). The limits, in days, are
settings.RETENTION, the same for every office. The core's rules are below; the apps
register theirs through registry.extensions.RETENTION.

The sweep (retention_sweep, daily from Celery beat and `manage.py retention`) walks each
rule's due rows in batches by primary key, so it never holds a long lock and always
ends; a row it has dealt with is no longer due, so a second run removes nothing. Every
run, a dry run too, is recorded as a RetentionRun with its counts.

Kept whatever their age: case timelines (CaseEvent), applications, cards, complaints
with their attachments (no limit in the table), and the fact of each message.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import extensions
from registry.models import (
    AccessLog,
    ActivationCode,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    OtpChallenge,
    RetentionRun,
)

logger = logging.getLogger(__name__)

# Rows per statement: a batch's UPDATE or DELETE holds its row locks briefly, and a
# file rule deletes at most this many files between two commits.
BATCH_SIZE = 500
# Batches per rule and run: a backlog (a first run on years of data, a lowered limit)
# is worked off over several nights instead of one run outlasting its time limit.
MAX_BATCHES = 200


@dataclass(frozen=True)
class RetentionRule:
    """One kind of personal data with a time limit.

    name: the key of its count in a RetentionRun (unique among the rules);
    limit: its key in settings.RETENTION (several rules may share one);
    label: what it removes, for staff;
    due: `(before: datetime) -> QuerySet`, the rows due for removal when everything
        older than `before` goes; a removed row is no longer in it;
    remove: `(ids: list[int], now: datetime) -> int`, removes those rows' data and
        says how many it removed (0 for one already done);
    dated_by: the field the age is read from (the dry run's oldest and newest).
    """

    name: str
    limit: str
    label: str
    due: Callable[[datetime], models.QuerySet]
    remove: Callable[[list[int], datetime], int]
    dated_by: str

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=settings.RETENTION[self.limit])

    def due_at(self, now: datetime) -> models.QuerySet:
        """The rows this rule removes at `now`."""
        return self.due(self.cutoff(now))


@dataclass(frozen=True)
class RuleReport:
    name: str
    label: str
    days: int
    count: int
    oldest: datetime | None = None
    newest: datetime | None = None


# --- How rows are removed --------------------------------------------------------------

def rows_deleter(model) -> Callable[[list[int], datetime], int]:
    """Delete the rows (and what cascades from them); counts the model's own rows."""

    def remove(ids: list[int], now: datetime) -> int:
        _total, per_model = model.objects.filter(pk__in=ids).delete()
        return per_model.get(model._meta.label, 0)

    return remove


def files_remover(model, field: str, removed_at: str) -> Callable[[list[int], datetime], int]:
    """Delete each row's file from storage, then clear the column and stamp
    `removed_at`; the row stays. A file already gone counts as removed; one that
    storage refuses to delete is left with its row, for the next run."""

    storage = model._meta.get_field(field).storage

    def remove(ids: list[int], now: datetime) -> int:
        rows = model.objects.filter(pk__in=ids).exclude(**{field: ""}).values_list("pk", field)
        done = []
        for pk, name in rows:
            try:
                storage.delete(name)
            except FileNotFoundError:
                pass
            except OSError:
                logger.exception("Retention: %s %s: file %s not deleted",
                                 model._meta.label, pk, name)
                continue
            done.append(pk)
        return (model.objects.filter(pk__in=done).exclude(**{field: ""})
                .update(**{field: "", removed_at: now}))

    return remove


# --- The core's rules ------------------------------------------------------------------

def _notification_bodies_remove(ids: list[int], now: datetime) -> int:
    # The row (who, when, which kind and case, its title, each channel's delivery)
    # stays as the fact that the resident was told; the text goes, and so does any
    # provider error, which can quote it.
    with transaction.atomic():
        NotificationDelivery.objects.filter(notification_id__in=ids).exclude(
            last_error="").update(last_error="")
        return Notification.objects.filter(pk__in=ids).exclude(body="").update(body="")


OTP_CHALLENGES = RetentionRule(
    name="otp_challenges", limit="otp", label=_("sign-in code requests"),
    due=lambda before: OtpChallenge.objects.filter(created_at__lt=before),
    remove=rows_deleter(OtpChallenge), dated_by="created_at",
)
# A printed activation code is spent when used or expired; the limit counts from then.
ACTIVATION_CODES = RetentionRule(
    name="activation_codes", limit="otp", label=_("spent activation codes"),
    due=lambda before: ActivationCode.objects.filter(
        Q(used_at__lt=before) | Q(expires_at__lt=before)),
    remove=rows_deleter(ActivationCode), dated_by="created_at",
)
# A message still waiting to be sent keeps its text (a failing one gives up after
# NOTIFY_MAX_ATTEMPTS, long before the limit).
NOTIFICATION_BODIES = RetentionRule(
    name="notification_bodies", limit="notification_bodies",
    label=_("texts of messages to residents"),
    due=lambda before: Notification.objects.filter(created_at__lt=before).exclude(body="")
    .exclude(deliveries__status=DeliveryStatus.PENDING),
    remove=_notification_bodies_remove, dated_by="created_at",
)
ACCESS_LOG = RetentionRule(
    name="access_log", limit="access_log", label=_("accesses to personal data"),
    due=lambda before: AccessLog.objects.filter(at__lt=before),
    remove=rows_deleter(AccessLog), dated_by="at",
)
CORE_RULES = (OTP_CHALLENGES, ACTIVATION_CODES, NOTIFICATION_BODIES, ACCESS_LOG)


def retention_rules() -> list[RetentionRule]:
    """The core's rules and those the apps registered (registry.extensions.RETENTION)."""
    return list(extensions.registered(extensions.RETENTION))


# --- The sweep -------------------------------------------------------------------------

def _rule_sweep(rule: RetentionRule, *, now: datetime, batch_size: int,
                max_batches: int) -> int:
    due = rule.due_at(now)
    removed, after = 0, 0
    for _batch in range(max_batches):
        # Onward by primary key from the last batch: ends even if a row stays due (a
        # file that storage refused).
        ids = list(due.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)
                   [:batch_size])
        if not ids:
            break
        removed += rule.remove(ids, now)
        after = ids[-1]
    return removed


def retention_report(*, now: datetime | None = None,
                     limit: int = BATCH_SIZE * MAX_BATCHES) -> list[RuleReport]:
    """What a sweep at `now` would remove, rule by rule, with the oldest and newest
    dates among it; changes nothing. A count is at most `limit`, a run's cap per rule."""
    now = now or timezone.now()
    reports = []
    for rule in retention_rules():
        figures = rule.due_at(now).order_by().aggregate(
            count=models.Count("pk", distinct=True), oldest=Min(rule.dated_by),
            newest=Max(rule.dated_by))
        reports.append(RuleReport(
            name=rule.name, label=str(rule.label), days=settings.RETENTION[rule.limit],
            count=min(figures["count"], limit), oldest=figures["oldest"],
            newest=figures["newest"]))
    return reports


def retention_sweep(*, now: datetime | None = None, dry_run: bool = False,
                    batch_size: int = BATCH_SIZE,
                    max_batches: int = MAX_BATCHES) -> RetentionRun:
    """Remove what is past its limit at `now`, rule by rule, in batches of `batch_size`
    rows and at most `max_batches` of them per rule (the rest is for the next run);
    with `dry_run`, only count it (the run's `reports` then has the oldest and newest
    dates of each rule). Recorded as a RetentionRun either way; idempotent."""
    now = now or timezone.now()
    run = RetentionRun.objects.create(started_at=now, dry_run=dry_run,
                                      days=dict(settings.RETENTION))
    if dry_run:
        # Kept on the returned run (not stored) for `manage.py retention --dry-run`.
        run.reports = retention_report(now=now, limit=batch_size * max_batches)
        run.counts = {report.name: report.count for report in run.reports}
    else:
        for rule in retention_rules():
            run.counts[rule.name] = _rule_sweep(rule, now=now, batch_size=batch_size,
                                                max_batches=max_batches)
            # Saved after each rule: a run stopped halfway still tells what it did.
            run.save(update_fields=["counts"])
    run.finished_at = timezone.now()
    run.save(update_fields=["counts", "finished_at"])
    return run
