"""POST /api/v1/complaints/ and GET /api/v1/complaints/ over real HTTP, as API.md says."""

import pytest

from complaints.models import Complaint
from complaints.services.intake import complaint_file
from complaints.services.responses import complaint_acknowledge, complaint_respond
from registry.api.auth import tokens_for_resident
from registry.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_files_a_complaint_and_gets_a_reference(as_resident, resident_a,
                                                           application_a):
    api = as_resident(resident_a)
    answer = api.post("/api/v1/complaints/", json={
        "office": "3275", "text": "Kartu saya belum sampai.", "category": "delivery",
        "application": application_a.id})
    assert answer.status_code == 201
    complaint = Complaint.objects.get()
    assert answer.json() == {"id": complaint.id, "status": "received",
                             "reference": complaint.reference}
    assert (complaint.resident, complaint.application, complaint.channel) == (
        resident_a, application_a, "app")


def test_category_and_application_are_optional(as_resident, resident_a, office_a):
    answer = as_resident(resident_a).post("/api/v1/complaints/", json={
        "office": "3275", "text": "Antrean lama."})
    assert answer.status_code == 201
    assert Complaint.objects.get().category == "other"


def test_the_list_shows_status_response_and_its_time(as_resident, client, resident_a,
                                                     office_a, make_staff,
                                                     django_assert_max_num_queries):
    humas = make_staff(office_a, Role.PUBLIC_RELATIONS)
    complaint = complaint_file(resident=resident_a, office=office_a,
                               text="Antrean diserobot")
    complaint_acknowledge(complaint=complaint, text="Sedang kami periksa.",
                          channel="app", by=humas)
    response = complaint_respond(complaint=complaint, channel="app", by=humas,
                                 text=f"Nomor B-014 dari lajur B. NIK {resident_a.nik}")
    for _n in range(3):
        complaint_file(resident=resident_a, office=office_a, text="lagi")
    # In-process, so the queries are counted on this connection (over HTTP they are
    # the live server's, and nothing would be counted).
    api = as_resident(resident_a)
    token = tokens_for_resident(resident_a)["access"]
    with django_assert_max_num_queries(6):
        answer = client.get("/api/v1/complaints/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 4
    row = next(r for r in body["results"] if r["id"] == complaint.id)
    assert row["status"] == "responded"
    assert row["response"] == f"Nomor B-014 dari lajur B. NIK ************{resident_a.nik[-4:]}"
    assert row["responded_at"] == response.at.astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Jakarta")).isoformat()
    assert row["reference"] == complaint.reference
    assert [r["kind"] for r in row["responses"]] == ["acknowledge", "response"]
    detail = api.get(f"/api/v1/complaints/{complaint.id}/")
    assert detail.status_code == 200
    assert detail.json()["response"] == row["response"]


def test_another_residents_complaints_are_invisible(as_resident, resident_a, resident_b,
                                                    office_a, office_b):
    mine = complaint_file(resident=resident_a, office=office_a, text="a")
    theirs = complaint_file(resident=resident_b, office=office_b, text="b")
    api = as_resident(resident_a)
    assert [r["id"] for r in api.get("/api/v1/complaints/").json()["results"]] == [mine.id]
    assert api.get(f"/api/v1/complaints/{theirs.id}/").status_code == 404
    assert as_resident(resident_b).get(f"/api/v1/complaints/{mine.id}/").status_code == 404


def test_another_residents_or_offices_case_answers_404_and_creates_nothing(
        as_resident, resident_a, application_b, office_a, office_b):
    api = as_resident(resident_a)
    answer = api.post("/api/v1/complaints/", json={
        "office": "3216", "text": "x", "application": application_b.id})
    assert answer.status_code == 404
    assert answer.json()["code"] == "application_not_found"
    answer = api.post("/api/v1/complaints/", json={"office": "9999", "text": "x"})
    assert (answer.status_code, answer.json()["code"]) == (404, "office_not_found")
    assert Complaint.objects.count() == 0


def test_bad_input_is_refused_in_indonesian_or_english(as_resident, resident_a, office_a):
    api = as_resident(resident_a)
    answer = api.post("/api/v1/complaints/", json={"office": "3275", "text": ""})
    assert answer.status_code == 400
    assert answer.json()["code"] == "blank"
    answer = api.post("/api/v1/complaints/", json={"office": "3275", "text": "x",
                                                   "category": "gossip"},
                      headers={"Accept-Language": "en"})
    assert answer.status_code == 400
    assert answer.json()["detail"] == 'category: "gossip" is not a valid choice.'
    assert Complaint.objects.count() == 0


def test_the_same_idempotency_key_creates_one_complaint(as_resident, resident_a, office_a):
    api = as_resident(resident_a)
    body = {"office": "3275", "text": "Antrean lama."}
    first = api.post("/api/v1/complaints/", json=body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/v1/complaints/", json=body, headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert Complaint.objects.count() == 1


def test_staff_and_anonymous_callers_are_refused(http, as_staff, make_staff, office_a):
    assert http.get("/api/v1/complaints/").status_code == 401
    staff = as_staff(make_staff(office_a, Role.PUBLIC_RELATIONS))
    assert staff.get("/api/v1/complaints/").status_code == 403
    assert staff.post("/api/v1/complaints/", json={"office": "3275", "text": "x"}
                      ).status_code == 403
    assert Complaint.objects.count() == 0
