"""The appointments' trends (registry.trends): the bookings made, kept, expired and
cancelled over a period, per office, in the office's calendar.

- made: the bookings made on each day (the office's local day of `created_at`),
  whatever became of them since;
- kept, expired, cancelled: the bookings of each visit day (the slot's day, `day`; a
  rescheduled booking counts on its new day) by what became of them:
  - kept: checked in (BookingStatus.CHECKED_IN, or DONE once served);
  - expired: missed, as the expiry sweep finds a booking not checked in by the end of
    its day, or checked in but not there when called (services.booking_missed);
  - cancelled: by the resident, by the staff, or by a closure of the office.
  A booking still BOOKED (its day is to come, or the sweep has not run yet) is counted
  in `made` only.

Two queries whatever the number of offices, time zones or days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from registry import trends
from registry.appointments.models import Booking, BookingStatus
from registry.models import Office

SECTION = _("Bookings")
# What became of a booking, by its status.
OUTCOME_OF = {BookingStatus.CHECKED_IN: "kept", BookingStatus.DONE: "kept",
              BookingStatus.EXPIRED: "expired", BookingStatus.CANCELLED: "cancelled"}


def bookings_made(*, offices: list[Office], period: trends.Period
                  ) -> dict[int, dict[date, int]]:
    """{office id: {local day: bookings made that day}}: one query."""
    made: dict[int, dict[date, int]] = {office.id: {} for office in offices}
    for office_id, day, count in (
            Booking.objects.filter(trends.period_filter(offices, period, "created_at"))
            .annotate(local=trends.local_day(offices, "created_at"))
            .values("office_id", "local").annotate(n=Count("id"))
            .values_list("office_id", "local", "n").order_by()):
        made[office_id][day] = count
    return made


def bookings_ended(*, offices: list[Office], period: trends.Period
                   ) -> dict[int, dict[str, dict[date, int]]]:
    """{office id: {"kept" | "expired" | "cancelled": {visit day: bookings}}}: one
    query."""
    ended = {office.id: {name: defaultdict(int) for name in ("kept", "expired", "cancelled")}
             for office in offices}
    for (office_id, day, status), count in trends.count_by_day(
            Booking.objects.filter(status__in=list(OUTCOME_OF)), offices, period, "day",
            "status").items():
        ended[office_id][OUTCOME_OF[status]][day] += count
    return ended


def bookings_chart(*, offices: list[Office], period: trends.Period
                   ) -> dict[int, list[trends.Chart]]:
    made = bookings_made(offices=offices, period=period)
    ended = bookings_ended(offices=offices, period=period)
    return {office.id: [trends.Chart(
        key="bookings", section=SECTION, title=_("Bookings"), labels=period.labels(),
        kind=trends.Kind.BARS, unit=_("bookings"),
        note=_("Made: the bookings made on the day, whatever became of them. Kept, "
               "expired, cancelled: the bookings for a visit on the day, by what became "
               "of them: kept, checked in at the office; expired, not checked in by the "
               "end of the day or not there when called; cancelled by the resident, the "
               "staff or a closure. Bookings still to come are only in made."),
        series=[trends.Series(_("made"), period.bucketed(made[office.id])),
                *[trends.Series(name, period.bucketed(ended[office.id][key]))
                  for key, name in (("kept", _("kept")), ("expired", _("expired")),
                                    ("cancelled", _("cancelled")))]])]
        for office in offices}


def charts(*, offices: list[Office], period: trends.Period) -> dict[int, list[trends.Chart]]:
    """The app's source for registry.trends (extensions.TRENDS)."""
    return bookings_chart(offices=offices, period=period)
