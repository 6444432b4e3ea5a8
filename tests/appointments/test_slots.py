from datetime import date, datetime, time

from django.core.cache import cache

from registry.appointments import selectors
from registry.appointments.models import AppointmentSettings, LaneSchedule, Slot
from registry.appointments.services.closures import closure_declare
from registry.appointments.services.slots import (
    SLOTS_VERSION_KEY,
    bookable_range,
    slots_ensure,
    slots_ensure_all,
    slots_ensure_window,
    slots_plan_changed,
)
from registry.models import Lane
from registry.services.offices import office_settings_get
from tests.appointments.conftest import WIB


def test_slots_cover_working_hours_of_working_days_only(office_a, lost_card, clock):
    # Sat 4 July and Sun 5 July are weekend; Fri 3 July is closed by the office.
    closure_declare(office=office_a, day=date(2026, 7, 3), reason="Rapat dinas")
    slots_ensure(office=office_a, start=date(2026, 7, 1), end=date(2026, 7, 6))
    lane_c = Slot.objects.filter(lane=lost_card.lane)
    assert sorted({s.date for s in lane_c}) == [date(2026, 7, 1), date(2026, 7, 2),
                                                date(2026, 7, 6)]
    day = list(lane_c.filter(date=date(2026, 7, 1)).order_by("start"))
    assert len(day) == 14  # 08:00-15:00 in 30-minute slots
    assert (day[0].start, day[-1].end) == (time(8, 0), time(15, 0))
    assert day[0].starts_at == datetime(2026, 7, 1, 8, 0, tzinfo=WIB)
    assert {s.capacity for s in day} == {4}


def test_national_holiday_has_no_slots(office_a, lost_card, clock):
    # 16 June 2026 is the Islamic New Year (holidays package, Indonesia).
    slots_ensure(office=office_a, start=date(2026, 6, 16), end=date(2026, 6, 16))
    assert not Slot.objects.filter(office=office_a, date=date(2026, 6, 16)).exists()


def test_lane_schedule_sets_length_and_places_and_zero_means_walk_in_only(office_a, clock):
    lane_a, lane_b = (Lane.objects.get(office=office_a, letter=x) for x in "AB")
    LaneSchedule.objects.create(office=office_a, lane=lane_a, slot_minutes=60, capacity=10)
    LaneSchedule.objects.create(office=office_a, lane=lane_b, slot_minutes=30, capacity=0)
    slots_ensure(office=office_a, start=date(2026, 7, 1), end=date(2026, 7, 1))
    assert Slot.objects.filter(lane=lane_a).count() == 7
    assert set(Slot.objects.filter(lane=lane_a).values_list("capacity", flat=True)) == {10}
    assert not Slot.objects.filter(lane=lane_b).exists()


def test_slots_ensure_twice_changes_nothing(office_a, clock):
    first = slots_ensure(office=office_a, start=date(2026, 7, 1), end=date(2026, 7, 1))
    version = cache.get(SLOTS_VERSION_KEY.format(code=office_a.code))
    again = slots_ensure(office=office_a, start=date(2026, 7, 1), end=date(2026, 7, 1))
    assert Slot.objects.filter(office=office_a).count() == first == 3 * 14
    assert again == 0
    # Nothing new: the residents' cached slot list stays valid.
    assert cache.get(SLOTS_VERSION_KEY.format(code=office_a.code)) == version


def test_slots_ensure_makes_only_the_missing_slots_and_says_how_many(office_a, clock):
    slots_ensure(office=office_a, start=date(2026, 7, 1), end=date(2026, 7, 1))
    gone = Slot.objects.filter(office=office_a).order_by("id")[:5]
    Slot.objects.filter(pk__in=list(gone.values_list("pk", flat=True))).delete()
    made = slots_ensure(office=office_a, start=date(2026, 7, 1), end=date(2026, 7, 2))
    assert made == 5 + 3 * 14  # the five gone on the 1st, and the whole of the 2nd
    assert Slot.objects.filter(office=office_a, date=date(2026, 7, 1)).count() == 3 * 14


def test_bookable_window_same_day_until_ten_then_from_tomorrow(office_a, lost_card, clock):
    slots = selectors.slots_bookable(office=office_a, service=lost_card)
    # Today after 09:00 (now) until 14 days ahead, working days only.
    assert slots.first().starts_at == datetime(2026, 6, 29, 9, 30, tzinfo=WIB)
    assert slots.last().date == date(2026, 7, 13)
    clock.move_to(datetime(2026, 6, 29, 10, 0, tzinfo=WIB))
    slots = selectors.slots_bookable(office=office_a, service=lost_card)
    assert slots.first().date == date(2026, 6, 30)
    assert slots.last().date == date(2026, 7, 13)


def test_booking_window_is_an_office_setting(office_a, lost_card, clock):
    settings = office_settings_get(AppointmentSettings, office=office_a)
    settings.booking_window_days, settings.same_day_until = 3, None
    settings.save()
    dates = set(selectors.slots_bookable(office=office_a, service=lost_card)
                .values_list("date", flat=True))
    assert dates == {date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 2)}


def test_full_and_closed_slots_are_not_offered(office_a, lost_card, slot_on):
    full = slot_on(lost_card, date(2026, 7, 1), "08:00")
    Slot.objects.filter(pk=full.pk).update(booked=4)
    closed = slot_on(lost_card, date(2026, 7, 1), "08:30")
    Slot.objects.filter(pk=closed.pk).update(is_closed=True)
    offered = selectors.slots_bookable(office=office_a, service=lost_card,
                                       date_from=date(2026, 7, 1), date_to=date(2026, 7, 1))
    assert offered.first().start == time(9, 0)
    assert offered.count() == 12


def test_slots_follow_the_office_time_zone(db, clock):
    from tests.factories import OfficeFactory

    makassar = OfficeFactory(code="7371", name="Disdukcapil Kota Makassar",
                             timezone="Asia/Makassar")
    slots_ensure(office=makassar, start=date(2026, 7, 1), end=date(2026, 7, 1))
    first = Slot.objects.filter(office=makassar).order_by("starts_at").first()
    assert first.start == time(8, 0)
    assert first.starts_at.isoformat() == "2026-07-01T00:00:00+00:00"  # 08:00 WITA


def test_reading_slots_writes_nothing_once_the_window_is_made(office_a, lost_card, clock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    list(selectors.slots_bookable(office=office_a, service=lost_card))
    with CaptureQueriesContext(connection) as queries:
        later = list(selectors.slots_bookable(office=office_a, service=lost_card,
                                              date_from=date(2026, 7, 6)))
    assert later[0].date == date(2026, 7, 6)
    assert [q["sql"] for q in queries if not q["sql"].startswith("SELECT")] == []


def test_a_changed_lane_plan_applies_to_the_days_not_made_yet(office_a, lost_card, clock):
    slots_ensure_window(office=office_a)
    last = Slot.objects.filter(office=office_a).latest("date").date
    assert last == date(2026, 7, 13)
    Slot.objects.filter(office=office_a, date=last).delete()  # as if not made yet
    LaneSchedule.objects.filter(lane=lost_card.lane).update(capacity=9)
    assert slots_ensure_window(office=office_a) == 0  # made recently: no work
    slots_plan_changed(office=office_a)
    slots_ensure_window(office=office_a)
    assert set(Slot.objects.filter(lane=lost_card.lane, date=last)
               .values_list("capacity", flat=True)) == {9}
    assert set(Slot.objects.filter(lane=lost_card.lane, date=date(2026, 7, 10))
               .values_list("capacity", flat=True)) == {4}


def test_the_hourly_top_up_fills_every_offices_window_once(office_a, office_b, clock):
    slots_ensure_all()
    for office in (office_a, office_b):
        first, last = bookable_range(office=office)
        days = set(Slot.objects.filter(office=office).values_list("date", flat=True))
        assert first in days
        assert max(days) == last
    count = Slot.objects.count()
    slots_ensure_all()
    assert Slot.objects.count() == count
