"""Reads of the central link: what residents are told of it, and what its outages held
up."""

from django.db.models import F, Func, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Now

from registry import extensions
from registry.api.fields import office_local_iso
from registry.central.models import CentralJob, CentralOutage
from registry.central.services.link import DEFAULT_NOTICE
from registry.models import Office

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
