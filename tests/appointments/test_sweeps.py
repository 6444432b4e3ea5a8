from datetime import date, datetime

import pytest

from registry.appointments.models import Booking, BookingStatus
from registry.appointments.services.attendance import (
    booking_check_in,
    booking_complete,
    booking_missed,
)
from registry.appointments.services.bookings import booking_cancel, booking_reschedule
from registry.appointments.services.reminders import bookings_remind_due
from registry.appointments.services.sweeps import (
    applications_lapse_due,
    bookings_expire_due,
)
from registry.models import (
    Application,
    ApplicationStatus,
    CaseEvent,
    Notification,
    NotificationDelivery,
)
from tests.appointments.conftest import WIB, book
from tests.factories import OfficeFactory, ResidentFactory

WEDNESDAY = date(2026, 7, 1)


def test_a_missed_day_expires_tells_and_keeps_the_case_open(office_a, resident_a, lost_card,
                                                            slot_on, clock):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    clock.move_to(datetime(2026, 7, 1, 23, 59, tzinfo=WIB))
    assert bookings_expire_due() == 0
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    with pytest.MonkeyPatch.context():
        assert bookings_expire_due() == 1
    booking.refresh_from_db()
    assert (booking.status, booking.expired_at) == \
        (BookingStatus.EXPIRED, datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    application = Application.objects.get(pk=booking.application_id)
    assert (application.status, application.rebook_until) == \
        (ApplicationStatus.OPEN, date(2026, 8, 1))
    event = CaseEvent.objects.get(application=application, kind="booking.expired")
    assert event.message == (f"Booking {booking.code} untuk 1 Juli 2026 pukul 08:00 "
                             "kedaluwarsa tanpa check-in; booking ulang bisa sampai "
                             "1 Agustus 2026.")
    note = Notification.objects.get(resident=resident_a, kind="booking.expired")
    assert note.title == f"Booking {booking.code} sudah kedaluwarsa"
    assert "booking ulang di aplikasi paling lambat 1 Agustus 2026" in note.body
    assert note.link == "/api/v1/bookings/"
    assert NotificationDelivery.objects.filter(notification=note).count() == 1  # WhatsApp
    # Twice: nothing more.
    assert bookings_expire_due() == 0
    assert Notification.objects.filter(kind="booking.expired").count() == 1


def test_re_booking_in_one_call_continues_the_case_then_lapse_never_comes(
        office_a, resident_a, lost_card, slot_on, clock):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    bookings_expire_due()
    clock.move_to(datetime(2026, 7, 2, 8, 0, tzinfo=WIB))
    again = book(resident_a, lost_card, slot_on(lost_card, date(2026, 7, 6), "08:00"))
    assert again.application_id == booking.application_id
    clock.move_to(datetime(2026, 8, 3, 1, 0, tzinfo=WIB))
    assert applications_lapse_due() == 0


def test_no_re_booking_within_the_days_lapses_the_case_once(office_a, resident_a, lost_card,
                                                           slot_on, clock):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    bookings_expire_due()
    clock.move_to(datetime(2026, 8, 1, 23, 0, tzinfo=WIB))
    assert applications_lapse_due() == 0  # 1 August is the last day
    clock.move_to(datetime(2026, 8, 2, 0, 10, tzinfo=WIB))
    assert applications_lapse_due() == 1
    assert applications_lapse_due() == 0
    application = Application.objects.get(pk=booking.application_id)
    assert application.status == ApplicationStatus.LAPSED
    assert CaseEvent.objects.get(application=application, kind="booking.lapsed").message == \
        "Tidak ada booking baru sampai 1 Agustus 2026: permohonan gugur."
    note = Notification.objects.get(kind="booking.lapsed")
    assert note.title == f"Permohonan {application.number} Anda gugur"


def test_expiry_is_per_office_time_zone(db, lost_card, slot_on, clock):
    jayapura = OfficeFactory(code="9171", name="Disdukcapil Kota Jayapura",
                             timezone="Asia/Jayapura")
    from registry.models import Service

    service = Service.objects.get(office=jayapura, code="KTP_HILANG")
    resident = ResidentFactory(domicile_office=jayapura)
    booking = book(resident, service, slot_on(service, WEDNESDAY, "08:00"))
    # 23:00 WIB on 1 July is 01:00 WIT on 2 July: Jayapura's day is over.
    clock.move_to(datetime(2026, 7, 1, 23, 0, tzinfo=WIB))
    assert bookings_expire_due() == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED


def test_checked_in_done_and_cancelled_bookings_do_not_expire(office_a, lost_card, slot_on,
                                                              clock):
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    done, cancelled, waiting = (book(ResidentFactory(domicile_office=office_a), lost_card, slot)
                                for _i in range(3))
    booking_cancel(booking=cancelled)
    clock.move_to(datetime(2026, 7, 1, 8, 0, tzinfo=WIB))
    booking_check_in(booking=done)
    booking_complete(booking=done)
    clock.move_to(datetime(2026, 7, 2, 1, 0, tzinfo=WIB))
    assert bookings_expire_due() == 1
    assert dict(Booking.objects.values_list("pk", "status")) == {
        done.pk: "done", cancelled.pk: "cancelled", waiting.pk: "expired"}


def test_expiry_in_small_batches_takes_every_booking_once(office_a, lost_card, slot_on, clock):
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    for _i in range(4):
        book(ResidentFactory(domicile_office=office_a), lost_card, slot)
    clock.move_to(datetime(2026, 7, 2, 1, 0, tzinfo=WIB))
    assert bookings_expire_due(batch=3) == 4
    assert Notification.objects.filter(kind="booking.expired").count() == 4


def test_missed_after_check_in_expires_like_a_missed_day(office_a, resident_a, lost_card,
                                                        slot_on, clock):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "08:00"))
    clock.move_to(datetime(2026, 7, 1, 8, 0, tzinfo=WIB))
    booking_check_in(booking=booking)
    booking_missed(booking=booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert Notification.objects.filter(kind="booking.expired", resident=resident_a).count() == 1
    assert Application.objects.get(pk=booking.application_id).rebook_until == date(2026, 7, 31)


def test_reminders_the_day_before_and_the_morning_once_each(office_a, resident_a, lost_card,
                                                           slot_on, clock):
    book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "10:00"))
    clock.move_to(datetime(2026, 6, 30, 15, 59, tzinfo=WIB))
    assert bookings_remind_due() == 0
    clock.move_to(datetime(2026, 6, 30, 16, 0, tzinfo=WIB))
    assert bookings_remind_due() == 1
    assert bookings_remind_due() == 0
    clock.move_to(datetime(2026, 7, 1, 6, 0, tzinfo=WIB))
    assert bookings_remind_due() == 1
    assert bookings_remind_due() == 0
    notes = list(Notification.objects.filter(kind="booking.reminder").order_by("id"))
    assert [n.title for n in notes] == ["Pengingat: kunjungan Anda pada 1 Juli 2026"] * 2
    assert notes[0].body.startswith(
        "KTP-el hilang di Disdukcapil Kota Bekasi pada 1 Juli 2026, 10:00-10:30, jalur C "
        "(Perubahan biodata). Kode booking")
    assert "Perhatian" not in notes[0].body


def test_reminder_warns_of_a_document_expired_by_the_visit(office_a, resident_a, lost_card,
                                                          slot_on, clock):
    # Issued 17 June: last valid day 30 June, the day before the visit. (Booked before the
    # pre-check existed for it, as a staff member could with an old date.)
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "10:00"))
    booking.documents.filter(requirement__code="SURAT_KEHILANGAN").update(
        issued_on=date(2026, 6, 17))
    clock.move_to(datetime(2026, 6, 30, 16, 0, tzinfo=WIB))
    bookings_remind_due()
    note = Notification.objects.get(kind="booking.reminder")
    assert note.body.endswith(
        "Perhatian: Surat keterangan kehilangan dari Kepolisian berlaku sampai 30 Juni 2026, "
        "sebelum kunjungan Anda pada 1 Juli 2026. Minta di Polsek atau Polres terdekat dengan "
        "membawa KK. Surat berlaku 14 hari sejak diterbitkan; bila sudah lewat, minta surat "
        "baru sebelum datang.")


def test_rescheduling_resets_the_reminders(office_a, resident_a, lost_card, slot_on, clock):
    booking = book(resident_a, lost_card, slot_on(lost_card, WEDNESDAY, "10:00"))
    clock.move_to(datetime(2026, 6, 30, 16, 0, tzinfo=WIB))
    bookings_remind_due()
    booking_reschedule(booking=booking, slot=slot_on(lost_card, date(2026, 7, 2),
                                                     "10:00"))
    clock.move_to(datetime(2026, 7, 1, 16, 0, tzinfo=WIB))
    assert bookings_remind_due() == 1
