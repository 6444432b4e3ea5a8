"""The wording of booking and queue facts, from plain records (the adapters reading
registry.appointments and queues feed these once those apps' models land)."""

import pytest
from django.utils import translation

from complaints.collectors import (
    BookingRecord,
    CallRecord,
    CaseContext,
    TicketRecord,
    booking_facts,
    queue_facts,
)
from tests.complaints.kota_bekasi import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(office_a):
    return CaseContext(office=office_a, application=None, complaint=None)


def test_a_lapsed_booking_and_the_rebooking(ctx):
    bookings = [
        BookingRecord(1, "BK-7Q2M", at(2022, 5, 31, 19, 40), at(2022, 6, 8, 9, 0),
                      expired_at=at(2022, 6, 8, 15, 0)),
        BookingRecord(2, "BK-9XK4", at(2022, 6, 29, 20, 5), at(2022, 7, 1, 8, 0),
                      checked_in_at=at(2022, 7, 1, 7, 30)),
    ]
    with translation.override("id"):
        texts = [fact.text for fact in booking_facts(ctx, bookings)]
    assert texts == [
        ("Pada Selasa, 31 Mei 2022 pukul 19.40 WIB, pemohon memesan jadwal kunjungan melalui "
        "aplikasi e-Open untuk Rabu, 8 Juni 2022 pukul 09.00 WIB (kode pemesanan BK-7Q2M)."),
        ("Pemohon tidak datang pada Rabu, 8 Juni 2022; pemesanan BK-7Q2M kedaluwarsa otomatis "
        "pada Rabu, 8 Juni 2022 pukul 15.00 WIB dan pemohon diberi tahu."),
        ("Pada Rabu, 29 Juni 2022 pukul 20.05 WIB, pemohon memesan ulang untuk Jumat, 1 Juli "
        "2022 pukul 08.00 WIB (kode pemesanan BK-9XK4)."),
        ("Pada Jumat, 1 Juli 2022 pukul 07.30 WIB, pemohon melakukan check-in di kantor dengan "
        "kode pemesanan BK-9XK4."),
    ]


def test_another_lanes_call_while_the_resident_waited_is_told_as_another_lane(ctx):
    ticket = TicketRecord(
        10, "C-001", "C", "Perubahan biodata", at(2022, 7, 1, 7, 30),
        calls=(CallRecord(21, "C-001", "C", "Perubahan biodata", "5", at(2022, 7, 1, 8, 0)),),
        finished_at=at(2022, 7, 1, 9, 10))
    others = [
        CallRecord(20, "B-014", "B", "Perekaman biometrik", "2", at(2022, 7, 1, 7, 55)),
        CallRecord(22, "B-015", "B", "Perekaman biometrik", "2", at(2022, 7, 1, 8, 20)),
        CallRecord(19, "A-003", "A", "Informasi", "1", at(2022, 7, 1, 7, 10)),
    ]
    with translation.override("id"):
        facts = queue_facts(ctx, ticket, others, other_people=("Rina Marlina",))
    assert [fact.text for fact in facts] == [
        ("Pada Jumat, 1 Juli 2022 pukul 07.30 WIB, pemohon mengambil nomor antrean C-001 di "
        "lajur C (Perubahan biodata)."),
        ("Pada Jumat, 1 Juli 2022 pukul 07.55 WIB, nomor B-014 dari lajur B (Perekaman "
        "biometrik) dipanggil ke loket 2. Itu lajur lain dengan antreannya sendiri, bukan "
        "lajur C (Perubahan biodata) tempat nomor C-001 pemohon menunggu."),
        "Pada Jumat, 1 Juli 2022 pukul 08.00 WIB, nomor C-001 pemohon dipanggil ke loket 5.",
    ]
    assert [s.label for s in facts[1].sources] == ["panggilan B-014, lajur B, loket 2"]
    assert ctx.presence == [(at(2022, 7, 1, 7, 30), at(2022, 7, 1, 9, 10))]
    assert "Rina Marlina" in ctx.private_terms
