"""Serializer fields shared by every app's API."""

from operator import attrgetter
from zoneinfo import ZoneInfo

from rest_framework import serializers


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
