from datetime import date, datetime

import pytest
from django.db import IntegrityError, transaction

from registry.appointments.models import Booking, BookingStatus, Slot
from registry.appointments.services import bookings
from registry.appointments.services.attendance import booking_check_in, booking_complete
from registry.appointments.services.bookings import (
    booking_cancel,
    booking_get_by_code,
    booking_reschedule,
)
from registry.appointments.services.slots import slots_ensure
from registry.errors import Conflict, DomainError, NotFound, violated_constraint
from registry.models import Application, ApplicationStatus, CaseEvent, Notification, Service
from tests.appointments.conftest import WIB, book
from tests.factories import ResidentFactory

WEDNESDAY = date(2026, 7, 1)


def test_a_new_code_equal_to_an_existing_one_is_drawn_again(office_a, resident_a,
                                                            resident_b, lost_card, slot_on,
                                                            monkeypatch):
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    first = book(resident_a, lost_card, slot)
    codes = iter([first.code, "ZZZZ2222"])
    monkeypatch.setattr(bookings, "_new_code", lambda: next(codes))
    second = book(resident_b, lost_card, slot)
    assert second.code == "ZZZZ2222"
    slot.refresh_from_db()
    assert slot.booked == 2  # the place taken by the failed try was given back
    assert Application.objects.filter(resident=resident_b).count() == 1
    assert Notification.objects.filter(resident=resident_b).count() == 1


def test_a_broken_unique_constraint_is_known_by_its_name(office_a, resident_a, resident_b,
                                                        lost_card, slot_on):
    """booking_create tells a second active booking from a repeated code by the name of
    the constraint broken, on SQLite (which names only the columns) as on PostgreSQL."""
    first = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    copies = {
        "booking_code_unique": {"resident_id": resident_b.pk, "code": first.code},
        "one_active_booking_per_service": {"resident_id": resident_a.pk, "code": "ZZZZ3333"},
    }
    for name, changes in copies.items():
        copy = Booking.objects.get(pk=first.pk)
        copy.pk = None
        copy.__dict__.update(changes)
        with pytest.raises(IntegrityError) as raised, transaction.atomic():
            copy.save()
        assert violated_constraint(raised.value, Booking) == name
    assert Booking.objects.count() == 1


def test_booking_takes_a_place_opens_the_case_and_tells_the_resident(
        office_a, resident_a, lost_card, slot_on):
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    booking = book(resident_a, lost_card, slot)
    assert (booking.status, booking.day, booking.channel) == ("booked", WEDNESDAY, "app")
    assert len(booking.code) == 8
    assert not set(booking.code) & set("0O1IL")
    assert booking.expires_at == datetime(2026, 7, 2, 0, 0, tzinfo=WIB)
    slot.refresh_from_db()
    assert slot.booked == 1
    application = booking.application
    assert (application.resident, application.service, application.status) == \
        (resident_a, lost_card, ApplicationStatus.OPEN)
    assert list(CaseEvent.objects.filter(application=application).values_list(
        "kind", flat=True).order_by("id")) == \
        ["application.opened", "booking.created", "notification.sent"]
    note = Notification.objects.get(resident=resident_a)
    assert note.title == f"Booking {booking.code} terkonfirmasi"
    assert note.body == (
        "KTP-el hilang pada 1 Juli 2026, 08:00-08:30, jalur C (Perubahan biodata). Bawa: "
        "Kartu Keluarga (KK) asli; Surat keterangan kehilangan dari Kepolisian. Tunjukkan "
        f"kode {booking.code} di kios antrean.")
    assert [(d.requirement.code, d.issued_on) for d in booking.documents.all()] == \
        [("KK", None), ("SURAT_KEHILANGAN", date(2026, 6, 25))]


def test_requirement_problems_refuse_the_booking_and_change_nothing(
        office_a, resident_a, lost_card, slot_on):
    slot = slot_on(lost_card, WEDNESDAY)
    expired = [{"requirement": "KK"},
               {"requirement": "SURAT_KEHILANGAN", "issued_on": date(2026, 6, 1)}]
    with pytest.raises(DomainError) as error:
        book(resident_a, lost_card, slot, expired)
    assert error.value.code == "requirements_not_met"
    assert [p["code"] for p in error.value.extra["problems"]] == ["expired"]
    # Valid today but not on 15 July? outside the window; 8 July is the report's last day.
    late_slot = slot_on(lost_card, date(2026, 7, 9))
    with pytest.raises(DomainError) as error:
        book(resident_a, lost_card, late_slot)
    assert [p["code"] for p in error.value.extra["problems"]] == ["expires_before_visit"]
    slot.refresh_from_db()
    late_slot.refresh_from_db()
    assert (slot.booked, late_slot.booked) == (0, 0)
    assert not Booking.objects.exists()
    assert not Application.objects.exists()


def test_a_full_slot_answers_slot_full(office_a, lost_card, slot_on):
    slot = slot_on(lost_card, WEDNESDAY)
    for _i in range(4):
        book(ResidentFactory(domicile_office=office_a), lost_card, slot)
    late = ResidentFactory(domicile_office=office_a)
    with pytest.raises(Conflict) as error:
        book(late, lost_card, slot)
    assert error.value.code == "slot_full"
    slot.refresh_from_db()
    assert slot.booked == 4
    assert not Application.objects.filter(resident=late).exists()


def test_one_active_booking_per_resident_and_service(office_a, resident_a, lost_card, slot_on):
    first = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    other = slot_on(lost_card, WEDNESDAY, "09:00")
    with pytest.raises(Conflict) as error:
        book(resident_a, lost_card, other)
    assert error.value.code == "active_booking_exists"
    other.refresh_from_db()
    assert other.booked == 0
    # Another service is another case.
    renewal = Service.objects.get(office=office_a, code="KTP_TTD_FOTO")
    second = book(resident_a, renewal, slot_on(renewal, WEDNESDAY, "08:00"),
                  [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}])
    assert second.application != first.application


@pytest.mark.parametrize(("when", "start"), [
    (date(2026, 6, 26), "08:00"),   # before today
    (date(2026, 6, 29), "08:30"),   # today, already started
    (date(2026, 7, 14), "08:00"),   # past the 14-day window
])
def test_slots_outside_the_window_are_refused(office_a, resident_a, lost_card, when, start,
                                              clock):
    slots_ensure(office=office_a, start=when, end=when)
    slot = Slot.objects.get(lane=lost_card.lane, date=when, start=start)
    with pytest.raises(DomainError) as error:
        book(resident_a, lost_card, slot)
    assert error.value.code == "slot_not_bookable"


def test_slot_of_another_lane_or_office_is_not_found(office_a, office_b, resident_a, lost_card,
                                                      slot_on):
    lane_b_service = Service.objects.get(office=office_a, code="KTP_BARU")
    with pytest.raises(NotFound):
        book(resident_a, lost_card, slot_on(lane_b_service, WEDNESDAY))
    other_office = Service.objects.get(office=office_b, code="KTP_HILANG")
    with pytest.raises(NotFound):
        book(resident_a, lost_card, slot_on(other_office, WEDNESDAY))


def test_resident_cancels_before_the_cutoff_and_the_place_is_freed(
        office_a, resident_a, lost_card, slot_on, clock):
    slot = slot_on(lost_card, WEDNESDAY)
    booking = book(resident_a, lost_card, slot)
    booking_cancel(booking=booking)
    booking.refresh_from_db()
    slot.refresh_from_db()
    assert (booking.status, slot.booked) == (BookingStatus.CANCELLED, 0)
    assert booking.application.status == ApplicationStatus.CANCELLED
    # A new booking of the same service is allowed now, in a new case.
    again = book(resident_a, lost_card, slot)
    assert again.application != booking.application


def test_cancel_and_reschedule_close_before_the_slot(office_a, resident_a, lost_card, slot_on,
                                                     clock):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    target = slot_on(lost_card, date(2026, 7, 2), "08:00")
    clock.move_to(datetime(2026, 7, 1, 6, 1, tzinfo=WIB))  # cutoff: 2 hours before, 06:00
    for attempt in (lambda: booking_cancel(booking=booking),
                    lambda: booking_reschedule(booking=booking, slot=target)):
        with pytest.raises(Conflict) as error:
            attempt()
        assert error.value.code == "change_window_closed"
    booking.refresh_from_db()
    assert (booking.status, booking.slot.start.hour) == ("booked", 8)


def test_staff_cancel_needs_a_reason_tells_the_resident_and_keeps_the_case_open(
        office_a, resident_a, lost_card, slot_on, make_staff):
    desk = make_staff(office_a, "front_desk")
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY))
    with pytest.raises(DomainError):
        booking_cancel(booking=booking, by=desk, reason=" ")
    booking_cancel(booking=booking, by=desk, reason="Petugas perekaman sakit")
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by, booking.cancel_reason) == \
        ("cancelled", desk, "Petugas perekaman sakit")
    application = Application.objects.get(pk=booking.application_id)
    assert application.status == ApplicationStatus.OPEN
    assert application.rebook_until == date(2026, 7, 29)
    note = Notification.objects.filter(resident=resident_a).latest("id")
    assert note.body.startswith("Kunjungan Anda pada 1 Juli 2026 pukul 08:00 dibatalkan: "
                                "Petugas perekaman sakit.")
    # The re-booking continues the same case.
    again = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "10:00"))
    assert again.application_id == application.id
    application.refresh_from_db()
    assert application.rebook_until is None


def test_reschedule_moves_the_place_atomically(office_a, resident_a, lost_card, slot_on):
    old = slot_on(lost_card, WEDNESDAY, "08:00")
    booking = book(resident_a, lost_card, old)
    full = slot_on(lost_card, WEDNESDAY, "10:00")
    Slot.objects.filter(pk=full.pk).update(booked=4)
    with pytest.raises(Conflict) as error:
        booking_reschedule(booking=booking, slot=full)
    assert error.value.code == "slot_full"
    old.refresh_from_db()
    assert old.booked == 1
    new = slot_on(lost_card, date(2026, 7, 2), "13:00")
    booking_reschedule(booking=booking, slot=new)
    booking.refresh_from_db()
    old.refresh_from_db()
    new.refresh_from_db()
    assert (booking.slot, booking.day, old.booked, new.booked) == (new, date(2026, 7, 2), 0, 1)
    assert booking.expires_at == datetime(2026, 7, 3, 0, 0, tzinfo=WIB)
    assert CaseEvent.objects.filter(application=booking.application,
                                    kind="booking.rescheduled").count() == 1


def test_reschedule_checks_the_documents_against_the_new_day(office_a, resident_a, lost_card,
                                                              slot_on):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY))
    with pytest.raises(DomainError) as error:
        booking_reschedule(booking=booking, slot=slot_on(lost_card, date(2026, 7, 9)))
    assert error.value.code == "requirements_not_met"
    booking.refresh_from_db()
    assert booking.day == WEDNESDAY


def test_check_in_on_the_day_on_time_or_late(office_a, resident_a, lost_card, slot_on, clock):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    with pytest.raises(DomainError) as error:
        booking_check_in(booking=booking)
    assert error.value.code == "booking_other_day"
    clock.move_to(datetime(2026, 7, 1, 8, 20, tzinfo=WIB))
    assert booking_check_in(booking=booking) is True
    with pytest.raises(Conflict):
        booking_check_in(booking=booking)
    booking_complete(booking=booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DONE
    assert booking.checked_in_at == datetime(2026, 7, 1, 8, 20, tzinfo=WIB)

    other = ResidentFactory(domicile_office=office_a)
    clock.move_to(datetime(2026, 6, 29, 9, 0, tzinfo=WIB))
    late = book(other, lost_card, slot_on(lost_card, WEDNESDAY, "09:00"))
    clock.move_to(datetime(2026, 7, 1, 9, 31, tzinfo=WIB))
    assert booking_check_in(booking=late) is False


def test_booking_get_by_code_ignores_case_and_hides_other_offices(office_a, office_b,
                                                                   resident_a, lost_card,
                                                                   slot_on):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY))
    assert booking_get_by_code(office=office_a,
                               code=f" {booking.code.lower()} ") == booking
    with pytest.raises(NotFound) as error:
        booking_get_by_code(office=office_b, code=booking.code)
    assert error.value.code == "booking_not_found"
