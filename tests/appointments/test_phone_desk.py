"""The phone desk: booking_services_change (a signature change that is in fact a lost
card becomes KTP-el hilang + the signature change in the same booking) and the staff
page that calls it. Monday 29 June 2026, 09:00 WIB (tests/appointments/conftest.py)."""

from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from registry.appointments.models import Booking, BookingStatus
from registry.appointments.services.booking_services import booking_services_change
from registry.appointments.services.bookings import booking_cancel
from registry.errors import DomainError
from registry.models import CaseEvent, NikDisclosure, Notification, Role, Service
from registry.service_sets import service_set_get, service_set_of
from tests.appointments.conftest import book
from tests.language import choose_language

pytestmark = pytest.mark.django_db
WEDNESDAY = date(2026, 7, 1)
PAGE = reverse("appointments:phone-desk")
LOST_AND_TTD = ["KTP_HILANG", "KTP_TTD_FOTO"]


def ttd(office) -> Service:
    return Service.objects.select_related("lane").get(office=office, code="KTP_TTD_FOTO")


@pytest.fixture
def signature_booking(office_a, resident_a, slot_on):
    return book(resident_a, ttd(office_a), slot_on(ttd(office_a), WEDNESDAY),
                documents=[{"requirement": "KK"}, {"requirement": "KTP_LAMA"}])


def lost_docs(issued_on=date(2026, 6, 25)):
    return [{"requirement": "KK"}, {"requirement": "KTP_LAMA", "lost": True},
            {"requirement": "SURAT_KEHILANGAN", "issued_on": issued_on}]


def state(booking):
    booking.refresh_from_db()
    return (booking.service.code, service_set_of(booking.application).codes,
            sorted(booking.documents.values_list("requirement__code", flat=True)))


def test_a_signature_change_becomes_lost_card_and_signature_change(office_a, signature_booking,
                                                                   make_staff):
    desk = make_staff(office_a, Role.FRONT_DESK)
    both = service_set_get(office=office_a, codes=LOST_AND_TTD)
    booking_services_change(booking=signature_booking, service_set=both,
                            documents=lost_docs(), by=desk)
    assert state(signature_booking) == ("KTP_HILANG", LOST_AND_TTD, ["KK", "SURAT_KEHILANGAN"])
    event = CaseEvent.objects.get(application=signature_booking.application,
                                  kind="booking.services_changed")
    assert (event.params["from"], event.params["to"], event.params["where"], event.actor) == (
        "Perubahan tanda tangan atau foto KTP-el",
        "KTP-el hilang + Perubahan tanda tangan atau foto KTP-el", "phone_desk", desk)
    told = Notification.objects.get(kind="booking.services_changed")
    assert "Surat keterangan kehilangan dari Kepolisian" in told.body
    assert signature_booking.code in told.body


@pytest.mark.parametrize(("issued_on", "code"), [(date(2026, 6, 10), "expired"),
                                                 (date(2026, 6, 17), "expires_before_visit")])
def test_a_police_letter_not_valid_on_the_visit_day_changes_nothing(
        office_a, signature_booking, make_staff, issued_on, code):
    before = state(signature_booking)
    both = service_set_get(office=office_a, codes=LOST_AND_TTD)
    with pytest.raises(DomainError) as refused:
        booking_services_change(booking=signature_booking, service_set=both,
                                documents=lost_docs(issued_on), by=None)
    assert refused.value.code == "requirements_not_met"
    assert [p["code"] for p in refused.value.extra["problems"]] == [code]
    assert state(signature_booking) == before
    assert not CaseEvent.objects.filter(kind="booking.services_changed").exists()


def test_valid_on_the_visit_day_itself_is_enough(office_a, signature_booking):
    both = service_set_get(office=office_a, codes=LOST_AND_TTD)
    booking_services_change(booking=signature_booking, service_set=both,
                            documents=lost_docs(date(2026, 6, 18)), by=None)
    assert state(signature_booking)[0] == "KTP_HILANG"


def test_a_set_of_another_lane_is_refused(office_a, signature_booking):
    other = service_set_get(office=office_a, codes=["KTP_BARU"])
    before = state(signature_booking)
    with pytest.raises(DomainError) as refused:
        booking_services_change(booking=signature_booking, service_set=other,
                                documents=[], by=None)
    assert refused.value.code == "lane_differs"
    assert state(signature_booking) == before


# --- The page ----------------------------------------------------------------------


@pytest.fixture
def desk(office_a, office_b, make_staff):
    return make_staff(office_a, Role.FRONT_DESK, username="phone-a")


def found(client, resident, office):
    response = client.post(PAGE, {"office": office.code, "action": "find", "nik": resident.nik})
    assert response.status_code == 302
    return parse_qs(urlparse(response["Location"]).query)["r"][0]


def post_form(token, action, services=LOST_AND_TTD, issued="2026-06-25", **extra):
    data = {"r": token, "action": action, "services": services, "doc_KK": "has",
            "doc_KTP_LAMA": "lost", "doc_SURAT_KEHILANGAN": "has",
            "issued_SURAT_KEHILANGAN": issued}
    data.update(extra)
    return data


def test_the_phone_desk_finds_checks_and_changes_the_booking(client, desk, office_a,
                                                             resident_a, signature_booking):
    client.force_login(desk)
    token = found(client, resident_a, office_a)
    assert NikDisclosure.objects.filter(resident=resident_a, user=desk).count() == 1
    page = client.get(PAGE, {"r": token})
    assert page.status_code == 200
    assert signature_booking.code in page.content.decode()
    # The pre-check of the booked set with the card lost: what to book instead.
    check = client.post(PAGE, {"r": token, "action": "check", "services": ["KTP_TTD_FOTO"],
                               "doc_KK": "has", "doc_KTP_LAMA": "lost"})
    assert check.status_code == 200
    [problem] = check.context["problems"]
    assert (problem["code"], problem["instead"]["services"]) == ("lost", LOST_AND_TTD)
    changed = client.post(PAGE, post_form(token, "change"))
    assert changed.status_code == 302
    assert state(signature_booking)[:2] == ("KTP_HILANG", LOST_AND_TTD)


def test_an_expired_letter_on_the_page_changes_nothing(client, desk, office_a, resident_a,
                                                       signature_booking):
    client.force_login(desk)
    token = found(client, resident_a, office_a)
    before = state(signature_booking)
    response = client.post(PAGE, post_form(token, "change", issued="2026-06-01"))
    assert response.status_code == 400
    assert [p["code"] for p in response.context["problems"]] == ["expired"]
    assert state(signature_booking) == before


def test_the_phone_desk_books_again_a_case_cancelled_by_the_office(
        client, desk, office_a, resident_a, signature_booking, slot_on):
    booking_cancel(booking=signature_booking, by=desk, reason="Petugas sakit")
    client.force_login(desk)
    token = found(client, resident_a, office_a)
    slot = slot_on(ttd(office_a), date(2026, 7, 2))
    response = client.post(PAGE, post_form(token, "rebook", services=["KTP_TTD_FOTO"],
                                           doc_KTP_LAMA="has", slot=slot.pk))
    assert response.status_code == 302
    new = Booking.objects.get(status=BookingStatus.BOOKED)
    # The same case goes on (booking_create continues the open case of the service).
    assert (new.application, new.channel, new.slot, new.service.code, new.created_by) == (
        signature_booking.application, "assisted", slot, "KTP_TTD_FOTO", desk)


def test_the_phone_type_is_set(client, desk, office_a, resident_a):
    client.force_login(desk)
    token = found(client, resident_a, office_a)
    assert client.post(PAGE, {"r": token, "action": "phone-type",
                              "phone_type": "feature_phone"}).status_code == 302
    resident_a.refresh_from_db()
    assert resident_a.phone_type == "feature_phone"
    assert client.post(PAGE, {"r": token, "action": "phone-type",
                              "phone_type": "pager"}).status_code == 400
    resident_a.refresh_from_db()
    assert resident_a.phone_type == "feature_phone"


@pytest.mark.parametrize("data", [
    {"action": "change", "services": []},
    {"action": "change", "services": ["NOPE"]},
    {"action": "change", "issued_SURAT_KEHILANGAN": "31-31-2026"},
    {"action": "rebook", "slot": "abc"},
    {"action": "bogus"},
])
def test_bad_input_changes_nothing_and_never_500(client, desk, office_a, resident_a,
                                                 signature_booking, data):
    client.force_login(desk)
    token = found(client, resident_a, office_a)
    before = state(signature_booking)
    response = client.post(PAGE, {**post_form(token, "change"), **data})
    assert response.status_code in (400, 404)
    assert state(signature_booking) == before
    assert Booking.objects.count() == 1


def test_another_offices_resident_is_not_found(client, desk, office_b, resident_b):
    client.force_login(desk)
    response = client.post(PAGE, {"action": "find", "nik": resident_b.nik})
    assert response.status_code == 400
    assert NikDisclosure.objects.count() == 0


def test_a_token_of_another_offices_resident_answers_404(client, make_staff, office_a,
                                                         office_b, resident_b, desk):
    both = make_staff(office_b, Role.FRONT_DESK, username="phone-b")
    client.force_login(both)
    token = found(client, resident_b, office_b)
    # The same user working in office A too cannot use it there.
    from registry.services.staff import staff_membership_grant

    staff_membership_grant(user=both, office=office_a, role=Role.FRONT_DESK)
    assert client.get(PAGE, {"office": office_a.code, "r": token}).status_code == 404


@pytest.mark.parametrize("role", [Role.COUNTER_OPERATOR, Role.COURIER, Role.PUBLIC_RELATIONS])
def test_other_roles_are_refused(client, make_staff, office_a, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(PAGE).status_code == 403


def test_indonesian_by_default_english_by_choice(client, desk):
    client.force_login(desk)
    label = "NIK (16 digits, from the KTP-el or the KK)"
    assert label not in client.get(PAGE).content.decode()
    assert label not in client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    choose_language(client, "en")
    assert label in client.get(PAGE).content.decode()
