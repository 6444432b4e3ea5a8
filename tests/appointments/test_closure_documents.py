from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.appointments import selectors
from registry.appointments.models import Booking, DocumentReview, Slot
from registry.appointments.services.booking_documents import (
    booking_document_review,
    booking_document_upload,
)
from registry.appointments.services.closures import closure_declare
from registry.errors import Conflict, DomainError
from registry.models import Application, ApplicationStatus, CaseEvent, Closure, Notification
from tests.appointments.conftest import book

WEDNESDAY = date(2026, 7, 1)
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_sudden_closure_tells_everyone_booked_and_offers_next_free_slots(
        office_a, resident_a, lost_card, slot_on, make_staff):
    admin = make_staff(office_a, "office_admin")
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    booking = book(resident_a, lost_card, slot)
    # The two first slots of Thursday are full; the first free ones are offered.
    for start in ("08:00", "08:30"):
        Slot.objects.filter(pk=slot_on(lost_card, date(2026, 7, 2), start).pk).update(booked=4)
    closure_declare(office=office_a, day=WEDNESDAY, reason="Pemadaman listrik",
                    by=admin)
    assert Closure.objects.filter(office=office_a, date=WEDNESDAY).exists()
    booking.refresh_from_db()
    slot.refresh_from_db()
    assert (booking.status, booking.cancel_reason, slot.booked, slot.is_closed) == \
        ("cancelled", "Pemadaman listrik", 0, True)
    application = Application.objects.get(pk=booking.application_id)
    assert (application.status, application.rebook_until) == \
        (ApplicationStatus.OPEN, date(2026, 7, 29))
    note = Notification.objects.filter(resident=resident_a).latest("id")
    assert note.title == "Kantor tutup pada 1 Juli 2026"
    assert ("Waktu kosong berikutnya: 2 Juli 2026 09:00; 2 Juli 2026 09:30; 2 Juli 2026 "
            "10:00.") in note.body
    assert CaseEvent.objects.filter(application=application,
                                    kind="booking.cancelled_by_closure").count() == 1
    assert not selectors.slots_bookable(office=office_a, service=lost_card,
                                        date_from=WEDNESDAY, date_to=WEDNESDAY).exists()


def test_upload_checks_type_by_content_and_size(office_a, resident_a, lost_card, slot_on):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY))
    fake = SimpleUploadedFile("laporan.pdf", b"MZ\x90\x00 not a pdf at all",
                              content_type="application/pdf")
    with pytest.raises(DomainError) as error:
        booking_document_upload(booking=booking, requirement_code="SURAT_KEHILANGAN",
                                upload=fake)
    assert error.value.code == "file_type_not_allowed"
    big = SimpleUploadedFile("big.png", PNG + b"\0" * (2 * 1024 * 1024),
                             content_type="image/png")
    with pytest.raises(DomainError) as error:
        booking_document_upload(booking=booking, requirement_code="SURAT_KEHILANGAN",
                                upload=big)
    assert error.value.code == "file_too_large"
    with pytest.raises(DomainError) as error:
        booking_document_upload(booking=booking, requirement_code="PASPOR",
                                upload=SimpleUploadedFile("x.png", PNG))
    assert error.value.code == "requirement_unknown"
    assert not booking.documents.exclude(file="").exists()

    # Named .jpg but a PDF inside: accepted as what it is.
    document = booking_document_upload(
        booking=booking, requirement_code="SURAT_KEHILANGAN",
        upload=SimpleUploadedFile("foto.jpg", PDF, content_type="image/jpeg"))
    assert (document.content_type, document.review, document.size) == \
        ("application/pdf", DocumentReview.PENDING, len(PDF))
    assert document.file.name.endswith(".pdf")
    assert list(selectors.documents_awaiting_review(office=office_a)) == [document]


def test_review_accept_or_reject_with_reason_tells_the_resident(office_a, office_b, resident_a,
                                                               lost_card, slot_on, make_staff):
    desk = make_staff(office_a, "front_desk")
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY))
    kk = booking_document_upload(booking=booking, requirement_code="KK",
                                 upload=SimpleUploadedFile("kk.png", PNG))
    report = booking_document_upload(booking=booking,
                                     requirement_code="SURAT_KEHILANGAN",
                                     upload=SimpleUploadedFile("lap.pdf", PDF))
    assert not selectors.documents_awaiting_review(office=office_b).exists()
    booking_document_review(document=kk, accept=True, by=desk)
    with pytest.raises(DomainError):
        booking_document_review(document=report, accept=False, reason="", by=desk)
    booking_document_review(document=report, accept=False,
                            reason="Nama pada surat tidak sesuai KTP", by=desk)
    with pytest.raises(Conflict):
        booking_document_review(document=report, accept=True, by=desk)
    report.refresh_from_db()
    assert (report.review, report.reject_reason, report.reviewed_by) == \
        (DocumentReview.REJECTED, "Nama pada surat tidak sesuai KTP", desk)
    note = Notification.objects.get(resident=resident_a, kind="booking.document_rejected")
    assert note.title == "Surat keterangan kehilangan dari Kepolisian perlu diperbaiki"
    assert "tidak bisa menerimanya: Nama pada surat tidak sesuai KTP. Bawalah dokumen" in \
        note.body
    assert "Minta di Polsek atau Polres terdekat" in note.body
    assert not selectors.documents_awaiting_review(office=office_a).exists()
    # A new file after a rejection is reviewed again.
    booking_document_upload(booking=booking, requirement_code="SURAT_KEHILANGAN",
                            upload=SimpleUploadedFile("lap2.pdf", PDF))
    assert selectors.documents_awaiting_review(office=office_a).count() == 1
    assert Booking.objects.get(pk=booking.pk).status == "booked"


def test_a_closure_entered_in_admin_tells_the_booked_residents(client, office_a, resident_a,
                                                                lost_card, slot_on,
                                                                make_staff):
    from django.urls import reverse

    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY))
    client.force_login(make_staff(office_a, "office_admin"))
    answer = client.post(reverse("admin:registry_closure_add"), {
        "office": office_a.pk, "date": "2026-07-01", "reason": "Banjir"})
    assert answer.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "Banjir")
    assert Notification.objects.filter(resident=resident_a,
                                       kind="booking.cancelled_by_closure").count() == 1


def test_the_booking_qr_draws_exactly_the_modules_of_the_code():
    import re

    import qrcode

    from registry.appointments.documents import QR_BORDER, booking_qr_svg

    svg = booking_qr_svg("K7QM2X9P").decode()
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    drawn = [[False] * size for _y in range(size)]
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", svg):
        for dx in range(int(run)):
            drawn[int(y)][int(x) + dx] = True
    # The symbol as the library makes it on its own, with the same quiet zone.
    symbol = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                           border=QR_BORDER)
    symbol.add_data("K7QM2X9P")
    assert drawn == symbol.get_matrix()
    assert size == 21 + 2 * QR_BORDER  # version 1: eight characters fit the smallest
