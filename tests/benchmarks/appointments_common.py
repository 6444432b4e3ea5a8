"""What the appointments benchmarks share: a database of their own, offices in the
three Indonesian time zones, residents, tokens and the machine's description. Not a
benchmark itself."""

import os
import statistics
from contextlib import contextmanager
from datetime import date

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PYTEST_VERSION", "benchmark")  # test settings: memory broker
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

# Ten offices over WIB, WITA and WIT, so the sweeps work out each office's own day.
OFFICES = [
    ("3275", "Disdukcapil Kota Bekasi", "Asia/Jakarta"),
    ("3216", "Disdukcapil Kabupaten Bekasi", "Asia/Jakarta"),
    ("3171", "Disdukcapil Jakarta Pusat", "Asia/Jakarta"),
    ("3273", "Disdukcapil Kota Bandung", "Asia/Jakarta"),
    ("1271", "Disdukcapil Kota Medan", "Asia/Jakarta"),
    ("5171", "Disdukcapil Kota Denpasar", "Asia/Makassar"),
    ("7371", "Disdukcapil Kota Makassar", "Asia/Makassar"),
    ("6471", "Disdukcapil Kota Balikpapan", "Asia/Makassar"),
    ("8171", "Disdukcapil Kota Ambon", "Asia/Jayapura"),
    ("9171", "Disdukcapil Kota Jayapura", "Asia/Jayapura"),
]
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@contextmanager
def bench_database(suffix: str):
    """A fresh, migrated database of its own (<name>_<suffix> on PostgreSQL, a file
    under var/ on SQLite), dropped at the end. Yields its name."""
    old_name = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test["NAME"] = str(settings.VAR_DIR / f"bench-appointments-{suffix}.sqlite3")
    else:
        test["NAME"] = f"{old_name}_{suffix}"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def database_url(name: str) -> str:
    db = connection.settings_dict
    user, password = db.get("USER") or "", db.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{name}"


def offices_create(count: int):
    from registry.services.offices import catalogue_seed, office_create

    offices = []
    for code, name, zone in OFFICES[:count]:
        office = office_create(code=code, name=name, timezone_name=zone)
        catalogue_seed(office=office)
        offices.append(office)
    return offices


def booking_code(serial: int) -> str:
    """A distinct 8-character booking code for each serial (bulk-inserted rows)."""
    chars = []
    for _i in range(8):
        serial, digit = divmod(serial, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(reversed(chars))


def residents_create(office, count: int, *, start: int = 0, app_share: int = 2,
                     email_share: int = 5):
    """`count` residents of `office` in bulk, each with a phone (WhatsApp); one in
    `app_share` uses the app (push) and one in `email_share` gave an e-mail."""
    from django.utils import timezone

    from registry.models import Resident

    now = timezone.now()
    rows = []
    for n in range(start, start + count):
        rows.append(Resident(
            nik=f"{office.code}01{n:010d}"[:16], name=f"Warga {office.code}-{n}",
            birth_date=date(1990, 1, 1), phone=f"+62813{n:08d}",
            email=f"warga{n}@example.id" if n % email_share == 0 else "",
            domicile_office=office, app_registered_at=now if n % app_share == 0 else None))
    return Resident.objects.bulk_create(rows, batch_size=2000)


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values) -> float:
    return statistics.median(values)


from tests.benchmarks._machine import machine  # noqa: E402,F401
