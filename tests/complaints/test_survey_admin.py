"""The survey's answers and the IKM report in admin: office-scoped, never with who
answered, and not for counter staff."""

import csv
import io
from datetime import date

import pytest
from django.urls import reverse

from complaints.models import Complaint
from complaints.services.surveys import survey_answer_submit
from registry.models import ExportRecord, Role
from tests.complaints.surveys import scores, served_visit

pytestmark = pytest.mark.django_db
LIST = "admin:complaints_surveyanswer_changelist"


@pytest.fixture(autouse=True)
def _clock(office_hours):
    """A working morning: the visits happen in office hours."""


@pytest.fixture
def answers(office_a, office_b, resident_a, resident_b, make_staff):
    visit_a = served_visit(office_a, resident_a, make_staff)
    visit_b = served_visit(office_b, resident_b, make_staff)
    return (survey_answer_submit(resident=resident_a, application_id=visit_a.application_id,
                                 scores=scores(3, U7=1), comment="Petugas ketus sekali."),
            survey_answer_submit(resident=resident_b, application_id=visit_b.application_id,
                                 scores=scores(2), comment="Kantor B lambat."))


def test_the_list_shows_the_offices_answers_without_who_gave_them(
        client, answers, make_staff, office_a, resident_a, django_assert_max_num_queries):
    supervisor = make_staff(office_a, Role.SUPERVISOR, username="spv-a")
    client.force_login(supervisor)
    with django_assert_max_num_queries(20):
        page = client.get(reverse(LIST))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Petugas ketus sekali." in html
    assert "Kantor B lambat." not in html
    application = answers[0].application
    for identity in (resident_a.name, resident_a.nik, resident_a.phone, application.number):
        assert identity not in html
    detail = client.get(reverse("admin:complaints_surveyanswer_change",
                                args=[answers[0].pk]))
    assert detail.status_code == 200
    assert resident_a.name not in detail.content.decode()
    assert application.number not in detail.content.decode()
    other = client.get(reverse("admin:complaints_surveyanswer_change", args=[answers[1].pk]))
    assert other.status_code == 404


def test_counter_staff_see_no_answers(client, answers, make_staff, office_a):
    client.force_login(make_staff(office_a, Role.COUNTER_OPERATOR, username="loket-a"))
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse("admin:complaints_surveyanswer_ikm")).status_code == 403


def test_the_ikm_report_per_counter(client, answers, make_staff, office_a):
    client.force_login(make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas-a"))
    page = client.get(reverse("admin:complaints_surveyanswer_ikm"), {
        "office": office_a.pk, "date_from": "2026-07-01", "date_to": "2026-07-31",
        "by": "counter"})
    assert page.status_code == 200
    [row] = page.context["rows"]
    # (8 x 3 + 1) / 9 x 25 = 69.444... -> 69.44, grade C.
    assert (row["key"], row["answers"], str(row["ikm"]), row["grade"]) == (
        answers[0].counter_id, 1, "69.44", "C")
    assert row["label"].endswith(" 1")  # "Counter 1", "Loket 1" in Indonesian
    assert "69,44" in page.content.decode()  # Indonesian decimals
    assert page.context["date_from"] == date(2026, 7, 1)


def test_the_action_takes_a_low_score_in_as_a_complaint(client, answers, make_staff,
                                                        office_a):
    client.force_login(make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas-a"))
    answer = client.post(reverse(LIST), {"action": "take_in_as_complaint",
                                         "_selected_action": [answers[0].pk, answers[1].pk]})
    assert answer.status_code == 302
    complaint = Complaint.objects.get()  # office B's answer is not in this user's list
    assert (complaint.office, complaint.channel, complaint.confidential) == (
        office_a, "survey", True)


def test_the_answers_export_without_who_gave_them_only_the_offices_own(
        client, answers, make_staff, office_a, resident_a):
    client.force_login(make_staff(office_a, Role.SUPERVISOR, username="spv-a"))
    response = client.get(reverse("admin:complaints_surveyanswer_list_export", args=["csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Dijawab pada", "Jalur", "Layanan", "Loket"]
    assert [row[4:13] for row in rows[1:]] == [["3", "3", "3", "3", "3", "3", "1", "3", "3"]]
    assert rows[1][13] == "Petugas ketus sekali."
    # Neither the resident's name nor their NIK nor the case number leave in the file.
    text = response.content.decode("utf-8-sig")
    application = answers[0].application
    for secret in (resident_a.name, resident_a.nik, application.number, "Kantor B lambat."):
        assert secret not in text
    assert ExportRecord.objects.get().row_count == 1
