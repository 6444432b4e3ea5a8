"""Done means (issue 6): the Kota Bekasi complaint of DESIGN.md, replayed with its records
through the apps' own services, yields a generated chronology that states the same
facts as the office's nine points (lane B versus lane C, the outage 09:00 to 13:00,
delivery to the spouse on Monday), a finding per claim, a response within deadline,
and the staff follow-up hidden from public-relations officers who are not supervisors;
and the resident sees the status and the response in the app.

The records of bookings (registry.appointments) and of tickets and calls (queues) are
written by those apps; while they do not exist this test fails and says which stage is
waiting on which app (kota_bekasi.booking_lapsed_then_rebooked, .queue_day)."""

import pytest
from django.urls import reverse

from complaints import chronology as assembler
from complaints.services.chronology import chronology_generate, finding_add
from complaints.services.follow_ups import follow_up_record
from complaints.services.responses import complaint_acknowledge, complaint_respond
from registry.errors import NotFound
from registry.models import Role
from tests.complaints import kota_bekasi as kb
from tests.factories import card_stock_for

pytestmark = pytest.mark.django_db(transaction=True)

# The facts of the office's nine points, as the chronology must state them.
FACTS = {
    "sent away at the door on 30 May to book in the app": "Senin, 30 Mei 2022 pukul 09.30 WIB",
    "booking made in the app on 31 May": "Pada Selasa, 31 Mei 2022 pukul 19.40 WIB, pemohon "
                                         "memesan jadwal",
    "the missed booking lapsed": "kedaluwarsa",
    "re-booked on 29 June for 1 July": "29 Juni 2022",
    "ticket C-001 of lane C": "C-001",
    "the expired police letter found at the counter": kb.EXPIRED_LETTER,
    "B-014 called from lane B, another lane": "B-014",
    "lane B named": "lajur B",
    "lane C named": "lajur C",
    "outage 09:00 to 13:00": "Pada Jumat, 1 Juli 2022 pukul 09.00 sampai 13.00 WIB, "
                             "jaringan kantor ke server pusat Kemendagri terputus",
    "card printed after the link returned": "Pada Jumat, 1 Juli 2022 pukul 13.02 WIB, "
                                            "KTP-el dicetak.",
    "delivered to the spouse on Monday": "Pada Senin, 4 Juli 2022 pukul 10.15 WIB, KTP-el "
                                         "diantar ke rumah pemohon dan diterima oleh istri "
                                         "pemohon",
    "closed on the weekend": "Kantor tutup pada Sabtu, 2 Juli 2022 (akhir pekan) dan "
                             "Minggu, 3 Juli 2022 (akhir pekan)",
    "the Instagram post": "pemohon mengunggah pengaduan di Instagram",
}


def test_the_kota_bekasi_complaint_replayed_with_its_records(
        office_a, make_staff, client, as_resident):
    card_stock_for(office_a, on_hand=100)
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="kota.operator")
    courier = make_staff(office_a, Role.COURIER, username="kota.courier")
    humas = make_staff(office_a, Role.PUBLIC_RELATIONS, username="kota.humas")
    supervisor = make_staff(office_a, Role.SUPERVISOR, username="kota.supervisor")
    desk = make_staff(office_a, Role.FRONT_DESK, username="kota.desk")
    budi, _siti = kb.residents(office_a)

    waiting = []
    kb.turned_away_at_the_door(office_a, budi, desk_staff=desk)
    application = kb.open_case(office_a, budi)
    waiting.append(kb.booking_lapsed_then_rebooked(office_a, budi, application))
    waiting.append(kb.queue_day(office_a, application, operator=operator))
    waiting.append(kb.police_letter_expired_at_counter(application, operator=operator))
    kb.counter_done_during_outage(application, operator=operator)
    kb.home_delivery_to_spouse(application, courier=courier)
    complaint = kb.instagram_post_logged(office_a, humas=humas)

    # The chronology, generated from the records.
    with kb.travel(2022, 7, 5, 9, 0):
        chronology = chronology_generate(complaint=complaint, by=humas)
    text = "\n".join(p["text"] for p in chronology.generated)
    stated = {fact: needle in text for fact, needle in FACTS.items()}

    # A finding per claim of the post, each resting on the records it cites.
    sources = assembler.sources_of(complaint)
    by_type = {}
    for (kind, pk), _label in sources.items():
        by_type.setdefault(kind, []).append((kind, pk))
    with kb.travel(2022, 7, 5, 14, 0):
        if by_type.get("call"):
            finding_add(
                complaint=complaint, by=humas, verdict="not_upheld",
                claim="Orang tanpa nomor antrean dipanggil lebih dulu",
                explanation="Yang dipanggil adalah B-014 dari lajur B (perekaman biometrik), "
                            "lajur lain dengan nomornya sendiri; C-001 dipanggil pukul 08.00.",
                evidence=by_type["call"])
        finding_add(
            complaint=complaint, by=humas, verdict="partly",
            claim="Server pusat mati seharian",
            explanation="Jaringan ke server pusat terputus pukul 09.00 sampai 13.00, bukan "
                        "seharian; data dikirim otomatis setelah pulih dan KTP-el dicetak "
                        "pukul 13.02.",
            evidence=by_type["outage"] + by_type["card"])
        finding_add(
            complaint=complaint, by=humas, verdict="not_upheld",
            claim="KTP-el diantar ke rumah saat pemohon bekerja",
            explanation="Pemohon memilih pengantaran ke rumah; KTP-el diterima istrinya "
                        "pada Senin, hari kerja pertama setelah dicetak.",
            evidence=by_type["delivery"] + by_type["handover"])

    # The response, within the deadline, told to the resident.
    with kb.travel(2022, 7, 6, 10, 0):
        complaint_acknowledge(complaint=complaint, channel="instagram", by=humas,
                              text="Terima kasih, laporan Anda kami tangani.")
        complaint_respond(
            complaint=complaint, channel="instagram", by=humas,
            text="Yth. Bapak Budi, kronologi dan temuan kami sampaikan bersama jawaban ini.")
    complaint.refresh_from_db()
    respond = complaint.deadlines.get(kind="respond")
    assert respond.met_at == kb.at(2022, 7, 6, 10, 0)
    assert respond.due_at == kb.at(2022, 7, 12, 8, 15)
    assert respond.within is True

    # Follow-up of staff: decided by the supervisor, hidden from public relations.
    with kb.travel(2022, 7, 6, 11, 0):
        follow_up_record(
            complaint=complaint, action="coaching", by=supervisor, staff_member=operator,
            decision="Pembinaan: periksa surat kehilangan dan masa berlakunya saat "
                     "pemesanan, jelaskan lajur antrean kepada warga.")
    with pytest.raises(NotFound):
        follow_up_record(complaint=complaint, action="warning", by=humas,
                         decision="x", staff_member=operator)
    client.force_login(humas)
    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert "Pembinaan: periksa surat kehilangan" not in page.content.decode()
    client.force_login(supervisor)
    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert "Pembinaan: periksa surat kehilangan" in page.content.decode()

    # The resident sees the status and the response in the app.
    mine = as_resident(budi).get("/api/v1/complaints/").json()["results"]
    assert [(c["reference"], c["status"]) for c in mine] == [
        (complaint.reference, "responded")]
    assert mine[0]["response"].startswith("Yth. Bapak Budi, kronologi dan temuan")

    # What the nine points state, and the finding on each of the three claims.
    missing_facts = sorted(fact for fact, ok in stated.items() if not ok)
    waiting_on = [reason for reason in waiting if reason]
    assert (missing_facts, complaint.findings.count(), waiting_on) == ([], 3, []), (
        "Chronology:\n" + text)

