"""The office's calendar: its time zone, weekly hours, closures and national holidays.

Every "today", slot, expiry and dispatch is computed here, in the office's own zone.
National holidays come from the `holidays` package (Indonesia); closures for
collective leave (cuti bersama) or emergencies are entered by staff.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

from registry.models import Closure, Office, WorkingHours

# Looking further than this for the next working day means the office has no
# working pattern at all; stop instead of looping forever.
MAX_DAYS_AHEAD = 366


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> dict:
    return dict(holidays.country_holidays("ID", years=year))


def national_holiday(day: date) -> str | None:
    """The name of Indonesia's national holiday on `day`, or None."""
    return _national_holidays(day.year).get(day)


def office_zone(office: Office) -> ZoneInfo:
    return ZoneInfo(office.timezone)


def office_now(office: Office) -> datetime:
    """The current time in the office's zone."""
    return timezone.now().astimezone(office_zone(office))


def office_today(office: Office) -> date:
    """Today's date in the office's zone."""
    return office_now(office).date()


def office_local(office: Office, day: date, at: time) -> datetime:
    """An aware datetime for a wall-clock time at the office."""
    return datetime.combine(day, at, tzinfo=office_zone(office))


def office_day_bounds(office: Office, day: date) -> tuple[datetime, datetime]:
    """The first instant of `day` and of the day after, in the office's zone."""
    start = office_local(office, day, time.min)
    return start, office_local(office, day + timedelta(days=1), time.min)


@dataclass(frozen=True)
class DayHours:
    opens: time
    closes: time


class OfficeCalendar:
    """The office's calendar over a range of days, loaded with two queries.

    Use it when asking about many days (slots over a booking window, the next working
    day); for a single question the `office_*` functions below are enough.
    """

    def __init__(self, office: Office, start: date, end: date):
        self.office = office
        self.start = start
        self.end = end
        self.hours = {
            wh.weekday: DayHours(wh.opens, wh.closes)
            for wh in WorkingHours.objects.filter(office=office)
        }
        self.closures = dict(
            Closure.objects.filter(office=office, date__gte=start, date__lte=end).values_list(
                "date", "reason"
            )
        )

    def closed_reason(self, day: date) -> str | None:
        """Why the office is closed on `day`, or None when it is open."""
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the loaded range {self.start}..{self.end}")
        if day in self.closures:
            return self.closures[day]
        holiday = national_holiday(day)
        if holiday:
            return holiday
        if day.weekday() not in self.hours:
            return "weekend"
        return None

    def is_working_day(self, day: date) -> bool:
        return self.closed_reason(day) is None

    def hours_on(self, day: date) -> DayHours | None:
        if not self.is_working_day(day):
            return None
        return self.hours[day.weekday()]

    def working_days(self) -> list[date]:
        days, day = [], self.start
        while day <= self.end:
            if self.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days


def office_is_working_day(office: Office, day: date) -> bool:
    """Is `day` a working day for this office (its pattern, holidays and closures)?"""
    return OfficeCalendar(office, day, day).is_working_day(day)


def office_hours_on(office: Office, day: date) -> DayHours | None:
    """The office's opening hours on `day`, or None when it is closed."""
    return OfficeCalendar(office, day, day).hours_on(day)


def office_next_working_day(office: Office, after: date) -> date:
    """The first working day strictly after `after`."""
    start = after + timedelta(days=1)
    calendar = OfficeCalendar(office, start, start + timedelta(days=MAX_DAYS_AHEAD))
    day = start
    while day <= calendar.end:
        if calendar.is_working_day(day):
            return day
        day += timedelta(days=1)
    raise ValueError(f"Office {office.code} has no working day within a year of {after}")


def office_add_working_days(office: Office, start: datetime, days: int) -> datetime:
    """The moment `days` working days after `start`, at the same wall-clock time."""
    local = start.astimezone(office_zone(office))
    day = local.date()
    for _ in range(days):
        day = office_next_working_day(office, day)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=local.tzinfo)


def office_local_text(moment: datetime | None, office: Office) -> str:
    """A moment as the office's residents read it: 01-07-2022 13:00 WIB."""
    if moment is None:
        return ""
    local = moment.astimezone(office_zone(office))
    return f"{local:%d-%m-%Y %H:%M} {local.tzname() or ''}".strip()
