"""This app's part of the national deployment (registry.demo_national).

NATIONAL_SETUP: each new office's lanes get a plan of 30-minute slots, with places
that follow its counters (like the demo's Kota Bekasi).

NATIONAL_DAY, for the live day D seen at the deployment's moment (10:00 WIB on D):
- the slots of the previous working day, D and the next working day only, so the
  hourly top-up (slots_ensure_all) has the rest of the booking window to make;
- NO_SHOWS bookings of the previous working day still booked: past their end of day,
  due to expire (bookings_expire_due);
- BOOKINGS_TODAY bookings on D, reminded the day before but not yet on the morning
  (bookings_remind_due sends those whose slot is still ahead), and BOOKINGS_NEXT on
  the next working day, not reminded at all;
- LAPSING open cases whose re-booking limit passed yesterday (applications_lapse_due).
Each booking has its resident (registered in the app) and its open case.
"""

from datetime import date, datetime, timedelta

from registry.appointments.models import Booking, BookingChannel, BookingStatus, LaneSchedule, Slot
from registry.appointments.services.bookings import CODE_ALPHABET, CODE_LENGTH
from registry.appointments.services.slots import slots_ensure
from registry.calendar import office_day_bounds
from registry.demo_history import applications_create, residents_create
from registry.demo_national import counter_count, next_working_day, previous_working_day
from registry.models import Application, ApplicationStatus, Channel, Lane, Office, Service
from registry.services.bulk_sql import instance, objects_insert

NO_SHOWS = 4
BOOKINGS_TODAY = 25
BOOKINGS_NEXT = 25
LAPSING = 3


def setup(*, offices: list[Office]) -> None:
    """The NATIONAL_SETUP part: a slot plan for every lane, in one insert."""
    rows = []
    for office in offices:
        places = max(1, round(counter_count(office) * 0.7))
        rows += [instance(LaneSchedule, office=office, lane=lane, slot_minutes=30,
                          capacity=places)
                 for lane in Lane.objects.filter(office=office).order_by("letter")]
    objects_insert(rows)


def day(*, office: Office, day: date, moment: datetime, rng) -> dict[str, int]:
    """The NATIONAL_DAY part (module docstring)."""
    before, after = previous_working_day(office, day), next_working_day(office, day)
    made = slots_ensure(office=office, start=before, end=after)
    services = list(Service.objects.filter(office=office, is_active=True,
                                           lane__isnull=False).order_by("code"))
    slots = {}
    for slot in (Slot.objects.filter(office=office, date__in=[before, day, after],
                                     is_closed=False).order_by("date", "start", "lane_id")):
        slots.setdefault(slot.date, []).append(slot)
    plan = [(before, NO_SHOWS), (day, BOOKINGS_TODAY), (after, BOOKINGS_NEXT)]
    count = sum(n for _d, n in plan)
    registered = moment - timedelta(days=20)
    residents = residents_create(office=office, rng=rng,
                                 moments=[registered] * (count + LAPSING))
    cases, bookings = [], []
    booked_at = moment - timedelta(days=5)
    n = 0
    for booking_day, wanted in plan:
        free = [s for s in slots.get(booking_day, []) if s.booked < s.capacity]
        for _k in range(wanted):
            # Spread over the day's slots of the lanes that have services.
            candidates = [s for s in free if s.booked < s.capacity]
            if not candidates:
                break
            slot = candidates[rng.randrange(len(candidates))]
            lane_services = [s for s in services if s.lane_id == slot.lane_id]
            if not lane_services:
                continue
            service = rng.choice(lane_services)
            slot.booked += 1
            resident = residents[n]
            n += 1
            case = instance(Application, resident=resident, service=service,
                            channel=Channel.APP, status=ApplicationStatus.OPEN,
                            created_at=booked_at, updated_at=booked_at)
            cases.append(case)
            bookings.append((case, slot, resident, service, booking_day))
    lapsing = [instance(Application, resident=resident, service=rng.choice(services),
                        channel=Channel.APP, status=ApplicationStatus.OPEN,
                        rebook_until=day - timedelta(days=1),
                        created_at=moment - timedelta(days=30),
                        updated_at=moment - timedelta(days=15))
               for resident in residents[count:count + LAPSING]]
    applications_create(office=office, applications=cases + lapsing)
    ends = {d: office_day_bounds(office, d)[1] for d, _n in plan}
    codes = _codes(rng, len(bookings))
    rows = [instance(
        Booking, office=office, code=code, resident=resident, service=service,
        application=case, slot=slot, day=booking_day, expires_at=ends[booking_day],
        status=BookingStatus.BOOKED, channel=BookingChannel.APP, created_at=booked_at,
        reminded_day_before_at=(office_day_bounds(office, before)[0] + timedelta(hours=16)
                                if booking_day == day else None))
        for code, (case, slot, resident, service, booking_day) in zip(
            codes, bookings, strict=True)]
    objects_insert(rows)
    touched = {s.pk: s.booked for d in slots for s in slots[d]}
    Slot.objects.bulk_update([Slot(pk=pk, booked=booked) for pk, booked in touched.items()],
                             ["booked"], batch_size=500)
    return {"appointments.Slot": made, "appointments.Booking": len(rows),
            "registry.Application": len(cases) + len(lapsing),
            "registry.Resident": len(residents)}


def _codes(rng, count: int) -> list[str]:
    """Booking codes not taken yet (checked in the database)."""
    codes: list[str] = []
    while len(codes) < count:
        wanted = count - len(codes)
        fresh = {"".join(rng.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
                 for _n in range(wanted)} - set(codes)
        taken = set(Booking.objects.filter(code__in=fresh).values_list("code", flat=True))
        codes += sorted(fresh - taken)[:wanted]
    return codes
