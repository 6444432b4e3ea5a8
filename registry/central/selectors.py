"""Reads of the central link: what residents are told of it, and what its outages held
up."""

from datetime import datetime

from django.db.models import F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Now
from django.utils.translation import gettext as _

from registry import extensions
from registry.api.fields import office_local_iso
from registry.calendar import office_local_text
from registry.cards import normalize_receipt_code
from registry.central.models import Card, CentralJob, CentralJobAttempt, CentralOutage
from registry.central.services.link import DEFAULT_NOTICE
from registry.models import Application, Office
from registry.selectors import OUTAGES_SECTION
from registry.trends import Table

# Other work an outage held up, counted on the outage list: (annotation name,
# `rows_of(application_ids)` returning a queryset of the held rows). Registered by the
# apps that hold such rows (queues: the tickets of the held applications).
OUTAGE_HOLDUPS = "central.outage_holdups"


def office_link_state(*, office: Office) -> dict:
    """The central-link status an office shows residents: `link_status` ("up" or
    "down") and, while down, the `notice` (since, expected_back, message), its times
    ISO 8601 in the office's zone. One query."""
    outage = (CentralOutage.objects.filter(office_id=office.id, ended_at__isnull=True)
              .only("started_at", "expected_back", "message").first())
    if outage is None:
        return {"link_status": "up", "notice": None}
    return {"link_status": "down", "notice": {
        "since": office_local_iso(outage.started_at, office),
        "expected_back": office_local_iso(outage.expected_back, office),
        "message": outage.message or str(DEFAULT_NOTICE),
    }}


def outages_with_holdups(queryset):
    """Annotate outages with how many applications (and their queue tickets) had
    central work waiting during them: jobs created before the outage ended and not
    done before it started, and what the apps above registered under OUTAGE_HOLDUPS.
    One query for the whole list."""
    def held_jobs(ref):
        return (CentralJob.objects.filter(
            office_id=ref("office_id"), created_at__lt=Coalesce(ref("ended_at"), Now()))
            .filter(Q(done_at__isnull=True) | Q(done_at__gt=ref("started_at"))))

    def count(qs, field):
        return Subquery(qs.order_by().annotate(
            n=Func(F(field), function="COUNT", distinct=True, template="%(function)s("
                   "DISTINCT %(expressions)s)")).values("n")[:1])

    queryset = queryset.annotate(applications_held=count(held_jobs(OuterRef),
                                                         "application_id"))

    def outer_outer(name):
        return OuterRef(OuterRef(name))

    held_applications = held_jobs(outer_outer).values("application_id")
    for name, rows_of in extensions.registered(OUTAGE_HOLDUPS):
        queryset = queryset.annotate(**{name: count(rows_of(held_applications), "pk")})
    return queryset


# --- A case's central work (read by complaints) ------------------------------------


def application_by_receipt_code(*, office: Office, code: str) -> Application | None:
    """The case of the office's card with this receipt code (as the resident writes
    it), or None."""
    card = Card.objects.filter(office=office, receipt_code=normalize_receipt_code(code)
                               ).select_related("application").first()
    return card.application if card else None


def central_jobs_of_application(*, application: Application) -> QuerySet[CentralJob]:
    """The case's transmissions and print jobs, in the order they were queued."""
    return CentralJob.objects.filter(application=application).order_by("id")


def central_attempts_of_jobs(*, jobs) -> QuerySet[CentralJobAttempt]:
    """The sending attempts of the given jobs, by job and in the order they were made."""
    return CentralJobAttempt.objects.filter(job__in=jobs).order_by("job", "number")


def card_of_application(*, application: Application) -> Card | None:
    return Card.objects.filter(application=application).first()


def outages_overlapping(*, office: Office, start: datetime,
                        end: datetime) -> QuerySet[CentralOutage]:
    """The office's central-link outages that began before `end` and had not ended
    before `start` (one still going included), oldest first."""
    return (CentralOutage.objects.filter(office=office, started_at__lt=end)
            .exclude(ended_at__lt=start).order_by("started_at"))


def report_tables(*, offices, period) -> dict:
    """The central link's outages that overlap the period, per office (the monthly
    report's section of outages and closures)."""
    rows: dict[int, list] = {office.id: [] for office in offices}
    by_id = {office.id: office for office in offices}
    starts = [period.bounds(o)[0] for o in offices]
    ends = [period.bounds(o)[1] for o in offices]
    outages = (CentralOutage.objects
               .filter(office__in=offices, started_at__lt=max(ends))
               .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=min(starts)))
               .order_by("office", "started_at"))
    for outage in outages:
        office = by_id[outage.office_id]
        start, end = period.bounds(office)
        if outage.started_at >= end or (outage.ended_at and outage.ended_at <= start):
            continue
        minutes = None
        if outage.ended_at:
            minutes = round((outage.ended_at - outage.started_at).total_seconds() / 60)
        rows[office.id].append([
            office_local_text(outage.started_at, office),
            office_local_text(outage.ended_at, office) or _("still down"),
            minutes, outage.get_detection_display(), outage.cause])
    header = [_("started"), _("ended"), _("minutes"), _("detected by"), _("cause")]
    return {office_id: [Table(section=str(OUTAGES_SECTION), title=_("Central-link outages"),
                              header=header, rows=office_rows,
                              empty=_("No outage of the central link."))]
            for office_id, office_rows in rows.items()}
