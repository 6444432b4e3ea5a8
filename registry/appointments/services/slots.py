"""The appointments settings of an office, its lanes' schedules and the slots they make.

Slots are made ahead for the booking window (slots_ensure, by the sweep and when a
schedule changes); a day already made keeps its shape. The slot list is cached per
office, and the cache's version moves with every change of places.
"""

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.appointments.models import (
    AppointmentSettings,
    LaneSchedule,
    Slot,
)
from registry.appointments.services import each_office
from registry.calendar import (
    OfficeCalendar,
    office_local,
    office_now,
    office_today,
)
from registry.errors import DomainError, NotFound
from registry.models import (
    Lane,
    Office,
)
from registry.services.offices import office_settings_get

DEFAULT_REBOOK_DAYS = 30




def lane_schedule_for(lane: Lane) -> LaneSchedule:
    schedule, _created = LaneSchedule.objects.get_or_create(
        lane=lane, defaults={"office_id": lane.office_id})
    return schedule


def bookable_range(*, office: Office, now: datetime | None = None) -> tuple[date, date]:
    """The first and last day residents may book now: from tomorrow (or today while
    same-day booking is open) to the end of the booking window."""
    settings = office_settings_get(AppointmentSettings, office=office)
    local = (now or timezone.now()).astimezone(office_now(office).tzinfo)
    today = local.date()
    first = today
    if settings.same_day_until is None or local.time() >= settings.same_day_until:
        first = today + timedelta(days=1)
    return first, today + timedelta(days=settings.booking_window_days)


def slots_ensure(*, office: Office, start: date, end: date) -> int:
    """Make the slots of every lane on every working day from `start` to `end` that do
    not exist yet; existing slots (and their bookings) are left as they are. Returns
    how many were missing. Safe to run at any time and in parallel: the unique
    constraint drops a slot another run made meanwhile. When nothing was missing (the
    hourly top-up, mostly) nothing is written and the slot list's cache is kept.

    A day already made keeps its shape: a slot of the lane's plan that would overlap
    one of the day's slots (open or closed) is not made, so a new slot length, or
    hours moved by a few minutes, never lays a second grid over the first one and
    never doubles the places of a time. Only the times no slot covers are filled (a
    longer day, a slot removed)."""
    calendar = OfficeCalendar(office, start, end)
    schedules = [lane_schedule_for(lane) for lane in
                 Lane.objects.filter(office=office, is_active=True).order_by("letter")]
    made: dict[tuple[int, date], list[tuple]] = {}  # (lane, day): [(start, end)]
    for lane_id, day, begins, ends in (Slot.objects.filter(office=office,
                                                           date__range=(start, end))
                                       .values_list("lane_id", "date", "start", "end")):
        made.setdefault((lane_id, day), []).append((begins, ends))
    rows = []
    for day in calendar.working_days():
        hours = calendar.hours_on(day)
        for schedule in schedules:
            if schedule.capacity == 0:
                continue
            taken = made.get((schedule.lane_id, day), [])
            length = timedelta(minutes=schedule.slot_minutes)
            begin = office_local(office, day, hours.opens)
            close = office_local(office, day, hours.closes)
            while begin + length <= close:
                finish = begin + length
                if not any(b < finish.time() and begin.time() < e for b, e in taken):
                    rows.append(Slot(office=office, lane_id=schedule.lane_id, date=day,
                                     start=begin.time(), end=finish.time(),
                                     starts_at=begin, ends_at=finish,
                                     capacity=schedule.capacity))
                begin = finish
    Slot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    if rows:
        slots_changed(office=office)
    return len(rows)


def slots_ensure_all(*, now: datetime | None = None) -> int:
    """The hourly top-up: every active office's slots over its booking window, one
    office after another (the beat: one task per office, appointments.tasks)."""
    return each_office(
        lambda office: slots_ensure_window(office=office, now=now, force=True),
        list(Office.objects.filter(is_active=True).order_by("id")))


def slots_ensure_offices() -> list[int]:
    """The offices the hourly top-up covers: the active ones, in id order."""
    return list(Office.objects.filter(is_active=True).order_by("id")
                .values_list("id", flat=True))


def slots_ensure_office(*, office_id: int, now: datetime | None = None) -> int:
    """One office's part of the hourly top-up (slots_ensure_all)."""
    office = Office.objects.filter(pk=office_id, is_active=True).first()
    if office is None:
        return 0
    return slots_ensure_window(office=office, now=now, force=True)


# Reading the slot list must not write: the slots of the booking window are made once
# (then at most every SLOTS_MADE_SECONDS per office, and by the hourly beat), and a
# change of a lane's plan drops the mark (slots_plan_changed).
SLOTS_MADE_KEY = "appointments:slots-made:{office_id}"


SLOTS_MADE_SECONDS = 600


def slots_ensure_window(*, office: Office, now: datetime | None = None,
                        force: bool = False) -> int:
    """Make sure the slots of the office's whole booking window exist; cheap when they
    were made recently (a mark in the cache says up to which day)."""
    first, last = bookable_range(office=office, now=now)
    key = SLOTS_MADE_KEY.format(office_id=office.id)
    if not force and cache.get(key) == last:
        return 0
    made = slots_ensure(office=office, start=first - timedelta(days=1), end=last)
    cache.set(key, last, SLOTS_MADE_SECONDS)
    return made


def lane_schedule_save(*, schedule: LaneSchedule) -> date | None:
    """Save a lane's slot length and places. Slots already made keep their shape; the
    days made after follow the new plan. Returns the last day already made, if any."""
    office = schedule.lane.office
    schedule.office_id = office.id
    schedule.save()
    slots_plan_changed(office=office)
    return Slot.objects.filter(lane_id=schedule.lane_id, date__gte=office_today(office)
                               ).aggregate(last=Max("date"))["last"]


def slots_plan_changed(*, office: Office) -> None:
    """A lane's schedule changed: the days not made yet follow the new plan at the
    next read. (New working hours remake the window at once: office_hours_changed.)"""
    cache.delete(SLOTS_MADE_KEY.format(office_id=office.id))


# The bookable slot list residents read is cached under a version per office
# (selectors.slots_cache_key). Every change of a slot's places moves the version: at
# once, for readers in the same transaction, and again when it commits, for readers who
# read the old rows meanwhile. A reader takes the version before the rows, so a list
# read before the commit is never stored under the version that follows it.
SLOTS_VERSION_KEY = "appointments:slots-version:{code}"


def _slots_version_bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # not set yet, or evicted: a fresh value no old entry used
        cache.set(key, time.time_ns(), None)


def slots_changed(*, office: Office) -> None:
    key = SLOTS_VERSION_KEY.format(code=office.code)
    _slots_version_bump(key)
    transaction.on_commit(lambda: _slots_version_bump(key))


def slot_refusal(*, office: Office, lane_id: int, slot: Slot, now: datetime):
    """Why `slot` cannot be booked now for a visit served in lane `lane_id`, or None."""
    if slot.office_id != office.id or slot.lane_id != lane_id:
        return NotFound(_("This slot does not exist for this service."), "slot_not_found")
    first, last = bookable_range(office=office, now=now)
    if slot.is_closed or not first <= slot.date <= last or slot.starts_at <= now:
        return DomainError(_("This slot can no longer be booked; choose another."),
                           "slot_not_bookable")
    return None


def rebook_until(zone: str, rebook_days: int | None, now: datetime) -> date:
    """The last day to re-book after a booking ends unused at `now`: the office's
    re-booking days from its today. The sweep passes the values it read in bulk."""
    return now.astimezone(ZoneInfo(zone)).date() + timedelta(
        days=rebook_days or DEFAULT_REBOOK_DAYS)


def office_rebook_until(office: Office, now: datetime) -> date:
    plan = office_settings_get(AppointmentSettings, office=office)
    return rebook_until(office.timezone, plan.rebook_days, now)
