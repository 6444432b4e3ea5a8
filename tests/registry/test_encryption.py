"""NIKs and phones encrypted at rest (registry.encryption, issue 17)."""

import base64
import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from registry.encryption import (
    ColumnSpec,
    DecryptionError,
    decrypt,
    encrypt,
    key_id_of,
    lookup_hash,
    reencrypt_column,
)
from registry.models import OtpChallenge, Resident, Role
from tests.factories import ResidentFactory

KEY1 = base64.b64encode(b"1" * 32).decode()
KEY2 = base64.b64encode(b"2" * 32).decode()
LOOKUP = base64.b64encode(b"L" * 32).decode()
NIK_RE = re.compile(r"(?<!\d)\d{16}(?!\d)")
UUID_HEX = re.compile(r"^[0-9a-f]{32}$")


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_round_trip_carries_the_current_key_id(settings):
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{KEY2},k1:{KEY1}"
    settings.FIELD_LOOKUP_KEY = LOOKUP
    token = encrypt("3275011203850001")
    assert token.startswith("k2$")
    assert "3275011203850001" not in token
    assert decrypt(token) == "3275011203850001"
    assert encrypt("3275011203850001") != token  # a fresh nonce each time
    assert encrypt("") == ""
    assert decrypt("") == ""


def test_unknown_key_id_and_tampering_fail_loudly(settings):
    settings.FIELD_ENCRYPTION_KEYS = f"k1:{KEY1}"
    settings.FIELD_LOOKUP_KEY = LOOKUP
    token = encrypt("081234500001")
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{KEY2}"
    with pytest.raises(DecryptionError, match="No key with id 'k1'"):
        decrypt(token)
    settings.FIELD_ENCRYPTION_KEYS = f"k1:{KEY2}"  # the id known, the key wrong
    with pytest.raises(DecryptionError, match="fails authentication"):
        decrypt(token)
    settings.FIELD_ENCRYPTION_KEYS = f"k1:{KEY1}"
    data = bytearray(base64.urlsafe_b64decode(token[3:]))
    data[-1] ^= 1
    with pytest.raises(DecryptionError, match="fails authentication"):
        decrypt("k1$" + base64.urlsafe_b64encode(bytes(data)).decode())
    with pytest.raises(DecryptionError, match="not ciphertext"):
        decrypt("3275011203850001")


def test_lookup_hash_is_keyed_and_normalised(settings):
    settings.FIELD_LOOKUP_KEY = LOOKUP
    assert lookup_hash("081234500001", normalizer="phone") == lookup_hash(
        "+6281234500001", normalizer="phone")
    first = lookup_hash("3275011203850001", normalizer="nik")
    settings.FIELD_LOOKUP_KEY = KEY1
    assert lookup_hash("3275011203850001", normalizer="nik") != first


@pytest.mark.django_db
def test_resident_row_holds_ciphertext_and_hashes(office_a):
    resident = ResidentFactory(domicile_office=office_a, nik="3275011203850001",
                               phone="+6281234500001")
    assert _raw("registry_resident", "nik", resident.pk).startswith("dev$")
    assert _raw("registry_resident", "nik_last4", resident.pk) == "0001"
    resident.refresh_from_db()
    assert (resident.nik, resident.phone) == ("3275011203850001", "+6281234500001")
    assert list(Resident.objects.filter(nik="3275011203850001")) == [resident]
    assert list(Resident.objects.with_nik("3275011203850001")) == [resident]
    assert list(Resident.objects.with_phone("081234500001")) == [resident]
    assert list(Resident.objects.filter(nik__in=["3275011203850001", "x"])) == [resident]
    assert not Resident.objects.filter(nik="3275011203850002").exists()
    assert list(Resident.objects.filter(phone="").values_list("pk", flat=True)) == []
    # save(update_fields) and update() keep the hash in step with the value.
    resident.phone = "+6281234509999"
    resident.save(update_fields=["phone"])
    assert list(Resident.objects.with_phone("081234509999")) == [resident]
    Resident.objects.filter(pk=resident.pk).update(phone="+6281234508888")
    assert list(Resident.objects.with_phone("081234508888")) == [resident]
    assert not Resident.objects.with_phone("081234509999").exists()


@pytest.mark.django_db
def test_a_nik_is_unique_through_its_hash(office_a):
    ResidentFactory(domicile_office=office_a, nik="3275011203850001")
    with pytest.raises(IntegrityError), transaction.atomic():
        ResidentFactory(domicile_office=office_a, nik="3275011203850001")
    assert Resident.objects.count() == 1


@pytest.mark.django_db
def test_admin_finds_a_resident_by_full_nik_or_last_four_in_own_office_only(
        client, office_a, office_b, make_staff):
    mine = ResidentFactory(domicile_office=office_a, nik="3275011203850001", name="Budi")
    theirs = ResidentFactory(domicile_office=office_b, nik="3216011203850001", name="Andi")
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    url = "/admin/registry/resident/"

    def found(term):
        response = client.get(url, {"q": term})
        assert response.status_code == 200
        return list(response.context["cl"].result_list)

    assert found("3275011203850001") == [mine]
    assert found("0001") == [mine]
    assert found("Budi") == [mine]
    assert found("3216011203850001") == []  # another office's resident
    assert found("Andi") == []
    assert found("32750112") == []  # a partial NIK other than the last 4 finds nothing
    assert theirs.pk != mine.pk


@pytest.mark.django_db
def test_rotation_moves_old_rows_and_is_idempotent(settings, office_a):
    settings.FIELD_ENCRYPTION_KEYS = f"k1:{KEY1}"
    settings.FIELD_LOOKUP_KEY = LOOKUP
    old = ResidentFactory(domicile_office=office_a, nik="3275011203850001")
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{KEY2},k1:{KEY1}"
    new = ResidentFactory(domicile_office=office_a, nik="3275011203850002")
    assert key_id_of(_raw("registry_resident", "nik", old.pk)) == "k1"
    assert key_id_of(_raw("registry_resident", "nik", new.pk)) == "k2"
    assert Resident.objects.get(pk=old.pk).nik == "3275011203850001"  # still readable
    out = _command("rotate_field_keys", "--batch-size", "1")
    assert "registry_resident.nik: 1 re-encrypted" in out
    assert "registry_resident.phone: 1 re-encrypted" in out
    assert key_id_of(_raw("registry_resident", "nik", old.pk)) == "k2"
    assert "0 values re-encrypted" in _command("rotate_field_keys")
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{KEY2}"  # the old key can go now
    assert Resident.objects.with_nik("3275011203850001").get().pk == old.pk


def _command(*args):
    from io import StringIO
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_data_migration_converts_a_plaintext_row(office_a):
    resident = ResidentFactory(domicile_office=office_a, nik="3275011203850001",
                               phone="+6281234500001")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_resident SET nik = %s, phone = %s, nik_hash = %s, "
                       "phone_hash = '', nik_last4 = '' WHERE id = %s",
                       ["3275011203850001", "+6281234500001", "legacy", resident.pk])
    for spec in (ColumnSpec("registry_resident", "nik", "nik", "nik_hash", "nik_last4"),
                 ColumnSpec("registry_resident", "phone", "phone", "phone_hash")):
        assert reencrypt_column(connection, spec, plaintext_ok=True) == 1
        assert reencrypt_column(connection, spec, plaintext_ok=True) == 0
    assert _raw("registry_resident", "nik", resident.pk).startswith("dev$")
    assert _raw("registry_resident", "nik_last4", resident.pk) == "0001"
    assert Resident.objects.with_nik("3275011203850001").get().phone == "+6281234500001"
    assert Resident.objects.with_phone("+6281234500001").get().pk == resident.pk


@pytest.mark.django_db
def test_otp_throttle_columns_are_hashed(resident_a):
    from datetime import timedelta

    from django.utils import timezone
    challenge = OtpChallenge.objects.create(
        nik=resident_a.nik, phone=resident_a.phone, code_hash="x",
        expires_at=timezone.now() + timedelta(minutes=5))
    assert _raw("registry_otpchallenge", "nik", challenge.pk).startswith("dev$")
    assert OtpChallenge.objects.filter(nik=resident_a.nik, phone=resident_a.phone).count() == 1


@pytest.mark.django_db(transaction=True)
def test_no_nik_or_phone_in_clear_anywhere_in_the_database():
    """The demo data (residents, bookings, tickets, hand-overs, SMS, sign-in codes,
    notifications, complaints, a few days of history), read back with raw SQL: no
    16-digit number and none of the residents' phone numbers in any text column."""
    call_command("load_demo", "--history-days", "1", quiet=True)
    residents = list(Resident.objects.all())
    assert len(residents) >= 16
    phones = {r.phone for r in residents if r.phone}
    # Any spelling: +62812..., 0812... and 812... share the last nine digits.
    tails = {phone[-9:] for phone in phones}
    assert tails
    leaks, scanned = [], 0
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            columns = [c.name for c in connection.introspection.get_table_description(
                cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes | memoryview):
                        continue
                    text = str(value) if value is not None else ""
                    if UUID_HEX.match(text):
                        continue  # a UUID as SQLite stores it: hex, not a number
                    scanned += 1
                    if NIK_RE.search(text) or any(tail in text for tail in tails):
                        leaks.append((table, column, text[:80]))
    assert scanned > 1000
    assert leaks == []
