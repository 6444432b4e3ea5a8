"""Working time by an office's calendar: complaint deadlines count working days and
working hours (its weekly hours, closures and national holidays), and time waiting
for the complainant is taken out in working minutes.

Rules:
- Time starts at the first working moment at or after receipt (a post at 22:00 on a
  Friday starts counting at Monday's opening).
- N working days later is the same clock time on the N-th working day after, moved
  to that day's closing if the day is shorter.
- Working hours then run on within opening hours, over closed days.
"""

from datetime import date, datetime, timedelta

from registry.calendar import OfficeCalendar, office_zone
from registry.models import Office

# A clock loads the calendar this far around the moment it is asked about; a deadline
# or a pause beyond it loads the next window.
WINDOW_DAYS = 400


class WorkingClock:
    def __init__(self, office: Office):
        self.office = office
        self.zone = office_zone(office)
        self._calendar: OfficeCalendar | None = None

    def _cal(self, day: date) -> OfficeCalendar:
        calendar = self._calendar
        if calendar is None or not calendar.start <= day <= calendar.end:
            calendar = OfficeCalendar(self.office, day - timedelta(days=WINDOW_DAYS),
                                      day + timedelta(days=WINDOW_DAYS))
            self._calendar = calendar
        return calendar

    def _bounds(self, day: date) -> tuple[datetime, datetime] | None:
        hours = self._cal(day).hours_on(day)
        if hours is None:
            return None
        return (datetime.combine(day, hours.opens, tzinfo=self.zone),
                datetime.combine(day, hours.closes, tzinfo=self.zone))

    def _next_working_day(self, day: date) -> date:
        for _step in range(WINDOW_DAYS):
            day += timedelta(days=1)
            if self._bounds(day) is not None:
                return day
        raise ValueError(f"Office {self.office.code} has no working day after {day}")

    def start_of_work(self, moment: datetime) -> datetime:
        """The first working moment at or after `moment`."""
        local = moment.astimezone(self.zone)
        bounds = self._bounds(local.date())
        if bounds is not None:
            opens, closes = bounds
            if local < opens:
                return opens
            if local < closes:
                return local
        day = self._next_working_day(local.date())
        return self._bounds(day)[0]

    def add(self, moment: datetime, *, days: int = 0, hours: int = 0,
            minutes: int = 0) -> datetime:
        """`days` working days, then `hours` and `minutes` of working time after
        `moment`."""
        current = self.start_of_work(moment)
        for _day in range(days):
            day = self._next_working_day(current.date())
            opens, closes = self._bounds(day)
            clock = datetime.combine(day, current.timetz().replace(tzinfo=None),
                                     tzinfo=self.zone)
            current = min(max(clock, opens), closes)
        remaining = timedelta(hours=hours, minutes=minutes)
        while remaining > timedelta(0):
            opens, closes = self._bounds(current.date()) or (current, current)
            if current >= closes:
                current = self._bounds(self._next_working_day(current.date()))[0]
                continue
            current = max(current, opens)
            step = min(remaining, closes - current)
            current += step
            remaining -= step
            if remaining > timedelta(0):
                current = self._bounds(self._next_working_day(current.date()))[0]
        return current

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Working minutes from `start` to `end` (0 when end is not after start)."""
        if end <= start:
            return 0
        start, end = start.astimezone(self.zone), end.astimezone(self.zone)
        total = timedelta(0)
        day = start.date()
        while day <= end.date():
            bounds = self._bounds(day)
            if bounds is not None:
                opens, closes = bounds
                low, high = max(opens, start), min(closes, end)
                if high > low:
                    total += high - low
            day += timedelta(days=1)
        return int(total.total_seconds() // 60)
