"""A national deployment for the scale benchmarks: 514 offices (Indonesia's regencies
and cities) on one database, with their catalogues, staff, a busy past day and a
live day that gives every periodic task real work (`manage.py load_demo --national`,
tests/benchmarks/national_periodic.py).

`national_seed` does it in three steps:

1. the offices, as the core makes them (office_create, the standard catalogue, a
   staff member for every role, counter operators), then each app's setup of a new
   office (registry.extensions.NATIONAL_SETUP: the queues' counters, the
   appointments' lane plans);
2. the last working day before the live day, by every app's HISTORY part
   (registry.demo_history: bookings, queue days, central work, hand-overs,
   complaints), all of it closed as the sweeps would have left it;
3. the live day (`national_day`), by every app's NATIONAL_DAY part, in bulk: what
   the periodic work finds due at `moment` (10:00 in the western zone on the live
   day): yesterday's no-shows still booked, cases past their re-booking limit,
   today's and the next working day's bookings not yet reminded, cards waiting for
   home delivery with the couriers on duty, open counters idle while people wait,
   and a booking window with only its first days made.

Office codes and names are generated: a province's regencies are <province>01.., its
cities <province>71.., in the province's time zone, with as many regencies and cities
per province as the country has (514 in all: 416 regencies and 98 cities).
"""

import time as time_module
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from registry import extensions
from registry.calendar import office_is_working_day, office_local, office_zone
from registry.models import Office, Role

# (province code, name, time zone, regencies, cities): Kemendagri's 38 provinces.
PROVINCES = [
    ("11", "Aceh", "Asia/Jakarta", 18, 5),
    ("12", "Sumatera Utara", "Asia/Jakarta", 25, 8),
    ("13", "Sumatera Barat", "Asia/Jakarta", 12, 7),
    ("14", "Riau", "Asia/Jakarta", 10, 2),
    ("15", "Jambi", "Asia/Jakarta", 9, 2),
    ("16", "Sumatera Selatan", "Asia/Jakarta", 13, 4),
    ("17", "Bengkulu", "Asia/Jakarta", 9, 1),
    ("18", "Lampung", "Asia/Jakarta", 13, 2),
    ("19", "Kepulauan Bangka Belitung", "Asia/Jakarta", 6, 1),
    ("21", "Kepulauan Riau", "Asia/Jakarta", 5, 2),
    ("31", "DKI Jakarta", "Asia/Jakarta", 1, 5),
    ("32", "Jawa Barat", "Asia/Jakarta", 18, 9),
    ("33", "Jawa Tengah", "Asia/Jakarta", 29, 6),
    ("34", "DI Yogyakarta", "Asia/Jakarta", 4, 1),
    ("35", "Jawa Timur", "Asia/Jakarta", 29, 9),
    ("36", "Banten", "Asia/Jakarta", 4, 4),
    ("51", "Bali", "Asia/Makassar", 8, 1),
    ("52", "Nusa Tenggara Barat", "Asia/Makassar", 8, 2),
    ("53", "Nusa Tenggara Timur", "Asia/Makassar", 21, 1),
    ("61", "Kalimantan Barat", "Asia/Jakarta", 12, 2),
    ("62", "Kalimantan Tengah", "Asia/Jakarta", 13, 1),
    ("63", "Kalimantan Selatan", "Asia/Makassar", 11, 2),
    ("64", "Kalimantan Timur", "Asia/Makassar", 7, 3),
    ("65", "Kalimantan Utara", "Asia/Makassar", 4, 1),
    ("71", "Sulawesi Utara", "Asia/Makassar", 11, 4),
    ("72", "Sulawesi Tengah", "Asia/Makassar", 12, 1),
    ("73", "Sulawesi Selatan", "Asia/Makassar", 21, 3),
    ("74", "Sulawesi Tenggara", "Asia/Makassar", 15, 2),
    ("75", "Gorontalo", "Asia/Makassar", 5, 1),
    ("76", "Sulawesi Barat", "Asia/Makassar", 6, 0),
    ("81", "Maluku", "Asia/Jayapura", 9, 2),
    ("82", "Maluku Utara", "Asia/Jayapura", 8, 2),
    ("91", "Papua", "Asia/Jayapura", 8, 1),
    ("92", "Papua Barat", "Asia/Jayapura", 7, 0),
    ("93", "Papua Selatan", "Asia/Jayapura", 4, 0),
    ("94", "Papua Tengah", "Asia/Jayapura", 8, 0),
    ("95", "Papua Pegunungan", "Asia/Jayapura", 8, 0),
    ("96", "Papua Barat Daya", "Asia/Jayapura", 5, 1),
]
NATIONAL_OFFICES = sum(regencies + cities for _c, _n, _z, regencies, cities in PROVINCES)
ROLES = [Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR, Role.COURIER,
         Role.PUBLIC_RELATIONS]
# The live day's moment, in the western zone: offices are open everywhere (11:00 WITA,
# 12:00 WIT), today's later bookings still wait for their morning reminder, and each
# office's dispatch time (07:00 by default) has come.
MOMENT_WIB = time(10, 0)
WIB = "Asia/Jakarta"


def national_specs(count: int = NATIONAL_OFFICES) -> list[tuple[str, str, str]]:
    """(code, name, time zone) of `count` offices, spread over the provinces in
    proportion to their real numbers (all of them when `count` is 514)."""
    specs = []
    for code, province, zone, regencies, cities in PROVINCES:
        specs += [(f"{code}{n:02d}", f"Disdukcapil Kabupaten {province} {n}", zone)
                  for n in range(1, regencies + 1)]
        specs += [(f"{code}{70 + n:02d}", f"Disdukcapil Kota {province} {n}", zone)
                  for n in range(1, cities + 1)]
    if count >= len(specs):
        return specs
    # Every k-th, so a smaller deployment keeps the three zones' shares.
    step = len(specs) / count
    return [specs[int((n + 0.5) * step)] for n in range(count)]


def counter_count(office: Office) -> int:
    """How many counters an office has: nine to twelve, more in a city; with
    queues.demo_history's walk-ins per counter and the bookings checked in, a busy day
    of about 150 tickets."""
    return 9 + int(office.code) % 3 + (1 if office.code[2] == "7" else 0)


def offices_create(*, count: int = NATIONAL_OFFICES, stdout=None) -> list[Office]:
    """The offices of `national_specs(count)` not made yet, with their catalogue and
    staff (a member for every role, an operator per counter and a spare), then each
    app's NATIONAL_SETUP part. In code order."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from registry.services.offices import catalogue_seed, office_create
    from registry.services.staff import roles_sync, staff_membership_grant

    roles_sync()
    taken = set(Office.objects.values_list("code", flat=True))
    users = get_user_model().objects
    made = []
    for code, name, zone in national_specs(count):
        if code in taken:
            continue
        # One transaction (one COMMIT, one flush of the log) per office, not one per
        # statement: three times as fast.
        with transaction.atomic():
            office = office_create(code=code, name=name, timezone_name=zone)
            catalogue_seed(office=office)
            staff = [(role, role) for role in ROLES] + [
                (Role.COUNTER_OPERATOR, f"operator{k}")
                for k in range(1, counter_count(office) + 2)]
            for role, suffix in staff:
                user = users.create(username=f"{code}.{suffix}", first_name=suffix,
                                    last_name=name)
                staff_membership_grant(user=user, office=office, role=role)
        made.append(office)
        if stdout is not None and len(made) % 50 == 0:
            stdout.write(f"  {len(made)} offices made")
    for part in extensions.registered(extensions.NATIONAL_SETUP):
        with transaction.atomic():
            part(offices=made)
    return made


def live_day(office: Office, now: datetime) -> date:
    """The live day: the first working day of `office` (one of the western zone) from
    `now`'s date there."""
    day = now.astimezone(office_zone(office)).date()
    while not office_is_working_day(office, day):
        day += timedelta(days=1)
    return day


def live_moment(office: Office, day: date) -> datetime:
    """The moment the live day is seen at: MOMENT_WIB on `day` at `office` (one of
    the western zone)."""
    return office_local(office, day, MOMENT_WIB)


def previous_working_day(office: Office, day: date) -> date:
    day -= timedelta(days=1)
    while not office_is_working_day(office, day):
        day -= timedelta(days=1)
    return day


def next_working_day(office: Office, day: date) -> date:
    day += timedelta(days=1)
    while not office_is_working_day(office, day):
        day += timedelta(days=1)
    return day


def national_day(*, offices: list[Office], moment: datetime, seed: int = 1,
                 stdout=None) -> dict[str, int]:
    """Each app's NATIONAL_DAY part for each office, one transaction per office; the
    rows written per model. Written once: an office whose live day is there already
    (its Sequence "national") is left out."""
    import random
    from collections import Counter

    from django.db import transaction

    from registry.demo_history import tables_analyze
    from registry.models import Sequence

    day = moment.astimezone(ZoneInfo(WIB)).date()
    done = set(Sequence.objects.filter(scope=NATIONAL_SCOPE, value=day.toordinal())
               .values_list("office_id", flat=True))
    totals: Counter = Counter()
    for n, office in enumerate(offices):
        if office.id in done:
            continue
        rng = random.Random(f"{seed}:{office.code}:{day.isoformat()}")  # noqa: S311
        with transaction.atomic():
            for part in extensions.registered(extensions.NATIONAL_DAY):
                totals.update(part(office=office, day=day, moment=moment, rng=rng) or {})
            Sequence.objects.update_or_create(office=office, scope=NATIONAL_SCOPE,
                                              defaults={"value": day.toordinal()})
        if stdout is not None and (n + 1) % 100 == 0:
            stdout.write(f"  live day of {n + 1} offices written")
    tables_analyze(dict(totals))
    return dict(totals)


# The office's Sequence row whose value is the ordinal of its live day.
NATIONAL_SCOPE = "national"


def national_seed(*, count: int = NATIONAL_OFFICES, history_days: int = 1, seed: int = 1,
                  now: datetime | None = None, stdout=None) -> dict:
    """The national deployment (module docstring): the offices made, the live day and
    its moment, the rows of the history and of the live day per model."""
    from django.utils import timezone

    from registry.demo_history import history_seed

    now = now or timezone.now()
    clock = time_module.monotonic()

    def took(what: str) -> None:
        nonlocal clock
        if stdout is not None:
            stdout.write(f"  {what}: {time_module.monotonic() - clock:.1f} s")
        clock = time_module.monotonic()

    offices = offices_create(count=count, stdout=stdout)
    took(f"{len(offices)} offices made")
    all_offices = list(Office.objects.filter(
        code__in=[code for code, _name, _zone in national_specs(count)]).order_by("code"))
    reference = next(o for o in all_offices if o.timezone == WIB)
    day = live_day(reference, now)
    moment = live_moment(reference, day)
    history = {}
    if history_days > 0 and offices:
        end = previous_working_day(offices[0], day)
        history = history_seed(offices=offices, days=history_days, seed=seed, end=end,
                               stdout=None)
        took(f"history of {len(offices)} offices")
    live = national_day(offices=all_offices, moment=moment, seed=seed, stdout=stdout)
    took(f"live day of {len(all_offices)} offices")
    return {"offices": all_offices, "made": len(offices), "day": day, "moment": moment,
            "history": history, "live": live}
