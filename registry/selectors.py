"""Reads of the registry core that are more than a filter, always given the office or
the resident they are for."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import tenancy
from registry.calendar import office_day_bounds
from registry.models import (
    Application,
    CaseEvent,
    Closure,
    Notification,
    Office,
    Resident,
    Role,
    Service,
    StaffMembership,
    TurnAway,
    TurnAwayReason,
)
from registry.trends import Chart, Kind, Series, Table, count_by_day, nested


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


def residents_for_office(*, office: Office) -> QuerySet[Resident]:
    """Residents an office's staff may work with: domiciled there, or with a case file
    there (registry.desk.resident_get_for_office answers one of them or NotFound)."""
    with_case = Application.objects.filter(office=office).values("resident_id")
    return Resident.objects.filter(Q(domicile_office=office) | Q(id__in=with_case))


def turn_aways_of_application(*, application: Application) -> QuerySet[TurnAway]:
    """The turn-aways at the door linked to a case, oldest first."""
    return (TurnAway.objects.filter(application=application, office_id=application.office_id)
            .select_related("service").order_by("at", "id"))


def turn_aways_for_office(*, office: Office) -> QuerySet[TurnAway]:
    return (TurnAway.objects.filter(office=office)
            .select_related("resident", "service", "application", "actor").order_by("-at"))


def dashboard_figures(*, office: Office, day) -> list[tuple[str, object]]:
    """Today's figures of the registry core for the admin index."""
    start, end = office_day_bounds(office, day)
    opened = Application.objects.filter(office=office, created_at__gte=start, created_at__lt=end)
    return [
        (_("Case files opened today"), opened.count()),
        (_("Open case files"), Application.objects.filter(
            office=office, status__in=["open", "in_progress", "ready"]).count()),
        (_("NIKs to verify"), Resident.objects.filter(
            domicile_office=office, nik_needs_review=True).count()),
    ]



def office_supervisors(office_id: int) -> QuerySet:
    """The office's active supervisors (staff users), in a stable order: who is alerted
    when something at the office needs a supervisor."""
    from django.contrib.auth import get_user_model

    ids = StaffMembership.objects.filter(office_id=office_id, role=Role.SUPERVISOR,
                                         user__is_active=True).values("user_id")
    return get_user_model().objects.filter(id__in=ids).order_by("id")


# --- The monthly report's lists ------------------------------------------------------

# The monthly report's section of the days the office could not serve as usual (the
# central link's outages join it, registry.central.selectors.report_tables).
OUTAGES_SECTION = gettext_lazy("Outages and closures")


def report_tables(*, offices, period) -> dict:
    """The closures of each office within the period (registry.reports)."""
    rows: dict[int, list] = {office.id: [] for office in offices}
    for closure in Closure.objects.filter(office__in=offices, date__gte=period.start,
                                          date__lte=period.end).order_by("office", "date"):
        rows[closure.office_id].append([closure.date.strftime("%d-%m-%Y"), closure.reason])
    return {office_id: [Table(section=str(OUTAGES_SECTION), title=_("Closures"),
                              header=[_("date"), _("reason")], rows=office_rows,
                              empty=_("No closure."))]
            for office_id, office_rows in rows.items()}


# --- Trends --------------------------------------------------------------------------

TRIPS_SECTION = gettext_lazy("One trip")


def trends(*, offices, period) -> dict:
    """The registry core's chart: residents sent away at the door per bucket, by reason
    (each a trip made for nothing). One grouped query per time zone."""
    counts = nested(count_by_day(TurnAway.objects.all(), offices, period, "at", "reason"))
    reasons = [(value, label) for value, label in TurnAwayReason.choices]
    out = {}
    for office in offices:
        per_reason = counts.get(office.id, {})
        out[office.id] = [Chart(
            key="turned_away", section=str(TRIPS_SECTION),
            title=_("Residents sent away at the door"), labels=period.labels(),
            kind=Kind.STACKED,
            series=[Series(str(label), period.bucketed(per_reason.get((value,), {})))
                    for value, label in reasons],
            note=_("Each one is a trip made for nothing; the reasons are those the front "
                   "desk recorded."))]
    return out
