"""Past bookings (registry.demo_history): this app's HISTORY part fills each working day's
slots as residents booked them, in the app or at the desk, days ahead, more in the
morning than in the afternoon, and says what became of each: cancelled by the resident,
missed (expired at midnight; some booked again, others lapsed after the re-booking
days), or checked in (most on time). The queues' history gives the checked-in bookings
their tickets and ends them (`bookings_finished`), as ticket_finish and the end-of-day
sweep end them through booking_complete and booking_missed.
"""

import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings as django_settings
from django.utils import translation

from registry.appointments.models import (
    AppointmentSettings,
    Booking,
    BookingChannel,
    BookingDocument,
    BookingStatus,
    DocumentReview,
    Slot,
)
from registry.appointments.services.bookings import CODE_ALPHABET, CODE_LENGTH
from registry.appointments.services.notices import date_text
from registry.appointments.services.slots import DEFAULT_REBOOK_DAYS, slots_ensure
from registry.calendar import OfficeCalendar, office_day_bounds, office_local, office_zone
from registry.demo_history import (
    applications_create,
    day_load,
    events_write,
    moment,
    now,
    residents_create,
)
from registry.models import (
    Application,
    ApplicationStatus,
    Channel,
    Office,
    Role,
    Service,
    StaffMembership,
)
from registry.services.bulk_sql import instance, objects_insert, rows_insert, rows_update
from registry.services.offices import office_settings_get

# The share of a slot's places booked on an ordinary day, by the slot's start.
FILL_MORNING, FILL_MIDDAY, FILL_AFTERNOON = 0.32, 0.2, 0.12
ASSISTED_SHARE = 0.15
CANCELLED_SHARE = 0.07
MISSED_SHARE = 0.11
REBOOKED_SHARE = 0.45
DOCUMENT_FIELDS = ["office", "booking", "requirement", "issued_on", "file", "content_type",
                   "size", "review", "reject_reason"]
# How the services of a lane share its bookings (others: 1).
SERVICE_WEIGHT = {"KTP_BARU": 3, "KK_UBAH": 3, "KTP_TTD_FOTO": 1.5, "KTP_HILANG": 1.5,
                  "KTP_UBAH_DATA": 1.5, "KTP_CETAK_ULANG": 1.2, "KTP_RUSAK": 1}


def history(*, offices: list[Office], start: date, end: date, rng, stdout=None
            ) -> dict[str, int]:
    """The HISTORY part: bookings of each office's working days `start`..`end`."""
    written: dict[str, int] = defaultdict(int)
    with translation.override(django_settings.LANGUAGE_CODE):
        for office in offices:
            for key, count in _office_history(office, start, end, rng).items():
                written[key] += count
    return dict(written)


class _Plan:
    """One booking being planned: its slot, what happened to it, and its case."""

    __slots__ = ("application", "booking", "documents", "outcome", "rebooked", "slot")

    def __init__(self, slot: Slot, booking: Booking, application: Application, outcome: str):
        self.slot, self.booking, self.application = slot, booking, application
        self.outcome, self.rebooked, self.documents = outcome, None, []


def _office_history(office: Office, start: date, end: date, rng) -> dict[str, int]:
    plan = office_settings_get(AppointmentSettings, office=office)
    slots_ensure(office=office, start=start, end=end)
    calendar = OfficeCalendar(office, start - timedelta(days=20), end + timedelta(days=1))
    slots_by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in (Slot.objects.filter(office=office, date__range=(start, end), is_closed=False)
                 .select_related("lane").order_by("date", "start", "lane__letter")):
        slots_by_day[slot.date].append(slot)
    services = defaultdict(list)
    for service in (Service.objects.filter(office=office, is_active=True)
                    .prefetch_related("requirements")):
        services[service.lane_id].append(service)
    desk = _staff(office, Role.FRONT_DESK)
    codes = _Codes(rng)
    limit = now()
    plans: list[_Plan] = []
    for day in sorted(slots_by_day):
        load = day_load(office, day)
        for slot in slots_by_day[day]:
            lane_services = services.get(slot.lane_id)
            if not lane_services:
                continue
            start_minutes = slot.start.hour * 60 + slot.start.minute
            fill = (FILL_MORNING if start_minutes < 600 else FILL_MIDDAY
                    if start_minutes < 720 else FILL_AFTERNOON) * load
            free = slot.capacity - slot.booked
            for _n in range(free):
                if rng.random() >= min(fill, 0.95):
                    continue
                service = rng.choices(lane_services,
                                      [SERVICE_WEIGHT.get(s.code, 1) for s in lane_services])[0]
                plans.append(_new_plan(office, slot, service, rng, calendar, desk, codes,
                                       limit))
    rebooks = [p for p in plans if p.outcome == BookingStatus.EXPIRED
               and rng.random() < REBOOKED_SHARE]
    free = _free_places(plans, slots_by_day)
    for original in rebooks:
        _rebook(office, original, free, rng, codes, limit, plan.booking_window_days)
    return _write(office, plans, plan.rebook_days or DEFAULT_REBOOK_DAYS, calendar, codes,
                  limit, rng)


def _staff(office: Office, role: str):
    membership = (StaffMembership.objects.filter(office=office, role=role)
                  .select_related("user").order_by("id").first())
    return membership.user if membership else None


class _Codes:
    """New booking codes, none already taken (checked in the database before writing)."""

    def __init__(self, rng):
        self.rng, self.used = rng, set()

    def new(self) -> str:
        while True:
            code = "".join(self.rng.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
            if code not in self.used:
                self.used.add(code)
                return code

    def replace_taken(self, bookings: list[Booking]) -> None:
        codes = [b.code for b in bookings]
        taken = set()
        for n in range(0, len(codes), 900):
            taken.update(Booking.objects.filter(code__in=codes[n:n + 900])
                         .values_list("code", flat=True))
        for booking in bookings:
            if booking.code in taken:
                booking.code = self.new()


def _booked_at(office, slot: Slot, rng, calendar: OfficeCalendar, assisted: bool,
               limit: datetime) -> datetime:
    """When a booking for `slot` was made: one to fourteen days ahead, most a few days
    ahead; at the desk within its hours, in the app at any waking hour."""
    lead = rng.choice([1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10, 12, 14])
    day = slot.date - timedelta(days=lead)
    if assisted:
        while not calendar.is_working_day(day) and day > calendar.start:
            day -= timedelta(days=1)
        made = moment(office, day, rng.uniform(8 * 60, 14 * 60 + 45))
    else:
        made = moment(office, day, rng.uniform(6 * 60, 22 * 60))
    return min(made, slot.starts_at - timedelta(hours=2), limit)


def _new_plan(office, slot, service, rng, calendar, desk, codes, limit,
              application: Application | None = None, channel: str | None = None,
              made: datetime | None = None) -> _Plan:
    if channel is None:
        channel = (BookingChannel.ASSISTED if desk is not None and rng.random() < ASSISTED_SHARE
                   else BookingChannel.APP)
    made = made or _booked_at(office, slot, rng, calendar, channel == BookingChannel.ASSISTED,
                              limit)
    by = desk if channel == BookingChannel.ASSISTED else None
    if application is None:
        application = instance(
            Application, office=office, service=service,
            channel=Channel.ASSISTED if by else Channel.APP,
            created_by=by, created_at=made)
    roll = rng.random()
    outcome = (BookingStatus.CANCELLED if roll < CANCELLED_SHARE else BookingStatus.EXPIRED
               if roll < CANCELLED_SHARE + MISSED_SHARE else BookingStatus.CHECKED_IN)
    booking = instance(
        Booking, office=office, code=codes.new(), service=service, slot=slot, day=slot.date,
        expires_at=office_day_bounds(office, slot.date)[1], channel=channel, created_by=by,
        created_at=made)
    plan = _Plan(slot, booking, application, outcome)
    _outcome(office, plan, rng, limit)
    return plan


def _outcome(office, plan: _Plan, rng, limit: datetime) -> None:
    booking, slot = plan.booking, plan.slot
    day_before = office_local(office, slot.date - timedelta(days=1), time(16, 0))
    morning = office_local(office, slot.date, time(6, 0))
    if booking.created_at < day_before:
        booking.reminded_day_before_at = day_before
    if booking.created_at < morning:
        booking.reminded_morning_at = morning
    if plan.outcome == BookingStatus.CANCELLED:
        latest = slot.starts_at - timedelta(hours=2)
        booking.cancelled_at = booking.created_at + (latest - booking.created_at) * rng.random()
        booking.status = BookingStatus.CANCELLED
    elif plan.outcome == BookingStatus.EXPIRED:
        # The expiry sweep runs a few minutes after midnight; one still to come leaves
        # the booking for it.
        expired = booking.expires_at + timedelta(minutes=rng.uniform(1, 8))
        if expired < limit:
            booking.status, booking.expired_at = BookingStatus.EXPIRED, expired
            # One run of the sweep a night takes the office's bookings of the day.
            booking.sweep_token = uuid.uuid5(uuid.NAMESPACE_OID,
                                             f"{office.id}:{slot.date.isoformat()}").hex
        else:
            booking.status = BookingStatus.BOOKED
    else:
        # Most come a little before their slot; some after its end (late: queued with
        # the walk-ins).
        arrival = slot.starts_at + timedelta(minutes=rng.gauss(-8, 14))
        if rng.random() < 0.08:
            arrival = slot.ends_at + timedelta(minutes=rng.uniform(1, 50))
        opens = slot.starts_at.astimezone(office_zone(office)).replace(hour=7, minute=30)
        booking.status = BookingStatus.CHECKED_IN
        booking.checked_in_at = min(max(arrival, opens, booking.created_at), limit)


def _free_places(plans: list[_Plan], slots_by_day) -> dict[tuple[date, int], list]:
    """The places left after the first bookings: (day, lane) -> [slot, ...] per place."""
    taken = defaultdict(int)
    for p in plans:
        if p.outcome != BookingStatus.CANCELLED:
            taken[p.slot.id] += 1
    free = defaultdict(list)
    for day, slots in slots_by_day.items():
        for slot in slots:
            free[day, slot.lane_id].extend([slot] * max(
                slot.capacity - slot.booked - taken[slot.id], 0))
    return free


def _rebook(office, original: _Plan, free, rng, codes, limit, window: int) -> None:
    """The resident booked again after the missed visit: the same case, a free place of
    the lane one to ten days later, in the app or by replying to the SMS offer."""
    expired_at = original.booking.expired_at
    if expired_at is None:
        return
    made = expired_at + timedelta(hours=rng.uniform(1, 72))
    for days_ahead in range(rng.randint(1, 4), min(window, 10) + 1):
        day = original.slot.date + timedelta(days=days_ahead)
        places = free.get((day, original.slot.lane_id))
        if places and made < places[0].starts_at - timedelta(hours=2) and made < limit:
            slot = places.pop(rng.randrange(len(places)))
            channel = (BookingChannel.SMS if original.application.channel != Channel.ASSISTED
                       and rng.random() < 0.35 else BookingChannel.APP)
            original.rebooked = _new_plan(office, slot, original.booking.service, rng, None,
                                          None, codes, limit,
                                          application=original.application, channel=channel,
                                          made=made)
            return


def _write(office, plans: list[_Plan], rebook_days: int, calendar, codes, limit, rng
           ) -> dict[str, int]:
    everything = plans + [p.rebooked for p in plans if p.rebooked is not None]
    residents = residents_create(
        office=office, rng=rng,
        moments=[p.booking.created_at - timedelta(minutes=rng.uniform(2, 30)) for p in plans],
        at_desk=False)
    for p, resident in zip(plans, residents, strict=True):
        p.application.resident = p.booking.resident = resident
        if p.rebooked is not None:
            p.rebooked.booking.resident = resident
    _case_statuses(office, plans, rebook_days, limit, calendar)
    applications_create(office=office, applications=[p.application for p in plans])
    codes.replace_taken([p.booking for p in everything])
    for p in everything:
        p.booking.application = p.application
    objects_insert([p.booking for p in everything])
    # Each requirement as the resident declared it; a dated one issued days before.
    documents = rows_insert(BookingDocument, DOCUMENT_FIELDS, (
        (office.id, p.booking.id, r.id, p.slot.date - timedelta(
            days=rng.randint(1, r.valid_days - 1)) if (r.valid_days or 0) > 1 else None,
         "", "", 0, DocumentReview.NOT_SENT, "")
        for p in everything for r in p.booking.service.requirements.all()))
    booked = defaultdict(int)
    for p in everything:
        if p.booking.status != BookingStatus.CANCELLED:
            booked[p.slot.id] += 1
    slots = {p.slot.id: p.slot for p in everything}
    for slot_id, count in booked.items():
        slots[slot_id].booked += count
    rows_update(Slot, ["booked"], ((i, slots[i].booked) for i in booked))
    events = _events(office, everything, limit, rebook_days)
    events_write(events)
    return {"registry.Resident": len(residents), "registry.Application": len(plans),
            "appointments.Booking": len(everything),
            "appointments.BookingDocument": documents,
            "registry.CaseEvent": len(events) + len(plans)}


def _case_statuses(office, plans: list[_Plan], rebook_days: int, limit, calendar) -> None:
    """Each case as the bookings left it: cancelled by the resident, open for re-booking
    after a missed visit (lapsed once the re-booking days ran out), or open."""
    zone = office_zone(office)
    for p in plans:
        application = p.application
        last = p.rebooked or p
        if last.booking.status == BookingStatus.CANCELLED:
            application.status = ApplicationStatus.CANCELLED
            application.closed_at = last.booking.cancelled_at
        elif last.booking.status == BookingStatus.EXPIRED:
            until = last.booking.expired_at.astimezone(zone).date() + timedelta(days=rebook_days)
            application.rebook_until = until
            lapsed = office_local(office, until + timedelta(days=1), time(0, 10))
            if lapsed < limit:
                application.status = ApplicationStatus.LAPSED
                application.closed_at = lapsed
        application.updated_at = application.closed_at or last.booking.created_at


def _events(office, plans: list[_Plan], limit, rebook_days: int) -> list[dict]:
    """The timeline of each booking, as booking_create, booking_cancel, booking_check_in
    and the expiry and lapse sweeps write it."""
    events, dates, zone = [], _Dates(), office_zone(office)
    for p in plans:
        booking, slot, application = p.booking, p.slot, p.application
        params = {"code": booking.code, "date": dates.text(slot.date),
                  "start": f"{slot.start:%H:%M}", "end": f"{slot.end:%H:%M}",
                  "lane": slot.lane.letter, "lane_name": slot.lane.name,
                  "service": booking.service.name}
        entries = [("booking.created", booking.created_at, {**params, "channel": booking.channel},
                    booking.created_by, booking.channel != BookingChannel.ASSISTED)]
        if booking.status == BookingStatus.CANCELLED:
            entries += [("booking.cancelled", booking.cancelled_at, {**params, "reason": ""},
                         None, True),
                        ("application.status", booking.cancelled_at,
                         {"old": ApplicationStatus.OPEN, "new": ApplicationStatus.CANCELLED},
                         None, True)]
        elif booking.status == BookingStatus.EXPIRED:
            entries.append(("booking.expired", booking.expired_at,
                            {**params, "until": dates.text(
                                booking.expired_at.astimezone(zone).date()
                                + timedelta(days=rebook_days))},
                            None, False))
        elif booking.status == BookingStatus.CHECKED_IN:
            entries.append(("booking.checked_in", booking.checked_in_at,
                            {**params, "on_time": booking.checked_in_at <= slot.ends_at},
                            None, False))
        if (p.rebooked is None and application.status == ApplicationStatus.LAPSED
                and booking.status == BookingStatus.EXPIRED):
            entries += [("booking.lapsed", application.closed_at,
                         {"until": dates.text(application.rebook_until)}, None, False),
                        ("application.status", application.closed_at,
                         {"old": ApplicationStatus.OPEN, "new": ApplicationStatus.LAPSED},
                         None, False)]
        events.extend({"application_id": application.id, "office_id": office.id, "kind": kind,
                       "at": at, "params": values, "actor": actor, "by_resident": by_resident}
                      for kind, at, values, actor, by_resident in entries
                      if at is not None and at <= limit)
    return events


class _Dates:
    """Dates as the messages write them (date_text), each formatted once."""

    def __init__(self):
        self.done: dict[date, str] = {}

    def text(self, day: date | None) -> str:
        if day is None:
            return ""
        if day not in self.done:
            self.done[day] = date_text(day)
        return self.done[day]


def bookings_finished(*, office: Office, done: list[tuple[Booking, datetime, object]],
                      missed: list[tuple[Booking, datetime]]) -> dict[str, int]:
    """The queues' history ended these checked-in bookings: `done` (booking, when its
    ticket was finished, by whom) as booking_complete does, `missed` (booking, when the
    end-of-day sweep closed its no-show ticket) as booking_missed does: expired, the
    case open for re-booking."""
    plan = office_settings_get(AppointmentSettings, office=office)
    zone = office_zone(office)
    for booking, at, _by in done:
        booking.status, booking.finished_at = BookingStatus.DONE, at
    rebook = []
    for booking, at in missed:
        booking.status, booking.expired_at = BookingStatus.EXPIRED, at
        booking.sweep_token = uuid.uuid4().hex  # booking_missed's own run
        booking.application.rebook_until = at.astimezone(zone).date() + timedelta(
            days=plan.rebook_days or DEFAULT_REBOOK_DAYS)
        rebook.append(booking.application)
    rows_update(Booking, ["status", "finished_at"],
                ((b.pk, b.status, b.finished_at) for b, _at, _by in done))
    rows_update(Booking, ["status", "expired_at", "sweep_token"],
                ((b.pk, b.status, b.expired_at, b.sweep_token) for b, _at in missed))
    rows_update(Application, ["rebook_until"], ((a.pk, a.rebook_until) for a in rebook))
    dates = _Dates()
    with translation.override(django_settings.LANGUAGE_CODE):
        events = [{"application_id": b.application_id, "office_id": office.id,
                   "kind": "booking.done", "at": at, "actor": by,
                   "params": {"code": b.code}} for b, at, by in done]
        events += [{"application_id": b.application_id, "office_id": office.id,
                    "kind": "booking.expired", "at": at,
                    "params": {"code": b.code, "date": dates.text(b.day),
                               "start": f"{b.slot.start:%H:%M}", "service": b.service.name,
                               "until": dates.text(b.application.rebook_until)}}
                   for b, at in missed]
    events_write(events)
    return {"registry.CaseEvent": len(events)}

