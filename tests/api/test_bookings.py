"""The appointments part of the mobile contract over real HTTP: slots, requirement
checks, bookings (create, list, detail, cancel, reschedule, documents, calendar)."""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.api.auth import tokens_for_resident
from registry.appointments.models import Booking, Slot
from registry.appointments.services.bookings import booking_cancel, booking_create
from registry.appointments.services.closures import closure_declare
from registry.appointments.services.reminders import bookings_remind_due
from registry.appointments.services.slots import slots_ensure
from registry.appointments.services.sweeps import bookings_expire_due
from registry.models import Notification, Resident
from registry.notify.backends import SimulatedGateway
from tests.api.sign_in import tasks_at_once  # noqa: F401 - a fixture
from tests.appointments.conftest import NOW, WIB, docs_ok
from tests.factories import ResidentFactory, make_nik

pytestmark = pytest.mark.django_db(transaction=True)

WEDNESDAY = date(2026, 7, 1)
DOCS_JSON = [{"requirement": "KK"},
             {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]


@pytest.fixture(autouse=True)
def clock():
    """Monday 29 June 2026, 09:00 WIB, as in tests/appointments."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def slot_id(office, start=datetime(2026, 7, 1, 8, 0, tzinfo=WIB), lane="C"):
    slots_ensure(office=office, start=start.date(), end=start.date())
    return Slot.objects.get(office=office, lane__letter=lane, starts_at=start).pk


def booking_body(office_code="3275", slot=None, documents=DOCS_JSON):
    return {"office": office_code, "service": "KTP_HILANG", "slot": slot,
            "documents": documents}


@pytest.mark.usefixtures("tasks_at_once")  # the sign-in code is sent by a task
def test_the_residents_journey_through_the_api_alone(http, office_a, settings, clock):
    """Register, check requirements, book, get reminded, miss the day, be told, re-book
    in one call (issue 3, 'Done means')."""
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS,
                                      "sms": "registry.notify.backends.SimulatedGateway"}
    nik = make_nik(regency="3275", born=date(1984, 2, 3))
    assert http.post("/api/v1/auth/otp/", {"nik": nik, "phone": "081277771234",
                                           "name": "Slamet Riyadi",
                                           "birth_date": "1984-02-03"}).status_code == 202
    code = re.search(r"\b(\d{6})\b", SimulatedGateway.sent("sms")[-1]["body"]).group(1)
    tokens = http.post("/api/v1/auth/token/", {"nik": nik, "otp": code}).json()
    api = http.with_token(tokens["access"])

    # The police report of 1 June has expired: the pre-check says so and where to renew.
    check = api.post("/api/v1/requirement-checks/", {
        "office": "3275", "service": "KTP_HILANG", "visit_date": "2026-07-01",
        "documents": [{"requirement": "KK"},
                      {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-01"}]})
    assert check.status_code == 200
    assert check.json()["ok"] is False
    assert [(p["requirement"], p["code"]) for p in check.json()["problems"]] == \
        [("SURAT_KEHILANGAN", "expired")]
    assert "Polsek" in check.json()["problems"][0]["message"]
    ok = api.post("/api/v1/requirement-checks/", {
        "office": "3275", "service": "KTP_HILANG", "visit_date": "2026-07-01",
        "documents": DOCS_JSON})
    assert ok.json() == {"ok": True, "problems": []}

    slots = http.get("/api/v1/offices/3275/slots/?service=KTP_HILANG&date_from=2026-07-01"
                     "&date_to=2026-07-01").json()
    first = slots["results"][0]
    assert (first["date"], first["start"], first["end"], first["remaining"]) == \
        ("2026-07-01", "2026-07-01T08:00:00+07:00", "2026-07-01T08:30:00+07:00", 4)
    booked = api.post("/api/v1/bookings/", booking_body(slot=first["id"]))
    assert booked.status_code == 201
    body = booked.json()
    assert (body["status"], body["slot"]["id"], body["office"], body["service"]) == \
        ("booked", first["id"], "3275", "KTP_HILANG")
    # The QR is fetched from its URL, drawn on demand; the answer does not carry it.
    assert "qr" not in body
    qr = api.get(body["qr_url"])
    assert (qr.status_code, qr.headers["Content-Type"]) == (200, "image/svg+xml")
    assert "<svg" in qr.text
    assert [r["code"] for r in body["requirements"]] == ["KK", "SURAT_KEHILANGAN"]
    booking_code, application = body["code"], body["application"]

    clock.move_to(datetime(2026, 6, 30, 16, 0, tzinfo=WIB))
    bookings_remind_due()
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    bookings_expire_due()
    api = http.with_token(http.post("/api/v1/auth/refresh/",
                                    {"refresh": tokens["refresh"]}).json()["access"])
    inbox = [n["title"] for n in api.get("/api/v1/notifications/").json()["results"]]
    assert f"Booking {booking_code} sudah kedaluwarsa" in inbox
    assert "Pengingat: kunjungan Anda pada 1 Juli 2026" in inbox
    assert api.get(f"/api/v1/bookings/{booking_code}/").json()["status"] == "expired"
    timeline = api.get(f"/api/v1/applications/{application}/").json()["timeline"]
    assert any("kedaluwarsa tanpa check-in" in entry["message"] for entry in timeline)

    # Re-book in one call: the same case continues.
    again = api.post("/api/v1/bookings/", booking_body(
        slot=slot_id(office_a, datetime(2026, 7, 6, 8, 0, tzinfo=WIB))))
    assert again.status_code == 201
    assert again.json()["application"] == application
    assert Resident.objects.get(nik=nik).bookings.count() == 2


def test_slot_full_and_active_booking_answer_409(as_resident, office_a, resident_a):
    slot = slot_id(office_a)
    Slot.objects.filter(pk=slot).update(booked=4)
    answer = as_resident(resident_a).post("/api/v1/bookings/", booking_body(slot=slot))
    assert (answer.status_code, answer.json()["code"]) == (409, "slot_full")
    free = slot_id(office_a, datetime(2026, 7, 1, 9, 0, tzinfo=WIB))
    assert as_resident(resident_a).post("/api/v1/bookings/",
                                        booking_body(slot=free)).status_code == 201
    other = slot_id(office_a, datetime(2026, 7, 1, 10, 0, tzinfo=WIB))
    answer = as_resident(resident_a).post("/api/v1/bookings/", booking_body(slot=other))
    assert (answer.status_code, answer.json()["code"]) == (409, "active_booking_exists")
    assert Booking.objects.count() == 1


def test_requirement_problems_answer_400_with_the_same_problems(as_resident, office_a,
                                                                resident_a):
    answer = as_resident(resident_a).post("/api/v1/bookings/", booking_body(
        slot=slot_id(office_a), documents=[{"requirement": "KK"}]))
    assert answer.status_code == 400
    assert answer.json()["code"] == "requirements_not_met"
    assert answer.json()["problems"] == [{
        "requirement": "SURAT_KEHILANGAN", "code": "missing",
        "message": "Surat keterangan kehilangan dari Kepolisian belum ada. Minta di Polsek "
                   "atau Polres terdekat dengan membawa KK. Surat berlaku 14 hari sejak "
                   "diterbitkan; bila sudah lewat, minta surat baru sebelum datang."}]
    english = as_resident(resident_a).post(
        "/api/v1/bookings/", booking_body(slot=slot_id(office_a), documents=[]),
        headers={"Accept-Language": "en"})
    assert english.json()["problems"][0]["message"].startswith(
        "Kartu Keluarga (KK) asli is missing.")
    assert not Booking.objects.exists()


def test_idempotency_key_returns_the_first_answer_and_books_once(as_resident, office_a,
                                                                 resident_a):
    api = as_resident(resident_a)
    body = booking_body(slot=slot_id(office_a))
    first = api.post("/api/v1/bookings/", body, headers={"Idempotency-Key": "b-7f3a"})
    second = api.post("/api/v1/bookings/", body, headers={"Idempotency-Key": "b-7f3a"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["code"] == first.json()["code"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1
    assert Slot.objects.get(pk=body["slot"]).booked == 1


def test_list_and_detail_show_only_the_residents_own(as_resident, office_a, office_b,
                                                     resident_a, resident_b, client,
                                                     django_assert_max_num_queries):
    mine = as_resident(resident_a).post("/api/v1/bookings/",
                                        booking_body(slot=slot_id(office_a))).json()
    theirs = as_resident(resident_b).post("/api/v1/bookings/", booking_body(
        "3216", slot=slot_id(office_b))).json()
    api = as_resident(resident_a)
    # In-process, so the queries are counted on this connection (over HTTP they are
    # the live server's, and nothing would be counted).
    token = tokens_for_resident(resident_a)["access"]
    with django_assert_max_num_queries(8):
        listing = client.get("/api/v1/bookings/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [b["code"] for b in listing["results"]] == [mine["code"]]
    assert api.get(f"/api/v1/bookings/{theirs['code']}/").status_code == 404
    for action in ("cancel", "reschedule", "documents"):
        answer = api.post(f"/api/v1/bookings/{theirs['code']}/{action}/", {"slot": 1})
        assert answer.status_code == 404, action
    assert api.get(f"/api/v1/bookings/{theirs['code']}/calendar.ics").status_code == 404
    assert Booking.objects.get(code=theirs["code"]).status == "booked"


def test_another_offices_slot_is_not_bookable_through_this_office(as_resident, office_a,
                                                                  office_b, resident_a):
    answer = as_resident(resident_a).post("/api/v1/bookings/",
                                          booking_body("3275", slot=slot_id(office_b)))
    assert (answer.status_code, answer.json()["code"]) == (404, "slot_not_found")
    assert Slot.objects.get(pk=slot_id(office_b)).booked == 0


def test_cancel_and_reschedule(as_resident, office_a, resident_a, clock):
    api = as_resident(resident_a)
    code = api.post("/api/v1/bookings/", booking_body(slot=slot_id(office_a))).json()["code"]
    target = slot_id(office_a, datetime(2026, 7, 2, 13, 0, tzinfo=WIB))
    moved = api.post(f"/api/v1/bookings/{code}/reschedule/", {"slot": target})
    assert moved.status_code == 200
    assert moved.json()["slot"]["start"] == "2026-07-02T13:00:00+07:00"
    assert Slot.objects.get(pk=slot_id(office_a)).booked == 0
    assert api.post(f"/api/v1/bookings/{code}/reschedule/",
                    {"slot": "x"}).status_code == 400
    cancelled = api.post(f"/api/v1/bookings/{code}/cancel/")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert Slot.objects.get(pk=target).booked == 0
    again = api.post(f"/api/v1/bookings/{code}/cancel/")
    assert (again.status_code, again.json()["code"]) == (409, "booking_not_cancellable")


def test_documents_upload_and_calendar_file(as_resident, office_a, resident_a):
    api = as_resident(resident_a)
    code = api.post("/api/v1/bookings/", booking_body(slot=slot_id(office_a))).json()["code"]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    sent = api.request("POST", f"/api/v1/bookings/{code}/documents/",
                       data={"requirement": "SURAT_KEHILANGAN"},
                       files={"file": ("laporan.pdf", pdf, "application/pdf")})
    assert sent.status_code == 200
    document = next(d for d in sent.json()["documents"]
                    if d["requirement"] == "SURAT_KEHILANGAN")
    assert (document["sent"], document["review"]) == (True, "pending")
    text = api.request("POST", f"/api/v1/bookings/{code}/documents/",
                       data={"requirement": "KK"},
                       files={"file": ("kk.png", b"just text", "image/png")})
    assert (text.status_code, text.json()["code"]) == (400, "file_type_not_allowed")
    ics = api.get(f"/api/v1/bookings/{code}/calendar.ics")
    assert ics.status_code == 200
    assert ics.headers["Content-Type"].startswith("text/calendar")
    assert "DTSTART:20260701T010000Z" in ics.text.replace("\r\n ", "")
    assert f"booking {code}" in ics.text.replace("\r\n ", "")


@pytest.mark.parametrize("query", [
    "", "?service=NOPE", "?service=KTP_HILANG&date_from=kemarin",
    "?service=KTP_HILANG&date_to=2026-13-45",
])
def test_bad_slot_queries_answer_4xx_in_indonesian(http, office_a, query):
    answer = http.get(f"/api/v1/offices/3275/slots/{query}")
    assert answer.status_code in (400, 404)
    assert answer.json()["detail"]
    assert http.get("/api/v1/offices/9999/slots/?service=KTP_HILANG").status_code == 404


def test_other_offices_slots_are_their_own(http, office_a, office_b, clock):
    closure_declare(office=office_b, day=WEDNESDAY, reason="Banjir")
    a = http.get("/api/v1/offices/3275/slots/?service=KTP_HILANG&date_from=2026-07-01"
                 "&date_to=2026-07-01").json()
    b = http.get("/api/v1/offices/3216/slots/?service=KTP_HILANG&date_from=2026-07-01"
                 "&date_to=2026-07-01").json()
    assert (a["count"], b["count"]) == (14, 0)
    assert not {r["id"] for r in a["results"]} & set(
        Slot.objects.filter(office=office_b).values_list("id", flat=True))


def test_bookings_need_a_resident_token(http, as_staff, office_a, make_staff):
    assert http.get("/api/v1/bookings/").status_code == 401
    staff = as_staff(make_staff(office_a, "front_desk"))
    assert staff.post("/api/v1/bookings/", booking_body(slot=slot_id(office_a))).status_code \
        == 403
    assert not Booking.objects.exists()


def test_reminded_resident_sees_reminder_with_reason_in_inbox(as_resident, office_a,
                                                              resident_a, clock):
    booking_create(office=office_a, resident=resident_a,
                   service=office_a.services.get(code="KTP_HILANG"),
                   slot=Slot.objects.get(pk=slot_id(office_a)), documents=docs_ok())
    clock.move_to(NOW + timedelta(days=1, hours=7))
    bookings_remind_due()
    assert Notification.objects.filter(kind="booking.reminder").count() == 1
    other = ResidentFactory(domicile_office=office_a)
    assert as_resident(other).get("/api/v1/notifications/").json()["count"] == 0


SLOTS_URL = ("/api/v1/offices/3275/slots/?service=KTP_HILANG&date_from=2026-07-01"
             "&date_to=2026-07-01")


def test_the_slot_list_shows_a_place_taken_or_freed_at_once(http, as_resident, office_a,
                                                            resident_a):
    # The list is cached between readers; each booking and cancellation moves it.
    first = {r["id"]: r["remaining"] for r in http.get(SLOTS_URL).json()["results"]}
    slot = slot_id(office_a)
    answer = as_resident(resident_a).post("/api/v1/bookings/", booking_body(slot=slot))
    assert answer.status_code == 201
    taken = {r["id"]: r["remaining"] for r in http.get(SLOTS_URL).json()["results"]}
    assert taken == {**first, slot: first[slot] - 1}
    code = answer.json()["code"]
    assert as_resident(resident_a).post(f"/api/v1/bookings/{code}/cancel/",
                                        {}).status_code == 200
    assert {r["id"]: r["remaining"] for r in http.get(SLOTS_URL).json()["results"]} == first


def test_a_closure_empties_the_cached_slot_list_at_once(http, office_a):
    assert http.get(SLOTS_URL).json()["count"] == 14
    closure_declare(office=office_a, day=WEDNESDAY, reason="Banjir")
    assert http.get(SLOTS_URL).json() == {"count": 0, "next": None, "previous": None,
                                          "results": []}


def test_a_repeated_slot_list_is_answered_without_the_database(client, office_a, settings,
                                                               django_assert_num_queries):
    client.get(SLOTS_URL)  # makes the window's slots, which moves the version
    first = client.get(SLOTS_URL)
    with django_assert_num_queries(0):
        again = client.get(SLOTS_URL)
    assert (again.status_code, again.content) == (200, first.content)
    settings.APPOINTMENTS_SLOTS_CACHE_SECONDS = 0
    with CaptureQueriesContext(connection) as queries:  # off: read every time
        assert client.get(SLOTS_URL).content == first.content
    assert len(queries) > 0


def test_the_booking_list_reads_the_same_few_tables_however_many_bookings(
        client, office_a, resident_a):
    from registry.api.auth import tokens_for_resident

    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens_for_resident(resident_a)['access']}"}

    def book(start):
        return booking_create(
            office=office_a, resident=resident_a, service=office_a.services.get(
                code="KTP_HILANG"), slot=Slot.objects.get(pk=slot_id(office_a, start)),
            documents=docs_ok())

    def book_and_cancel(start):
        booking_cancel(booking=book(start), by=None)

    def listing():
        with CaptureQueriesContext(connection) as queries:
            answer = client.get("/api/v1/bookings/", **auth)
        assert answer.status_code == 200
        return answer.json()["count"], len(queries)

    book_and_cancel(datetime(2026, 7, 1, 8, 0, tzinfo=WIB))
    one, queries_for_one = listing()
    for hour in (9, 10):
        book_and_cancel(datetime(2026, 7, 1, hour, 0, tzinfo=WIB))
    book(datetime(2026, 7, 1, 11, 0, tzinfo=WIB))  # an active one: its change deadline
    four, queries_for_four = listing()
    assert (one, four) == (1, 4)
    assert queries_for_four == queries_for_one
