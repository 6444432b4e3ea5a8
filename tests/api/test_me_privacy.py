"""The resident sees it too (UU PDP 27/2022): GET /api/v1/me/access-log/, GET
/api/v1/me/export/ and /api/v1/me/correction-requests/ over real HTTP, and the front
desk's answer to a correction request in admin."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints.models import SurveyAnswer
from complaints.services.intake import complaint_file
from complaints.services.responses import complaint_respond
from registry.api.auth import tokens_for_resident
from registry.appointments.models import BookingDocument, Slot
from registry.appointments.services.slots import slots_ensure
from registry.central.models import Card
from registry.deliveries.models import Handover
from registry.errors import NotFound
from registry.models import (
    AccessKind,
    CorrectionRequest,
    CorrectionStatus,
    Notification,
    Role,
    Service,
)
from registry.services.access_log import record_access
from registry.services.corrections import correction_answer, correction_request_create
from registry.services.residents import resident_nik_disclose
from tests.appointments.conftest import MONDAY, NOW, book
from tests.complaints.surveys import served_visit
from tests.factories import ApplicationFactory, ResidentFactory, assigned_delivery

pytestmark = pytest.mark.django_db(transaction=True)

ACCESS_LOG = "/api/v1/me/access-log/"
EXPORT = "/api/v1/me/export/"
CORRECTIONS = "/api/v1/me/correction-requests/"


@pytest.fixture(autouse=True)
def clock():
    """Monday 29 June 2026, 09:00 WIB (tests/appointments); the clock runs."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def desk_a(make_staff, office_a):
    return make_staff(office_a, Role.FRONT_DESK, username="desk-a", first_name="Siti",
                      last_name="Rahmawati")


@pytest.fixture
def desk_b(make_staff, office_b):
    return make_staff(office_b, Role.FRONT_DESK, username="desk-b")


# --- Access log ----------------------------------------------------------------------


def test_the_access_log_shows_office_role_and_reason_never_the_staff_member(
        as_resident, resident_a, resident_b, office_a, desk_a, application_a):
    viewed = record_access(desk_a, kind=AccessKind.APPLICATION, residents=[resident_a],
                           office=office_a, target=application_a.number,
                           reason="Memeriksa berkas")
    resident_nik_disclose(resident=resident_a, office=office_a, user=desk_a,
                          reason="Verifikasi KTP")
    record_access(desk_a, kind=AccessKind.RESIDENT, residents=[resident_b],
                  office=office_a, reason="Orang lain")
    answer = as_resident(resident_a).get(ACCESS_LOG)
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 2
    assert [row["kind"] for row in body["results"]] == ["full_nik", "application"]
    nik, access = body["results"]
    assert access == {
        "at": viewed.at.astimezone(ZoneInfo("Asia/Jakarta")).isoformat(),
        "office": "3275", "office_name": "Disdukcapil Kota Bekasi", "role": "front_desk",
        "role_label": "Petugas informasi (front desk)",
        "kind": "application", "what": "Berkas permohonan", "record": application_a.number,
        "reason": "Memeriksa berkas"}
    assert (nik["office"], nik["role"], nik["reason"]) == ("3275", "front_desk",
                                                           "Verifikasi KTP")
    text = answer.text
    for secret in ("desk-a", "Siti", "Rahmawati", "Orang lain"):
        assert secret not in text
    # Another resident sees only theirs.
    theirs = as_resident(resident_b).get(ACCESS_LOG).json()
    assert [(row["kind"], row["reason"]) for row in theirs["results"]] == [
        ("resident", "Orang lain")]


def test_the_access_log_labels_are_indonesian_by_default_english_on_request(
        as_resident, resident_a, office_a, desk_a, admin_user):
    record_access(desk_a, kind=AccessKind.RESIDENT, residents=[resident_a], office=office_a,
                  reason="r1")
    record_access(admin_user, kind=AccessKind.EXPORT, residents=[resident_a], office=None,
                  reason="r2")
    api = as_resident(resident_a)
    rows = api.get(ACCESS_LOG).json()["results"]
    assert [(r["role"], r["role_label"], r["kind"], r["what"], r["office"]) for r in rows] == [
        ("superuser", "Administrator sistem", "export", "Data yang diekspor", None),
        ("front_desk", "Petugas informasi (front desk)", "resident", "Data penduduk",
         "3275")]
    english = api.get(ACCESS_LOG, headers={"Accept-Language": "en"}).json()["results"]
    assert [(r["role_label"], r["what"]) for r in english] == [
        ("System administrator", "Exported rows"), ("Front desk", "Resident record")]
    assert admin_user.username not in api.get(ACCESS_LOG).text


# --- Export ---------------------------------------------------------------------------


def _records_of(resident, office, make_staff, tag: str) -> dict:
    """One record of every kind for `resident` at `office`, each carrying `tag` where
    it has free text: a booking with a sent document, a case whose card is out for
    delivery (card, hand-over, delivery), a complaint with its response, a served
    visit (ticket) with its survey answer, notifications, a correction request, an
    access and a full-NIK disclosure."""
    courier = make_staff(office, Role.COURIER, username=f"kurir-{tag}")
    desk = make_staff(office, Role.FRONT_DESK, username=f"loket-{tag}")
    humas = make_staff(office, Role.PUBLIC_RELATIONS, username=f"humas-{tag}")
    wednesday = MONDAY + timedelta(days=2)
    slots_ensure(office=office, start=wednesday, end=wednesday)
    lost_card = Service.objects.get(office=office, code="KTP_HILANG")
    slot = Slot.objects.filter(lane=lost_card.lane, date=wednesday).order_by("starts_at")[0]
    booking = book(resident, lost_card, slot)
    BookingDocument.objects.filter(booking=booking, requirement__code="KK").update(
        file=f"bookings/{office.id}/{booking.id}/kk-{tag}.pdf", content_type="application/pdf",
        size=12345, uploaded_at=NOW)
    delivery = assigned_delivery(ApplicationFactory(office=office, resident=resident), courier)
    complaint = complaint_file(resident=resident, office=office, text=f"Keluhan {tag}",
                               application=delivery.application)
    complaint_respond(complaint=complaint, text=f"Jawaban {tag}", channel="app", by=humas)
    ticket = served_visit(office, resident, make_staff, counter_number=20)
    survey = SurveyAnswer.objects.create(
        office=office, application=ticket.application, resident=resident,
        **dict.fromkeys(["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"], 3),
        comment=f"Komentar {tag}")
    correction = correction_request_create(resident=resident, field="address",
                                           value=f"Jalan {tag} 1", note=f"Catatan {tag}")
    record_access(desk, kind=AccessKind.RESIDENT, residents=[resident], office=office,
                  reason=f"Alasan {tag}")
    resident_nik_disclose(resident=resident, office=office, user=desk, reason=f"NIK {tag}")
    return {"booking": booking, "delivery": delivery, "complaint": complaint,
            "ticket": ticket, "survey": survey, "correction": correction}


def test_the_export_holds_every_kind_of_record_and_nothing_of_another_resident(
        as_resident, resident_a, resident_b, office_a, office_b, make_staff):
    mine = _records_of(resident_a, office_a, make_staff, "punya-A")
    theirs = _records_of(resident_b, office_b, make_staff, "punya-B")
    answer = as_resident(resident_a).get(EXPORT)
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="e-open-data.json"'
    data = answer.json()
    assert data["profile"]["nik"] == resident_a.nik
    assert data["profile"]["name"] == "Budi Santoso"
    numbers = {a["number"] for a in data["applications"]}
    assert numbers == {mine["delivery"].application.number, mine["ticket"].application.number,
                       mine["booking"].application.number}
    assert all(a["timeline"] for a in data["applications"])
    assert [b["code"] for b in data["bookings"]] == [mine["booking"].code]
    sent = [d for d in data["documents"] if d["file_name"]]
    assert [(d["file_name"], d["content_type"], d["size"]) for d in sent] == [
        ("kk-punya-A.pdf", "application/pdf", 12345)]
    # The delivered case's card, and the served visit's (its print is planned).
    assert {c["application"] for c in data["cards"]} == set(
        Card.objects.filter(application__resident=resident_a)
        .values_list("application__number", flat=True))
    assert mine["delivery"].application.number in {c["application"] for c in data["cards"]}
    assert sorted(h["application"] for h in data["handovers"]) == sorted(
        Handover.objects.filter(application__resident=resident_a)
        .values_list("application__number", flat=True))
    assert "delivery" in {h["method"] for h in data["handovers"]}
    assert [d["id"] for d in data["deliveries"]] == [mine["delivery"].id]
    assert [c["reference"] for c in data["complaints"]] == [mine["complaint"].reference]
    assert [r["text"] for r in data["complaints"][0]["responses"]] == ["Jawaban punya-A"]
    assert [t["code"] for t in data["tickets"]] == [mine["ticket"].code]
    assert [s["comment"] for s in data["survey_answers"]] == ["Komentar punya-A"]
    assert [c["value"] for c in data["correction_requests"]] == ["Jalan punya-A 1"]
    assert {e["reason"] for e in data["access_log"]} == {"Alasan punya-A", "NIK punya-A"}
    assert data["notifications"]
    assert {n["id"] for n in data["notifications"]} == set(
        Notification.objects.filter(resident=resident_a).values_list("id", flat=True))
    text = answer.text
    # (The courier's name is in the timeline, as GET /applications/ shows it: the
    # resident is told who comes to the door. The desk's and PR's are nowhere.)
    assert "punya-B" not in text
    for value in (resident_b.nik, resident_b.name, theirs["booking"].code,
                  theirs["complaint"].reference, theirs["delivery"].application.number,
                  "loket-punya-A", "humas-punya-A"):
        assert value not in text
    # Staff of office A (or anyone) cannot read it: the endpoint is the resident's.
    assert as_resident(resident_b).get(EXPORT).json()["profile"]["nik"] == resident_b.nik


def test_the_export_reads_a_fixed_number_of_queries(client, resident_a, office_a,
                                                    make_staff, desk_a):
    _records_of(resident_a, office_a, make_staff, "satu")
    token = tokens_for_resident(resident_a)["access"]

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(EXPORT, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
        return len(captured)

    before = queries()
    for n in range(3):
        record_access(desk_a, kind=AccessKind.RESIDENT, residents=[resident_a],
                      office=office_a, reason=f"lagi {n}")
        complaint = complaint_file(resident=resident_a, office=office_a, text=f"lagi {n}")
        complaint_respond(complaint=complaint, text="ok", channel="app",
                          by=make_staff(office_a, Role.PUBLIC_RELATIONS))
        correction_request_create(resident=resident_a, field="kecamatan", value=f"Kec {n}")
        ApplicationFactory(office=office_a, resident=resident_a)
    assert queries() == before


# --- Correction requests --------------------------------------------------------------


def test_a_resident_asks_for_a_correction_and_lists_their_own(as_resident, resident_a,
                                                              resident_b, office_a):
    api = as_resident(resident_a)
    answer = api.post(CORRECTIONS, json={"field": "address", "value": "Jl. Melati 3",
                                         "note": "Pindah rumah"})
    assert answer.status_code == 201
    made = CorrectionRequest.objects.get()
    body = answer.json()
    assert body == {
        "id": made.id, "office": "3275", "office_name": "Disdukcapil Kota Bekasi",
        "field": "address", "field_label": "alamat domisili", "value": "Jl. Melati 3",
        "note": "Pindah rumah", "status": "open", "status_label": "Terbuka", "reply": "",
        "created_at": body["created_at"], "handled_at": None}
    assert (made.resident, made.office, made.requested_value) == (
        resident_a, office_a, "Jl. Melati 3")
    # The brief's name of the value is accepted too.
    assert api.post(CORRECTIONS, json={"field": "email",
                                       "requested_value": "budi@contoh.id"}).status_code == 201
    assert [r["field"] for r in api.get(CORRECTIONS).json()["results"]] == ["email", "address"]
    assert as_resident(resident_b).get(CORRECTIONS).json() == {
        "count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(("body", "code", "detail"), [
    ({"field": "hair", "value": "x"}, "invalid_choice", None),
    ({"field": "address"}, "required", "value: Tulis nilai yang benar."),
    ({"field": "email", "value": "bukan-email"}, "email_invalid",
     "Masukkan alamat e-mail yang valid."),
    ({"field": "birth_date", "value": "12-03-1985"}, "birth_date_invalid",
     "Tulis tanggal lahir sebagai YYYY-MM-DD."),
    ({"field": "sex", "value": "X"}, "sex_invalid", "Jenis kelamin adalah M atau F."),
    ({"field": "name", "value": "Budi Santoso"}, "value_unchanged",
     "Nilai ini sudah sama dengan data kami."),
    ({"field": "address", "value": "x" * 256}, "max_length", None),
])
def test_bad_input_is_refused_in_indonesian_and_nothing_is_made(as_resident, resident_a,
                                                                body, code, detail):
    answer = as_resident(resident_a).post(CORRECTIONS, json=body)
    assert answer.status_code == 400
    assert answer.json()["code"] == code
    if detail:
        assert answer.json()["detail"] == detail
    assert not CorrectionRequest.objects.exists()


def test_no_office_and_too_many_open_are_clear_400s(as_resident, resident_a, office_a):
    homeless = ResidentFactory(domicile_office=None)
    answer = as_resident(homeless).post(CORRECTIONS, json={"field": "address", "value": "a"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "no_office"
    api = as_resident(resident_a)
    for n in range(5):
        assert api.post(CORRECTIONS, json={"field": "other", "value": f"v{n}"}).status_code == 201
    refused = api.post(CORRECTIONS, json={"field": "other", "value": "v6"})
    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "Anda sudah memiliki 5 permintaan perbaikan yang terbuka. Tunggu jawaban "
                  "loket sebelum meminta lagi.", "code": "too_many_open_requests"}
    assert CorrectionRequest.objects.count() == 5


def test_the_office_is_the_latest_case_files_without_a_domicile(as_resident, office_b):
    resident = ResidentFactory(domicile_office=None)
    ApplicationFactory(office=office_b, resident=resident)
    answer = as_resident(resident).post(CORRECTIONS, json={"field": "kelurahan",
                                                           "value": "Jatimulya"})
    assert answer.status_code == 201
    assert answer.json()["office"] == office_b.code


# --- The front desk's answer in admin -------------------------------------------------


def _change_url(request):
    return reverse("admin:registry_correctionrequest_change", args=[request.pk])


def test_the_desk_applies_an_address_and_the_resident_is_told(client, resident_a, desk_a,
                                                             as_resident):
    request = correction_request_create(resident=resident_a, field="address",
                                        value="Jl. Kenanga 7")
    client.force_login(desk_a)
    listed = client.get(reverse("admin:registry_correctionrequest_changelist"))
    assert [r.pk for r in listed.context["cl"].result_list] == [request.pk]
    assert client.get(_change_url(request)).status_code == 200
    answer = client.post(_change_url(request), {"answer": "corrected",
                                                "reply": "Alamat sudah kami ubah.",
                                                "_save": "1"})
    assert answer.status_code == 302
    resident_a.refresh_from_db()
    request.refresh_from_db()
    assert resident_a.address == "Jl. Kenanga 7"
    assert (request.status, request.reply, request.handled_by) == (
        CorrectionStatus.CORRECTED, "Alamat sudah kami ubah.", desk_a)
    told = Notification.objects.get(resident=resident_a, kind="correction.answered")
    assert told.title == "Data Anda telah diperbaiki"
    assert told.body == "Perbaikan alamat domisili Anda: Alamat sudah kami ubah."
    # The open list no longer shows it; the resident reads the reply, and the desk's
    # list and opening of the form are in the resident's access log (newest first)
    # without the desk's name.
    assert list(client.get(reverse("admin:registry_correctionrequest_changelist"))
                .context["cl"].result_list) == []
    api = as_resident(resident_a)
    assert api.get(CORRECTIONS).json()["results"][0]["reply"] == "Alamat sudah kami ubah."
    log = api.get(ACCESS_LOG)
    assert [(r["kind"], r["role"]) for r in log.json()["results"]] == [
        ("resident", "front_desk"), ("list", "front_desk")]
    assert "desk-a" not in log.text


def test_a_civil_registry_field_is_only_recorded(resident_a, desk_a):
    request = correction_request_create(resident=resident_a, field="name", value="Budi S.")
    correction_answer(request=request, by=desk_a, status=CorrectionStatus.CORRECTED,
                      reply="Diubah setelah memeriksa KK.")
    resident_a.refresh_from_db()
    assert resident_a.name == "Budi Santoso"
    request.refresh_from_db()
    assert request.status == CorrectionStatus.CORRECTED


def test_staff_of_another_office_can_neither_see_nor_answer(client, resident_a, desk_b):
    request = correction_request_create(resident=resident_a, field="address",
                                        value="Jl. Kenanga 7")
    client.force_login(desk_b)
    assert list(client.get(reverse("admin:registry_correctionrequest_changelist"))
                .context["cl"].result_list) == []
    assert client.get(_change_url(request)).status_code == 404
    assert client.post(_change_url(request), {"answer": "corrected", "reply": "x",
                                              "_save": "1"}).status_code == 404
    with pytest.raises(NotFound):
        correction_answer(request=request, by=desk_b, status=CorrectionStatus.CORRECTED,
                          reply="x")
    request.refresh_from_db()
    resident_a.refresh_from_db()
    assert request.status == CorrectionStatus.OPEN
    assert resident_a.address != "Jl. Kenanga 7"
    assert not Notification.objects.filter(kind="correction.answered").exists()


def test_a_supervisor_reads_but_cannot_answer(client, resident_a, make_staff, office_a):
    request = correction_request_create(resident=resident_a, field="address",
                                        value="Jl. Kenanga 7")
    supervisor = make_staff(office_a, Role.SUPERVISOR)
    client.force_login(supervisor)
    page = client.get(_change_url(request))
    assert page.status_code == 200
    assert b'name="answer"' not in page.content
    assert b"Jl. Kenanga 7" in page.content
    client.post(_change_url(request), {"answer": "corrected", "reply": "x", "_save": "1"})
    request.refresh_from_db()
    assert request.status == CorrectionStatus.OPEN
