"""Demo data of complaints, run by `manage.py load_demo` after the registry's and the
other apps'. Safe to run again: it creates only what is missing.

Kota Bekasi: the Instagram post of DESIGN.md linked to Budi Santoso's case by his NIK,
with its chronology assembled from the demo records and a first response; a
confidential SP4N-LAPOR! report; a resolved post on X. Kabupaten Bekasi: a Facebook
post and a WhatsApp message. Both offices get the standard response templates.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from complaints.models import Complaint, ComplaintSettings
from complaints.services.chronology import chronology_generate
from complaints.services.intake import complaint_log, source_key
from complaints.services.responses import (
    complaint_acknowledge,
    complaint_resolve,
    complaint_respond,
    templates_seed,
)
from registry.errors import DomainError
from registry.services.offices import office_settings_get


def _staff(username):
    return get_user_model().objects.filter(username=username).first()


def _log(office, humas, *, key_link, **values):
    channel = values["channel"]
    key = source_key(channel=channel, link=key_link,
                     lapor_tracking_id=values.get("lapor_tracking_id", ""))
    found = Complaint.objects.filter(office=office, channel=channel, source_key=key).first()
    if found is not None:
        return found, False
    return complaint_log(office=office, by=humas, link=key_link, **values), True


@transaction.atomic
def seed(*, offices: dict, stdout=None) -> None:
    """`offices` maps the demo prefixes ("kota", "kab") to their Office."""
    now = timezone.now()
    for office in offices.values():
        office_settings_get(ComplaintSettings, office=office)
        templates_seed(office=office)

    kota, kab = offices["kota"], offices["kab"]
    humas, supervisor = _staff("kota.humas"), _staff("kota.supervisor")
    if humas is not None:
        try:
            budi_post, created = _log(
                kota, humas, key_link="https://www.instagram.com/p/CfBudiKTP22/",
                channel="instagram", handle="@budi.santoso85",
                posted_at=now - timedelta(hours=20),
                text="Sudah tiga hari cuti cuma buat ganti tanda tangan KTP. Ada orang tanpa "
                     "nomor antrean dipanggil duluan, server pusat mati seharian, KTP malah "
                     "diantar ke rumah waktu saya kerja. @ridwankamil tolong!",
                category="queue_fairness", link_by="nik", link_value="3275011203850001",
                assignee=humas)
        except DomainError:
            # Budi has no case here yet (the other apps' demo data is not loaded).
            budi_post, created = _log(
                kota, humas, key_link="https://www.instagram.com/p/CfBudiKTP22/",
                channel="instagram", handle="@budi.santoso85",
                posted_at=now - timedelta(hours=20),
                text="Sudah tiga hari cuti cuma buat ganti tanda tangan KTP.",
                category="queue_fairness", assignee=humas)
        if created and budi_post.application_id:
            chronology_generate(complaint=budi_post, by=humas)
            complaint_acknowledge(
                complaint=budi_post, channel="instagram", by=humas,
                text=f"Terima kasih Pak Budi, laporan Anda ({budi_post.reference}) sedang "
                     "kami tangani; kronologi lengkap akan kami sampaikan.")
        _log(kota, humas, key_link="", channel="lapor", lapor_tracking_id="4451230",
             text="Petugas loket meminta uang untuk mempercepat pencetakan KTP.",
             category="staff_conduct", confidential=True, complainant_name="Pelapor LAPOR!",
             assignee=supervisor)
        resolved, created = _log(
            kota, humas, key_link="https://x.com/warga_bekasi/status/1542000000000000000",
            channel="x", handle="@warga_bekasi", posted_at=now - timedelta(days=3),
            text="Antrean loket C lama sekali, 3 jam belum dipanggil.",
            category="waiting_time")
        if created:
            complaint_respond(
                complaint=resolved, channel="x", by=humas,
                text="Mohon maaf atas waktu tunggunya. Hari itu jaringan ke server pusat "
                     "terganggu; papan antrean kini menampilkan perkiraan waktu tunggu.")
            complaint_resolve(complaint=resolved, channel="x", by=humas,
                              text="Terima kasih, laporan kami tutup.")

    humas_kab = _staff("kab.humas")
    if humas_kab is not None:
        _log(kab, humas_kab, key_link="https://www.facebook.com/permalink.php?story_fbid=99&id=1",
             channel="facebook", handle="Dewi Lestari", posted_at=now - timedelta(days=1),
             text="KTP-el saya belum dikirim padahal sudah dua minggu.", category="delivery")
        _log(kab, humas_kab, key_link="", channel="whatsapp", handle="+6281234500006",
             text="Syarat surat kehilangan dari polisi tidak disebut di aplikasi.",
             category="requirements", complainant_name="Andi Wijaya")
