"""The satisfaction survey (IKM): answering once, the regulation's arithmetic and
grades, the invitation, and a low score's comment taken in as a complaint."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from complaints.models import Complaint, ComplaintChannel, SurveyAnswer
from complaints.selectors import ikm, ikm_grade, ikm_of, surveys_pending_for_resident
from complaints.services.surveys import (
    survey_answer_by_sms,
    survey_answer_escalate,
    survey_answer_submit,
)
from queues.selectors import application_by_ticket_code
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Notification, Role
from tests.complaints.surveys import scores, served_visit
from tests.factories import ApplicationFactory, ResidentFactory

pytestmark = pytest.mark.django_db
DAY = date(2026, 7, 8)  # tests.conftest.OFFICE_HOURS


@pytest.fixture(autouse=True)
def _clock(office_hours):
    """A working morning: the visits happen in office hours."""


@pytest.fixture
def visit_a(office_a, resident_a, make_staff):
    return served_visit(office_a, resident_a, make_staff)


@pytest.mark.parametrize(("value", "grade"), [
    ("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"),
    ("65.00", "C"), ("64.99", "D"), ("25.00", "D")])
def test_each_grade_boundary_is_the_regulations(value, grade):
    assert ikm_grade(Decimal(value))[0] == grade


def test_the_ikm_is_the_mean_of_the_element_averages_times_25():
    # Three answers. U1: 4+3+2 = 9 (3.00); U2..U9: 4+4+3 = 11 (3.666...).
    # Mean of the averages = (3 + 8 x 11/3) / 9 = 97/27; x 25 = 89.8148... -> 89.81.
    sums = {"U1": 9, **{f"U{i}": 11 for i in range(2, 10)}}
    figures = ikm_of(answers=3, sums=sums)
    assert figures["ikm"] == Decimal("89.81")
    assert figures["grade"] == "A"
    assert figures["elements"]["U1"] == Decimal("3.00")
    assert figures["elements"]["U2"] == Decimal("3.67")
    # Computed from the exact averages, not the rounded ones (3.67 would give 89.92).
    assert ikm_of(answers=1, sums=dict.fromkeys(sums, 1))["ikm"] == Decimal("25.00")


def test_rounding_reaches_the_boundaries_exactly():
    # 159 points over 5 answers of 9 elements: 159/45 x 25 = 88.333... -> 88.33 (A);
    # 53 points over 2 answers: 53/18 x 25 = 73.611... -> 73.61 (C).
    assert ikm_of(answers=5, sums={"U1": 15, **{f"U{i}": 18 for i in range(2, 10)}}) \
        | {"elements": None} == {"answers": 5, "elements": None, "ikm": Decimal("88.33"),
                                 "grade": "A", "grade_label": "Sangat baik"}
    assert ikm_of(answers=2, sums={"U1": 5, **{f"U{i}": 6 for i in range(2, 10)}})[
        "ikm"] == Decimal("73.61")


def test_a_resident_rates_a_served_visit_once(visit_a, resident_a, office_a):
    answer = survey_answer_submit(resident=resident_a, application_id=visit_a.application_id,
                                  scores=scores(3, U7=1), comment="  Petugas ketus.  ")
    assert (answer.office, answer.application_id, answer.lane_id, answer.service_id,
            answer.counter_id) == (office_a, visit_a.application_id, visit_a.lane_id,
                                   visit_a.service_id, visit_a.counter_id)
    assert answer.scores() == scores(3, U7=1)
    assert answer.comment == "Petugas ketus."
    with pytest.raises(Conflict) as refused:
        survey_answer_submit(resident=resident_a, application_id=visit_a.application_id,
                             scores=scores(4))
    assert refused.value.code == "survey_answered"
    assert SurveyAnswer.objects.get().u1 == 3


@pytest.mark.parametrize(("bad", "code"), [
    (scores(5), "score_out_of_range"), (scores(0), "score_out_of_range"),
    (scores(U3=True), "score_out_of_range"), (scores(U3="3"), "score_out_of_range"),
    ({k: 4 for k in scores() if k != "U9"}, "score_missing"),
    (scores(U10=4), "element_unknown"), ([4] * 9, "scores_invalid")])
def test_bad_scores_are_refused_and_nothing_is_saved(visit_a, resident_a, bad, code):
    with pytest.raises(DomainError) as refused:
        survey_answer_submit(resident=resident_a, application_id=visit_a.application_id,
                             scores=bad)
    assert refused.value.code == code
    assert not SurveyAnswer.objects.exists()


def test_another_residents_or_an_unserved_case_is_not_found(visit_a, resident_b,
                                                            office_a, resident_a):
    with pytest.raises(NotFound) as refused:
        survey_answer_submit(resident=resident_b, application_id=visit_a.application_id,
                             scores=scores())
    assert refused.value.code == "application_not_found"
    unserved = ApplicationFactory(office=office_a, resident=resident_a)
    with pytest.raises(NotFound) as refused:
        survey_answer_submit(resident=resident_a, application_id=unserved.id,
                             scores=scores())
    assert refused.value.code == "application_not_completed"
    assert not SurveyAnswer.objects.exists()


def test_a_served_visit_invites_the_resident_once(visit_a, resident_a):
    invitations = Notification.objects.filter(resident=resident_a, kind="survey.invited")
    assert invitations.count() == 1
    assert invitations.get().application_id == visit_a.application_id
    assert [a.id for a in surveys_pending_for_resident(resident=resident_a)] == [
        visit_a.application_id]
    survey_answer_submit(resident=resident_a, application_id=visit_a.application_id,
                         scores=scores())
    assert list(surveys_pending_for_resident(resident=resident_a)) == []


def test_ikm_per_office_lane_and_counter(office_a, office_b, resident_a, resident_b,
                                         make_staff):
    first = served_visit(office_a, resident_a, make_staff, counter_number=1)
    other = ResidentFactory(domicile_office=office_a)
    second = served_visit(office_a, other, make_staff, counter_number=2)
    elsewhere = served_visit(office_b, resident_b, make_staff, counter_number=1)
    survey_answer_submit(resident=resident_a, application_id=first.application_id,
                         scores=scores(4))
    survey_answer_submit(resident=other, application_id=second.application_id,
                         scores=scores(2))
    survey_answer_submit(resident=resident_b, application_id=elsewhere.application_id,
                         scores=scores(1))
    [whole] = ikm(office=office_a, date_from=DAY, date_to=DAY)
    assert (whole["answers"], whole["ikm"], whole["grade"]) == (2, Decimal("75.00"), "C")
    assert whole["elements"] == dict.fromkeys(scores(), Decimal("3.00"))
    by_counter = ikm(office=office_a, date_from=DAY, date_to=DAY, by="counter")
    assert [(r["label"], r["answers"], r["ikm"], r["grade"]) for r in by_counter] == [
        ("Loket 1", 1, Decimal("100.00"), "A"), ("Loket 2", 1, Decimal("50.00"), "D")]
    [lane] = ikm(office=office_a, date_from=DAY, date_to=DAY, by="lane")
    assert (lane["key"], lane["answers"], lane["ikm"]) == (first.lane_id, 2, Decimal("75.00"))
    [service] = ikm(office=office_a, date_from=DAY, date_to=DAY, by="service")
    assert service["key"] == first.service_id
    assert ikm(office=office_a, date_from=date(2026, 7, 9), date_to=date(2026, 7, 9)) == []
    [b] = ikm(office=office_b, date_from=DAY, date_to=DAY)
    assert (b["answers"], b["ikm"]) == (1, Decimal("25.00"))


def test_staff_take_a_low_score_with_a_comment_in_as_a_complaint(
        visit_a, resident_a, office_a, office_b, make_staff):
    answer = survey_answer_submit(resident=resident_a, application_id=visit_a.application_id,
                                  scores=scores(3, U7=1), comment="Petugas main HP.")
    humas_b = make_staff(office_b, Role.PUBLIC_RELATIONS, username="humas-b")
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="loket-x")
    for outsider in (humas_b, operator):
        with pytest.raises(NotFound):
            survey_answer_escalate(office=office_a, answer_id=answer.id, by=outsider)
    with pytest.raises(NotFound):  # the answer is office A's
        survey_answer_escalate(office=office_b, answer_id=answer.id, by=humas_b)
    assert not Complaint.objects.exists()
    humas = make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas-a")
    complaint = survey_answer_escalate(office=office_a, answer_id=answer.id, by=humas)
    assert (complaint.channel, complaint.category, complaint.text, complaint.confidential,
            complaint.resident, complaint.application_id) == (
        ComplaintChannel.SURVEY, "staff_conduct", "Petugas main HP.", True, resident_a,
        visit_a.application_id)
    answer.refresh_from_db()
    assert answer.complaint == complaint
    with pytest.raises(Conflict):
        survey_answer_escalate(office=office_a, answer_id=answer.id, by=humas)
    assert Complaint.objects.count() == 1


def test_only_a_low_score_with_a_comment_becomes_a_complaint(office_a, resident_a,
                                                             make_staff):
    humas = make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas-a")
    good = served_visit(office_a, resident_a, make_staff, counter_number=1)
    happy = survey_answer_submit(resident=resident_a, application_id=good.application_id,
                                 scores=scores(3), comment="Cepat.")
    other = ResidentFactory(domicile_office=office_a)
    bad = served_visit(office_a, other, make_staff, counter_number=2)
    silent = survey_answer_submit(resident=other, application_id=bad.application_id,
                                  scores=scores(1))
    for answer, code in ((happy, "survey_not_low"), (silent, "survey_no_comment")):
        with pytest.raises(DomainError) as refused:
            survey_answer_escalate(office=office_a, answer_id=answer.id, by=humas)
        assert refused.value.code == code
    assert not Complaint.objects.exists()


# --- By SMS, from a feature phone -----------------------------------------------------


def test_a_feature_phone_is_told_how_to_answer_by_sms(office_a, resident_a, make_staff):
    resident_a.phone_type = "feature_phone"
    resident_a.save(update_fields=["phone_type"])
    served_visit(office_a, resident_a, make_staff)
    invitation = Notification.objects.get(resident=resident_a, kind="survey.invited")
    assert "balas IKM dan sembilan angka" in invitation.body


@pytest.mark.parametrize("text", ["IKM 434434443", "ikm 4 3 4 4 3 4 4 4 3", "Ikm\n434434443"])
def test_ikm_and_nine_digits_rate_the_latest_visit(visit_a, resident_a, text):
    answer, params, office = survey_answer_by_sms(resident=resident_a, text=text)
    assert str(answer) % params == (
        f"Terima kasih atas penilaian Anda untuk pelayanan permohonan "
        f"{visit_a.application.number}.")
    assert office == visit_a.office
    saved = SurveyAnswer.objects.get(application=visit_a.application)
    assert list(saved.scores().values()) == [4, 3, 4, 4, 3, 4, 4, 4, 3]


def test_the_sms_comment_is_kept_and_a_second_answer_is_refused(visit_a, resident_a):
    survey_answer_by_sms(resident=resident_a, text="IKM 111111112 antre terlalu lama")
    assert SurveyAnswer.objects.get().comment == "antre terlalu lama"
    answer, _params, _office = survey_answer_by_sms(resident=resident_a, text="IKM 444444444")
    assert str(answer) == "Tidak ada kunjungan Anda yang menunggu penilaian."
    assert SurveyAnswer.objects.count() == 1


@pytest.mark.parametrize("text", ["IKM", "IKM 43443444", "IKM 4344344435", "IKM 434434445"])
def test_a_malformed_sms_answer_is_explained_and_changes_nothing(visit_a, resident_a, text):
    answer, _params, _office = survey_answer_by_sms(resident=resident_a, text=text)
    assert str(answer) == "Balas IKM dan sembilan angka dari 1 sampai 4, contoh IKM 434434443."
    assert not SurveyAnswer.objects.exists()


def test_other_texts_are_not_the_survey_and_another_resident_has_nothing_to_rate(
        visit_a, resident_b):
    assert survey_answer_by_sms(resident=resident_b, text="ANTAR") is None
    assert survey_answer_by_sms(resident=resident_b, text="IKMX 434434443") is None
    answer, _params, office = survey_answer_by_sms(resident=resident_b, text="IKM 434434443")
    assert (str(answer), office) == ("Tidak ada kunjungan Anda yang menunggu penilaian.", None)
    assert not SurveyAnswer.objects.exists()


def test_a_ticket_code_finds_the_case_of_that_day_or_the_latest(office_a, resident_a,
                                                                resident_b, make_staff):
    """Complaints link a case by its ticket code (C-001 repeats every day)."""
    wednesday = datetime(2026, 7, 8, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    first = served_visit(office_a, resident_a, make_staff)
    with time_machine.travel(wednesday + timedelta(days=1), tick=True):
        second = served_visit(office_a, resident_b, make_staff, counter_number=2)
    assert first.code == second.code
    assert application_by_ticket_code(office=office_a, code=first.code.lower(),
                                      day=DAY) == first.application
    assert application_by_ticket_code(office=office_a, code=first.code) == second.application
    assert application_by_ticket_code(office=office_a, code=first.code,
                                      day=date(2026, 7, 10)) is None
