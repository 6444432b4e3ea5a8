"""Serializer fields shared by every app's API.

Every number and date a client sends is bounded here, so no input overflows the
database driver or date arithmetic (a 500): integers fit PostgreSQL's `integer`, dates
lie within DATE_RANGE_YEARS of today. Use these instead of DRF's IntegerField and
DateField for input; tests/api/test_bad_input.py checks that every integer of the
schema's requests has a maximum.
"""

from datetime import timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

MAX_INTEGER = 2**31 - 1
# Slots, routes and documents are asked about within a few years of today; a date
# near year 1 or 9999 is a typo or a probe, and `day + timedelta(...)` overflows there.
DATE_RANGE_YEARS = 10


class IntegerField(serializers.IntegerField):
    """DRF's IntegerField, bounded by default to PostgreSQL's integer (ids included:
    a larger number is no id of ours, and overflows SQLite's driver)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_INTEGER)
        kwargs.setdefault("min_value", -MAX_INTEGER - 1)
        super().__init__(**kwargs)


class BoundedDateField(serializers.DateField):
    """A date within `years` (DATE_RANGE_YEARS) of today, before and after."""

    default_error_messages = {
        "date_out_of_range": _("Enter a date between {start} and {end}."),
    }

    def __init__(self, *, years: int = DATE_RANGE_YEARS, **kwargs):
        self.years = years
        super().__init__(**kwargs)

    def bounds(self):
        # The server's today: the offices' zones differ from it by hours, the range
        # is years.
        today = timezone.localdate()
        span = timedelta(days=366 * self.years)
        return today - span, today + span

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        start, end = self.bounds()
        if not start <= day <= end:
            self.fail("date_out_of_range", start=start.isoformat(), end=end.isoformat())
        return day


class DateRangeQuerySerializer(serializers.Serializer):
    """`date_from` and `date_to` of a list's query, both optional and bounded."""

    date_from = BoundedDateField(required=False)
    date_to = BoundedDateField(required=False)


def office_local_iso(value, office) -> str | None:
    """ISO 8601 with the offset of the office's zone (+07:00 WIB, +08:00 WITA...)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(office.timezone)).isoformat()


class OfficeDateTimeField(serializers.DateTimeField):
    """A read-only datetime shown in the time zone of the row's office."""

    def __init__(self, *, office_path: str = "office", **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self._office_of = attrgetter(office_path)

    def get_attribute(self, instance):
        return super().get_attribute(instance), self._office_of(instance)

    def to_representation(self, value):
        moment, office = value
        return office_local_iso(moment, office)
