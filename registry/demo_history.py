"""Past records for the demo and the benchmarks: days of an office's work written in
bulk, as the services would have left them, so that charts over weeks and months have a
shape (`manage.py load_demo` writes 60 days for the demo offices; the benchmarks a year
for many offices, tests/benchmarks/history_data.py).

`history_seed` runs each app's part (registry.extensions.HISTORY) office by office, in
the order the apps registered them (INSTALLED_APPS), one transaction per office: an app
reads the rows the apps before it wrote (the queues read the bookings, the deliveries
the cards) and writes its own in bulk (registry.services.bulk_sql: COPY on PostgreSQL).
This module gives them what the core owns: the day's load, residents and case files with
their numbers, and the timeline.

Only working days (the office's week, closures and national holidays) have visits.
Records are never written for today or later, nor anything that would make the sweeps
act on a past day: every ticket is closed, every booking used, expired or cancelled. No
notifications are written (their outbox would send them now).

Safe to run again: an office's history is written once for each day. A marker (the
office's Sequence "history", the ordinal of the day of the run) keeps the next run to
the days after that one (the demo's live data sits on the day it was loaded).
"""

import hashlib
import random
from collections import Counter
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from registry import extensions
from registry.calendar import (
    OfficeCalendar,
    national_holiday,
    office_local,
    office_today,
    office_zone,
)
from registry.models import (
    Application,
    CaseEvent,
    Office,
    PhoneType,
    Resident,
    Sequence,
    StaffMembership,
)
from registry.services.bulk_sql import instance, objects_insert, rows_insert
from registry.services.sequences import sequence_take
from registry.timeline import is_known_kind

# The office's Sequence row whose value is the ordinal of the day history last ran.
HISTORY_SCOPE = "history"
# Whether this run writes the cases' timelines (history_seed's `timeline`).
_TIMELINE: ContextVar[bool] = ContextVar("history_timeline", default=True)

# A Monday is busiest, a Friday (the long midday prayer) the quietest working day.
WEEKDAY_LOAD = (1.15, 1.05, 1.0, 0.97, 0.8, 0.6, 0.5)

MALE_NAMES = ["Agus", "Ahmad", "Andi", "Arif", "Bayu", "Budi", "Dani", "Dedi", "Eko",
              "Fajar", "Hadi", "Hendra", "Imam", "Indra", "Joko", "Rizky", "Rudi", "Slamet",
              "Teguh", "Wahyu", "Yusuf", "Bambang", "Gilang", "Iwan", "Nanang", "Taufik"]
FEMALE_NAMES = ["Ani", "Ayu", "Dewi", "Dian", "Endang", "Fitri", "Indah", "Lestari", "Lina",
                "Maya", "Nur", "Putri", "Ratna", "Rina", "Sari", "Siti", "Sri", "Tuti",
                "Wati", "Yuni", "Nurul", "Eka", "Kartika", "Mega", "Novi", "Rahma"]
FAMILY_NAMES = ["Santoso", "Wijaya", "Saputra", "Hidayat", "Kurniawan", "Setiawan",
                "Pratama", "Nugroho", "Lestari", "Rahmawati", "Susanti", "Gunawan", "Siregar",
                "Nasution", "Hutapea", "Simanjuntak", "Purnomo", "Wibowo", "Sulistyo",
                "Hakim", "Maulana", "Permana", "Ramadhan", "Firmansyah", "Suryani", ""]
STREETS = ["Melati", "Mawar", "Kenanga", "Cempaka", "Anggrek", "Flamboyan", "Merdeka",
           "Pahlawan", "Diponegoro", "Sudirman", "Kartini", "Veteran", "Pemuda", "Nusantara",
           "Raya Pasar", "Masjid", "Siliwangi", "Gatot Subroto", "Teratai", "Dahlia"]
KELURAHAN = ["Sukamaju", "Mekarsari", "Margahayu", "Sukajadi", "Harapan Jaya", "Jatimulya",
             "Sumberjaya", "Karangasih", "Jayamukti", "Sukaresmi", "Wanasari", "Sukadanau",
             "Kranji", "Pekayon", "Duren Jaya", "Bojong Menteng", "Cimuning", "Mustikasari"]
# The kecamatan of the demo's two offices; other offices get their city's quarters.
KECAMATAN = {
    "3275": ["Bantargebang", "Bekasi Barat", "Bekasi Selatan", "Bekasi Timur",
             "Bekasi Utara", "Jatiasih", "Jatisampurna", "Medan Satria", "Mustikajaya",
             "Pondokgede", "Pondokmelati", "Rawalumbu"],
    "3216": ["Babelan", "Cibitung", "Cikarang Barat", "Cikarang Pusat", "Cikarang Selatan",
             "Cikarang Timur", "Cikarang Utara", "Serang Baru", "Setu", "Tambun Selatan",
             "Tambun Utara", "Tarumajaya"],
}
QUARTERS = ["Tengah", "Utara", "Selatan", "Timur", "Barat", "Baru", "Jaya", "Kota"]


def history_seed(*, offices: list[Office], days: int, seed: int = 1, end: date | None = None,
                 timeline: bool = True, stdout=None) -> dict[str, int]:
    """Write `days` days of history ending `end` (default: yesterday at each office)
    for each office, by every app's HISTORY part in turn; the rows written per model.
    An office gets only days after its last run's day (see the module docstring).
    `timeline=False` leaves out the cases' timelines (CaseEvent, two rows in five),
    for a benchmark that reads none of them."""
    token = _TIMELINE.set(timeline)
    try:
        return _seed(offices, days, seed, end, stdout)
    finally:
        _TIMELINE.reset(token)


class _Analyzed:
    """Rows written per table this run, and how many there were at its last ANALYZE."""

    def __init__(self):
        self.written: Counter = Counter()
        self.at: dict[str, int] = {}

    def due(self, label: str, count: int) -> bool:
        self.written[label] += count
        if not count or (label in self.at and self.written[label] < 2 * self.at[label]):
            return False
        self.at[label] = self.written[label]
        return True


def _seed(offices, days, seed, end, stdout) -> dict[str, int]:
    totals: Counter = Counter()
    analyzed = _Analyzed()
    for office in offices:
        today = office_today(office)
        last = min(end or today - timedelta(days=1), today - timedelta(days=1))
        first = last - timedelta(days=days - 1)
        marker = Sequence.objects.filter(office=office, scope=HISTORY_SCOPE).first()
        if marker is not None:
            first = max(first, date.fromordinal(marker.value) + timedelta(days=1))
        if first > last:
            continue
        # One generator per office and seed: the same office gets the same history,
        # offices made anew (other ids) other booking codes and receipt codes.
        rng = random.Random(f"{seed}:{office.id}:{first.isoformat()}")  # noqa: S311
        written: Counter = Counter()
        with transaction.atomic():
            for part in extensions.registered(extensions.HISTORY):
                rows = part(offices=[office], start=first, end=last, rng=rng,
                            stdout=stdout) or {}
                written.update(rows)
                # The next part reads these tables: after a bulk write PostgreSQL's
                # statistics are stale and its plans can take minutes instead of ms.
                # Once a table has doubled since its last ANALYZE: an ANALYZE samples
                # up to 30,000 rows, and after each of hundreds of small offices it
                # would cost more than writing them.
                tables_analyze({label: count for label, count in rows.items()
                                if analyzed.due(label, count)})
            Sequence.objects.update_or_create(office=office, scope=HISTORY_SCOPE,
                                              defaults={"value": today.toordinal()})
        if not _TIMELINE.get():
            written.pop("registry.CaseEvent", None)
        totals.update(written)
        if stdout is not None:
            stdout.write(f"  History of {office.name}, {first:%d-%m-%Y} to {last:%d-%m-%Y}: "
                         f"{sum(written.values()):,} rows.")
    return dict(totals)


def tables_analyze(rows: dict[str, int]) -> None:
    """ANALYZE the tables of the models (app_label.Model) that got rows, on PostgreSQL
    (allowed inside a transaction; SQLite plans without statistics)."""
    if connection.vendor != "postgresql":
        return
    # The parts name their models; the core knows none of them, so it looks each label
    # up among all installed models.
    tables = {model._meta.label: model._meta.db_table for model in apps.get_models()}
    with connection.cursor() as cursor:
        for label, count in rows.items():
            if count and label in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(tables[label])}")


def office_staff(office: Office, role: str) -> list:
    """The office's active staff in `role`, oldest membership first."""
    return [m.user for m in StaffMembership.objects.filter(
        office=office, role=role, user__is_active=True).select_related("user").order_by("id")]


def working_days(office: Office, start: date, end: date) -> list[date]:
    return OfficeCalendar(office, start, end).working_days()


def day_load(office: Office, day: date) -> float:
    """How busy the office is on `day` compared with an ordinary day (about 0.6 to
    1.5): the weekday, the first days of a month and after a holiday are busier, and
    each office and day has its own noise. The same for every app, so a day with many
    bookings has many walk-ins too."""
    digest = hashlib.sha256(f"{office.code}:{day.isoformat()}".encode()).digest()
    noise = 0.8 + 0.4 * digest[0] / 255
    load = WEEKDAY_LOAD[day.weekday()] * noise
    if day.day <= 5:
        load *= 1.08
    if national_holiday(day - timedelta(days=1)) or national_holiday(day - timedelta(days=3)):
        load *= 1.2
    # Some offices are busier than others; a small steady growth over the year.
    if office.code not in KECAMATAN:
        load *= 0.85 + 0.3 * digest[1] / 255
    return load * (1 + 0.0004 * (day.toordinal() % 365))


def moment(office: Office, day: date, minutes: float) -> datetime:
    """The instant `minutes` after midnight of `day` at the office."""
    return office_local(office, day, time.min) + timedelta(minutes=minutes)


def at_work(office: Office, calendar: OfficeCalendar, day: date, rng: random.Random,
            earliest: float = 0.0, latest: float = 1.0) -> datetime:
    """A random moment within the office's hours on `day` (a working day), between the
    `earliest` and `latest` share of the day."""
    hours = calendar.hours_on(day)
    opens = hours.opens.hour * 60 + hours.opens.minute
    closes = hours.closes.hour * 60 + hours.closes.minute
    return moment(office, day, opens + (closes - opens) * rng.uniform(earliest, latest))


def _city(office: Office) -> str:
    for prefix in ("Disdukcapil Kota ", "Disdukcapil Kabupaten ", "Disdukcapil "):
        if office.name.startswith(prefix):
            return office.name.removeprefix(prefix)
    return office.name


def kecamatan_of(office: Office) -> list[str]:
    return KECAMATAN.get(office.code) or [f"{_city(office)} {q}" for q in QUARTERS]


def nik_for(office: Office, *, district: int, born: date, female: bool, serial: int) -> str:
    """A NIK of the office's region: district, birth date (day + 40 for women), serial."""
    day = born.day + (40 if female else 0)
    return f"{office.code}{district:02d}{day:02d}{born:%m%y}{serial:04d}"


def residents_create(*, office: Office, rng: random.Random, moments: list[datetime],
                     at_desk: bool = False) -> list[Resident]:
    """New residents domiciled at the office, one registered at each of `moments` (in
    the app, or at the desk with their card seen: `at_desk`), with NIKs of the office's
    region not taken yet. In the order of `moments`."""
    districts = kecamatan_of(office)
    rows, niks = [], set()
    for registered in moments:
        female = rng.random() < 0.52
        born = date(rng.randint(1950, 2008), rng.randint(1, 12), rng.randint(1, 28))
        district = rng.randrange(len(districts))
        while True:
            nik = nik_for(office, district=district + 1, born=born, female=female,
                          serial=rng.randint(2000, 9999))
            if nik not in niks:
                break
        niks.add(nik)
        given = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        family = rng.choice(FAMILY_NAMES)
        roll = rng.random()
        phone_type = (PhoneType.SMARTPHONE if roll < 0.75 else
                      PhoneType.FEATURE_PHONE if roll < 0.95 else PhoneType.NONE)
        phone = ("" if phone_type == PhoneType.NONE
                 else f"+628{rng.randint(11, 99)}{rng.randint(10_000_000, 99_999_999)}")
        latitude = longitude = None
        if office.latitude is not None and office.longitude is not None:
            latitude = (Decimal(office.latitude) + Decimal(f"{rng.gauss(0, 0.025):.6f}")
                        ).quantize(Decimal("0.000001"))
            longitude = (Decimal(office.longitude) + Decimal(f"{rng.gauss(0, 0.025):.6f}")
                         ).quantize(Decimal("0.000001"))
        rows.append(instance(
            Resident, nik=nik, name=f"{given} {family}".strip(), birth_date=born,
            sex="F" if female else "M", phone=phone, phone_type=phone_type,
            address=f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 120)} "
                    f"RT {rng.randint(1, 12):02d}/RW {rng.randint(1, 9):02d}",
            kecamatan=districts[district], kelurahan=rng.choice(KELURAHAN),
            latitude=latitude, longitude=longitude, domicile_office=office,
            phone_bound_at=registered if phone_type == PhoneType.SMARTPHONE else None,
            app_registered_at=registered if phone_type == PhoneType.SMARTPHONE else None,
            identity_verified_at=registered if at_desk else None, created_at=registered))
    taken = _niks_taken([r.nik for r in rows])
    for resident in rows:
        while resident.nik in taken:  # an earlier run's resident: another serial
            resident.nik = resident.nik[:12] + f"{rng.randint(2000, 9999):04d}"
        taken.add(resident.nik)
    return objects_insert(rows)


def _niks_taken(niks: list[str]) -> set[str]:
    taken = set()
    for n in range(0, len(niks), 900):  # SQLite's limit of parameters per statement
        taken.update(Resident.objects.filter(nik__in=niks[n:n + 900])
                     .values_list("nik", flat=True))
    return taken


def applications_create(*, office: Office, applications: list[Application]
                        ) -> list[Application]:
    """Write new case files of the office (unsaved Application rows with their
    resident, service, channel, status and created_at) with the next numbers of their
    year, in the order they were opened, and "opened" on each timeline."""
    applications = sorted(applications, key=lambda a: a.created_at)
    by_year: dict[int, list[Application]] = {}
    for application in applications:
        local_year = application.created_at.astimezone(office_zone(office)).year
        by_year.setdefault(local_year, []).append(application)
    for year, rows in by_year.items():
        first = sequence_take(office=office, scope=f"application:{year}", count=len(rows))
        for n, application in enumerate(rows):
            application.office = office
            application.number = f"{office.code}-{year}-{first + n:05d}"
    objects_insert(applications)
    events_write([{
        "application_id": a.id, "office_id": office.id, "kind": "application.opened",
        "at": a.created_at, "actor": a.created_by, "by_resident": a.channel == "app",
        "params": {"number": a.number, "service": a.service.name, "channel": a.channel}}
        for a in applications])
    return applications


def events_write(entries: list[dict]) -> int:
    """Timeline entries as case_events_record_many takes them (application_id,
    office_id, kind, at, params; optional actor, by_resident, note), written in bulk
    without a model instance each."""
    if not _TIMELINE.get():
        return 0
    kinds = {entry["kind"] for entry in entries}
    unknown = [kind for kind in kinds if not is_known_kind(kind)]
    if unknown:
        raise ValueError(f"Unknown case event kinds {unknown!r}; declare them in an events.py")
    return rows_insert(CaseEvent, EVENT_FIELDS, (
        (e["office_id"], e["application_id"], e["at"], e["kind"], e.get("params") or {},
         e.get("note", ""), getattr(e.get("actor"), "pk", None), e.get("by_resident", False))
        for e in entries))


EVENT_FIELDS = ["office", "application", "at", "kind", "params", "note", "actor",
                "by_resident"]


def now() -> datetime:
    """Nothing in the history happens after this moment (the time of the run)."""
    return timezone.now()
