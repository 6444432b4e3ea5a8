"""The NIK in the central jobs' payloads encrypted at rest (issue 17); the sender decrypts
it (registry.central.services.jobs.payload_in_clear)."""

from django.db import migrations

from registry.encryption import decrypt, encrypt, is_ciphertext

BATCH = 500


def _convert(apps, change):
    CentralJob = apps.get_model("central", "CentralJob")
    last = 0
    while True:
        jobs = list(CentralJob.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        for job in jobs:
            nik = (job.payload or {}).get("nik")
            new = change(nik) if isinstance(nik, str) and nik else None
            if new is not None and new != nik:
                job.payload = {**job.payload, "nik": new}
                job.save(update_fields=["payload"])
        if len(jobs) < BATCH:
            return
        last = jobs[-1].pk


def encrypt_payloads(apps, schema_editor):
    _convert(apps, lambda nik: nik if is_ciphertext(nik) else encrypt(nik))


def decrypt_payloads(apps, schema_editor):
    _convert(apps, lambda nik: decrypt(nik) if is_ciphertext(nik) else nik)


class Migration(migrations.Migration):

    dependencies = [
        ("central", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(encrypt_payloads, decrypt_payloads),
    ]
