"""Reads of the registry core that are more than a filter, always given the office or
the resident they are for."""

from django.db.models import Prefetch, Q, QuerySet

from registry import tenancy
from registry.models import (
    Application,
    CaseEvent,
    Notification,
    Office,
    Resident,
    Service,
)


def offices_public() -> QuerySet[Office]:
    return Office.objects.filter(is_active=True).order_by("code")


def office_get_public(*, code: str) -> Office | None:
    return offices_public().filter(code=code).first()


def services_for_office(*, office: Office) -> QuerySet[Service]:
    return (
        Service.objects.filter(office=office, is_active=True)
        .select_related("lane")
        .prefetch_related("requirements")
        .order_by("lane__letter", "code")
    )


def applications_for_resident(*, resident: Resident) -> QuerySet[Application]:
    return (
        Application.objects.filter(resident=resident)
        .select_related("office", "service", "service__lane")
        .prefetch_related(Prefetch("events", queryset=CaseEvent.objects.order_by("at", "id")))
    )


def notifications_for_resident(*, resident: Resident) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(resident=resident)
        .select_related("office")
        .order_by("-created_at", "-id")
    )


def residents_for_staff(*, user) -> QuerySet[Resident]:
    """Residents a staff member may see: domiciled in one of their offices, or with a
    case file there. Residents are national records, so this is the tenancy rule."""
    office_ids = tenancy.staff_office_ids(user)
    if not office_ids:
        return Resident.objects.none()
    with_case = Application.objects.filter(office_id__in=office_ids).values("resident_id")
    return Resident.objects.filter(
        Q(domicile_office_id__in=office_ids) | Q(id__in=with_case)
    )


def dashboard_figures(*, office: Office, day) -> list[tuple[str, object]]:
    """Today's figures of the registry core for the admin index."""
    from django.utils.translation import gettext as _

    from registry.calendar import office_day_bounds

    start, end = office_day_bounds(office, day)
    opened = Application.objects.filter(office=office, created_at__gte=start, created_at__lt=end)
    return [
        (_("Case files opened today"), opened.count()),
        (_("Open case files"), Application.objects.filter(
            office=office, status__in=["open", "in_progress", "ready"]).count()),
        (_("NIKs to verify"), Resident.objects.filter(
            domicile_office=office, nik_needs_review=True).count()),
    ]


def office_link_state(*, office: Office) -> dict:
    """The central-link status an office shows residents: `link_status` ("up" or
    "down") and, while down, the `notice` (since, expected_back, message), its times
    ISO 8601 in the office's zone. One query."""
    from registry.api.fields import office_local_iso
    from registry.central.services import DEFAULT_NOTICE
    from registry.models import CentralOutage

    outage = (CentralOutage.objects.filter(office_id=office.id, ended_at__isnull=True)
              .only("started_at", "expected_back", "message").first())
    if outage is None:
        return {"link_status": "up", "notice": None}
    return {"link_status": "down", "notice": {
        "since": office_local_iso(outage.started_at, office),
        "expected_back": office_local_iso(outage.expected_back, office),
        "message": outage.message or str(DEFAULT_NOTICE),
    }}


# --- The central link (registry.central) -------------------------------------


def _ticket_model():
    """queues.Ticket when it exists and points at the application, else None."""
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist

    try:
        model = apps.get_model("queues", "Ticket")
        model._meta.get_field("application")
    except (LookupError, FieldDoesNotExist):
        return None
    return model


def outages_with_holdups(queryset):
    """Annotate outages with how many applications (and their queue tickets) had
    central work waiting during them: jobs created before the outage ended and not
    done before it started. One query for the whole list."""
    from django.db.models import F, Func, OuterRef, Subquery
    from django.db.models.functions import Coalesce, Now

    from registry.models import CentralJob

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
    ticket = _ticket_model()
    if ticket is not None:
        def outer_outer(name):
            return OuterRef(OuterRef(name))

        tickets = ticket.objects.filter(
            application_id__in=held_jobs(outer_outer).values("application_id"))
        queryset = queryset.annotate(tickets_held=count(tickets, "pk"))
    return queryset
