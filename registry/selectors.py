"""Reads of the registry core that are more than a filter, always given the office or
the resident they are for."""

from django.db.models import (
    Case,
    CharField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import tenancy
from registry.calendar import office_day_bounds
from registry.models import (
    AccessKind,
    AccessLog,
    Application,
    CaseEvent,
    Closure,
    CorrectionRequest,
    CorrectionStatus,
    NikDisclosure,
    Notification,
    Office,
    Resident,
    Role,
    Service,
    StaffMembership,
    TurnAway,
    TurnAwayReason,
)
from registry.services.access_log import ROLE_ORDER, SUPERUSER_ROLE
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


# --- What the resident sees of their own data (UU PDP 27/2022) -------------------------

# A NikDisclosure (a staff member saw the full NIK) shows in the resident's access log as
# this kind, beside AccessLog's own kinds.
FULL_NIK_KIND = "full_nik"
ACCESS_KIND_LABELS = {**dict(AccessKind.choices), FULL_NIK_KIND: gettext_lazy("Full NIK")}
ACCESS_ROLE_LABELS = {**dict(Role.choices),
                      SUPERUSER_ROLE: gettext_lazy("System administrator")}
# The fields of one access-log entry, in the order both halves of the union select them.
ACCESS_ENTRY_FIELDS = ("entry_at", "entry_id", "entry_source", "entry_office_id",
                       "entry_office_code", "entry_office_name", "entry_office_timezone",
                       "entry_role", "entry_kind", "entry_target", "entry_reason")


def access_role_label(role: str) -> str:
    """The role's name as the resident reads it ("Loket pelayanan"), never a person."""
    if not role:
        return _("Office staff")
    return str(ACCESS_ROLE_LABELS.get(role, role))


def access_kind_label(kind: str) -> str:
    return str(ACCESS_KIND_LABELS.get(kind, kind))


def _disclosure_role():
    """The role a NikDisclosure's viewer held in its office (a disclosure records no
    role): the first of ROLE_ORDER among their memberships there now, else "superuser"
    for the deployment's admins, in the query (no query per row)."""
    order = Case(*[When(role=role, then=Value(index)) for index, role in enumerate(ROLE_ORDER)],
                 default=Value(len(ROLE_ORDER)), output_field=IntegerField())
    held = (StaffMembership.objects.filter(user_id=OuterRef("user_id"),
                                           office_id=OuterRef("office_id"))
            .annotate(rank=order).order_by("rank", "role").values("role")[:1])
    return Coalesce(Subquery(held, output_field=CharField()),
                    Case(When(user__is_superuser=True, then=Value(SUPERUSER_ROLE)),
                         default=Value(""), output_field=CharField()),
                    output_field=CharField())


def access_log_for_resident(*, resident: Resident) -> QuerySet:
    """Every recorded look at `resident`'s personal data, newest first: the access log
    (AccessLog through AccessLogResident) and the full-NIK disclosures, as one union of
    dicts (ACCESS_ENTRY_FIELDS) that paginates in the database. Who looked is never
    selected: only the office, the role, what and why."""
    text = CharField()
    logged = (AccessLog.objects.filter(entries__resident=resident)
              .annotate(entry_at=F("at"), entry_id=F("id"),
                        entry_source=Value("access", output_field=text),
                        entry_office_id=F("office_id"), entry_office_code=F("office__code"),
                        entry_office_name=F("office__name"),
                        entry_office_timezone=F("office__timezone"),
                        entry_role=F("role"), entry_kind=F("kind"),
                        entry_target=F("target"), entry_reason=F("reason"))
              .values(*ACCESS_ENTRY_FIELDS).order_by())
    disclosed = (NikDisclosure.objects.filter(resident=resident)
                 .annotate(entry_at=F("at"), entry_id=F("id"),
                           entry_source=Value("nik", output_field=text),
                           entry_office_id=F("office_id"),
                           entry_office_code=F("office__code"),
                           entry_office_name=F("office__name"),
                           entry_office_timezone=F("office__timezone"),
                           entry_role=_disclosure_role(),
                           entry_kind=Value(FULL_NIK_KIND, output_field=text),
                           entry_target=Value("", output_field=text),
                           entry_reason=F("reason"))
                 .values(*ACCESS_ENTRY_FIELDS).order_by())
    return logged.union(disclosed, all=True).order_by("-entry_at", "-entry_source", "-entry_id")


def correction_requests_for_resident(*, resident: Resident) -> QuerySet[CorrectionRequest]:
    return (CorrectionRequest.objects.filter(resident=resident)
            .select_related("office").order_by("-created_at", "-id"))


def correction_requests_open_count(*, resident: Resident) -> int:
    return CorrectionRequest.objects.filter(resident=resident,
                                            status=CorrectionStatus.OPEN).count()


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
