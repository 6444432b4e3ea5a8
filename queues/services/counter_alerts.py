"""Idle counters caught: a counter open and idle (or paused past its reason's allowed
minutes) while people wait in its lanes, for longer than the office's
`QueueSettings.idle_alert_minutes`, alerts the office's supervisors once per episode
(CounterAlert). The episode closes by itself when the counter calls or closes
(queues.services.counters.counter_state_set), or when nobody waits any more (this
check).

The check runs every minute per office (queues.tasks). Each counter is decided under
its row lock, the same lock every call takes, so an alert is never raised for a
counter that has just called; the one-open-alert-per-counter constraint makes a
doubled run raise it once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Min
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from queues import lock_objects
from queues.counter_figures import alert_text
from queues.models import (
    Counter,
    CounterAlert,
    CounterAlertEnd,
    CounterAlertKind,
    CounterLane,
    CounterState,
    QueueSettings,
    Ticket,
    TicketStatus,
)
from registry.background import enqueue_on_commit
from registry.calendar import office_day_bounds, office_zone
from registry.models import Office
from registry.selectors import office_supervisors
from registry.services.offices import office_settings_get

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    """People waiting in a counter's lanes now: how many, and since when someone has
    been waiting without a break (the oldest waiting ticket's queue time)."""

    count: int
    since: datetime | None


def _waiting_by_lane(office: Office, day) -> dict[int, tuple[int, datetime]]:
    return {lane_id: (n, first) for lane_id, n, first in (
        Ticket.objects.filter(office=office, day=day, status=TicketStatus.WAITING)
        .values("lane_id").annotate(n=Count("id"), first=Min("queued_at"))
        .values_list("lane_id", "n", "first"))}


def _waiting_for(lane_ids, by_lane) -> Waiting:
    rows = [by_lane[lane_id] for lane_id in lane_ids if lane_id in by_lane]
    return Waiting(count=sum(n for n, _first in rows),
                   since=min((first for _n, first in rows), default=None))


def idle_since(counter: Counter, waiting: Waiting, *, start_of_day: datetime
               ) -> tuple[str, datetime] | None:
    """(kind, since) when `counter` is leaving people waiting: idle since its state
    began, or paused since its reason's allowed minutes ran out, and someone waiting
    since then. None when it is not (calling, serving, closed, a pause still within
    its minutes, nobody waiting, or a state left from an earlier day)."""
    if waiting.count == 0 or waiting.since is None or counter.state_since < start_of_day:
        return None
    if counter.state == CounterState.IDLE:
        kind, since = CounterAlertKind.IDLE, counter.state_since
    elif counter.state == CounterState.PAUSED:
        allowed = counter.pause_reason.allowed_minutes if counter.pause_reason else 0
        kind, since = CounterAlertKind.PAUSED_LONG, (
            counter.state_since + timedelta(minutes=allowed))
    else:
        return None
    return kind, max(since, waiting.since)


def counter_alerts_check(*, office: Office, now: datetime | None = None) -> int:
    """Raise the alerts now due at `office`, and close the open ones nobody waits
    for any more; how many were raised. Safe to run at any time, and twice."""
    now = now or timezone.now()
    day = now.astimezone(office_zone(office)).date()
    start_of_day = office_day_bounds(office, day)[0]
    queue_settings = office_settings_get(QueueSettings, office=office)
    threshold = timedelta(minutes=queue_settings.idle_alert_minutes)
    lanes: dict[int, list[int]] = {}
    for counter_id, lane_id in CounterLane.objects.filter(office=office).values_list(
            "counter_id", "lane_id"):
        lanes.setdefault(counter_id, []).append(lane_id)
    by_lane = _waiting_by_lane(office, day)
    open_alerts = set(CounterAlert.objects.filter(office=office, closed_at__isnull=True)
                      .values_list("counter_id", flat=True))
    candidates = (Counter.objects.filter(office=office, is_active=True,
                                         state__in=[CounterState.IDLE, CounterState.PAUSED])
                  .values_list("pk", flat=True))
    raised = 0
    for counter_id in set(candidates) | open_alerts:
        waiting = _waiting_for(lanes.get(counter_id, []), by_lane)
        with transaction.atomic():
            counter = lock_objects.counter_for_update(counter_id)
            episode = idle_since(counter, waiting, start_of_day=start_of_day)
            if counter_id in open_alerts:
                if waiting.count == 0:
                    CounterAlert.objects.filter(counter=counter, closed_at__isnull=True).update(
                        closed_at=now, ended_by=CounterAlertEnd.NOBODY_WAITING)
                continue
            if episode is None or now - episode[1] < threshold:
                continue
            raised += _raise(counter, kind=episode[0], since=episode[1], waiting=waiting,
                             day=day, now=now)
    return raised


def _raise(counter: Counter, *, kind: str, since: datetime, waiting: Waiting, day,
           now: datetime) -> int:
    try:
        with transaction.atomic():
            alert = CounterAlert.objects.create(
                office_id=counter.office_id, counter=counter, day=day, kind=kind,
                operator=counter.operator, pause_reason=counter.pause_reason, since=since,
                raised_at=now, waiting=min(waiting.count, 32767))
    except IntegrityError:  # raised by a run at the same moment
        return 0
    from queues.tasks import counter_alert_email

    for user_id in (office_supervisors(counter.office_id).exclude(email="")
                    .values_list("id", flat=True)):
        enqueue_on_commit(counter_alert_email, alert.pk, user_id)
    logger.info("Idle counter alert %s at office %s", alert.pk, counter.office_id)
    return 1


def counter_alert_email(*, alert_id: int, user_id: int) -> bool:
    """E-mail one raised alert to one supervisor, in the office's language. False
    when the alert closed meanwhile (the counter called) or the user has no e-mail."""
    alert = (CounterAlert.objects.filter(pk=alert_id)
             .select_related("counter__office", "operator", "pause_reason").first())
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if alert is None or alert.closed_at is not None or user is None or not user.email:
        return False
    with translation.override(django_settings.LANGUAGE_CODE):
        text = alert_text(alert)
        subject = str(_("Idle counter: %(counter)s") % {"counter": alert.counter.name})
    send_mail(subject=subject, message=text, from_email=None, recipient_list=[user.email])
    return True


def offices_with_open_counters() -> list[int]:
    """Offices where a counter is idle or paused, or an alert is open: the only ones
    the check has anything to do at."""
    ids = set(Counter.objects.filter(is_active=True, state__in=[
        CounterState.IDLE, CounterState.PAUSED]).values_list("office_id", flat=True))
    ids |= set(CounterAlert.objects.filter(closed_at__isnull=True)
               .values_list("office_id", flat=True))
    return sorted(ids)
