"""Residents without the app: messages by phone type (the single and the set-based
path), offers of two free times by SMS when a feature phone's booking expires or is
cancelled, and the office's contact for those with no phone."""

from datetime import date, datetime

from django.db import transaction

from registry.appointments.models import (
    Booking,
    BookingStatus,
    LaneSchedule,
    Slot,
    SmsOffer,
    SmsOfferStatus,
)
from registry.appointments.services.bookings import booking_cancel
from registry.appointments.services.closures import closure_declare
from registry.appointments.services.sweeps import applications_lapse_due, bookings_expire_due
from registry.models import (
    Application,
    ApplicationStatus,
    CaseEvent,
    Notification,
    NotificationDelivery,
    PhoneType,
    Resident,
    Role,
)
from registry.services.notifications import (
    notification_channels_for,
    notification_send,
    notifications_send_from_rows,
)
from tests.appointments.conftest import WIB, book
from tests.factories import ResidentFactory

WEDNESDAY = date(2026, 7, 1)
THURSDAY_0005 = datetime(2026, 7, 2, 0, 5, tzinfo=WIB)
NOW_TS = datetime(2026, 6, 29, 8, 0, tzinfo=WIB)


def residents_of_every_kind(office):
    """(resident, the channels it must get) for each phone type and what is set."""
    make = ResidentFactory
    return [
        (make(domicile_office=office, phone="+6281300900001", email="a@example.id",
              app_registered_at=NOW_TS),
         [("push", ""), ("whatsapp", "+6281300900001"), ("email", "a@example.id")]),
        (make(domicile_office=office, phone="+6281300900002", email=""),
         [("whatsapp", "+6281300900002")]),
        (make(domicile_office=office, phone="+6281300900003", email="c@example.id",
              phone_type=PhoneType.FEATURE_PHONE, app_registered_at=NOW_TS),
         [("sms", "+6281300900003"), ("email", "c@example.id")]),
        # A number staff typed in, never bound: no SMS to it.
        (make(domicile_office=office, phone="+6281300900004", email="", phone_bound_at=None,
              phone_type=PhoneType.FEATURE_PHONE), []),
        (make(domicile_office=office, phone="+6281300900005", email="e@example.id",
              phone_type=PhoneType.NONE), [("email", "e@example.id")]),
        (make(domicile_office=office, phone="", email="", phone_type=PhoneType.NONE), []),
    ]


def channels_of(notification):
    return [(d.channel, d.address) for d in
            NotificationDelivery.objects.filter(notification=notification).order_by("id")]


def test_channels_follow_the_phone_type_one_at_a_time(office_a):
    for resident, expected in residents_of_every_kind(office_a):
        assert notification_channels_for(resident) == expected
        with transaction.atomic():
            notification = notification_send(office=office_a, resident=resident,
                                              kind="test", title="T", body="B")
        assert channels_of(notification) == expected
        assert Notification.objects.filter(resident=resident).count() == 1  # the inbox


def test_channels_follow_the_phone_type_in_the_set_based_path(office_a):
    everyone = residents_of_every_kind(office_a)
    ids = [resident.id for resident, _expected in everyone]
    rows = (f"SELECT CAST(%s AS INTEGER) AS office_id, id AS resident_id, "  # noqa: S608
            f"CAST(NULL AS BIGINT) AS application_id, 'set:' || CAST(id AS TEXT) AS dedup_key "
            f"FROM {Resident._meta.db_table} WHERE id IN ({', '.join('%s' for _ in ids)})")
    with transaction.atomic():
        told = notifications_send_from_rows(
            office_id=office_a.id, kind="test", title="T", body="B", rows_sql=rows,
            rows_params=[office_a.id, *ids], names=[])
    assert told == 6
    for resident, expected in everyone:
        notification = Notification.objects.get(resident=resident,
                                                dedup_key=f"set:{resident.id}")
        assert channels_of(notification) == expected


def expire_wednesday_booking(resident, lost_card, slot_on, clock):
    booking = book(resident, lost_card, slot_on(lost_card, WEDNESDAY))
    clock.move_to(THURSDAY_0005)
    assert bookings_expire_due() == 1
    booking.refresh_from_db()
    return booking


def test_an_expired_booking_of_a_feature_phone_offers_two_times_by_sms(
        feature_phone, lost_card, slot_on, clock, sms_gateway):
    booking = expire_wednesday_booking(feature_phone, lost_card, slot_on, clock)
    offer = SmsOffer.objects.get()
    first, second = (Slot.objects.get(pk=pk) for pk in offer.slot_ids)
    assert (first.date, f"{first.start:%H:%M}", second.date, f"{second.start:%H:%M}") == (
        date(2026, 7, 2), "08:00", date(2026, 7, 2), "08:30")
    assert (offer.office, offer.resident, offer.application_id, offer.source_booking,
            offer.phone, offer.status, offer.expires_at) == (
        booking.office, feature_phone, booking.application_id, booking, "+6281377700001",
        SmsOfferStatus.OPEN, second.starts_at)
    confirmed, sms = sms_gateway.received("081377700001")
    assert confirmed["title"] == f"Booking {booking.code} confirmed"
    assert sms["title"] == f"Booking {booking.code} has expired"
    assert sms["body"] == (
        "You did not check in for KTP-el hilang on 1 Juli 2026 at 08:00, so booking "
        f"{booking.code} has expired. Your case stays open until 1 Agustus 2026. Reply 1 "
        "for Thursday, 2 July 2026 08:00, 2 for Thursday, 2 July 2026 08:30.")
    assert "in the app" not in sms["body"]
    notification = Notification.objects.get(kind="booking.expired")
    assert channels_of(notification) == [("sms", "+6281377700001")]
    assert list(CaseEvent.objects.filter(application=booking.application)
                .values_list("kind", flat=True).order_by("id"))[-3:] == [
        "booking.expired", "sms.offer_made", "notification.sent"]
    # A second sweep finds nothing and offers nothing again.
    assert bookings_expire_due() == 0
    assert SmsOffer.objects.count() == 1


def test_smartphones_and_no_phones_in_the_same_sweep_are_told_by_the_set_based_path(
        feature_phone, office_a, lost_card, slot_on, clock):
    on_app = ResidentFactory(domicile_office=office_a, language="en")
    no_phone = ResidentFactory(domicile_office=office_a, language="en", phone="",
                               email="x@example.id", phone_type=PhoneType.NONE)
    slot = slot_on(lost_card, WEDNESDAY)
    for resident in (on_app, no_phone, feature_phone):
        book(resident, lost_card, slot)
    clock.move_to(THURSDAY_0005)
    assert bookings_expire_due() == 3
    assert SmsOffer.objects.get().resident == feature_phone
    bodies = {n.resident_id: n.body for n in Notification.objects.filter(
        kind="booking.expired")}
    assert "re-book in the app by 1 Agustus 2026" in bodies[on_app.id]
    code = Booking.objects.get(resident=no_phone).code
    assert bodies[no_phone.id] == (
        "You did not check in for KTP-el hilang on 1 Juli 2026 at 08:00, so booking "
        f"{code} has expired. Your case stays open until 1 Agustus 2026. To book again, "
        "call or WhatsApp the office at +6281100001111 or come to the desk.")
    assert channels_of(Notification.objects.get(resident=no_phone,
                                                kind="booking.expired")) == [
        ("email", "x@example.id")]


def test_no_free_time_left_says_so_and_gives_the_office(feature_phone, lost_card, slot_on,
                                                        clock, sms_gateway):
    book(feature_phone, lost_card, slot_on(lost_card, WEDNESDAY))
    # Every other place of lane C taken: none left to offer.
    LaneSchedule.objects.filter(lane=lost_card.lane).update(capacity=0)
    Slot.objects.filter(lane=lost_card.lane).exclude(date=WEDNESDAY).update(capacity=0)
    clock.move_to(THURSDAY_0005)
    bookings_expire_due()
    offer = SmsOffer.objects.get()
    assert (offer.slot_ids, offer.status) == ([], SmsOfferStatus.EMPTY)
    sms = sms_gateway.received(feature_phone.phone)[-1]
    assert sms["body"].endswith("No free time is open yet: call or WhatsApp the office "
                                "at +6281100001111.")


def test_an_office_cancellation_offers_times_by_sms_or_the_desk(
        feature_phone, office_a, lost_card, slot_on, clock, make_staff):
    staff = make_staff(office_a, Role.FRONT_DESK)
    no_phone = ResidentFactory(domicile_office=office_a, language="en", phone="",
                               phone_type=PhoneType.NONE)
    slot = slot_on(lost_card, WEDNESDAY)
    mine, theirs = book(feature_phone, lost_card, slot), book(no_phone, lost_card, slot)
    booking_cancel(booking=mine, by=staff, reason="counter C is closed")
    booking_cancel(booking=theirs, by=staff, reason="counter C is closed")
    offer = SmsOffer.objects.get()
    assert (offer.source_booking, offer.status) == (mine, SmsOfferStatus.OPEN)
    assert slot.id not in offer.slot_ids  # the place it gave back is not offered
    texts = {n.resident_id: n.body for n in Notification.objects.filter(
        kind="booking.cancelled_by_office")}
    # Monday 09:00: the next free times are today's, after the one starting now.
    assert texts[feature_phone.id] == (
        "Your visit on 1 Juli 2026 at 08:00 is cancelled by the office: counter C is "
        "closed. Your case stays open. Reply 1 for Monday, 29 June 2026 09:30, 2 for "
        "Monday, 29 June 2026 10:00.")
    assert texts[no_phone.id] == (
        "Your visit on 1 Juli 2026 at 08:00 is cancelled by the office: counter C is "
        "closed. Your case stays open. To book again, call or WhatsApp the office at "
        "+6281100001111 or come to the desk.")
    assert Application.objects.get(pk=mine.application_id).rebook_until is not None


def test_a_closure_offers_times_from_the_booking_day_on(feature_phone, office_a,
                                                        lost_card, slot_on, clock):
    booking = book(feature_phone, lost_card, slot_on(lost_card, WEDNESDAY))
    closure_declare(office=office_a, day=WEDNESDAY, reason="Hari Bhayangkara")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    offer = SmsOffer.objects.get()
    offered = [Slot.objects.get(pk=pk) for pk in offer.slot_ids]
    assert [(s.date, f"{s.start:%H:%M}") for s in offered] == [
        (date(2026, 7, 2), "08:00"), (date(2026, 7, 2), "08:30")]
    body = Notification.objects.get(kind="booking.cancelled_by_closure").body
    assert body == (
        f"Your booking {booking.code} on 1 Juli 2026 at 08:00 is cancelled because the "
        "office is closed (Hari Bhayangkara). Your case stays open. Reply 1 for "
        "Thursday, 2 July 2026 08:00, 2 for Thursday, 2 July 2026 08:30.")


def test_a_lapsed_case_of_a_resident_without_the_app_does_not_send_them_to_it(
        feature_phone, office_a, lost_card, slot_on, clock):
    booking = expire_wednesday_booking(feature_phone, lost_card, slot_on, clock)
    clock.move_to(datetime(2026, 8, 3, 1, 0, tzinfo=WIB))
    assert applications_lapse_due() == 1
    assert Application.objects.get(pk=booking.application_id).status == (
        ApplicationStatus.LAPSED)
    body = Notification.objects.get(kind="booking.lapsed").body
    assert body == ("No new booking was made for KTP-el hilang by 1 Agustus 2026, so the "
                    "case is closed. To start again, call or WhatsApp the office at "
                    "+6281100001111 or come to the desk.")
