"""The select_for_update querysets of complaints, in one place.

Each locks its own rows only (`of=("self",)`), whatever a caller joins for reading;
rows taken several at a time are ordered by primary key. Lock order: the complaint
first, then its deadlines, chronology or follow-ups.
"""

from django.db.models import QuerySet

from complaints.models import (
    Chronology,
    Complaint,
    ComplaintDeadline,
    StaffFollowUp,
    SurveyAnswer,
)


def complaints_for_update() -> QuerySet[Complaint]:
    return Complaint.objects.select_for_update(of=("self",))


def deadlines_for_update(*, complaint: Complaint) -> QuerySet[ComplaintDeadline]:
    """The complaint's deadlines, by primary key."""
    return (ComplaintDeadline.objects.select_for_update(of=("self",))
            .filter(complaint=complaint).order_by("pk"))


def chronologies_for_update() -> QuerySet[Chronology]:
    return Chronology.objects.select_for_update(of=("self",))


def follow_ups_for_update() -> QuerySet[StaffFollowUp]:
    return StaffFollowUp.objects.select_for_update(of=("self",))


def survey_answers_for_update() -> QuerySet[SurveyAnswer]:
    return SurveyAnswer.objects.select_for_update(of=("self",))
