"""Admin of appointments: the bookings list and its filters, the read-only detail, the
cancel action that tells the resident, the day view of slots, the settings and lane
schedules per role, and the review of documents sent ahead. Monday 29 June 2026, 09:00
WIB (tests/appointments/conftest.py)."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.appointments.models import (
    AppointmentSettings,
    Booking,
    BookingDocument,
    DocumentReview,
    LaneSchedule,
    Slot,
)
from registry.appointments.services.attendance import booking_check_in, booking_complete
from registry.appointments.services.booking_documents import booking_document_upload
from registry.appointments.services.bookings import booking_cancel, booking_create
from registry.appointments.services.slots import (
    bookable_range,
    lane_schedule_for,
)
from registry.models import Application, ApplicationStatus, CaseEvent, Notification, Role, Service
from registry.services.offices import office_settings_get
from tests.appointments.conftest import MONDAY, docs_ok
from tests.appointments.test_closure_documents import PNG
from tests.factories import ResidentFactory

TUESDAY, WEDNESDAY = date(2026, 6, 30), date(2026, 7, 1)
CHANGELIST = reverse("admin:appointments_booking_changelist")
DAY_VIEW = reverse("admin:appointments_slot_day")


def book(service, slot, resident=None, documents=None):
    resident = resident or ResidentFactory(domicile_office=service.office)
    return booking_create(office=service.office, resident=resident, service=service,
                          slot=slot, documents=docs_ok() if documents is None
                          else documents)


def codes(response) -> list[str]:
    return sorted(b.code for b in response.context["cl"].result_list)


@pytest.fixture
def lost_card_b(office_b):
    return Service.objects.select_related("lane").get(office=office_b, code="KTP_HILANG")


@pytest.fixture
def family_card(office_a):
    """Perubahan KK: lane A, KK and the event's document, no validity period."""
    return Service.objects.select_related("lane").get(office=office_a, code="KK_UBAH")


KK_DOCS = [{"requirement": "KK"}, {"requirement": "DOK_PERISTIWA"}]


@pytest.fixture
def week(office_a, office_b, lost_card, lost_card_b, family_card, slot_on):
    """Bookings of both offices: today, tomorrow and Wednesday, two lanes, two services."""
    return {
        "today_c": book(lost_card, slot_on(lost_card, MONDAY, "10:00")),
        "tomorrow_c": book(lost_card, slot_on(lost_card, TUESDAY, "08:00")),
        "tomorrow_a": book(family_card, slot_on(family_card, TUESDAY, "09:00"),
                           documents=KK_DOCS),
        "wednesday_c": book(lost_card, slot_on(lost_card, WEDNESDAY, "08:00")),
        "b_tomorrow": book(lost_card_b, slot_on(lost_card_b, TUESDAY, "08:00")),
    }


def test_staff_see_only_their_offices_bookings_and_filter_them(client, make_staff, week,
                                                               lost_card, family_card,
                                                               django_assert_max_num_queries):
    client.force_login(make_staff(lost_card.office, Role.SUPERVISOR))
    mine = sorted(b.code for key, b in week.items() if not key.startswith("b_"))
    with django_assert_max_num_queries(25):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert codes(response) == mine
    assert codes(client.get(CHANGELIST, {"when": "today"})) == [week["today_c"].code]
    assert codes(client.get(CHANGELIST, {"when": "tomorrow"})) == sorted(
        [week["tomorrow_c"].code, week["tomorrow_a"].code])
    assert codes(client.get(CHANGELIST, {"when": "week"})) == mine
    assert codes(client.get(CHANGELIST, {"when": "past"})) == []
    assert codes(client.get(CHANGELIST, {"day": "2026-07-01"})) == [week["wednesday_c"].code]
    lane_a = family_card.lane
    assert codes(client.get(CHANGELIST, {"slot__lane__id__exact": lane_a.pk})) == \
        [week["tomorrow_a"].code]
    assert codes(client.get(CHANGELIST, {"service__id__exact": lost_card.pk})) == sorted(
        [week["today_c"].code, week["tomorrow_c"].code, week["wednesday_c"].code])
    booking_cancel(booking=week["wednesday_c"], reason="Dobel")
    assert codes(client.get(CHANGELIST, {"status__exact": "cancelled"})) == \
        [week["wednesday_c"].code]
    assert codes(client.get(CHANGELIST, {"status__exact": "booked"})) == sorted(
        [week["today_c"].code, week["tomorrow_c"].code, week["tomorrow_a"].code])
    # The lane and service filters offer only this office's lanes and services.
    page = response.content.decode()
    assert f"slot__lane__id__exact={lane_a.pk}" in page
    assert f"slot__lane__id__exact={week['b_tomorrow'].slot.lane_id}" not in page
    assert f"service__id__exact={week['b_tomorrow'].service_id}" not in page


def test_a_provincial_supervisor_filters_by_office(client, make_staff, week, office_a,
                                                   office_b):
    supervisor = make_staff(office_a, Role.PROVINCIAL_SUPERVISOR)
    from registry.services.staff import staff_membership_grant

    staff_membership_grant(user=supervisor, office=office_b,
                           role=Role.PROVINCIAL_SUPERVISOR)
    client.force_login(supervisor)
    assert len(codes(client.get(CHANGELIST))) == 5
    assert codes(client.get(CHANGELIST, {"office__id__exact": office_b.pk})) == \
        [week["b_tomorrow"].code]
    # "Tomorrow" is each office's own tomorrow.
    assert len(codes(client.get(CHANGELIST, {"when": "tomorrow"}))) == 3


def test_the_detail_is_read_only_with_documents_and_the_case(client, make_staff, week,
                                                             lost_card):
    booking = week["tomorrow_c"]
    booking_document_upload(booking=booking, requirement_code="SURAT_KEHILANGAN",
                            upload=SimpleUploadedFile("lapor.png", PNG))
    client.force_login(make_staff(lost_card.office, Role.FRONT_DESK))
    response = client.get(reverse("admin:appointments_booking_change", args=[booking.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert booking.code in page
    assert reverse("admin:registry_application_change", args=[booking.application_id]) in page
    assert booking.application.number in page
    assert reverse("appointments:slip", args=[booking.code]) in page
    document = booking.documents.get(requirement__code="SURAT_KEHILANGAN")
    assert reverse("appointments:document-file", args=[document.pk]) in page
    assert "Surat keterangan kehilangan dari Kepolisian" in page
    assert 'name="_save"' not in page  # read-only
    before = Booking.objects.values().get(pk=booking.pk)
    client.post(reverse("admin:appointments_booking_change", args=[booking.pk]),
                {"status": "cancelled"})
    assert Booking.objects.values().get(pk=booking.pk) == before


def test_another_offices_booking_answers_404(client, make_staff, week, lost_card):
    client.force_login(make_staff(lost_card.office, Role.SUPERVISOR))
    other = week["b_tomorrow"]
    assert client.get(reverse("admin:appointments_booking_change",
                              args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:appointments_slot_change",
                              args=[other.slot_id])).status_code == 404
    document = other.documents.first()
    assert client.get(reverse("admin:appointments_bookingdocument_change",
                              args=[document.pk])).status_code == 404


def test_cancel_with_a_reason_tells_the_resident_and_frees_the_place(client, make_staff, week,
                                                                     lost_card):
    desk = make_staff(lost_card.office, Role.FRONT_DESK)
    client.force_login(desk)
    booking = week["tomorrow_c"]
    other = week["b_tomorrow"]
    slot = Slot.objects.get(pk=booking.slot_id)
    assert slot.booked == 1
    # First the form that asks for the reason; nothing changes yet.
    ask = client.post(CHANGELIST, {"action": "cancel_with_reason",
                                   "_selected_action": [booking.pk, other.pk]})
    assert ask.status_code == 200
    assert [b.code for b in ask.context["bookings"]] == [booking.code]
    assert "reason" in ask.context["form"].fields
    assert Booking.objects.get(pk=booking.pk).status == "booked"
    empty = client.post(CHANGELIST, {"action": "cancel_with_reason", "reason": "  ",
                                     "_selected_action": [booking.pk]})
    assert empty.status_code == 200
    assert Booking.objects.get(pk=booking.pk).status == "booked"

    done = client.post(CHANGELIST, {"action": "cancel_with_reason",
                                    "reason": "Petugas perekaman sakit",
                                    "_selected_action": [booking.pk, other.pk]})
    assert done.status_code == 302
    booking.refresh_from_db()
    slot.refresh_from_db()
    assert (booking.status, booking.cancel_reason, booking.cancelled_by) == \
        ("cancelled", "Petugas perekaman sakit", desk)
    assert slot.booked == 0
    # The resident is told, with the reason; the case stays open for a new booking.
    note = Notification.objects.get(resident=booking.resident,
                                     kind="booking.cancelled_by_office")
    assert "Petugas perekaman sakit" in note.body
    assert booking.code in note.title
    application = Application.objects.get(pk=booking.application_id)
    assert application.status == ApplicationStatus.OPEN
    assert CaseEvent.objects.filter(application=application,
                                    kind="booking.cancelled_by_office").count() == 1
    # The other office's booking, forged into the selection, is untouched.
    assert Booking.objects.get(pk=other.pk).status == "booked"
    assert not Notification.objects.filter(resident=other.resident,
                                           kind="booking.cancelled_by_office").exists()


def test_a_counter_operator_sees_bookings_but_cannot_cancel(client, make_staff, week, lost_card):
    client.force_login(make_staff(lost_card.office, Role.COUNTER_OPERATOR))
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert "cancel_with_reason" not in response.content.decode()
    booking = week["tomorrow_c"]
    client.post(CHANGELIST, {"action": "cancel_with_reason", "reason": "Coba",
                             "_selected_action": [booking.pk]})
    assert Booking.objects.get(pk=booking.pk).status == "booked"
    assert not Notification.objects.filter(kind="booking.cancelled_by_office").exists()
    assert client.get(DAY_VIEW).status_code == 403


def test_the_day_view_counts_each_slot_exactly(client, make_staff, office_a, office_b,
                                               lost_card, lost_card_b, slot_on):
    desk = make_staff(office_a, Role.FRONT_DESK)
    ten, half_past = slot_on(lost_card, MONDAY, "10:00"), slot_on(lost_card, MONDAY, "10:30")
    first, second, _third = (book(lost_card, ten) for _i in range(3))
    cancelled = book(lost_card, half_past)
    booking_check_in(booking=first)
    booking_check_in(booking=second)
    booking_complete(booking=second)
    booking_cancel(booking=cancelled, reason="Salah jadwal", by=desk)
    book(lost_card_b, slot_on(lost_card_b, MONDAY, "10:00"))  # another office's
    client.force_login(desk)
    response = client.get(DAY_VIEW, {"date": "2026-06-29", "office": "3216"})
    assert response.status_code == 200
    assert response.context["office"] == office_a  # not an office of this user
    lanes = {lane["lane"].letter: lane for lane in response.context["lanes"]}
    assert sorted(lanes) == ["A", "B", "C"]
    rows = [(f"{r['start']:%H:%M}", r["capacity"], r["booked"], r["remaining"],
             r["checked_in_total"], r["cancelled"]) for r in lanes["C"]["slots"]]
    assert len(rows) == 14  # 08:00 to 15:00 in 30 minutes
    assert rows[:6] == [("08:00", 4, 0, 4, 0, 0), ("08:30", 4, 0, 4, 0, 0),
                        ("09:00", 4, 0, 4, 0, 0), ("09:30", 4, 0, 4, 0, 0),
                        ("10:00", 4, 3, 1, 2, 0), ("10:30", 4, 0, 4, 0, 1)]
    assert (lanes["C"]["capacity"], lanes["C"]["booked"], lanes["C"]["remaining"],
            lanes["C"]["checked_in"]) == (56, 3, 53, 2)
    assert (lanes["A"]["capacity"], lanes["A"]["booked"]) == (56, 0)
    page = response.content.decode()
    assert 'data-start="10:00"' in page
    assert f"?slot__id__exact={ten.pk}" in page
    # The linked list of the slot's bookings answers.
    listed = client.get(CHANGELIST, {"slot__id__exact": ten.pk})
    assert len(listed.context["cl"].result_list) == 3
    # A Saturday has no slots; a bad date falls back to today.
    assert client.get(DAY_VIEW, {"date": "2026-07-04"}).context["lanes"] == []
    assert client.get(DAY_VIEW, {"date": "bukan"}).context["day"] == MONDAY


def test_the_day_view_is_linked_from_the_bookings_and_slots_lists(client, make_staff, office_a):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    for url in (CHANGELIST, reverse("admin:appointments_slot_changelist")):
        assert f'href="{DAY_VIEW}"' in client.get(url).content.decode()
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:appointments_slot_changelist") in index


def test_settings_and_lane_schedules_are_set_by_office_admins(client, make_staff, office_a,
                                                              office_b, lost_card, slot_on):
    slot_on(lost_card, WEDNESDAY)  # slots made up to Wednesday
    kota = office_settings_get(AppointmentSettings, office=office_a)
    kab = office_settings_get(AppointmentSettings, office=office_b)
    schedule = lane_schedule_for(lost_card.lane)
    settings_url = reverse("admin:appointments_appointmentsettings_change", args=[kota.pk])
    schedule_url = reverse("admin:appointments_laneschedule_change", args=[schedule.pk])
    values = {"booking_window_days": 21, "same_day_until": "", "change_cutoff_hours": 4,
              "rebook_days": 30, "reminder_day_before_at": "16:00",
              "reminder_morning_at": "06:00"}

    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    assert client.get(settings_url).status_code == 200  # sees them
    assert client.post(settings_url, values).status_code == 403
    assert client.post(schedule_url, {"slot_minutes": 15, "capacity": 9}).status_code == 403
    assert AppointmentSettings.objects.get(pk=kota.pk).booking_window_days == 14

    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    assert client.get(reverse("admin:appointments_appointmentsettings_change",
                              args=[kab.pk])).status_code == 404
    assert client.post(settings_url, values).status_code == 302
    kota.refresh_from_db()
    assert (kota.booking_window_days, kota.same_day_until, kota.change_cutoff_hours) == \
        (21, None, 4)
    assert bookable_range(office=office_a) == (TUESDAY, date(2026, 7, 20))
    response = client.post(schedule_url, {"slot_minutes": 15, "capacity": 9}, follow=True)
    schedule.refresh_from_db()
    assert (schedule.slot_minutes, schedule.capacity, schedule.lane) == (15, 9, lost_card.lane)
    messages = [str(m) for m in response.context["messages"]]
    assert any("1 Juli 2026" in m for m in messages), messages
    # Out-of-range values are refused by the form, nothing saved.
    bad = client.post(schedule_url, {"slot_minutes": 2, "capacity": 9})
    assert bad.status_code == 200
    assert LaneSchedule.objects.get(pk=schedule.pk).slot_minutes == 15

    client.force_login(make_staff(office_a, Role.COUNTER_OPERATOR))
    assert client.get(settings_url).status_code == 403


def _sent(booking, code="SURAT_KEHILANGAN"):
    return booking_document_upload(booking=booking, requirement_code=code,
                                   upload=SimpleUploadedFile("x.png", PNG))


def test_documents_are_reviewed_in_admin_and_a_rejection_tells_the_resident(
        client, make_staff, week, lost_card):
    desk = make_staff(lost_card.office, Role.FRONT_DESK)
    client.force_login(desk)
    accepted, rejected = _sent(week["tomorrow_c"]), _sent(week["wednesday_c"])
    other = _sent(week["b_tomorrow"])
    url = reverse("admin:appointments_bookingdocument_changelist")
    listing = client.get(url, {"review__exact": "pending"})
    assert sorted(d.pk for d in listing.context["cl"].result_list) == \
        sorted([accepted.pk, rejected.pk])
    client.post(url, {"action": "accept", "_selected_action": [accepted.pk, other.pk]})
    accepted.refresh_from_db()
    assert (accepted.review, accepted.reviewed_by) == (DocumentReview.ACCEPTED, desk)
    assert BookingDocument.objects.get(pk=other.pk).review == DocumentReview.PENDING
    assert CaseEvent.objects.filter(kind="booking.document_accepted").count() == 1

    ask = client.post(url, {"action": "reject_with_reason", "_selected_action": [rejected.pk]})
    assert ask.status_code == 200
    assert BookingDocument.objects.get(pk=rejected.pk).review == DocumentReview.PENDING
    client.post(url, {"action": "reject_with_reason", "_selected_action": [rejected.pk],
                      "reason": "Foto buram, tanggal tidak terbaca"})
    rejected.refresh_from_db()
    assert (rejected.review, rejected.reject_reason) == (
        DocumentReview.REJECTED, "Foto buram, tanggal tidak terbaca")
    note = Notification.objects.get(kind="booking.document_rejected")
    assert note.resident == week["wednesday_c"].resident
    assert "Foto buram, tanggal tidak terbaca" in note.body

    # The review form on the document's own page.
    again = _sent(week["today_c"])
    page = client.get(reverse("admin:appointments_bookingdocument_change", args=[again.pk]))
    assert reverse("appointments:document-review", args=[again.pk]) in page.content.decode()
    back = client.post(reverse("appointments:document-review", args=[again.pk]),
                       {"decision": "accept", "next": page.wsgi_request.path})
    assert back["Location"] == page.wsgi_request.path
    assert BookingDocument.objects.get(pk=again.pk).review == DocumentReview.ACCEPTED


def test_changelists_stay_within_the_query_bound_with_many_bookings(
        client, make_staff, office_a, lost_card, family_card, slot_on,
        django_assert_max_num_queries):
    for start in ("08:00", "08:30", "09:00", "09:30", "10:00"):
        for service in (lost_card, family_card):
            slot = slot_on(service, TUESDAY, start)
            for _i in range(3):
                booking = book(service, slot, documents=KK_DOCS if service == family_card
                               else None)
                if service == lost_card:
                    _sent(booking)
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    for name in ("booking", "bookingdocument", "slot", "laneschedule", "appointmentsettings"):
        with django_assert_max_num_queries(25):
            response = client.get(reverse(f"admin:appointments_{name}_changelist"))
        assert response.status_code == 200, name
    with django_assert_max_num_queries(25):
        assert client.get(DAY_VIEW, {"date": "2026-06-30"}).status_code == 200
