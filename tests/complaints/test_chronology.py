"""The chronology assembled from the records of the apps that exist: the case file,
the central link (outage, transmissions, printing) and the hand-over and delivery;
editing before publishing, findings resting on the records, the redacted response."""

import pytest

from complaints import chronology as assembler
from complaints.models import ChronologyEdit
from complaints.services.chronology import (
    chronology_edit,
    chronology_generate,
    chronology_publish,
    finding_add,
)
from complaints.services.follow_ups import follow_up_record
from complaints.services.responses import complaint_respond
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Notification, Role
from tests.complaints import kota_bekasi as kb
from tests.factories import ResidentFactory, card_stock_for

pytestmark = pytest.mark.django_db

EXPECTED = [
    ("Pada Selasa, 31 Mei 2022 pukul 19.40 WIB, berkas 3275-2022-00001 (Perubahan tanda "
    "tangan atau foto KTP-el) dibuka melalui aplikasi e-Open."),
    ("Pada Jumat, 1 Juli 2022 pukul 09.00 sampai 13.00 WIB, jaringan kantor ke server pusat "
    "Kemendagri terputus, sehingga data tidak dapat dikirim dan KTP-el tidak dapat dicetak. "
    "Pekerjaan yang tertunda dikirim otomatis setelah jaringan pulih."),
    ("Pada Jumat, 1 Juli 2022 pukul 09.10 WIB, setelah pelayanan di loket, perubahan data "
    "diantrekan untuk dikirim ke server pusat Kemendagri."),
    ("Pada Jumat, 1 Juli 2022 pukul 09.10 WIB, pengiriman data ke server pusat gagal karena "
    "jaringan terputus; data menunggu dan dikirim ulang secara otomatis."),
    "Pada Jumat, 1 Juli 2022 pukul 13.01 WIB, server pusat menerima perubahan data.",
    "Pada Jumat, 1 Juli 2022 pukul 13.02 WIB, KTP-el dicetak.",
    "Pada Jumat, 1 Juli 2022 pukul 14.00 WIB, pemohon memilih pengantaran KTP-el ke rumah.",
    ("Pada Senin, 4 Juli 2022 pukul 10.15 WIB, KTP-el diantar ke rumah pemohon dan diterima "
    "oleh istri pemohon dengan menyebutkan kode tanda terima; foto dan lokasi serah terima "
    "tercatat. Kantor tutup pada Sabtu, 2 Juli 2022 (akhir pekan) dan Minggu, 3 Juli 2022 "
    "(akhir pekan), sehingga KTP-el diantar pada hari kerja berikutnya."),
    ("Pada Senin, 4 Juli 2022 pukul 19.05 WIB, pemohon mengunggah pengaduan di Instagram. "
    "Kantor mencatatnya pada Selasa, 5 Juli 2022 pukul 08.15 WIB."),
]


@pytest.fixture
def case(office_a, make_staff, humas_a):
    card_stock_for(office_a, on_hand=100)
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="op-a")
    courier = make_staff(office_a, Role.COURIER, username="kurir-a")
    budi, _siti = kb.residents(office_a)
    application = kb.open_case(office_a, budi)
    kb.counter_done_during_outage(application, operator=operator)
    kb.home_delivery_to_spouse(application, courier=courier)
    return kb.instagram_post_logged(office_a, humas=humas_a)


def test_the_chronology_states_the_outage_the_printing_and_the_delivery(case):
    points = assembler.assemble(case)
    assert [p["text"] for p in points] == EXPECTED
    assert [p["n"] for p in points] == list(range(1, 10))
    outage = points[1]["sources"]
    assert [(s["type"], s["label"]) for s in outage] == [
        ("outage", "gangguan jaringan 01-07-2022 09.00")]
    delivered = points[7]["sources"]
    assert [s["type"] for s in delivered] == ["delivery", "handover"]


def test_no_point_names_another_person_or_shows_a_full_nik(case):
    text = " ".join(p["text"] for p in assembler.assemble(case))
    assert "Siti" not in text
    assert kb.BUDI_NIK not in text
    assert {"Siti Rahmawati", kb.BUDI_NIK} <= assembler.private_terms(case)


def test_staff_edit_before_publishing_and_both_versions_are_kept(case, humas_a):
    chronology = chronology_generate(complaint=case, by=humas_a)
    texts = [p["text"] for p in chronology.points]
    texts[7] = texts[7].replace("istri pemohon", "istri pemohon, Ibu Siti Rahmawati,")
    texts.append("Petugas loket telah diberi pembinaan.")
    chronology_edit(chronology=chronology, texts=texts, by=humas_a,
                    note="Tambah butir pembinaan")
    chronology.refresh_from_db()
    assert [p["text"] for p in chronology.generated] == EXPECTED
    assert chronology.points[7]["edited"] is True
    assert chronology.points[7]["sources"] == chronology.generated[7]["sources"]
    assert chronology.points[9] == {"n": 10, "at": None, "text": "Petugas loket telah diberi "
                                    "pembinaan.", "sources": [], "edited": True}
    edit = ChronologyEdit.objects.get()
    assert ([p["text"] for p in edit.before], edit.by, edit.note) == (
        EXPECTED, humas_a, "Tambah butir pembinaan")
    published = chronology_publish(chronology=chronology, by=humas_a)
    # The wife's name typed by staff is redacted when published.
    assert "Siti" not in published.points[7]["text"]
    assert "istri pemohon, Ibu [warga lain]," in published.points[7]["text"]
    with pytest.raises(Conflict):
        chronology_edit(chronology=published, texts=["x"], by=humas_a)
    # Assembling again makes a new draft; the published version stays.
    again = chronology_generate(complaint=case, by=humas_a)
    assert (again.version, again.status) == (2, "draft")
    published.refresh_from_db()
    assert published.status == "published"


def test_findings_rest_on_the_records_of_the_case(case, humas_a, application_b):
    chronology_sources = assembler.sources_of(case)
    outage = next(key for key in chronology_sources if key[0] == "outage")
    finding = finding_add(
        complaint=case, claim="Server pusat mati seharian", verdict="partly",
        explanation="Jaringan terputus 09.00 sampai 13.00, bukan seharian.",
        evidence=[outage], by=humas_a)
    assert (finding.position, finding.evidence) == (
        1, [{"type": "outage", "id": outage[1], "label": "gangguan jaringan 01-07-2022 09.00"}])
    # A record of another case (another office's case event) is refused.
    other_event = application_b.events.first()
    with pytest.raises(DomainError) as refused:
        finding_add(complaint=case, claim="x", verdict="upheld", explanation="y",
                    evidence=[("case_event", other_event.id)], by=humas_a)
    assert refused.value.code == "evidence_not_in_case"
    with pytest.raises(DomainError):
        finding_add(complaint=case, claim="x", verdict="upheld", explanation="y",
                    evidence=[], by=humas_a)
    assert case.findings.count() == 1


def test_the_public_response_never_shows_a_full_nik_or_another_residents_data(
        case, humas_a, office_a):
    other = ResidentFactory(domicile_office=office_a, name="Rina Marlina")
    text = (f"Yth. Bapak Budi (NIK {kb.BUDI_NIK}), KTP-el Anda diterima istri Anda, "
            f"Siti Rahmawati (NIK {kb.SITI_NIK}, HP 0812-3450-0002). Warga lain dengan NIK "
            f"{other.nik[:4]} {other.nik[4:8]} {other.nik[8:12]} {other.nik[12:]}, Rina Marlina, "
            "dilayani di lajur B.")
    response = complaint_respond(complaint=case, text=text, channel="instagram",
                                 by=humas_a)
    assert response.text == (
        "Yth. Bapak Budi (NIK ************0001), KTP-el Anda diterima istri Anda, "
        "[warga lain] (NIK ************0002, HP *********002). Warga lain dengan NIK "
        f"************{other.nik[-4:]}, [warga lain], dilayani di lajur B.")
    assert response.redactions == 6
    for secret in (kb.BUDI_NIK, kb.SITI_NIK, "Siti", other.nik, "081234500002", "Rina"):
        assert secret not in response.text
    told = Notification.objects.filter(resident=case.resident, kind="complaint.response").get()
    assert told.body == f"{case.reference}: {response.text}"


def test_follow_up_is_recorded_by_supervisors_only(case, humas_a, supervisor_a,
                                                   supervisor_b, make_staff, office_a):
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="op-loket-c")
    with pytest.raises(NotFound):
        follow_up_record(complaint=case, action="coaching", decision="Pembinaan",
                         by=humas_a, staff_member=operator)
    with pytest.raises(NotFound):
        follow_up_record(complaint=case, action="coaching", decision="Pembinaan",
                         by=supervisor_b, staff_member=operator)
    assert case.follow_ups.count() == 0
    follow_up = follow_up_record(
        complaint=case, action="coaching", by=supervisor_a, staff_member=operator,
        decision="Petugas pemeriksa persyaratan dibina: periksa surat kehilangan saat "
                 "pemesanan.")
    assert (follow_up.decided_by, follow_up.action, follow_up.staff_member) == (
        supervisor_a, "coaching", operator)
