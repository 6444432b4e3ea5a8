"""Reads of complaints that are more than a filter, always given the office, the staff
member or the resident they are for."""

import re
import statistics
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.models import (
    OPEN_STATUSES,
    SURVEY_ELEMENTS,
    Category,
    Complaint,
    ComplaintChannel,
    ComplaintDeadline,
    ComplaintResponse,
    ComplaintStatus,
    SurveyAnswer,
)
from queues.selectors import tickets_served
from registry import tenancy
from registry.breaches import in_period
from registry.calendar import office_day_bounds, office_local_text
from registry.models import Application, BreachDataKind, Office, Resident, Role
from registry.trends import Table

# Who sees a confidential complainant besides the assignee, and who sees follow-up.
COMPLAINANT_ROLES = (Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR)
FOLLOW_UP_ROLES = (Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR)


def complaints_for_staff(*, user) -> QuerySet[Complaint]:
    return Complaint.objects.filter(office_id__in=tenancy.staff_office_ids(user))


def complaint_get_for_staff(*, user, pk) -> Complaint | None:
    return complaints_for_staff(user=user).select_related(
        "office", "resident", "application", "assignee").filter(pk=pk).first()


def complainant_visible(*, user, complaint: Complaint) -> bool:
    """Who filed it may be seen by everyone handling it, unless it is confidential:
    then by supervisors of its office and its assignee only."""
    if not complaint.confidential:
        return True
    if complaint.assignee_id is not None and complaint.assignee_id == user.id:
        return True
    return tenancy.staff_has_role(user, complaint.office_id, *COMPLAINANT_ROLES)


def follow_up_visible(*, user, office_id: int) -> bool:
    return tenancy.staff_has_role(user, office_id, *FOLLOW_UP_ROLES)


def complaints_for_resident(*, resident) -> QuerySet[Complaint]:
    return (Complaint.objects.filter(resident=resident)
            .select_related("office", "application")
            .prefetch_related(Prefetch("responses",
                                       queryset=ComplaintResponse.objects.order_by("at", "id")))
            .order_by("-received_at", "-id"))


# --- Figures -----------------------------------------------------------------------------

# A deadline met at or before it was due is met within it (the report's share within the
# deadline, the trends); one met after it, late.
DEADLINE_MET_WITHIN = Q(met_at__isnull=False, met_at__lte=F("due_at"))


def deadlines_overdue_spans(deadlines: QuerySet[ComplaintDeadline]
                            ) -> QuerySet[ComplaintDeadline]:
    """The deadlines of `deadlines` that were ever open past due, each annotated with
    `overdue_until`: when that ended, None while it lasts. A deadline is open past due
    from its due time until it is met, or until the complaint waits for the complainant
    (its deadlines stand still then, complaint_wait; on resuming, one with time left is
    due again later)."""
    return deadlines.annotate(overdue_until=Case(
        When(met_at__isnull=False, then=F("met_at")),
        When(paused=True, then=Coalesce(F("complaint__waiting_since"), F("due_at"))),
        default=None)).filter(Q(overdue_until__isnull=True) | Q(overdue_until__gt=F("due_at")))


def deadlines_overdue_at(deadlines: QuerySet[ComplaintDeadline], at: datetime
                         ) -> QuerySet[ComplaintDeadline]:
    """The deadlines of `deadlines` open past due at `at` (now, or a moment before):
    due before it and not met nor standing still by then."""
    return deadlines_overdue_spans(deadlines).filter(due_at__lt=at).filter(
        Q(overdue_until__isnull=True) | Q(overdue_until__gte=at))


def dashboard_figures(*, office, day) -> list[tuple[str, object]]:
    """Today's figures of this app for the admin index: (label, value) pairs."""
    start, end = office_day_bounds(office, day)
    open_complaints = Complaint.objects.filter(office=office, status__in=OPEN_STATUSES)
    overdue = deadlines_overdue_at(ComplaintDeadline.objects.filter(office=office),
                                   min(end, timezone.now()))
    return [
        (_("Complaints received today"), Complaint.objects.filter(
            office=office, received_at__gte=start, received_at__lt=end).count()),
        (_("Open complaints"), open_complaints.count()),
        (_("Complaint deadlines passed"), overdue.values("complaint_id").distinct().count()),
    ]


def _percentile(values: list[int], fraction: float) -> float | None:
    """The nearest-rank percentile (p90 of 10 values is the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 100) * len(ordered) // 100))
    return float(ordered[rank - 1])


def report(*, office_ids, date_from: date, date_to: date) -> dict:
    """The complaint report over complaints received from `date_from` to `date_to`
    (inclusive, each office's own days), for the given offices: counts by channel,
    category, status and office; time to first response and to resolution in working
    hours (median and p90, net of time waiting for the complainant); the share of
    deadlines met on time; and the count per month."""
    offices = list(Office.objects.filter(id__in=office_ids).order_by("code"))
    window = Q()
    for office in offices:
        start, _end = office_day_bounds(office, date_from)
        _start, end = office_day_bounds(office, date_to)
        window |= Q(office=office, received_at__gte=start, received_at__lt=end)
    complaints = Complaint.objects.filter(window) if offices else Complaint.objects.none()

    def counts(field, choices=None):
        labels = dict(choices) if choices else {}
        rows = complaints.values(field).annotate(n=Count("id")).order_by(field)
        return [(str(labels.get(row[field], row[field])), row["n"]) for row in rows]

    office_names = {office.id: office.name for office in offices}
    by_office = [(office_names[row["office"]], row["n"]) for row in
                 complaints.values("office").annotate(n=Count("id")).order_by("office")]
    first = list(complaints.exclude(first_response_minutes=None)
                 .values_list("first_response_minutes", flat=True))
    resolution = list(complaints.exclude(resolution_minutes=None)
                      .values_list("resolution_minutes", flat=True))
    deadlines = ComplaintDeadline.objects.filter(complaint__in=complaints,
                                                 met_at__isnull=False)
    met = deadlines.count()
    on_time = deadlines.filter(DEADLINE_MET_WITHIN).count()
    by_month: dict[str, int] = {}
    for received, zone in complaints.values_list("received_at", "office__timezone"):
        key = f"{received.astimezone(ZoneInfo(zone)):%Y-%m}"
        by_month[key] = by_month.get(key, 0) + 1
    months = _month_range(date_from, date_to)

    def hours(values, fraction=None):
        if not values:
            return None
        value = statistics.median(values) if fraction is None else _percentile(values, fraction)
        return round(value / 60, 1)

    return {
        "offices": offices,
        "total": complaints.count(),
        "by_channel": counts("channel", ComplaintChannel.choices),
        "by_category": counts("category", Category.choices),
        "by_status": counts("status", ComplaintStatus.choices),
        "by_office": by_office,
        "first_response_hours": {"median": hours(first), "p90": hours(first, 0.9),
                                 "count": len(first)},
        "resolution_hours": {"median": hours(resolution), "p90": hours(resolution, 0.9),
                             "count": len(resolution)},
        "deadlines_met": met,
        "deadlines_on_time": on_time,
        "share_within_deadline": round(100 * on_time / met, 1) if met else None,
        "by_month": [(month, by_month.get(month, 0)) for month in months],
    }


def _month_range(date_from: date, date_to: date) -> list[str]:
    months, day = [], date_from.replace(day=1)
    while day <= date_to and len(months) < 120:
        months.append(f"{day:%Y-%m}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def resident_names_in(text: str, *, exclude_id: int | None = None) -> set[str]:
    """Names of registered residents (other than `exclude_id`) that appear in `text`:
    every run of two to four capitalised words is looked up, in one query."""
    words = re.findall(r"[A-Z][a-zA-Z'.-]+|\S+", text or "")
    candidates = set()
    for start in range(len(words)):
        for length in (2, 3, 4):
            run = words[start:start + length]
            if len(run) == length and all(w[:1].isupper() for w in run):
                candidates.add(" ".join(w.strip(".,;:()") for w in run).lower())
    if not candidates:
        return set()
    found = (Resident.objects.annotate(lower_name=Lower("name"))
             .filter(lower_name__in=list(candidates)[:2000]))
    if exclude_id is not None:
        found = found.exclude(id=exclude_id)
    return set(found.values_list("name", flat=True))


# --- The satisfaction survey (IKM, PermenPANRB 14/2017) ------------------------------

# The regulation's grades by the IKM (a converted value, 25 to 100, two decimals):
# A 88.31-100 (very good), B 76.61-88.30 (good), C 65.00-76.60 (not good),
# D 25.00-64.99 (poor). Each is "at least" its lower bound.
IKM_GRADES = (
    (Decimal("88.31"), "A", gettext_lazy("Very good")),
    (Decimal("76.61"), "B", gettext_lazy("Good")),
    (Decimal("65.00"), "C", gettext_lazy("Not good")),
    (Decimal("25.00"), "D", gettext_lazy("Poor")),
)
IKM_GROUPINGS = {"lane": "lane", "service": "service", "counter": "counter"}
# The survey is offered this long after the visit (the app's pending list).
SURVEY_OPEN_DAYS = 30
TWO_PLACES = Decimal("0.01")


def ikm_grade(value: Decimal) -> tuple[str, str]:
    """The grade letter and its meaning for an IKM of two decimals."""
    for lower, letter, label in IKM_GRADES:
        if value >= lower:
            return letter, str(label)
    return IKM_GRADES[-1][1], str(IKM_GRADES[-1][2])  # below 25: not reachable from 1..4


def _two_places(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        TWO_PLACES, rounding=ROUND_HALF_UP)


def ikm_value(*, answers: int, points: int) -> Decimal:
    """The IKM of `answers` answers scoring `points` in all: the mean of the element
    averages x 25, computed exactly and rounded half up to two decimals. Every answer
    scores all nine elements, so the averages share their denominator and their mean is
    points / (9 x answers)."""
    return _two_places(Fraction(25 * points, len(SURVEY_ELEMENTS) * answers))


def ikm_of(*, answers: int, sums: dict[str, int]) -> dict:
    """The figures of `answers` answers whose scores add up to `sums` per element: each
    element's average, the IKM (ikm_value) and its grade."""
    averages = {e: Fraction(sums[e], answers) for e in SURVEY_ELEMENTS}
    value = ikm_value(answers=answers, points=sum(sums[e] for e in SURVEY_ELEMENTS))
    grade, grade_label = ikm_grade(value)
    return {"answers": answers,
            "elements": {e: _two_places(avg) for e, avg in averages.items()},
            "ikm": value, "grade": grade, "grade_label": grade_label}


def ikm_totals() -> dict:
    """The aggregates of answers that ikm_of_totals reads: the answers `n` and each
    element's sum `sum_U1`..`sum_U9` (of an office, a lane, a day...)."""
    return {"n": Count("id"), **{f"sum_{e}": Sum(e.lower()) for e in SURVEY_ELEMENTS}}


def ikm_of_totals(totals: dict) -> dict | None:
    """ikm_of over ikm_totals' aggregates (or their sums over several groups, such as
    the days of a week); None without answers."""
    if not totals.get("n"):
        return None
    return ikm_of(answers=totals["n"], sums={e: totals[f"sum_{e}"] for e in SURVEY_ELEMENTS})


def _group_label(by: str | None, row: dict) -> str:
    if by is None:
        return ""
    if row[f"{by}_id"] is None:
        return "-"
    if by == "lane":
        return f"{row['lane__letter']} {row['lane__name']}"
    if by == "service":
        return row["service__name"]
    return _("Counter %(number)s") % {"number": row["counter__number"]}


def ikm(*, office: Office, date_from: date, date_to: date, by: str | None = None
        ) -> list[dict]:
    """The office's IKM for the answers given from `date_from` to `date_to` (the
    office's days), for the whole office (`by` None) or per lane, service or counter:
    per group `key` (the lane's, service's or counter's id; None for the office),
    `label`, `answers`, `elements` (U1..U9 averages), `ikm`, `grade`, `grade_label`.
    No group without answers. Never who answered."""
    if by is not None and by not in IKM_GROUPINGS:
        raise ValueError(f"ikm: unknown grouping {by!r}")
    start, _end = office_day_bounds(office, date_from)
    _start, end = office_day_bounds(office, date_to)
    answers = SurveyAnswer.objects.filter(office=office, answered_at__gte=start,
                                          answered_at__lt=end)
    group = []
    if by == "lane":
        group = ["lane_id", "lane__letter", "lane__name"]
    elif by == "service":
        group = ["service_id", "service__name"]
    elif by == "counter":
        group = ["counter_id", "counter__number"]
    rows = (answers.values(*group) if group else answers.values("office_id")).annotate(
        **ikm_totals()).order_by(*(group[1:] or group))
    result = []
    for row in rows:
        figures = ikm_of_totals(row)
        if figures is None:
            continue
        result.append({"key": row[f"{by}_id"] if by else None,
                       "label": _group_label(by, row), **figures})
    return result


def surveys_pending_for_resident(*, resident: Resident, now=None) -> QuerySet[Application]:
    """The resident's cases served at a counter in the last SURVEY_OPEN_DAYS days and
    not rated yet, latest visit first, each with `served_at`."""
    since = (now or timezone.now()) - timedelta(days=SURVEY_OPEN_DAYS)
    served = (tickets_served().filter(application=OuterRef("pk"))
              .order_by("-finished_at", "-id").values("finished_at")[:1])
    return (Application.objects.filter(resident=resident)
            .annotate(served_at=Subquery(served))
            .filter(served_at__gte=since)
            .exclude(id__in=SurveyAnswer.objects.filter(resident=resident)
                     .values("application_id"))
            .select_related("office", "service").order_by("-served_at", "-id"))



# --- The monthly report's list -------------------------------------------------------

REPORT_SECTION = gettext_lazy("Complaints")


def report_tables(*, offices, period) -> dict:
    """The complaints received in the period per office, with how each was resolved and
    whether its deadlines were met on time (the monthly report)."""
    by_id = {office.id: office for office in offices}
    window = Q()
    for office in offices:
        start, end = period.bounds(office)
        window |= Q(office=office, received_at__gte=start, received_at__lt=end)
    complaints = list(Complaint.objects.filter(window).order_by("office", "received_at")
                      if offices else [])
    deadlines = ComplaintDeadline.objects.filter(complaint__in=[c.id for c in complaints])
    met = set(deadlines.filter(met_at__isnull=False).values_list("complaint_id", flat=True))
    # Late: a deadline met after it was due, or one open past due now (not while the
    # complaint waits for the complainant), as the deadlines chart counts them.
    late = set(deadlines.filter(met_at__isnull=False).exclude(DEADLINE_MET_WITHIN)
               .values_list("complaint_id", flat=True))
    late |= set(deadlines_overdue_at(deadlines, timezone.now())
                .values_list("complaint_id", flat=True))
    rows: dict[int, list] = {office.id: [] for office in offices}
    for complaint in complaints:
        office = by_id[complaint.office_id]
        if complaint.id in late:
            in_time = _("late")
        elif complaint.id in met:
            in_time = _("on time")
        else:
            in_time = "-"
        rows[office.id].append([
            complaint.reference, office_local_text(complaint.received_at, office),
            complaint.get_channel_display(), complaint.get_category_display(),
            complaint.get_status_display(),
            office_local_text(complaint.resolved_at, office) or "-", in_time])
    header = [_("reference"), _("received at"), _("channel"), _("category"), _("status"),
              _("resolved at"), _("deadlines")]
    return {office_id: [Table(section=str(REPORT_SECTION),
                              title=_("Complaints received and their resolution"),
                              header=header, rows=office_rows,
                              empty=_("No complaint received this month."))]
            for office_id, office_rows in rows.items()}


def breach_data(*, kinds: set[str], start, end) -> list[QuerySet]:
    """BREACH_DATA (registry.breaches): complaints received and survey answers given in
    the period by a known resident (complaints)."""
    if BreachDataKind.COMPLAINTS not in kinds:
        return []
    return [
        Complaint.objects.filter(in_period("received_at", start, end), resident__isnull=False)
        .values("resident_id"),
        SurveyAnswer.objects.filter(in_period("answered_at", start, end))
        .values("resident_id"),
    ]
