"""Which residents a personal-data breach concerns, and its 3 x 24-hour deadline.

The query of an incident (registry.models.BreachIncident):

- office: the residents domiciled in the office or with a case file there; with no
  office, those domiciled in any office or with a case file anywhere (a resident with
  neither has no office to be told from and is left out);
- kinds and period: among those, the residents whose data of one of the chosen kinds
  was written (created, or changed where the table records a change) in the period,
  either end of which may be open:
  identity: registered, identity verified or NIK reviewed in the period;
  contact: registered, phone bound or sent a message in the period;
  address: registered in the period (a resident's row records no later change), and
  what the apps add (a delivery address, say);
  cases: a case file opened or changed in the period;
  documents, photos, complaints: what the apps register (registry.extensions
  BREACH_DATA): booking documents uploaded, delivery photos taken, complaints received
  and survey answers given in the period.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import extensions
from registry.models import (
    Application,
    BreachDataKind,
    BreachIncident,
    Notification,
    Resident,
)


def in_period(field: str, start: datetime | None, end: datetime | None) -> Q:
    """`field` within [start, end], an open end matching anything on that side."""
    condition = Q(**{f"{field}__isnull": False})
    if start is not None:
        condition &= Q(**{f"{field}__gte": start})
    if end is not None:
        condition &= Q(**{f"{field}__lte": end})
    return condition


def core_breach_data(*, kinds: set[str], start, end) -> list[QuerySet]:
    """The core's part of BREACH_DATA: residents, case files and messages."""
    sources = []
    registered = in_period("created_at", start, end)
    if BreachDataKind.IDENTITY in kinds:
        sources.append(Resident.objects.filter(
            registered | in_period("identity_verified_at", start, end)
            | in_period("nik_reviewed_at", start, end)).values("id"))
    if BreachDataKind.CONTACT in kinds:
        sources.append(Resident.objects.filter(
            registered | in_period("phone_bound_at", start, end)).values("id"))
        sources.append(Notification.objects.filter(
            in_period("created_at", start, end)).values("resident_id"))
    if BreachDataKind.ADDRESS in kinds:
        sources.append(Resident.objects.filter(registered).values("id"))
    if BreachDataKind.CASES in kinds:
        sources.append(Application.objects.filter(
            in_period("created_at", start, end) | in_period("updated_at", start, end))
            .values("resident_id"))
    return sources


def office_scope(office_id: int | None) -> Q:
    if office_id is None:
        return (Q(domicile_office__isnull=False)
                | Q(id__in=Application.objects.values("resident_id")))
    return (Q(domicile_office_id=office_id)
            | Q(id__in=Application.objects.filter(office_id=office_id).values("resident_id")))


def breach_affected_residents(*, incident: BreachIncident) -> QuerySet[Resident]:
    """The residents the incident's query selects (see the module's docstring)."""
    kinds = set(incident.kinds)
    if not kinds:
        return Resident.objects.none()
    sources = []
    for selector in extensions.registered(extensions.BREACH_DATA):
        sources += selector(kinds=kinds, start=incident.period_start,
                            end=incident.period_end)
    if not sources:
        return Resident.objects.none()
    with_data = reduce(or_, (Q(id__in=source) for source in sources))
    return Resident.objects.filter(office_scope(incident.office_id) & with_data)


def duration_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return _("%(hours)d h %(minutes)02d min") % {"hours": minutes // 60,
                                                  "minutes": minutes % 60}


def breach_deadline_text(incident: BreachIncident, now: datetime | None = None) -> str:
    """The time left before the deadline, how late it is, or whether the residents
    were told in time."""
    now = now or timezone.now()
    deadline = incident.deadline
    if incident.residents_notified_at is not None:
        if incident.residents_notified_at <= deadline:
            return _("Residents notified in time")
        return _("Residents notified late, by %(late)s") % {
            "late": duration_text(incident.residents_notified_at - deadline)}
    if now <= deadline:
        return _("%(left)s left") % {"left": duration_text(deadline - now)}
    return _("Overdue by %(late)s") % {"late": duration_text(now - deadline)}


def breach_is_overdue(incident: BreachIncident, now: datetime | None = None) -> bool:
    done = incident.residents_notified_at or now or timezone.now()
    return done > incident.deadline
