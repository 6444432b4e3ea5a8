"""How long writing a year of past work for ten offices takes (registry.demo_history),
and the data set the dashboard's benchmarks read: `generate()` makes the offices and
their history.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_5 \\
        .venv/bin/python -m tests.benchmarks history_data [--offices 10] [--days 365]
        [--seed 1] [--no-timeline] [--check-references] [--keep | --in-place]

It creates its own test database (test_<name>_history, dropped at the end unless
--keep; on SQLite the settings' test file in var/), or with --in-place writes into the
database DATABASE_URL names (migrated already; nothing is dropped), then `generate`:
offices as the demo's core makes them (office_create, the standard catalogue, a staff
member for every role, a counter operator per counter and a spare), three to six
counters over lanes A, B and C in different orders, places per slot that follow the
counters, offices in the three time zones; then `--days` days of history ending
yesterday, office by office, through every app's HISTORY part (bookings, queue days,
central work and blank cards, hand-overs and deliveries, complaints and survey answers,
and every case's timeline unless --no-timeline). It prints the time of each office and
of the whole, and the rows written per table. The same seed and day give the same rows.

On PostgreSQL the foreign keys of the rows written are not checked where the database
role may skip them (a superuser; --check-references checks them, half as long again):
see `generate`.

Another benchmark builds on it:

    from tests.benchmarks.history_data import generate
    offices = generate(offices=10, days=365, seed=1)
"""

import argparse
import os
import secrets
import time
from contextlib import contextmanager

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PYTEST_VERSION", "benchmark")  # test settings: memory broker
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
django.setup()

from django.db import connection  # noqa: E402

from tests.benchmarks._machine import machine  # noqa: E402

# Offices of several provinces and time zones: (code, name, time zone, latitude, longitude).
OFFICES = [
    ("3273", "Disdukcapil Kota Bandung", "Asia/Jakarta", "-6.914700", "107.609800"),
    ("3578", "Disdukcapil Kota Surabaya", "Asia/Jakarta", "-7.257500", "112.752100"),
    ("5171", "Disdukcapil Kota Denpasar", "Asia/Makassar", "-8.670500", "115.212600"),
    ("7371", "Disdukcapil Kota Makassar", "Asia/Makassar", "-5.147700", "119.432700"),
    ("9171", "Disdukcapil Kota Jayapura", "Asia/Jayapura", "-2.533700", "140.718100"),
    ("1271", "Disdukcapil Kota Medan", "Asia/Jakarta", "3.595200", "98.672200"),
    ("3374", "Disdukcapil Kota Semarang", "Asia/Jakarta", "-6.966700", "110.416700"),
    ("3201", "Disdukcapil Kabupaten Bogor", "Asia/Jakarta", "-6.595000", "106.816700"),
    ("6471", "Disdukcapil Kota Balikpapan", "Asia/Makassar", "-1.237900", "116.852900"),
    ("8171", "Disdukcapil Kota Ambon", "Asia/Jayapura", "-3.695400", "128.181400"),
    ("3471", "Disdukcapil Kota Yogyakarta", "Asia/Jakarta", "-7.795600", "110.369500"),
    ("1671", "Disdukcapil Kota Palembang", "Asia/Jakarta", "-2.976100", "104.775400"),
]
ROLES = ["office_admin", "front_desk", "supervisor", "courier", "public_relations"]


def offices_create(count: int) -> list:
    """`count` new offices with their catalogue, staff, counters and places per slot
    (codes from OFFICES, then made-up ones of province 99 when more are asked)."""
    from django.contrib.auth import get_user_model

    from queues.services.counters import counter_create
    from registry.appointments.models import LaneSchedule
    from registry.models import Lane, Office, Role
    from registry.services.offices import catalogue_seed, office_create
    from registry.services.staff import roles_sync, staff_membership_grant

    roles_sync()
    taken = set(Office.objects.values_list("code", flat=True))
    specs = [spec for spec in OFFICES if spec[0] not in taken]
    number = 1
    while len(specs) < count:
        code = f"99{number:02d}"
        if code not in taken:
            specs.append((code, f"Disdukcapil Kabupaten Contoh {number}", "Asia/Jakarta",
                          None, None))
        number += 1
    users = get_user_model().objects
    created = []
    for n, (code, name, zone, latitude, longitude) in enumerate(specs[:count]):
        office = office_create(code=code, name=name, timezone_name=zone,
                               latitude=latitude, longitude=longitude)
        catalogue_seed(office=office)
        counters = 3 + n % 4
        staff = [(role, role) for role in ROLES] + [
            (Role.COUNTER_OPERATOR, f"operator{k}") for k in range(1, counters + 2)]
        for role, suffix in staff:
            user = users.create(username=f"{code}.{suffix}", first_name=suffix,
                                last_name=name)
            staff_membership_grant(user=user, office=office, role=role)
        lanes = list(Lane.objects.filter(office=office).order_by("letter"))
        for k in range(counters):
            shift = k % len(lanes)
            counter_create(office=office, number=k + 1, lanes=lanes[shift:] + lanes[:shift])
        # Places per slot follow the counters (the demo's Kota Bekasi: 3 or 4 for five).
        for lane in lanes:
            LaneSchedule.objects.create(office=office, lane=lane, slot_minutes=30,
                                        capacity=max(1, round(counters * 0.7)))
        created.append(office)
    return created


def generate(offices: int = 10, days: int = 365, seed: int = 1, timeline: bool = True,
             check_references: bool = False, stdout=None) -> list:
    """`offices` new offices with `days` days of history ending yesterday; they are
    returned in the order made. `timeline=False` leaves out the cases' timelines
    (CaseEvent, two rows in five) for a benchmark that reads none of them.

    On PostgreSQL the foreign keys of the rows written are not checked unless
    `check_references` (a third of the time), where the database role may skip them
    (a superuser: session_replication_role, as pg_restore --disable-triggers does): the
    rows are consistent by construction, and tests/registry/test_demo_history.py checks
    every reference of the demo's history."""
    from registry.demo_history import history_seed

    made = offices_create(offices)
    with _references_unchecked(not check_references):
        history_seed(offices=made, days=days, seed=seed, timeline=timeline, stdout=stdout)
    return made


@contextmanager
def _references_unchecked(wanted: bool):
    skip = False
    if wanted and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            skip = bool(cursor.fetchone()[0])
    if skip:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        if skip:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")


class _Printer:
    def write(self, text: str) -> None:
        print(text, flush=True)


@contextmanager
def _database(keep: bool, in_place: bool):
    if in_place:
        yield connection.settings_dict["NAME"]
        return
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{old_name}_history"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield name
    finally:
        if keep:
            print(f"Kept the database {name}.")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


def _counts() -> dict[str, int]:
    from django.apps import apps

    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offices", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-timeline", action="store_true",
                        help="leave out the cases' timelines (CaseEvent)")
    parser.add_argument("--check-references", action="store_true",
                        help="let PostgreSQL check the foreign keys of every row written")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", action="store_true",
                       help="keep the test database at the end (its name is printed)")
    where.add_argument("--in-place", action="store_true",
                       help="write into DATABASE_URL's database itself (migrated), not a "
                            "test database")
    args = parser.parse_args()
    with _database(args.keep, args.in_place) as name:
        print(f"{machine()}; database {name}")
        before = _counts()
        started = time.perf_counter()
        generate(offices=args.offices, days=args.days, seed=args.seed,
                 timeline=not args.no_timeline, check_references=args.check_references,
                 stdout=_Printer())
        took = time.perf_counter() - started
        after = _counts()
        written = {label: after[label] - before.get(label, 0) for label in after
                   if after[label] != before.get(label, 0)}
        total = sum(written.values())
        print(f"\n{args.offices} offices, {args.days} days: {total:,} rows in {took:.1f} s "
              f"({total / took:,.0f} rows/s)")
        for label, count in sorted(written.items(), key=lambda item: -item[1]):
            print(f"  {count:>10,}  {label}")


if __name__ == "__main__":
    main()
