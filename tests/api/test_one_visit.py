"""Several services in one visit and the lost document, over real HTTP: the pre-check
answers `lost` with what to book instead, one booking carries the services, their
requirements are the union, the lane is the combination's, one card is printed."""

from datetime import datetime

import pytest
import time_machine

from registry.appointments.models import Booking, BookingDocument, Slot
from registry.central.models import Card, CentralJob
from registry.central.services.jobs import application_visit_completed
from registry.models import Application, ServiceCombination
from registry.service_sets import combination_key
from tests.api.test_bookings import slot_id
from tests.appointments.conftest import NOW, WIB
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db(transaction=True)

SIGNATURE = "KTP_TTD_FOTO"
LOST = "KTP_HILANG"


@pytest.fixture(autouse=True)
def clock():
    """Monday 29 June 2026, 09:00 WIB."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def check(api, documents, *, service=SIGNATURE, services=None, lang=None):
    body = {"office": "3275", "service": service, "visit_date": "2026-07-01",
            "documents": documents}
    if services is not None:
        body["services"] = services
    headers = {"Accept-Language": lang} if lang else None
    return api.post("/api/v1/requirement-checks/", body, headers=headers)


def test_a_lost_old_card_turns_a_signature_change_into_a_lost_card_replacement(
        office_a, resident_a, as_resident):
    api = as_resident(resident_a)
    answer = check(api, [{"requirement": "KK"}, {"requirement": "KTP_LAMA", "lost": True}])
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is False
    [problem] = body["problems"]
    assert (problem["requirement"], problem["code"]) == ("KTP_LAMA", "lost")
    assert problem["instead"]["service"] == LOST
    assert problem["instead"]["services"] == [LOST, SIGNATURE]
    # The old card is not asked for beside its replacement; the police letter is.
    assert [r["code"] for r in problem["instead"]["requirements"]] == \
        ["KK", "SURAT_KEHILANGAN"]
    assert problem["instead"]["requirements"][1]["valid_days"] == 14
    message = problem["message"]
    assert message.startswith("KTP-el lama Anda hilang, sehingga kunjungan ini menjadi "
                              "KTP-el hilang.")
    # Valid on the visit day (Wednesday 1 July): issued on 18 June or later.
    assert "masih berlaku pada hari kunjungan 1 Juli 2026" in message
    assert "18 Juni 2026" in message
    assert "Polsek" in message
    english = check(api, [{"requirement": "KK"}, {"requirement": "KTP_LAMA", "lost": True}],
                    lang="en").json()["problems"][0]["message"]
    assert english.startswith("Your KTP-el lama is lost, so this visit becomes KTP-el hilang.")
    assert "still valid on the visit day 1 July 2026" in english


def test_a_lost_document_nothing_replaces_is_missing(office_a, resident_a, as_resident):
    api = as_resident(resident_a)
    answer = check(api, [{"requirement": "KK", "lost": True}, {"requirement": "KTP_LAMA"}])
    [problem] = answer.json()["problems"]
    assert (problem["requirement"], problem["code"]) == ("KK", "missing")
    assert "instead" not in problem
    assert problem["message"].startswith("Kartu Keluarga (KK) asli hilang")


def test_the_combined_visit_checks_the_union_without_the_lost_card(office_a, resident_a,
                                                                    as_resident):
    api = as_resident(resident_a)
    documents = [{"requirement": "KK"}, {"requirement": "KTP_LAMA", "lost": True},
                 {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]
    assert check(api, documents, service=LOST, services=[LOST, SIGNATURE]).json() == \
        {"ok": True, "problems": []}
    expired = check(api, [{"requirement": "KK"},
                          {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-01"}],
                    service=LOST, services=[SIGNATURE]).json()
    assert [(p["requirement"], p["code"]) for p in expired["problems"]] == \
        [("SURAT_KEHILANGAN", "expired")]


def test_one_booking_carries_both_services_and_one_card_is_printed(
        office_a, resident_a, as_resident, django_capture_on_commit_callbacks):
    api = as_resident(resident_a)
    slot = slot_id(office_a, datetime(2026, 7, 1, 8, 0, tzinfo=WIB))
    booked = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE], "slot": slot,
        "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA", "lost": True},
                      {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]})
    assert booked.status_code == 201, booked.json()
    body = booked.json()
    assert (body["status"], body["service"], body["services"]) == \
        ("booked", LOST, [LOST, SIGNATURE])
    assert body["estimated_minutes"] == 15 + 15  # no office rule: the sum
    assert [r["code"] for r in body["requirements"]] == ["KK", "SURAT_KEHILANGAN"]
    assert [d["requirement"] for d in body["documents"]] == ["KK", "SURAT_KEHILANGAN"]
    assert api.get(f"/api/v1/bookings/{body['code']}/").json()["services"] == \
        [LOST, SIGNATURE]
    assert Slot.objects.get(pk=slot).booked == 1
    application = Application.objects.get(pk=body["application"])
    assert application.service.code == LOST
    assert [s.code for s in application.extra_services.all()] == [SIGNATURE]
    assert Booking.objects.filter(application=application).count() == 1
    assert BookingDocument.objects.filter(booking__code=body["code"]).count() == 2

    # The visit done: one data change and one print for both services, one card.
    with django_capture_on_commit_callbacks(execute=False):
        application_visit_completed(application=application)
    jobs = CentralJob.objects.filter(application=application)
    assert sorted(job.kind for job in jobs) == ["card_print", "data_change"]
    assert all(job.payload["services"] == [LOST, SIGNATURE] for job in jobs)
    assert Card.objects.filter(application=application).count() == 1


def test_the_office_sets_the_lane_and_minutes_of_a_combination(office_a, resident_a,
                                                                as_resident, http):
    """A combination the office set serves in its lane: the slots listed and the place
    booked are that lane's."""
    combination = ServiceCombination.objects.create(
        office=office_a, key=combination_key([LOST, SIGNATURE]),
        lane=office_a.lanes.get(letter="A"), estimated_minutes=25)
    combination.services.set(office_a.services.filter(code__in=[LOST, SIGNATURE]))
    listed = http.get(f"/api/v1/offices/3275/slots/?service={LOST}&services={SIGNATURE}"
                      "&date_from=2026-07-01&date_to=2026-07-01").json()["results"]
    assert {slot["lane"] for slot in listed} == {"A"}
    alone = http.get(f"/api/v1/offices/3275/slots/?service={LOST}"
                     "&date_from=2026-07-01&date_to=2026-07-01").json()["results"]
    assert {slot["lane"] for slot in alone} == {"C"}
    documents = [{"requirement": "KK"},
                 {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]
    api = as_resident(resident_a)
    wrong_lane = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE],
        "slot": slot_id(office_a, lane="C"), "documents": documents})
    assert (wrong_lane.status_code, wrong_lane.json()["code"]) == (404, "slot_not_found")
    booked = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE],
        "slot": listed[0]["id"], "documents": documents})
    assert booked.status_code == 201
    assert (booked.json()["slot"]["lane"], booked.json()["estimated_minutes"]) == ("A", 25)


@pytest.mark.parametrize(("services", "status", "code"), [
    ([SIGNATURE, SIGNATURE], 400, "service_repeated"),
    (["NOPE"], 404, "service_not_found"),
    (["KTP_BARU", "KTP_RUSAK", "KTP_UBAH_DATA", "KK_UBAH"], 400, "too_many_services"),
])
def test_bad_service_lists_are_refused_and_book_nothing(office_a, resident_a, as_resident,
                                                        services, status, code):
    api = as_resident(resident_a)
    answer = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": services,
        "slot": slot_id(office_a), "documents": []})
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert not Booking.objects.exists()
    assert check(api, [], service=LOST, services=services).status_code == status


def test_another_offices_service_cannot_join_the_visit(office_a, office_b, resident_a,
                                                       as_resident):
    office_a.services.filter(code=SIGNATURE).update(is_active=False)
    api = as_resident(resident_a)
    answer = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE],
        "slot": slot_id(office_a), "documents": []})
    assert (answer.status_code, answer.json()["code"]) == (404, "service_not_found")


def test_another_resident_cannot_see_the_combined_booking(office_a, resident_a,
                                                          as_resident):
    api = as_resident(resident_a)
    booked = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE],
        "slot": slot_id(office_a),
        "documents": [{"requirement": "KK"},
                      {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]})
    other = as_resident(ResidentFactory(domicile_office=office_a))
    assert other.get(f"/api/v1/bookings/{booked.json()['code']}/").status_code == 404
    assert other.get("/api/v1/bookings/").json()["count"] == 0


def test_a_service_already_booked_cannot_be_booked_again_beside_another(
        office_a, resident_a, as_resident):
    api = as_resident(resident_a)
    signature = api.post("/api/v1/bookings/", {
        "office": "3275", "service": SIGNATURE, "slot": slot_id(office_a),
        "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]})
    assert signature.status_code == 201
    both = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE],
        "slot": slot_id(office_a, datetime(2026, 7, 1, 9, 0, tzinfo=WIB)),
        "documents": [{"requirement": "KK"},
                      {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]})
    assert (both.status_code, both.json()["code"]) == (409, "active_booking_exists")
    assert Booking.objects.count() == 1
    # Cancelled, the combined visit can be booked.
    assert api.post(f"/api/v1/bookings/{signature.json()['code']}/cancel/").status_code == 200
    again = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE],
        "slot": slot_id(office_a, datetime(2026, 7, 1, 9, 0, tzinfo=WIB)),
        "documents": [{"requirement": "KK"},
                      {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]})
    assert again.status_code == 201
    # And the signature change alone now conflicts with the combined booking.
    alone = api.post("/api/v1/bookings/", {
        "office": "3275", "service": SIGNATURE, "slot": slot_id(office_a),
        "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]})
    assert (alone.status_code, alone.json()["code"]) == (409, "active_booking_exists")


def test_a_missed_signature_change_rebooked_as_lost_card_continues_the_same_case(
        office_a, resident_a, as_resident, clock):
    from registry.appointments.services.sweeps import bookings_expire_due

    api = as_resident(resident_a)
    first = api.post("/api/v1/bookings/", {
        "office": "3275", "service": SIGNATURE, "slot": slot_id(office_a),
        "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]}).json()
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    bookings_expire_due()
    assert Booking.objects.get(code=first["code"]).status == "expired"
    api = as_resident(resident_a)  # a fresh token: the first one's lifetime has passed
    again = api.post("/api/v1/bookings/", {
        "office": "3275", "service": LOST, "services": [SIGNATURE],
        "slot": slot_id(office_a, datetime(2026, 7, 3, 8, 0, tzinfo=WIB)),
        "documents": [{"requirement": "KK"},
                      {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-07-01"}]})
    assert again.status_code == 201, again.json()
    assert again.json()["application"] == first["application"]
    application = Application.objects.get(pk=first["application"])
    assert (application.service.code, application.rebook_until) == (LOST, None)
    assert [s.code for s in application.extra_services.all()] == [SIGNATURE]
    assert Application.objects.count() == 1


def test_the_booking_qr_is_drawn_for_its_resident_only(office_a, resident_a, as_resident):
    api = as_resident(resident_a)
    booked = api.post("/api/v1/bookings/", {
        "office": "3275", "service": SIGNATURE, "slot": slot_id(office_a),
        "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]}).json()
    assert booked["qr_url"].endswith(f"/api/v1/bookings/{booked['code']}/qr.svg")
    qr = api.get(f"/api/v1/bookings/{booked['code']}/qr.svg")
    assert qr.status_code == 200
    assert qr.headers["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg")
    other = as_resident(ResidentFactory(domicile_office=office_a))
    assert other.get(f"/api/v1/bookings/{booked['code']}/qr.svg").status_code == 404
    assert api.get("/api/v1/bookings/NOPE2345/qr.svg").status_code == 404
