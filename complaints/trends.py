"""The complaints' and the satisfaction survey's trends (registry.trends): complaints
received by channel, deadlines answered within them, late or open past them, and the
IKM, per office over a period in the office's calendar.

The deadlines and the IKM are those of complaints.selectors (the report's deadlines met
within them, the dashboard's deadlines passed, ikm_of's arithmetic and grades), here for
many offices and days at once. Queries: five (complaints, deadlines met, deadlines
falling due, overdue deadlines ending, survey answers), whatever the offices, their time
zones and the days.
"""

from collections import defaultdict
from datetime import date

from django.db.models import BooleanField, Case, Value, When
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from complaints.models import (
    SURVEY_ELEMENTS,
    Complaint,
    ComplaintChannel,
    ComplaintDeadline,
    SurveyAnswer,
    SurveyElement,
)
from complaints.selectors import (
    DEADLINE_MET_WITHIN,
    deadlines_overdue_spans,
    ikm_of_totals,
    ikm_totals,
    ikm_value,
)
from registry.models import Office
from registry.trends import (
    Chart,
    Kind,
    Period,
    Series,
    counts_by_day,
    levels,
    nested,
    totals_by_day,
)

COMPLAINTS = _("Complaints")
SATISFACTION = _("Satisfaction")
# The grades of complaints.selectors.IKM_GRADES, as the IKM report states them.
IKM_SCALE = _("Grades: A 88.31-100, B 76.61-88.30, C 65.00-76.60, D 25.00-64.99.")


def deadlines_overdue_changes(*, offices: list[Office], period: Period
                              ) -> dict[int, dict[date, int]]:
    """The change per office and local day of the deadlines open past due: +1 on the
    day one falls due unmet, -1 on the day that ends (complaints.selectors.
    deadlines_overdue_spans); the day before the period holds those open past due when
    it starts (registry.trends.levels). Only deadlines due before now: the bucket under
    way ends now. Two queries."""
    spans = deadlines_overdue_spans(ComplaintDeadline.objects.filter(due_at__lt=timezone.now()))
    changes: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for (office_id, day), totals in totals_by_day(spans, offices, period, "due_at",
                                                  before=True).items():
        changes[office_id][day] += totals["n"]
    for (office_id, day), totals in totals_by_day(spans, offices, period, "overdue_until",
                                                  before=True).items():
        changes[office_id][day] -= totals["n"]
    return changes


def _ikm_totals_by_bucket(period: Period, days: dict[date, dict]) -> tuple[list, dict]:
    """The IKM aggregates of each bucket and of the whole period, from those per day."""
    index = {first: i for i, first in enumerate(period.buckets())}
    buckets = [defaultdict(int) for _first in index]
    whole: dict[str, int] = defaultdict(int)
    for day, totals in days.items():
        if not period.start <= day <= period.end:
            continue
        for name, value in totals.items():
            buckets[index[period.bucket_of(day)]][name] += value
            whole[name] += value
    return buckets, whole


def _ikm_value(totals: dict) -> float | None:
    """The IKM of a bucket's answers (ikm_value, without the element averages ikm_of
    also gives: a year of days is many buckets), None without answers."""
    if not totals.get("n"):
        return None
    return float(ikm_value(answers=totals["n"],
                           points=sum(totals[f"sum_{e}"] for e in SURVEY_ELEMENTS)))


def _satisfaction_charts(period: Period, labels: list[str], days: dict[date, dict]
                         ) -> list[Chart]:
    """The IKM per bucket and the elements over the period, from the IKM aggregates
    (complaints.selectors.ikm_totals) of each day."""
    buckets, whole = _ikm_totals_by_bucket(period, days)
    figures = ikm_of_totals(whole)
    if figures is None:
        note = _("No answers in this period.")
    else:
        note = _("IKM %(ikm)s, grade %(grade)s (%(label)s); answers: %(answers)s.") % {
            "ikm": number_format(figures["ikm"], 2), "grade": figures["grade"],
            "label": figures["grade_label"], "answers": figures["answers"]}
    return [
        Chart(key="ikm", section=str(SATISFACTION),
              title=str(_("Community satisfaction index (IKM)")), labels=labels,
              kind=Kind.LINES, unit="IKM",
              series=[Series("IKM", [_ikm_value(b) for b in buckets])],
              note=str(IKM_SCALE)),
        Chart(key="ikm_elements", section=str(SATISFACTION),
              title=str(_("Survey elements over the period")),
              labels=[f"{e} {SurveyElement(e).label}" for e in SURVEY_ELEMENTS],
              kind=Kind.BARS, unit=str(_("average score (1-4)")),
              label_title=str(_("element")),
              series=[Series(str(_("Average score")), [
                  None if figures is None else float(figures["elements"][e])
                  for e in SURVEY_ELEMENTS])],
              note=str(note)),
    ]


def charts(*, offices: list[Office], period: Period) -> dict[int, list[Chart]]:
    """The complaints' and the survey's charts of each office
    (registry.extensions.TRENDS):
    - complaints_by_channel: complaints received in each bucket, by channel (all of
      them, in their order, so offices side by side read alike);
    - complaint_deadlines: deadlines (first response, response, next update,
      resolution) met in each bucket within the deadline or late, and those open past
      the deadline at the end of each bucket (or now, for the bucket under way);
    - ikm: the IKM of the answers given in each bucket (None without answers);
    - ikm_elements: the average of each element U1..U9 over the period, with the
      period's IKM and grade in the note."""
    received = nested(counts_by_day(Complaint.objects.all(), offices, period, "received_at",
                                   "channel"))
    met = nested(counts_by_day(
        ComplaintDeadline.objects.filter(met_at__isnull=False).annotate(within=Case(
            When(DEADLINE_MET_WITHIN, then=Value(True)), default=Value(False),
            output_field=BooleanField())),
        offices, period, "met_at", "within"))
    overdue = deadlines_overdue_changes(offices=offices, period=period)
    answers = nested(totals_by_day(SurveyAnswer.objects.all(), offices, period, "answered_at",
                                   **ikm_totals()))
    labels = period.labels()
    out = {}
    for office in offices:
        out[office.id] = [
            Chart(key="complaints_by_channel", section=str(COMPLAINTS),
                  title=str(_("Complaints received by channel")), labels=labels,
                  kind=Kind.STACKED, unit=str(_("complaints")),
                  series=[Series(str(label), period.bucketed(received[office.id][(channel,)]))
                          for channel, label in ComplaintChannel.choices]),
            Chart(key="complaint_deadlines", section=str(COMPLAINTS),
                  title=str(_("Complaint deadlines")), labels=labels, kind=Kind.BARS,
                  unit=str(_("deadlines")), series=[
                      Series(str(_("Answered within the deadline")),
                             period.bucketed(met[office.id][(True,)])),
                      Series(str(_("Answered late")), period.bucketed(met[office.id][(False,)])),
                      Series(str(_("Open past the deadline")),
                             levels(period, overdue.get(office.id, {}))),
                  ],
                  note=str(_("Each deadline of a complaint (first response, response, next "
                             "update, resolution) counts: answered on the day it was met; "
                             "open past the deadline at the end of each period, not while "
                             "the complaint waits for the complainant."))),
            *_satisfaction_charts(period, labels, answers[office.id][()]),
        ]
    return out
