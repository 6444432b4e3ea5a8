from datetime import UTC, date, datetime, time

import pytest
from django.utils import timezone

from registry.calendar import (
    OfficeCalendar,
    office_add_working_days,
    office_hours_on,
    office_is_working_day,
    office_next_working_day,
    office_today,
)
from registry.models import WorkingHours
from registry.services.offices import closure_add
from tests.factories import OfficeFactory


@pytest.fixture
def office(db):
    return OfficeFactory(code="3275")


def test_default_week_is_monday_to_friday_eight_to_three(office):
    hours = office_hours_on(office, date(2026, 11, 30))  # a Monday
    assert (hours.opens, hours.closes) == (time(8), time(15))
    assert office_is_working_day(office, date(2026, 12, 4))  # Friday
    assert not office_is_working_day(office, date(2026, 12, 5))  # Saturday
    assert not office_is_working_day(office, date(2026, 12, 6))  # Sunday


def test_national_holidays_from_the_holidays_package_close_the_office(office):
    assert not office_is_working_day(office, date(2026, 8, 17))  # Independence Day, Monday
    assert not office_is_working_day(office, date(2026, 12, 25))  # Christmas, Friday
    assert office_next_working_day(office, date(2026, 8, 14)) == date(2026, 8, 18)


def test_closures_entered_by_staff_close_only_their_office(office, db):
    other = OfficeFactory(code="3216")
    closure_add(office=office, day=date(2026, 12, 2), reason="Pemadaman listrik")
    assert not office_is_working_day(office, date(2026, 12, 2))
    assert office_is_working_day(other, date(2026, 12, 2))
    calendar = OfficeCalendar(office, date(2026, 12, 1), date(2026, 12, 3))
    assert calendar.closed_reason(date(2026, 12, 2)) == "Pemadaman listrik"
    assert calendar.working_days() == [date(2026, 12, 1), date(2026, 12, 3)]


def test_a_saturday_service_day_is_a_working_day(office):
    WorkingHours.objects.create(office=office, weekday=5, opens=time(8), closes=time(12))
    assert office_is_working_day(office, date(2026, 12, 5))
    assert office_next_working_day(office, date(2026, 12, 4)) == date(2026, 12, 5)


def test_today_is_in_the_offices_zone(office, db, monkeypatch):
    jayapura = OfficeFactory(code="9471", timezone="Asia/Jayapura")
    # 16:30 UTC on 30 November is 23:30 in Jakarta but already 01:30 in Jayapura.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    assert office_today(office) == date(2026, 11, 30)
    assert office_today(jayapura) == date(2026, 12, 1)


def test_adding_working_days_skips_weekends_and_holidays(office):
    start = datetime(2026, 8, 13, 10, 0, tzinfo=UTC)  # Thursday 17:00 WIB
    # Friday 14th, (weekend, Monday 17th holiday), Tuesday 18th, Wednesday 19th.
    result = office_add_working_days(office, start, 3)
    assert result.date() == date(2026, 8, 19)
    assert (result.hour, result.minute) == (17, 0)
