"""The set-based expiry sweep (bookings_expire_due): a fixed number of
statements whatever the number of bookings, the very rows the per-row Python path it
replaced wrote (kept here as the reference), exact texts
in each language, exact deliveries per channel, other offices' bookings untouched, one
message however often it runs, and the deliveries sent by one paging task per office.
On SQLite by default, on PostgreSQL with DATABASE_URL."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.appointments.models import AppointmentSettings, Booking, BookingStatus, Slot
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.notices import date_text
from registry.appointments.services.slots import DEFAULT_REBOOK_DAYS, slots_ensure
from registry.appointments.services.sweeps import EXPIRED_BODY, EXPIRED_TITLE, bookings_expire_due
from registry.models import (
    Application,
    ApplicationStatus,
    CaseEvent,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    Resident,
    Service,
)
from registry.notify.backends import SimulatedGateway
from registry.services.cases import case_events_record_many
from registry.services.notification_sending import (
    notifications_deliver_pending,
    notifications_resend_pending,
)
from registry.services.notifications import notifications_send_many
from tests.appointments.conftest import WIB, docs_ok
from tests.factories import OfficeFactory, ResidentFactory

WEDNESDAY = date(2026, 7, 1)
THURSDAY = date(2026, 7, 2)
SIM = "registry.notify.backends.SimulatedGateway"
ID_BODY = ("Anda tidak check-in untuk KTP-el hilang pada 1 Juli 2026 pukul 08:00, sehingga "
           "booking kedaluwarsa. Permohonan Anda tetap terbuka: booking ulang di aplikasi "
           "paling lambat 1 Agustus 2026 tanpa perlu mengisi data lagi.")
# The date texts are formatted once, in the sweep's (default) language, as the per-row
# path always did: the English template carries them as they are.
EN_BODY = ("You did not check in for KTP-el hilang on 1 Juli 2026 at 08:00, so the booking "
           "has expired. Your case stays open: re-book in the app by 1 Agustus 2026 and "
           "nothing needs to be filled in again.")


def book(service, day, start="08:00", **resident):
    """A booking of a new resident (a phone only unless told) on `day` at `start`."""
    slots_ensure(office=service.office, start=day, end=day)
    slot = Slot.objects.get(lane=service.lane, date=day, start=start)
    Slot.objects.filter(pk=slot.pk).update(capacity=100)
    slot.refresh_from_db()
    return booking_create(
        office=service.office, resident=ResidentFactory(domicile_office=service.office,
                                                        **resident),
        service=service, slot=slot, documents=docs_ok())


def sweep_statements(now) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        expired = bookings_expire_due(now=now)
    return expired, [q["sql"] for q in queries.captured_queries]


def test_a_sweep_sends_the_same_statements_for_5_and_50_bookings(office_a, lost_card,
                                                                  clock):
    for _n in range(5):
        book(lost_card, WEDNESDAY)
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    five, few = sweep_statements(timezone.now())
    clock.move_to(datetime(2026, 7, 2, 8, 0, tzinfo=WIB))
    for n in range(50):
        book(lost_card, date(2026, 7, 3), ["08:00", "08:30", "09:00"][n % 3])
    clock.move_to(datetime(2026, 7, 4, 0, 5, tzinfo=WIB))
    fifty, many = sweep_statements(timezone.now())
    assert (five, fifty) == (5, 50)
    # The offices with due bookings, then per office (inside its savepoint here): the
    # claim, the cases, the due days, the expiry events, the last delivery id, the
    # notifications, their deliveries and their timeline entries, and the look for
    # residents who reply by SMS (offered free times one by one; none here), and the look
    # for e-mail addresses the deliveries copied in clear, to encrypt (none here; at most
    # one more statement per 500 rows when there are: registry.encryption).
    assert len(few) == len(many) == 1 + 2 + 10
    assert Notification.objects.filter(kind="booking.expired").count() == 55
    assert NotificationDelivery.objects.filter(
        notification__kind="booking.expired").count() == 55


def test_the_statements_grow_with_offices_not_bookings(office_a, office_b, lost_card,
                                                       clock):
    other = Service.objects.select_related("lane").get(office=office_b, code="KTP_HILANG")
    for _n in range(3):
        book(lost_card, WEDNESDAY)
        book(other, WEDNESDAY)
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    expired, statements = sweep_statements(timezone.now())
    assert (expired, len(statements)) == (6, 1 + 2 * (2 + 10))
    # Nothing left: one statement to find that out.
    assert sweep_statements(timezone.now()) == (0, statements[:1])


def snapshot(bookings, *, after_event: int):
    """What a sweep wrote for `bookings` (timeline entries after `after_event`), without
    ids or the sweep's token."""
    applications = [b.application_id for b in bookings]
    notes = Notification.objects.filter(application_id__in=applications,
                                        kind="booking.expired")
    return {
        "bookings": sorted(Booking.objects.filter(pk__in=[b.pk for b in bookings])
                           .values_list("pk", "status", "expired_at")),
        "applications": sorted(Application.objects.filter(pk__in=applications)
                               .values_list("pk", "status", "rebook_until", "updated_at")),
        "events": sorted(
            (e.application_id, e.office_id, e.kind, sorted(e.params.items()), e.at, e.note,
             e.actor_id, e.by_resident)
            for e in CaseEvent.objects.filter(application_id__in=applications,
                                              pk__gt=after_event)),
        "notifications": sorted(notes.values_list(
            "office_id", "resident_id", "application_id", "kind", "title", "body", "link",
            "dedup_key", "created_at", "read_at")),
        "deliveries": sorted(NotificationDelivery.objects.filter(notification__in=notes)
                             .values_list("office_id", "notification__dedup_key", "channel",
                                          "address", "status", "attempts", "next_attempt_at",
                                          "sent_at", "provider_ref", "last_error")),
    }


EXPIRY_FIELDS = ("id", "office_id", "application_id", "code", "day", "slot__start",
                 "service__name", "office__timezone", "resident_id")


def _expire_followup_per_row(rows: list[dict], *, now: datetime) -> None:
    """What the expiry wrote before it was set-based, a Python object per row: the
    reference the set-based sweep is held to."""
    rebook_days = dict(AppointmentSettings.objects.filter(
        office_id__in={row["office_id"] for row in rows})
        .values_list("office_id", "rebook_days"))
    until_by_office = {}
    for row in rows:
        office_id = row["office_id"]
        if office_id not in until_by_office:
            local_today = now.astimezone(ZoneInfo(row["office__timezone"])).date()
            until_by_office[office_id] = local_today + timedelta(
                days=rebook_days.get(office_id, DEFAULT_REBOOK_DAYS))
    for office_id, until in until_by_office.items():
        # Only cases still open and waiting: one that moved on keeps its status.
        Application.objects.filter(
            office_id=office_id, status=ApplicationStatus.OPEN,
            pk__in=[row["application_id"] for row in rows if row["office_id"] == office_id],
        ).update(rebook_until=until, updated_at=now)
    # A sweep's rows share a few days and one link: each is formatted once, not per row.
    dates, link = {}, reverse("booking-list")

    def day_text(day: date) -> str:
        if day not in dates:
            dates[day] = date_text(day)
        return dates[day]

    residents = Resident.objects.in_bulk([row["resident_id"] for row in rows])
    events, notes = [], []
    for row in rows:
        until = until_by_office[row["office_id"]]
        params = {"code": row["code"], "date": day_text(row["day"]),
                  "start": f"{row['slot__start']:%H:%M}", "service": row["service__name"],
                  "until": day_text(until)}
        events.append({"office_id": row["office_id"], "application_id": row["application_id"],
                       "kind": "booking.expired", "params": params, "at": now})
        notes.append({
            "office_id": row["office_id"], "application_id": row["application_id"],
            "resident": residents[row["resident_id"]],
            "kind": "booking.expired", "title": EXPIRED_TITLE,
            "body": EXPIRED_BODY,
            "params": params, "link": link,
            "dedup_key": f"booking:{row['id']}:expired"})
    case_events_record_many(entries=events, batch_size=2000)
    notifications_send_many(entries=notes)


def expire_the_old_way(bookings, now):
    """The per-row path the sweep replaced: claim, read the rows, follow up per row."""
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(
        status=BookingStatus.EXPIRED, expired_at=now)
    rows = list(Booking.objects.filter(pk__in=[b.pk for b in bookings])
                .order_by("id").values(*EXPIRY_FIELDS))
    _expire_followup_per_row(rows, now=now)


def test_the_sweep_writes_exactly_what_the_per_row_path_wrote(office_a, lost_card, clock):
    jayapura = OfficeFactory(code="9171", name="Disdukcapil Kota Jayapura",
                             timezone="Asia/Jayapura")
    far = Service.objects.select_related("lane").get(office=jayapura, code="KTP_HILANG")
    # A service name that looks like the placeholders and quotes: kept as it is.
    Service.objects.filter(pk=lost_card.pk).update(
        name="KTP-el hilang %(date)s 100% 'asli' \"baru\" ⟦start⟧")
    lost_card.refresh_from_db()
    app_at = datetime(2026, 6, 1, 9, 0, tzinfo=WIB)
    bookings = [
        book(lost_card, WEDNESDAY, "08:00"),
        book(lost_card, WEDNESDAY, "13:30", language="en", email="a@example.id",
             app_registered_at=app_at),
        book(lost_card, date(2026, 6, 30), "10:00", phone="", email="b@example.id"),
        book(lost_card, date(2026, 6, 30), "08:30", phone="", app_registered_at=app_at,
             language="en"),
        book(lost_card, WEDNESDAY, "09:00", phone=""),  # no channel: the inbox only
        book(far, WEDNESDAY, "08:00", language="en"),
        book(far, date(2026, 6, 30), "11:00"),
    ]
    Resident.objects.filter(pk=bookings[0].resident_id).update(language="")
    clock.move_to(datetime(2026, 7, 2, 3, 0, tzinfo=WIB))
    now = timezone.now()
    last = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    with transaction.atomic():
        expire_the_old_way(bookings, now)
        before = snapshot(bookings, after_event=last)
        transaction.set_rollback(True)
    assert snapshot(bookings, after_event=last)["notifications"] == []
    assert bookings_expire_due(now=now) == 7
    after = snapshot(bookings, after_event=last)
    assert after == before
    assert len(after["events"]) == 7 + 7
    assert len(after["deliveries"]) == 1 + 3 + 1 + 1 + 0 + 1 + 1


def test_the_message_is_exact_in_indonesian_and_in_english(office_a, lost_card, clock):
    indonesian = book(lost_card, WEDNESDAY)
    english = book(lost_card, WEDNESDAY, language="en")
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    assert bookings_expire_due() == 2
    texts = {n.resident_id: (n.title, n.body, n.link, n.dedup_key, n.application_id)
             for n in Notification.objects.filter(kind="booking.expired")}
    assert texts == {
        indonesian.resident_id: (f"Booking {indonesian.code} sudah kedaluwarsa", ID_BODY,
                                 "/api/v1/bookings/", f"booking:{indonesian.pk}:expired",
                                 indonesian.application_id),
        english.resident_id: (f"Booking {english.code} has expired", EN_BODY,
                              "/api/v1/bookings/", f"booking:{english.pk}:expired",
                              english.application_id)}
    event = CaseEvent.objects.get(application_id=english.application_id,
                                  kind="booking.expired")
    assert event.params == {"code": english.code, "date": "1 Juli 2026", "start": "08:00",
                            "service": "KTP-el hilang", "until": "1 Agustus 2026"}
    assert event.at == datetime(2026, 7, 2, 0, 5, tzinfo=WIB)
    told = CaseEvent.objects.filter(application_id=english.application_id,
                                    kind="notification.sent").order_by("pk").last()
    assert told.params == {"title": f"Booking {english.code} has expired"}


def test_deliveries_go_to_exactly_the_channels_each_resident_has(office_a, lost_card,
                                                                 clock):
    app_at = datetime(2026, 6, 1, 9, 0, tzinfo=WIB)
    everything = book(lost_card, WEDNESDAY, phone="+6281311112222", email="c@example.id",
                      app_registered_at=app_at)
    app_only = book(lost_card, WEDNESDAY, phone="", app_registered_at=app_at)
    mail_only = book(lost_card, WEDNESDAY, phone="", email="d@example.id")
    phone_only = book(lost_card, WEDNESDAY, phone="+6281333334444")
    nothing = book(lost_card, WEDNESDAY, phone="")
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    bookings_expire_due()
    deliveries = set(NotificationDelivery.objects.filter(
        notification__kind="booking.expired").values_list(
        "notification__dedup_key", "channel", "address", "status", "attempts"))
    assert deliveries == {
        (f"booking:{everything.pk}:expired", "push", "", "pending", 0),
        (f"booking:{everything.pk}:expired", "whatsapp", "+6281311112222", "pending", 0),
        (f"booking:{everything.pk}:expired", "email", "c@example.id", "pending", 0),
        (f"booking:{app_only.pk}:expired", "push", "", "pending", 0),
        (f"booking:{mail_only.pk}:expired", "email", "d@example.id", "pending", 0),
        (f"booking:{phone_only.pk}:expired", "whatsapp", "+6281333334444", "pending", 0),
    }
    assert Notification.objects.filter(dedup_key=f"booking:{nothing.pk}:expired").count() == 1


def test_a_booking_of_another_zone_not_yet_due_is_untouched(office_a, lost_card, clock):
    jayapura = OfficeFactory(code="9171", name="Disdukcapil Kota Jayapura",
                             timezone="Asia/Jayapura")
    far = Service.objects.select_related("lane").get(office=jayapura, code="KTP_HILANG")
    due = book(far, WEDNESDAY)
    waiting = book(lost_card, WEDNESDAY)
    tomorrow = book(far, THURSDAY)
    # 00:30 WIT on 2 July is 22:30 WIB on 1 July: Jayapura's Wednesday is over, Bekasi's
    # is not.
    clock.move_to(datetime(2026, 7, 1, 22, 30, tzinfo=WIB))
    assert bookings_expire_due() == 1
    assert dict(Booking.objects.values_list("pk", "status")) == {
        due.pk: "expired", waiting.pk: "booked", tomorrow.pk: "booked"}
    untouched = Booking.objects.filter(pk__in=[waiting.pk, tomorrow.pk])
    assert set(untouched.values_list("expired_at", "sweep_token")) == {(None, "")}
    assert set(Application.objects.filter(pk__in=[waiting.application_id,
                                                  tomorrow.application_id])
               .values_list("rebook_until", flat=True)) == {None}
    assert list(Notification.objects.filter(kind="booking.expired")
                .values_list("dedup_key", flat=True)) == [f"booking:{due.pk}:expired"]
    assert list(CaseEvent.objects.filter(kind="booking.expired")
                .values_list("application_id", flat=True)) == [due.application_id]
    # Jayapura's last day to re-book is counted from its own date, 2 July.
    assert Application.objects.get(pk=due.application_id).rebook_until == date(2026, 8, 1)


@pytest.fixture
def gateways(settings):
    settings.NOTIFICATION_BACKENDS = {"push": SIM, "whatsapp": SIM, "sms": SIM, "email": SIM}
    settings.NOTIFY_MAX_ATTEMPTS = 3
    return SimulatedGateway


def test_running_twice_queues_one_task_per_office_and_sends_one_message(
        office_a, office_b, lost_card, clock, gateways, mocker,
        django_capture_on_commit_callbacks):
    other = Service.objects.select_related("lane").get(office=office_b, code="KTP_HILANG")
    made = [book(lost_card, WEDNESDAY) for _n in range(3)] + [book(other, WEDNESDAY)]
    queued = mocker.patch("registry.tasks.notifications_deliver_pending.apply_async")
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings_expire_due() == 4
    with django_capture_on_commit_callbacks(execute=True):
        assert bookings_expire_due() == 0
    calls = [call.kwargs["args"] for call in queued.call_args_list]
    assert sorted(office_id for office_id, _after in calls) == [office_a.pk, office_b.pk]
    for office_id, after_id in calls:
        assert notifications_deliver_pending(
            office_id=office_id, after_id=after_id) is None
        # A duplicate of the task sends nothing more.
        assert notifications_deliver_pending(
            office_id=office_id, after_id=after_id) is None
    sent = gateways.sent("whatsapp")
    assert sorted(m["address"] for m in sent) == sorted(b.resident.phone for b in made)
    deliveries = NotificationDelivery.objects.filter(notification__kind="booking.expired")
    assert sorted(m["reference"] for m in sent) == sorted(f"n{d.pk}" for d in deliveries)
    assert set(deliveries.values_list("status", "attempts")) == {(DeliveryStatus.SENT, 1)}
    assert Notification.objects.filter(kind="booking.expired").count() == 4


def test_the_delivery_task_hands_back_what_it_had_no_time_for(office_a, lost_card, clock,
                                                              gateways):
    for _n in range(3):
        book(lost_card, WEDNESDAY)
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    after = NotificationDelivery.objects.order_by("-pk").values_list("pk", flat=True)[0]
    bookings_expire_due()
    pending = NotificationDelivery.objects.filter(notification__kind="booking.expired")
    assert notifications_deliver_pending(
        office_id=office_a.pk, after_id=after, seconds=0) == after
    # Nothing sent, nothing leased: the next task (or the resend sweep) takes them.
    assert gateways.sent("whatsapp") == []
    assert set(pending.values_list("status", "next_attempt_at")) == {
        (DeliveryStatus.PENDING, timezone.now())}
    assert notifications_deliver_pending(office_id=office_a.pk,
                                         after_id=after) is None
    assert sorted(m["reference"] for m in gateways.sent("whatsapp")) == sorted(
        f"n{pk}" for pk in pending.values_list("pk", flat=True))
    # The confirmations of the bookings, before `after`, are not this task's.
    assert NotificationDelivery.objects.filter(notification__kind="booking.created",
                                               status=DeliveryStatus.PENDING).count() == 3


def test_the_delivery_task_keeps_the_retry_backoff(office_a, lost_card, clock, gateways,
                                                  mocker, django_capture_on_commit_callbacks):
    booking = book(lost_card, WEDNESDAY)
    NotificationDelivery.objects.update(status=DeliveryStatus.SENT)  # the confirmation
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    bookings_expire_due()
    gateways.set_failure("whatsapp", "temporary")
    assert notifications_deliver_pending(office_id=office_a.pk,
                                         after_id=0) is None
    delivery = NotificationDelivery.objects.get(
        notification__dedup_key=f"booking:{booking.pk}:expired")
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.PENDING, 1, timezone.now() + timedelta(minutes=1))
    # Not due yet: neither a duplicate task nor the resend sweep tries it again.
    assert notifications_deliver_pending(office_id=office_a.pk,
                                         after_id=0) is None
    queued = mocker.patch("registry.tasks.notification_deliver.apply_async")
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_resend_pending() == 0
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    # Once due, the resend sweep queues it as before.
    clock.move_to(datetime(2026, 7, 2, 0, 8, tzinfo=WIB))
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_resend_pending() == 1
    assert queued.call_args.kwargs["args"] == (delivery.pk,)


def test_the_delivery_task_queues_itself_for_the_rest(mocker):
    from registry import tasks

    mocker.patch("registry.services.notification_sending.notifications_deliver_pending",
                 side_effect=[41, None])
    queued = mocker.patch("registry.tasks.notifications_deliver_pending.apply_async")
    tasks.notifications_deliver_pending(7, 0)
    assert queued.call_args.kwargs["args"] == (7, 41)
    tasks.notifications_deliver_pending(7, 41)
    assert queued.call_count == 1
