"""Staff pages of appointments: assisted booking at the front desk (a resident found by
NIK or registered on the spot), the requirement problems shown before anything is
booked, the printable slip, and the documents sent ahead awaiting review. Monday 29
June 2026, 09:00 WIB (tests/appointments/conftest.py)."""

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from registry.appointments.models import Booking, BookingDocument, DocumentReview, Slot
from registry.appointments.services.booking_documents import booking_document_upload
from registry.appointments.services.bookings import booking_create
from registry.appointments.views import staff_links
from registry.models import (
    ActivationCode,
    Application,
    CaseEvent,
    Channel,
    Notification,
    Resident,
    Role,
)
from tests.appointments.conftest import docs_ok
from tests.appointments.test_closure_documents import PDF, PNG
from tests.factories import ResidentFactory, make_nik
from tests.language import choose_language

WEDNESDAY = date(2026, 7, 1)
ASSISTED = reverse("appointments:assisted")
DOCUMENTS = reverse("appointments:documents")
ADDRESS = "Jl. Ir. H. Juanda No. 100, Bekasi Timur"


@pytest.fixture
def desk(office_a, office_b, make_staff):
    office_a.address = ADDRESS
    office_a.save(update_fields=["address"])
    return make_staff(office_a, Role.FRONT_DESK)


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def token_of(response) -> str:
    return parse_qs(urlparse(response["Location"]).query)["r"][0]


def book_form(slot, police_report_issued=date(2026, 6, 25), **extra):
    data = {"service": "KTP_HILANG", "slot": slot.pk if slot else "", "has_KK": "on",
            "has_SURAT_KEHILANGAN": "on",
            "issued_SURAT_KEHILANGAN": police_report_issued.isoformat()
            if police_report_issued else ""}
    data.update(extra)
    return data


def test_the_front_desk_books_for_a_new_resident_without_a_phone(client, desk, office_a,
                                                                 lost_card, slot_on):
    client.force_login(desk)
    first = client.get(ASSISTED)
    assert first.status_code == 200
    assert first.context["step"] == "find"
    nik = make_nik(regency="3275", born=date(1958, 2, 3), serial=77)
    # Unknown NIK: the registration form, with the NIK filled in.
    found = client.post(ASSISTED, {"action": "find", "nik": f" {nik} "})
    assert found.status_code == 200
    assert found.context["step"] == "register"
    assert found.context["register_form"].initial == {"nik": nik}
    bad = client.post(ASSISTED, {"action": "find", "nik": "12345"})
    assert bad.context["find_form"].errors == {"nik": ["NIK terdiri atas tepat 16 angka."]}
    registered = client.post(ASSISTED, {
        "action": "register", "nik": nik, "name": "Sutrisno", "birth_date": "1958-02-03",
        "address": "Jl. Mawar No. 21", "kecamatan": "Bekasi Timur", "kelurahan": "Margahayu"})
    assert registered.status_code == 302
    resident = Resident.objects.get(nik=nik)
    assert (resident.name, resident.phone, resident.sex, resident.domicile_office) == \
        ("Sutrisno", "", "M", office_a)
    token = token_of(registered)

    choose = client.get(registered["Location"])
    assert choose.context["step"] == "service"
    assert choose.context["resident"] == resident
    assert "KTP_HILANG" in [s.code for s in choose.context["services"]]
    assert nik not in choose.content.decode()  # only the masked NIK on the page
    assert resident.masked_nik in choose.content.decode()

    form = client.get(ASSISTED, {"r": token, "service": "KTP_HILANG"})
    assert form.context["step"] == "book"
    days = form.context["slot_days"]
    # Today's slots after 09:00 are still open (same-day booking until 10:00).
    assert days[0]["day"] == date(2026, 6, 29)
    assert f"{days[0]['slots'][0].start:%H:%M}" == "09:30"
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    assert slot.pk in [s.pk for row in days for s in row["slots"]]

    done = client.post(ASSISTED, {"action": "book", "r": token, **book_form(slot)})
    booking = Booking.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("appointments:slip", args=[booking.code])
    assert (booking.resident, booking.slot, booking.channel, booking.created_by,
            booking.status) == (resident, slot, "assisted", desk, "booked")
    assert sorted(booking.documents.values_list("requirement__code", "issued_on")) == [
        ("KK", None), ("SURAT_KEHILANGAN", date(2026, 6, 25))]
    application = Application.objects.get(pk=booking.application_id)
    assert (application.channel, application.office) == (Channel.ASSISTED, office_a)
    event = CaseEvent.objects.get(application=application, kind="booking.created")
    assert (event.actor, event.by_resident) == (desk, False)
    assert Slot.objects.get(pk=slot.pk).booked == 1
    slip = client.get(done["Location"])
    assert slip.status_code == 200
    assert booking.code in messages_of(slip)[0]

    # The same resident again for the same service: refused, still one booking.
    again = client.post(ASSISTED, {"action": "book", "r": token,
                                   **book_form(slot_on(lost_card, WEDNESDAY, "09:00"))})
    assert again.status_code == 200
    assert messages_of(again) == [
        "Anda sudah punya booking aktif untuk layanan ini; batalkan atau ubah jadwalnya."]
    assert Booking.objects.count() == 1
    assert [b.code for b in again.context["active_bookings"]] == [booking.code]


def test_an_expired_police_report_is_shown_before_booking_and_nothing_is_booked(
        client, desk, resident_a, lost_card, slot_on):
    client.force_login(desk)
    found = client.post(ASSISTED, {"action": "find", "nik": resident_a.nik})
    assert found.status_code == 302
    token = token_of(found)
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    expired = book_form(slot, police_report_issued=date(2026, 6, 10))
    hint = ("Minta di Polsek atau Polres terdekat dengan membawa KK. Surat berlaku 14 hari "
            "sejak diterbitkan; bila sudah lewat, minta surat baru sebelum datang.")
    for action in ("check", "book"):
        response = client.post(ASSISTED, {"action": action, "r": token, **expired})
        assert response.status_code == 200
        assert response.context["problems"] == [{
            "requirement": "SURAT_KEHILANGAN", "code": "expired",
            "message": "Surat keterangan kehilangan dari Kepolisian sudah kedaluwarsa pada "
                       f"23 Juni 2026. {hint}"}]
        assert response.context["checked_for"] == WEDNESDAY
        page = response.content.decode()
        assert 'id="problems"' in page
        assert "sudah kedaluwarsa pada 23 Juni 2026" in page
        # The form keeps what was entered.
        assert response.context["chosen_slot"] == str(slot.pk)
    # Missing KK and a report that lapses before a visit next week.
    later = slot_on(lost_card, date(2026, 7, 8), "08:00")
    response = client.post(ASSISTED, {"action": "book", "r": token, "service": "KTP_HILANG",
                                      "slot": later.pk, "has_SURAT_KEHILANGAN": "on",
                                      "issued_SURAT_KEHILANGAN": "2026-06-20"})
    assert [(p["requirement"], p["code"]) for p in response.context["problems"]] == [
        ("KK", "missing"), ("SURAT_KEHILANGAN", "expires_before_visit")]
    assert not Booking.objects.exists()
    assert not Application.objects.filter(resident=resident_a).exists()
    assert Slot.objects.get(pk=slot.pk).booked == 0
    assert not Notification.objects.exists()

    # With a valid report the check passes, then the booking is made.
    ok = client.post(ASSISTED, {"action": "check", "r": token, **book_form(slot)})
    assert ok.context["problems"] == []
    assert 'id="all-met"' in ok.content.decode()
    assert not Booking.objects.exists()
    client.post(ASSISTED, {"action": "book", "r": token, **book_form(slot)})
    assert Booking.objects.get().resident == resident_a


def test_a_booking_needs_a_time_of_the_services_lane(client, desk, resident_a, lost_card,
                                                     slot_on, office_b):
    client.force_login(desk)
    token = token_of(client.post(ASSISTED, {"action": "find", "nik": resident_a.nik}))
    no_slot = client.post(ASSISTED, {"action": "book", "r": token, **book_form(None)})
    assert no_slot.status_code == 200
    # A slot of another lane, or of another office, is not a choice.
    family = slot_on(lost_card.office.services.get(code="KK_UBAH"), WEDNESDAY, "08:00")
    other = slot_on(office_b.services.select_related("lane").get(code="KTP_HILANG"), WEDNESDAY)
    for slot in (family, other):
        client.post(ASSISTED, {"action": "book", "r": token, **book_form(slot)})
    assert not Booking.objects.exists()


def test_a_forged_or_foreign_resident_token_is_refused(client, desk, make_staff, office_a,
                                                       resident_a):
    client.force_login(desk)
    token = token_of(client.post(ASSISTED, {"action": "find", "nik": resident_a.nik}))
    forged = client.get(ASSISTED, {"r": token[:-2] + "xx", "service": "KTP_HILANG"})
    assert forged.status_code == 302
    assert forged["Location"] == f"{ASSISTED}?office=3275"
    colleague = make_staff(office_a, Role.FRONT_DESK, username="desk-2")
    client.force_login(colleague)
    assert client.get(ASSISTED, {"r": token}).status_code == 302
    assert not Booking.objects.exists()


@pytest.mark.parametrize("role", [Role.COUNTER_OPERATOR, Role.COURIER, Role.PUBLIC_RELATIONS])
def test_the_pages_are_for_the_front_desk(client, office_a, make_staff, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(ASSISTED).status_code == 403
    assert client.get(DOCUMENTS).status_code == 403


def test_the_pages_need_a_login(client, office_a):
    for url in (ASSISTED, DOCUMENTS, reverse("appointments:slip", args=["ABCDEFGH"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def _booked(resident, service, slot, **kwargs):
    return booking_create(office=service.office, resident=resident, service=service,
                          slot=slot, documents=docs_ok(), **kwargs)


def test_the_slip_has_everything_the_resident_needs(client, desk, office_b, resident_a,
                                                    resident_b, lost_card, slot_on):
    booking = _booked(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:30"))
    client.force_login(desk)
    response = client.get(reverse("appointments:slip", args=[booking.code.lower()]))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (booking.code, "Rabu, 1 Juli 2026, 08:30-09:00", "C - Perubahan biodata",
                 "KTP-el hilang", "Kartu Keluarga (KK) asli",
                 "Surat keterangan kehilangan dari Kepolisian", "25 Juni 2026",
                 "Minta di Polsek atau Polres terdekat", ADDRESS, resident_a.name,
                 resident_a.masked_nik, booking.application.number,
                 'src="data:image/svg+xml;base64,', "@page { size: A5 portrait"):
        assert text in page, text
    assert resident_a.nik not in page
    assert "@page { size: A4 portrait" in client.get(
        reverse("appointments:slip", args=[booking.code]), {"size": "a4"}).content.decode()
    lost_card_b = office_b.services.select_related("lane").get(code="KTP_HILANG")
    other = _booked(resident_b, lost_card_b, slot_on(lost_card_b, WEDNESDAY))
    assert client.get(reverse("appointments:slip", args=[other.code])).status_code == 404


def _sent(booking, content=PNG):
    return booking_document_upload(booking=booking, requirement_code="SURAT_KEHILANGAN",
                                   upload=SimpleUploadedFile("x.png", content))


def test_documents_awaiting_review_are_accepted_or_rejected_and_the_resident_told(
        client, desk, make_staff, office_a, office_b, resident_a, resident_b, lost_card,
        slot_on):
    lost_card_b = office_b.services.select_related("lane").get(code="KTP_HILANG")
    budi = _booked(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    sri = _booked(ResidentFactory(domicile_office=office_a, name="Sri"), lost_card,
                  slot_on(lost_card, date(2026, 6, 30), "09:00"))
    andi = _booked(resident_b, lost_card_b, slot_on(lost_card_b, WEDNESDAY))
    budi_doc, sri_doc, andi_doc = _sent(budi), _sent(sri, PDF), _sent(andi)
    client.force_login(desk)
    page = client.get(DOCUMENTS, {"office": "3216"})
    assert page.status_code == 200
    assert page.context["office"] == office_a
    # Oldest visit first; the other office's document is not listed.
    assert [d.pk for d in page.context["documents"]] == [sri_doc.pk, budi_doc.pk]
    assert reverse("appointments:document-file", args=[andi_doc.pk]) not in \
        page.content.decode()

    # The file, for staff of the office only.
    pdf = client.get(reverse("appointments:document-file", args=[sri_doc.pk]))
    assert (pdf.status_code, pdf["Content-Type"], pdf["X-Content-Type-Options"]) == \
        (200, "application/pdf", "nosniff")
    assert b"".join(pdf.streaming_content) == PDF
    assert "no-store" in pdf["Cache-Control"]
    assert client.get(reverse("appointments:document-file",
                              args=[andi_doc.pk])).status_code == 404

    review = reverse("appointments:document-review", args=[budi_doc.pk])
    # No reason, no rejection.
    refused = client.post(review, {"decision": "reject", "reason": " "}, follow=True)
    assert messages_of(refused) == [
        "Isi alasan penolakan; warga akan diberi tahu."]
    assert BookingDocument.objects.get(pk=budi_doc.pk).review == DocumentReview.PENDING
    rejected = client.post(review, {"decision": "reject",
                                    "reason": "Surat sudah lewat 14 hari"})
    assert rejected["Location"] == f"{DOCUMENTS}?office=3275"
    budi_doc.refresh_from_db()
    assert (budi_doc.review, budi_doc.reject_reason, budi_doc.reviewed_by) == \
        (DocumentReview.REJECTED, "Surat sudah lewat 14 hari", desk)
    note = Notification.objects.get(kind="booking.document_rejected")
    assert note.resident == resident_a
    assert "Surat sudah lewat 14 hari" in note.body
    assert "Minta di Polsek atau Polres terdekat" in note.body
    assert CaseEvent.objects.filter(application=budi.application,
                                    kind="booking.document_rejected").count() == 1

    client.post(reverse("appointments:document-review", args=[sri_doc.pk]),
                {"decision": "accept"})
    sri_doc.refresh_from_db()
    assert (sri_doc.review, sri_doc.reviewed_by) == (DocumentReview.ACCEPTED, desk)
    assert CaseEvent.objects.filter(application=sri.application,
                                    kind="booking.document_accepted").count() == 1
    assert client.get(DOCUMENTS).context["documents"] == []

    # Reviewing twice, or another office's document, changes nothing.
    client.post(reverse("appointments:document-review", args=[sri_doc.pk]),
                {"decision": "reject", "reason": "x"})
    assert BookingDocument.objects.get(pk=sri_doc.pk).review == DocumentReview.ACCEPTED
    assert client.post(reverse("appointments:document-review", args=[andi_doc.pk]),
                       {"decision": "accept"}).status_code == 404
    assert BookingDocument.objects.get(pk=andi_doc.pk).review == DocumentReview.PENDING
    # A counter operator of the office may open the file but not review it.
    operator = make_staff(office_a, Role.COUNTER_OPERATOR)
    client.force_login(operator)
    assert client.get(reverse("appointments:document-file",
                              args=[sri_doc.pk])).status_code == 200
    assert client.post(reverse("appointments:document-review", args=[sri_doc.pk]),
                       {"decision": "accept"}).status_code == 403


def test_staff_links_follow_the_roles(office_a):
    desk = dict(staff_links(office=office_a, roles={Role.FRONT_DESK}))
    assert sorted(desk.values()) == sorted([
        f"{ASSISTED}?office=3275", f"{DOCUMENTS}?office=3275",
        f"{reverse('appointments:phone-desk')}?office=3275",
        f"{reverse('admin:appointments_slot_day')}?office=3275"])
    assert staff_links(office=office_a, roles={Role.COURIER}) == []
    assert staff_links(office=office_a, roles={Role.COUNTER_OPERATOR}) == []
    supervisor = staff_links(office=office_a, roles={Role.PROVINCIAL_SUPERVISOR})
    assert [url for _label, url in supervisor] == [
        f"{reverse('admin:appointments_slot_day')}?office=3275"]


def test_the_staff_start_page_links_the_pages(client, desk):
    client.force_login(desk)
    page = client.get(reverse("registry:staff-home")).content.decode()
    assert f'href="{ASSISTED}?office=3275"' in page
    assert f'href="{DOCUMENTS}?office=3275"' in page
    assert f'href="{reverse("appointments:phone-desk")}?office=3275"' in page
    assert f'href="{reverse("registry:turn-away")}?office=3275"' in page


# --- The activation code on the slip (issue 12) ------------------------------------

CODE_RE = re.compile(r'id="activation-code-value"[^>]*>([A-Z0-9]{4}-[A-Z0-9]{4})<')


def printed_code(response) -> str | None:
    found = CODE_RE.search(response.content.decode())
    return found.group(1) if found else None


def test_the_slip_of_a_resident_without_a_bound_phone_carries_an_activation_code_once(
        client, desk, resident_a, lost_card, slot_on, clock):
    resident_a.phone_bound_at, resident_a.language = None, "en"
    resident_a.save(update_fields=["phone_bound_at", "language"])
    client.force_login(desk)
    token = token_of(client.post(ASSISTED, {"action": "find", "nik": resident_a.nik}))
    choose_language(client, "en")
    step = client.get(ASSISTED, {"r": token}).content.decode()
    assert "No phone bound to the app: the slip will carry an activation code." in step
    assert not ActivationCode.objects.exists()  # nothing issued before the booking
    done = client.post(ASSISTED, {"action": "book", "r": token,
                                  **book_form(slot_on(lost_card, WEDNESDAY, "08:00"))})
    booking = Booking.objects.get()
    issued = ActivationCode.objects.get()
    assert (issued.resident, issued.office, issued.created_by, issued.used_at) == (
        resident_a, booking.office, desk, None)

    choose_language(client, "id")
    slip = client.get(done["Location"])
    code = printed_code(slip)
    assert code is not None
    assert issued.code_hash != code
    assert code.replace("-", "") not in issued.code_hash
    assert slip["Cache-Control"] == "private, no-store"
    page = slip.content.decode()
    # The paper is the resident's: its instruction is in their language, whatever the
    # language of the desk's screen.
    assert ("To sign in to the e-Open app, enter this activation code with your NIK and "
            "your phone number. Valid until 29 July 2026. Do not give it to anyone.") in page
    assert "Slip booking" in page
    assert 'id="activation-once"' in page

    # Shown again (a reload, the A4 link): no code, and the page says why.
    choose_language(client, "en")
    again = client.get(done["Location"])
    assert printed_code(again) is None
    assert 'id="activation-missing"' in again.content.decode()
    assert "The activation code is shown only once" in again.content.decode()
    assert ActivationCode.objects.count() == 1

    # The desk prints a new one: a new code, and the earlier one no longer works.
    new = client.post(reverse("appointments:slip-activation", args=[booking.code]))
    assert new.status_code == 302
    assert new["Location"] == reverse("appointments:slip", args=[booking.code])
    renewed = client.get(new["Location"])
    assert messages_of(renewed) == [
        "A new activation code is on the slip; codes printed before no longer work."]
    second = printed_code(renewed)
    assert second is not None
    assert second != code
    first, latest = ActivationCode.objects.order_by("id")
    assert first.expires_at <= first.created_at + timedelta(seconds=1)  # spent at once
    assert latest.expires_at == latest.created_at + timedelta(days=30)


def test_the_slip_of_a_resident_with_a_bound_phone_has_no_activation_code(
        client, desk, resident_a, lost_card, slot_on, clock):
    resident_a.phone_bound_at = timezone.now()
    resident_a.save(update_fields=["phone_bound_at"])
    client.force_login(desk)
    token = token_of(client.post(ASSISTED, {"action": "find", "nik": resident_a.nik}))
    assert 'id="no-bound-phone"' not in client.get(ASSISTED, {"r": token}).content.decode()
    done = client.post(ASSISTED, {"action": "book", "r": token,
                                  **book_form(slot_on(lost_card, WEDNESDAY, "08:00"))})
    slip = client.get(done["Location"])
    assert printed_code(slip) is None
    assert 'id="activation-missing"' not in slip.content.decode()
    booking = Booking.objects.get()
    choose_language(client, "en")
    new = client.post(reverse("appointments:slip-activation", args=[booking.code]))
    assert messages_of(client.get(new["Location"])) == [
        "The resident's phone is bound: no activation code is needed."]
    assert not ActivationCode.objects.exists()


def test_a_new_activation_code_only_by_the_front_desk_of_the_bookings_office(
        client, desk, office_b, make_staff, resident_a, lost_card, slot_on):
    booking = _booked(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:30"))
    url = reverse("appointments:slip-activation", args=[booking.code])
    client.force_login(make_staff(office_b, Role.FRONT_DESK))
    assert client.post(url).status_code == 404
    assert client.get(reverse("appointments:slip", args=[booking.code])).status_code == 404
    client.force_login(desk)
    assert client.get(url).status_code == 405
    assert not ActivationCode.objects.exists()


def test_a_resident_registered_at_the_desk_is_verified_at_creation(client, desk, office_a):
    client.force_login(desk)
    nik = make_nik(regency="3275", born=date(1958, 2, 3), serial=78)
    client.post(ASSISTED, {"action": "register", "nik": nik, "name": "Sutrisno",
                           "birth_date": "1958-02-03", "phone": "0812 3456 7890"})
    resident = Resident.objects.get(nik=nik)
    assert resident.identity_verified_by == desk
    assert resident.identity_verified_at is not None
    # A phone typed in by staff is a contact number, not bound.
    assert (resident.phone, resident.phone_bound_at) == ("+6281234567890", None)
