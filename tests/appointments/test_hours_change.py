"""Changing a lane's plan or the office's hours after slots are made: a day already made
keeps its shape (no second grid of slots over it), and the slots new hours leave out
close, with everyone booked in them told and offered other times, as for a closure."""

import itertools
from datetime import date, time

from django.urls import reverse

from registry.appointments import selectors
from registry.appointments.models import Booking, LaneSchedule, Slot
from registry.appointments.services.closures import closure_declare, office_hours_changed
from registry.appointments.services.slots import slots_ensure, slots_ensure_window
from registry.models import Application, ApplicationStatus, CaseEvent, Notification, WorkingHours
from tests.appointments.conftest import book
from tests.factories import ResidentFactory

WEDNESDAY, THURSDAY, FRIDAY = date(2026, 7, 1), date(2026, 7, 2), date(2026, 7, 3)


def lane_day(service, day):
    return list(Slot.objects.filter(lane=service.lane, date=day).order_by("start")
                .values_list("start", "end", "capacity", "is_closed"))


def overlapping(service):
    """Pairs of slots of the lane on the same day whose times overlap."""
    slots = list(Slot.objects.filter(lane=service.lane).order_by("date", "start"))
    return [(a.pk, b.pk) for a, b in itertools.pairwise(slots)
            if a.date == b.date and b.start < a.end]


def set_hours(office, weekday, opens=None, closes=None):
    """Change one weekday's hours, or drop the day (no opens)."""
    if opens is None:
        WorkingHours.objects.filter(office=office, weekday=weekday).delete()
    else:
        WorkingHours.objects.update_or_create(office=office, weekday=weekday,
                                              defaults={"opens": opens, "closes": closes})


def test_a_new_slot_length_leaves_made_days_as_they_are_and_shapes_the_days_after(
        office_a, lost_card, clock):
    slots_ensure(office=office_a, start=WEDNESDAY, end=WEDNESDAY)
    before = lane_day(lost_card, WEDNESDAY)
    assert len(before) == 14  # 08:00-15:00 in 30-minute slots
    LaneSchedule.objects.filter(lane=lost_card.lane).update(slot_minutes=20, capacity=3)
    made = slots_ensure(office=office_a, start=WEDNESDAY, end=THURSDAY)
    # Wednesday: not one 20-minute slot laid over the 30-minute ones.
    assert lane_day(lost_card, WEDNESDAY) == before
    thursday = lane_day(lost_card, THURSDAY)
    assert len(thursday) == 21
    assert {row[2] for row in thursday} == {3}
    assert made == 2 * 14 + 21  # Thursday: lanes A and B as before, C in 20 minutes
    assert overlapping(lost_card) == []


def test_hours_moved_by_a_few_minutes_never_double_the_places_of_a_time(office_a, lost_card,
                                                                        clock):
    slots_ensure(office=office_a, start=WEDNESDAY, end=WEDNESDAY)
    set_hours(office_a, WEDNESDAY.weekday(), time(8, 10), time(15, 40))
    slots_ensure(office=office_a, start=WEDNESDAY, end=WEDNESDAY)
    assert overlapping(lost_card) == []
    # The 30 minutes added at the end of the day that no slot covered are now slots:
    # 15:10-15:40 fits after the 15:00 end of the made day.
    assert lane_day(lost_card, WEDNESDAY)[-1][:2] == (time(15, 10), time(15, 40))


def test_shorter_hours_close_the_later_slots_and_tell_the_residents_booked_in_them(
        office_a, resident_a, lost_card, slot_on, make_staff):
    admin = make_staff(office_a, "office_admin")
    neighbour = ResidentFactory(domicile_office=office_a)
    slots_ensure_window(office=office_a)
    late = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "13:00"))
    early = book(neighbour, lost_card, slot_on(lost_card, WEDNESDAY, "09:00"))
    set_hours(office_a, WEDNESDAY.weekday(), time(8, 0), time(12, 0))

    assert office_hours_changed(office=office_a, by=admin) == 1

    late.refresh_from_db()
    early.refresh_from_db()
    assert (late.status, late.cancel_reason, late.cancelled_by) == \
        ("cancelled", "jam layanan berubah", admin)
    assert early.status == "booked"
    closed = {row[0] for row in lane_day(lost_card, WEDNESDAY) if row[3]}
    assert closed == {time(h, m) for h in (12, 13, 14) for m in (0, 30)}
    assert Slot.objects.get(lane=lost_card.lane, date=WEDNESDAY, start=time(13)).booked == 0
    # Wednesday's open slots are offered first: the resident may still come that day.
    note = Notification.objects.get(resident=resident_a, kind="booking.cancelled_by_hours")
    assert note.title == "Waktu Anda pada 1 Juli 2026 tidak lagi dibuka"
    offers = "1 Juli 2026 08:00; 1 Juli 2026 08:30; 1 Juli 2026 09:00"
    assert f"Waktu kosong berikutnya: {offers}." in note.body
    application = Application.objects.get(pk=late.application_id)
    assert application.status == ApplicationStatus.OPEN
    assert application.rebook_until == date(2026, 7, 29)
    assert CaseEvent.objects.filter(application=application,
                                    kind="booking.cancelled_by_hours").count() == 1
    assert not Notification.objects.filter(resident=neighbour).exclude(
        kind="booking.created").exists()
    offered = selectors.slots_bookable(office=office_a, service=lost_card,
                                       date_from=WEDNESDAY, date_to=WEDNESDAY)
    assert max(s.start for s in offered) == time(11, 30)
    # The resident re-books in one call, into the hours that are left.
    again = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "11:00"))
    assert again.application_id == late.application_id


def test_a_weekday_no_longer_worked_closes_its_slots_and_reopening_it_opens_them_again(
        office_a, resident_a, lost_card, slot_on):
    slots_ensure_window(office=office_a)
    booking = book(resident_a, lost_card, slot_on(lost_card, FRIDAY, "10:00"))
    set_hours(office_a, FRIDAY.weekday())
    assert office_hours_changed(office=office_a) == 1
    assert {row[3] for row in lane_day(lost_card, FRIDAY)} == {True}
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"

    set_hours(office_a, FRIDAY.weekday(), time(8, 0), time(15, 0))
    assert office_hours_changed(office=office_a) == 0
    assert {row[3] for row in lane_day(lost_card, FRIDAY)} == {False}
    assert len(lane_day(lost_card, FRIDAY)) == 14


def test_longer_hours_add_slots_to_the_days_already_made(office_a, lost_card, clock):
    slots_ensure_window(office=office_a)
    set_hours(office_a, THURSDAY.weekday(), time(7, 0), time(16, 0))
    office_hours_changed(office=office_a)
    thursday = lane_day(lost_card, THURSDAY)
    assert (thursday[0][0], thursday[-1][1], len(thursday)) == (time(7), time(16), 18)
    assert overlapping(lost_card) == []


def test_a_closure_day_stays_closed_when_the_hours_change(office_a, lost_card, clock):
    slots_ensure_window(office=office_a)
    closure_declare(office=office_a, day=THURSDAY, reason="Rapat dinas")
    set_hours(office_a, WEDNESDAY.weekday(), time(8, 0), time(12, 0))
    office_hours_changed(office=office_a)
    assert {row[3] for row in lane_day(lost_card, THURSDAY)} == {True}


def test_editing_the_hours_in_admin_tells_the_residents_booked_outside_them(
        client, office_a, office_b, resident_a, lost_card, slot_on, make_staff):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "14:00"))
    client.force_login(make_staff(office_a, "office_admin"))
    url = reverse("admin:registry_office_change", args=[office_a.pk])
    hours = list(WorkingHours.objects.filter(office=office_a).order_by("weekday"))
    form = {"code": office_a.code, "name": office_a.name, "timezone": office_a.timezone,
            "address": office_a.address, "is_active": "on",
            "working_hours-TOTAL_FORMS": len(hours), "working_hours-INITIAL_FORMS": len(hours),
            "working_hours-MIN_NUM_FORMS": 0, "working_hours-MAX_NUM_FORMS": 1000}
    for n, wh in enumerate(hours):
        closes = "12:00" if wh.weekday == WEDNESDAY.weekday() else f"{wh.closes:%H:%M}"
        form.update({f"working_hours-{n}-id": wh.pk, f"working_hours-{n}-office": office_a.pk,
                     f"working_hours-{n}-weekday": wh.weekday,
                     f"working_hours-{n}-opens": f"{wh.opens:%H:%M}",
                     f"working_hours-{n}-closes": closes})
    answer = client.post(url, form, follow=True)
    assert answer.status_code == 200
    assert "1 booking berada di luar jam baru" in answer.content.decode()
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert Notification.objects.filter(resident=resident_a,
                                       kind="booking.cancelled_by_hours").count() == 1
    # Saving again without a change to the hours tells nobody again.
    answer = client.post(url, form, follow=True)
    assert "berada di luar jam baru" not in answer.content.decode()
    # Another office's hours are not this admin's to change.
    other = client.post(reverse("admin:registry_office_change", args=[office_b.pk]), form)
    assert other.status_code == 404
    assert WorkingHours.objects.get(office=office_b, weekday=WEDNESDAY.weekday()).closes \
        == time(15, 0)


def test_the_next_free_times_are_looked_up_once_per_lane_and_day(office_a, lost_card,
                                                                 slot_on):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for start in ("08:00", "08:30", "09:00"):
        for _n in range(2):
            book(ResidentFactory(domicile_office=office_a), lost_card,
                 slot_on(lost_card, WEDNESDAY, start))
    with CaptureQueriesContext(connection) as queries:
        closure_declare(office=office_a, day=WEDNESDAY, reason="Banjir")
    lookups = [q["sql"] for q in queries
               if q["sql"].startswith("SELECT") and '"booked" < (' in q["sql"]]
    assert len(lookups) == 1
    told = Notification.objects.filter(kind="booking.cancelled_by_closure")
    assert told.count() == 6
    assert len({note.body.rsplit("berikutnya: ", 1)[1] for note in told}) == 1
