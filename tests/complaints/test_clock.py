"""Working time by the office's calendar (complaints.clock)."""

from datetime import date

from complaints.clock import WorkingClock
from registry.services.offices import closure_add
from tests.complaints.conftest import wib

# Kota Bekasi's default week: Monday to Friday, 08:00 to 15:00 WIB.


def test_working_days_keep_the_clock_time_and_skip_weekends(office_a):
    clock = WorkingClock(office_a)
    # Thursday 30 June 2022, 10:00 + 3 working days = Tuesday 5 July, 10:00.
    assert clock.add(wib(2022, 6, 30, 10, 0), days=3) == wib(2022, 7, 5, 10, 0)


def test_a_post_after_hours_counts_from_the_next_opening(office_a):
    clock = WorkingClock(office_a)
    # Friday 1 July 2022 at 22:00: counting starts Monday 4 July at 08:00.
    assert clock.start_of_work(wib(2022, 7, 1, 22, 0)) == wib(2022, 7, 4, 8, 0)
    assert clock.add(wib(2022, 7, 1, 22, 0), days=3) == wib(2022, 7, 7, 8, 0)


def test_working_hours_run_over_the_closing_time(office_a):
    clock = WorkingClock(office_a)
    # Friday 14:00 + 3 working hours = 1 hour Friday, 2 hours Monday: 10:00.
    assert clock.add(wib(2022, 7, 1, 14, 0), hours=3) == wib(2022, 7, 4, 10, 0)


def test_national_holidays_and_office_closures_do_not_count(office_a):
    closure_add(office=office_a, day=date(2022, 7, 11), reason="Cuti bersama")
    clock = WorkingClock(office_a)
    # Friday 8 July + 1 working day: Monday 11 July is closed -> Tuesday 12 July.
    assert clock.add(wib(2022, 7, 8, 9, 0), days=1) == wib(2022, 7, 12, 9, 0)
    # 17 August 2022 (Independence Day) is a national holiday.
    assert clock.add(wib(2022, 8, 16, 9, 0), days=1) == wib(2022, 8, 18, 9, 0)


def test_minutes_between_counts_opening_hours_only(office_a):
    clock = WorkingClock(office_a)
    # Friday 14:00 to Monday 09:30: 60 + 90 minutes.
    assert clock.minutes_between(wib(2022, 7, 1, 14, 0), wib(2022, 7, 4, 9, 30)) == 150
    assert clock.minutes_between(wib(2022, 7, 4, 9, 30), wib(2022, 7, 1, 14, 0)) == 0
