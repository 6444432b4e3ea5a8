"""GET /api/v1/surveys/pending/ and POST /api/v1/surveys/, as API.md says: 201; 400 for
a bad score or a missing element; 404 for a case that is not the resident's or not
served yet; 409 for a second answer."""

import pytest

from complaints.models import SurveyAnswer
from registry.api.auth import tokens_for_resident
from tests.complaints.surveys import scores, served_visit
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock(office_hours):
    """A working morning: the visits happen in office hours."""


@pytest.fixture
def api(client):
    def as_resident(resident):
        token = tokens_for_resident(resident)["access"]

        class Api:
            def get(self, path):
                return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")

            def post(self, path, body, **headers):
                return client.post(path, body, content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {token}", **headers)

        return Api()

    return as_resident


@pytest.fixture
def visit_a(office_a, resident_a, make_staff):
    return served_visit(office_a, resident_a, make_staff)


def test_pending_lists_the_served_case_until_it_is_rated(api, visit_a, resident_a,
                                                         resident_b, office_b, make_staff,
                                                         django_assert_max_num_queries):
    served_visit(office_b, resident_b, make_staff)
    me = api(resident_a)
    with django_assert_max_num_queries(6):
        answer = me.get("/api/v1/surveys/pending/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 1
    [row] = body["results"]
    application = visit_a.application
    assert row == {
        "application": application.id, "number": application.number, "office": "3275",
        "office_name": "Disdukcapil Kota Bekasi", "service": "KTP_TTD_FOTO",
        "service_name": application.service.name,
        "served_at": visit_a.finished_at.astimezone(
            __import__("zoneinfo").ZoneInfo("Asia/Jakarta")).isoformat()}
    created = me.post("/api/v1/surveys/", {"application": application.id,
                                           "scores": scores(4), "comment": "Bagus"})
    assert created.status_code == 201
    assert me.get("/api/v1/surveys/pending/").json()["count"] == 0


def test_an_answer_is_created_once(api, visit_a, resident_a):
    me = api(resident_a)
    body = {"application": visit_a.application_id, "scores": scores(3, U3=2)}
    created = me.post("/api/v1/surveys/", body)
    assert created.status_code == 201
    answer = SurveyAnswer.objects.get()
    assert created.json()["id"] == answer.id
    assert created.json()["application"] == visit_a.application_id
    assert (answer.u3, answer.u4, answer.comment) == (2, 3, "")
    again = me.post("/api/v1/surveys/", {**body, "scores": scores(1)})
    assert again.status_code == 409
    assert again.json()["code"] == "survey_answered"
    assert SurveyAnswer.objects.get().u1 == 3


def test_the_same_idempotency_key_replays_the_first_answer(api, visit_a, resident_a):
    me = api(resident_a)
    body = {"application": visit_a.application_id, "scores": scores(4)}
    first = me.post("/api/v1/surveys/", body, HTTP_IDEMPOTENCY_KEY="ikm-1")
    again = me.post("/api/v1/surveys/", body, HTTP_IDEMPOTENCY_KEY="ikm-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert SurveyAnswer.objects.count() == 1


@pytest.mark.parametrize("bad", [
    scores(5), scores(0), scores(U9="x"),
    {k: 4 for k in scores() if k != "U5"}, None, "4444"])
def test_a_bad_score_or_a_missing_element_is_400(api, visit_a, resident_a, bad):
    answer = api(resident_a).post("/api/v1/surveys/", {
        "application": visit_a.application_id, "scores": bad})
    assert answer.status_code == 400
    assert set(answer.json()) >= {"detail", "code"}
    assert not SurveyAnswer.objects.exists()


def test_another_residents_or_an_unserved_case_is_404(api, visit_a, resident_a, resident_b,
                                                      office_a):
    theirs = api(resident_b).post("/api/v1/surveys/", {
        "application": visit_a.application_id, "scores": scores()})
    assert theirs.status_code == 404
    assert theirs.json()["code"] == "application_not_found"
    unserved = ApplicationFactory(office=office_a, resident=resident_a)
    mine = api(resident_a).post("/api/v1/surveys/", {"application": unserved.id,
                                                     "scores": scores()})
    assert mine.status_code == 404
    assert mine.json()["code"] == "application_not_completed"
    assert not SurveyAnswer.objects.exists()
    assert api(resident_b).get("/api/v1/surveys/pending/").json()["count"] == 0


def test_staff_and_anonymous_callers_cannot_answer(client, visit_a, make_staff, office_a):
    anonymous = client.post("/api/v1/surveys/", {"application": visit_a.application_id,
                                                 "scores": scores()},
                            content_type="application/json")
    assert anonymous.status_code == 401
    assert client.get("/api/v1/surveys/pending/").status_code == 401
    assert not SurveyAnswer.objects.exists()
