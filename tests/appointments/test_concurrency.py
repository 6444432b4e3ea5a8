"""Concurrency on PostgreSQL with real threads: residents racing for the last places of
a slot get exactly those places; one resident racing himself gets one booking; a
reschedule racing a booking for the last place never takes both; two residents swapping
slots at once never deadlock, nor does a closure (or shorter hours) racing residents
moving in and out of the day; sweeps running at once expire and lapse each case once
and tell each resident once; the expiry beat's tasks, one per office on a real Celery
worker, write what the sequential sweep writes, and an office whose task fails does
not stop the others."""

from collections import Counter as Tally
from contextlib import contextmanager
from datetime import date, datetime, time

import pytest
from django.db import connection
from django.utils import translation

from registry.appointments import tasks
from registry.appointments.models import Booking, BookingStatus, Slot
from registry.appointments.services.bookings import booking_reschedule
from registry.appointments.services.closures import closure_declare, office_hours_changed
from registry.appointments.services.sweeps import (
    applications_lapse_due,
    bookings_expire_due,
)
from registry.errors import Conflict, DomainError
from registry.models import (
    Application,
    ApplicationStatus,
    CaseEvent,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    Service,
)
from tests.appointments.conftest import WIB, book, bookings_missed_in
from tests.concurrency import race
from tests.factories import ResidentFactory
from tests.worker import failures_of, real_worker, runs_of, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WEDNESDAY = date(2026, 7, 1)
THURSDAY = date(2026, 7, 2)
ROUNDS = 10
EXPIRE_OFFICE = tasks.bookings_expire_office.name
# Redis in CI; the filesystem broker, slower, where REDIS_URL is not set.
TIMEOUT = 120
TIMES = ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "13:00",
         "13:30"]


def fresh(slot):
    """A copy of the slot for one thread, as a request would load it."""
    return Slot.objects.select_related("lane").get(pk=slot.pk)


def codes(errors):
    assert all(isinstance(e, Conflict) for e in errors), errors
    return Tally(e.code for e in errors)


def test_residents_racing_for_the_last_places_get_exactly_those_places(
        office_a, lost_card, slot_on):
    slot = slot_on(lost_card, WEDNESDAY, "08:00")
    Slot.objects.filter(pk=slot.pk).update(capacity=8)
    slot.refresh_from_db()
    earlier = [book(ResidentFactory(domicile_office=office_a), lost_card, slot)
               for _i in range(3)]
    residents = [ResidentFactory(domicile_office=office_a) for _i in range(24)]
    copies = [fresh(slot) for _r in residents]
    applications_before = Application.objects.count()
    notes_before = Notification.objects.count()

    results, errors = race(lambda i: book(residents[i], lost_card, copies[i]), len(residents))

    winners = [b for b in results if b is not None]
    assert len(winners) == 5
    assert codes(errors) == {"slot_full": 19}
    slot.refresh_from_db()
    assert (slot.capacity, slot.booked) == (8, 8)
    assert Booking.objects.filter(slot=slot, status=BookingStatus.BOOKED).count() == 8
    assert set(Booking.objects.filter(slot=slot).values_list("resident_id", flat=True)) == \
        {b.resident_id for b in earlier + winners}
    # The refused residents have nothing: no case, no message.
    losers = [r for r, b in zip(residents, results, strict=True) if b is None]
    assert Application.objects.filter(resident__in=losers).count() == 0
    assert Notification.objects.filter(resident__in=losers).count() == 0
    assert Application.objects.count() == applications_before + 5
    assert Notification.objects.count() == notes_before + 5
    assert len({b.application.number for b in winners}) == 5


def test_one_resident_racing_two_bookings_of_a_service_gets_one(office_a, resident_a,
                                                                  lost_card, slot_on):
    slots = [slot_on(lost_card, WEDNESDAY, "08:00"), slot_on(lost_card, THURSDAY, "10:00")]
    copies = [fresh(slots[i % 2]) for i in range(4)]

    results, errors = race(lambda i: book(resident_a, lost_card, copies[i]), 4)

    [booking] = [b for b in results if b is not None]
    assert codes(errors) == {"active_booking_exists": 3}
    assert Booking.objects.filter(resident=resident_a).count() == 1
    assert sorted(Slot.objects.filter(pk__in=[s.pk for s in slots])
                  .values_list("pk", "booked")) == sorted(
        (s.pk, 1 if s.pk == booking.slot_id else 0) for s in slots)
    assert list(Application.objects.filter(resident=resident_a).values_list("pk", flat=True)) \
        == [booking.application_id]
    assert CaseEvent.objects.filter(kind="booking.created").count() == 1
    assert Notification.objects.filter(resident=resident_a).count() == 1


def test_a_reschedule_racing_a_booking_for_the_last_place_never_takes_both(
        office_a, lost_card, slot_on):
    outcomes = Tally()
    for round_ in range(8):
        old = slot_on(lost_card, WEDNESDAY, TIMES[round_])
        target = slot_on(lost_card, THURSDAY, TIMES[round_])
        # One place left in the target slot.
        book(ResidentFactory(domicile_office=office_a), lost_card, target)
        Slot.objects.filter(pk=target.pk).update(capacity=2)
        mover = book(ResidentFactory(domicile_office=office_a), lost_card, old)
        newcomer = ResidentFactory(domicile_office=office_a)
        copies = [fresh(target), fresh(target)]

        def act(index, mover=mover, newcomer=newcomer, copies=copies):
            if index == 0:
                return booking_reschedule(booking=Booking.objects.get(pk=mover.pk),
                                          slot=copies[0])
            return book(newcomer, lost_card, copies[1])

        results, errors = race(act, 2)

        assert codes(errors) == {"slot_full": 1}
        old.refresh_from_db()
        target.refresh_from_db()
        mover.refresh_from_db()
        assert target.booked == 2
        assert Booking.objects.filter(slot=target, status=BookingStatus.BOOKED).count() == 2
        if results[0] is not None:  # the reschedule took the place: the old one is free
            outcomes["rescheduled"] += 1
            assert (mover.slot_id, mover.day, old.booked) == (target.pk, THURSDAY, 0)
            assert not Booking.objects.filter(resident=newcomer).exists()
            assert not Application.objects.filter(resident=newcomer).exists()
        else:  # the newcomer took it: the mover keeps the old place, untouched
            outcomes["booked"] += 1
            assert (mover.slot_id, mover.day, old.booked) == (old.pk, WEDNESDAY, 1)
            assert not CaseEvent.objects.filter(application_id=mover.application_id,
                                                kind="booking.rescheduled").exists()
            assert Booking.objects.get(resident=newcomer).slot_id == target.pk
    assert sum(outcomes.values()) == 8


def test_two_residents_swapping_slots_at_once_neither_deadlock_nor_overbook(
        office_a, lost_card, slot_on):
    for round_ in range(ROUNDS):
        first = slot_on(lost_card, WEDNESDAY, TIMES[round_])
        second = slot_on(lost_card, THURSDAY, TIMES[round_])
        bookings = [book(ResidentFactory(domicile_office=office_a), lost_card, first),
                    book(ResidentFactory(domicile_office=office_a), lost_card, second)]
        targets = [fresh(second), fresh(first)]

        results, errors = race(lambda i, bookings=bookings, targets=targets:
                                booking_reschedule(
                                    booking=Booking.objects.get(pk=bookings[i].pk),
                                    slot=targets[i]), 2)

        assert errors == []
        assert [b.slot_id for b in results] == [second.pk, first.pk]
        assert sorted(Slot.objects.filter(pk__in=[first.pk, second.pk])
                      .values_list("booked", flat=True)) == [1, 1]


def _bookings_in_two_offices(office_a, office_b, slot_on, per_office):
    made = []
    for office in (office_a, office_b):
        service = Service.objects.select_related("lane").get(office=office, code="KTP_HILANG")
        for n in range(per_office):
            slot = slot_on(service, WEDNESDAY, TIMES[n // 4])
            made.append(book(ResidentFactory(domicile_office=office), service, slot))
    return made


def test_two_expiry_sweeps_at_once_expire_each_booking_once_and_tell_once(
        office_a, office_b, slot_on):
    made = _bookings_in_two_offices(office_a, office_b, slot_on, 20)
    after_the_day = datetime(2026, 7, 2, 0, 30, tzinfo=WIB)

    # Small batches, so the sweeps interleave over many transactions.
    results, errors = race(lambda _i: bookings_expire_due(now=after_the_day,
                                                          batch=3), 4)

    assert errors == []
    assert sum(results) == 40
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.EXPIRED}
    assert set(Booking.objects.values_list("expired_at", flat=True)) == {after_the_day}
    notes = Notification.objects.filter(kind="booking.expired")
    assert sorted(notes.values_list("dedup_key", flat=True)) == sorted(
        f"booking:{b.pk}:expired" for b in made)
    assert sorted(notes.values_list("resident_id", flat=True)) == sorted(
        b.resident_id for b in made)
    # Each resident has a phone (WhatsApp) and nothing else: one delivery each.
    assert NotificationDelivery.objects.filter(notification__kind="booking.expired").count() \
        == 40
    events = Tally(CaseEvent.objects.filter(kind="booking.expired")
                   .values_list("application_id", flat=True))
    assert events == {b.application_id: 1 for b in made}
    assert set(Application.objects.values_list("status", "rebook_until")) == {
        (ApplicationStatus.OPEN, date(2026, 8, 1))}
    # Each expired booking was taken by exactly one run of a sweep.
    assert Booking.objects.filter(sweep_token="").count() == 0
    assert bookings_expire_due(now=after_the_day) == 0




def _last_event() -> int:
    return CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _expiry_written(made, *, after_event: int) -> dict:
    """What an expiry sweep wrote for `made` (timeline entries after `after_event`),
    without ids, tokens, the moment each row was written or the deliveries' progress."""
    notes = Notification.objects.filter(kind="booking.expired")
    return {
        "bookings": sorted(Booking.objects.filter(pk__in=[b.pk for b in made])
                           .values_list("pk", "status", "expired_at")),
        "applications": sorted(Application.objects.filter(
            pk__in=[b.application_id for b in made]).values_list("pk", "status",
                                                                 "rebook_until")),
        "events": sorted((e.application_id, e.office_id, e.kind, sorted(e.params.items()))
                         for e in CaseEvent.objects.filter(
                             pk__gt=after_event,
                             kind__in=["booking.expired", "notification.sent"])),
        "notifications": sorted(notes.values_list("office_id", "resident_id",
                                                  "application_id", "title", "body",
                                                  "link", "dedup_key")),
        "deliveries": sorted(NotificationDelivery.objects.filter(notification__in=notes)
                             .values_list("notification__dedup_key", "channel",
                                          "address")),
    }


def _expiry_undone(made, *, after_event: int):
    """The bookings as they were before the sweep."""
    NotificationDelivery.objects.filter(notification__kind="booking.expired").delete()
    Notification.objects.filter(kind="booking.expired").delete()
    CaseEvent.objects.filter(pk__gt=after_event).delete()
    Booking.objects.filter(pk__in=[b.pk for b in made]).update(
        status=BookingStatus.BOOKED, expired_at=None, sweep_token="")
    Application.objects.filter(pk__in=[b.application_id for b in made]).update(
        rebook_until=None)


def _expiry_sent():
    """Every message of the expiry sweep handed to its gateway by the worker."""
    deliveries = NotificationDelivery.objects.filter(notification__kind="booking.expired")
    return deliveries.exists() and not deliveries.filter(
        status=DeliveryStatus.PENDING).exists()


@pytest.mark.worker
def test_the_expiry_beat_sweeps_each_office_in_a_task_of_its_own_as_the_sequential_sweep(
        office_a, office_b, tmp_path):
    """The beat task queues one task per office; a real worker runs them, two at a time,
    and together they write exactly what the sequential sweep writes, the dates in the
    language the sweep asked for (the worker's own is Indonesian)."""
    made = bookings_missed_in((office_a, office_b), 6)
    after_the_day = datetime(2026, 7, 2, 0, 30, tzinfo=WIB)
    before = _last_event()

    with real_worker(tmp_path, concurrency=2) as worker:
        tasks.bookings_expire_due.apply_async(
            kwargs={"now": after_the_day.isoformat(), "language": "en"})
        wait_for(lambda: len(runs_of(EXPIRE_OFFICE, worker)) == 2, timeout=TIMEOUT,
                 message="the worker did not run the two offices' tasks")
        wait_for(_expiry_sent, timeout=TIMEOUT, message="the messages were not sent")
        assert runs_of(tasks.bookings_expire_due.name, worker) == [2]
        assert runs_of(EXPIRE_OFFICE, worker) == [6, 6]
        assert failures_of(EXPIRE_OFFICE, worker) == 0

    assert Booking.objects.filter(status=BookingStatus.EXPIRED).count() == 12
    assert Tally(Notification.objects.filter(kind="booking.expired")
                 .values_list("resident_id", flat=True)) == {b.resident_id: 1 for b in made}
    bodies = Notification.objects.filter(kind="booking.expired").values_list("body",
                                                                           flat=True)
    assert all("1 July 2026" in body for body in bodies)
    assert set(Application.objects.values_list("status", "rebook_until")) == {
        (ApplicationStatus.OPEN, date(2026, 8, 1))}
    by_tasks = _expiry_written(made, after_event=before)
    assert len(by_tasks["events"]) == 24  # an expiry and a message per case

    # The same bookings swept here, one office after another, give the same rows.
    _expiry_undone(made, after_event=before)
    with translation.override("en"):
        assert bookings_expire_due(now=after_the_day) == 12
    assert _expiry_written(made, after_event=before) == by_tasks


@contextmanager
def _expiry_refused_in(office):
    """The database refuses to expire the office's bookings (an office whose sweep
    fails, in a worker this process cannot patch)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION eopen_test_expiry_refused() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'office A''s sweep broke'; END $$")
        cursor.execute(
            "CREATE TRIGGER eopen_test_expiry_refused BEFORE UPDATE ON "
            f"{Booking._meta.db_table} FOR EACH ROW WHEN (OLD.office_id = {int(office.pk)} "
            f"AND NEW.status = '{BookingStatus.EXPIRED}') "
            "EXECUTE FUNCTION eopen_test_expiry_refused()")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS eopen_test_expiry_refused ON "
                           f"{Booking._meta.db_table}")
            cursor.execute("DROP FUNCTION IF EXISTS eopen_test_expiry_refused()")


@pytest.mark.worker
def test_an_office_whose_task_fails_does_not_stop_the_others(office_a, office_b, tmp_path):
    made = bookings_missed_in((office_a, office_b), 4)
    after_the_day = datetime(2026, 7, 2, 0, 30, tzinfo=WIB)

    with _expiry_refused_in(office_a), real_worker(tmp_path, concurrency=2) as worker:
        tasks.bookings_expire_due.apply_async(kwargs={"now": after_the_day.isoformat()})
        wait_for(lambda: runs_of(EXPIRE_OFFICE, worker) == [4]
                 and failures_of(EXPIRE_OFFICE, worker) == 1, timeout=TIMEOUT,
                 message="the worker did not run both offices' tasks, B's done, A's failed")
        assert "office A's sweep broke" in worker.log()
        wait_for(_expiry_sent, timeout=TIMEOUT, message="B's messages were not sent")

    # B's bookings expired and were told; A's are untouched, for the next run.
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert {statuses[b.pk] for b in made if b.office_id == office_b.pk} == {"expired"}
    assert {statuses[b.pk] for b in made if b.office_id == office_a.pk} == {"booked"}
    assert Notification.objects.filter(kind="booking.expired",
                                       office=office_a).count() == 0
    assert bookings_expire_due(now=after_the_day) == 4
    assert Notification.objects.filter(kind="booking.expired").count() == 8


def test_two_lapse_sweeps_at_once_lapse_each_case_once_and_tell_once(
        office_a, office_b, slot_on):
    made = _bookings_in_two_offices(office_a, office_b, slot_on, 12)
    bookings_expire_due(now=datetime(2026, 7, 2, 0, 30, tzinfo=WIB))
    after_the_limit = datetime(2026, 8, 2, 0, 30, tzinfo=WIB)

    results, errors = race(lambda _i: applications_lapse_due(now=after_the_limit,
                                                             batch=2), 4)

    assert errors == []
    assert sum(results) == 24
    assert set(Application.objects.values_list("status", flat=True)) == {
        ApplicationStatus.LAPSED}
    notes = Notification.objects.filter(kind="booking.lapsed")
    assert sorted(notes.values_list("dedup_key", flat=True)) == sorted(
        f"application:{b.application_id}:lapsed" for b in made)
    assert NotificationDelivery.objects.filter(notification__kind="booking.lapsed").count() \
        == 24
    assert Tally(CaseEvent.objects.filter(kind="booking.lapsed")
                 .values_list("application_id", flat=True)) == {
        b.application_id: 1 for b in made}
    assert applications_lapse_due(now=after_the_limit) == 0


@pytest.mark.parametrize(("closed", "other"), [
    (date(2026, 7, 1), date(2026, 7, 2)), (date(2026, 7, 8), date(2026, 7, 6)),
    (date(2026, 7, 7), date(2026, 7, 2)),
])
def test_a_closure_racing_residents_moving_in_and_out_of_the_day_never_deadlocks(
        office_a, lost_card, slot_on, closed, other):
    staying = [book(ResidentFactory(domicile_office=office_a), lost_card,
                    slot_on(lost_card, closed, start)) for start in TIMES[:3]]
    leaving = book(ResidentFactory(domicile_office=office_a), lost_card,
                   slot_on(lost_card, closed, TIMES[3]))
    coming = book(ResidentFactory(domicile_office=office_a), lost_card,
                  slot_on(lost_card, other, TIMES[4]))
    moves = {1: (leaving, fresh(slot_on(lost_card, other, TIMES[5]))),
             2: (coming, fresh(slot_on(lost_card, closed, TIMES[6])))}

    def act(index):
        if index == 0:
            return closure_declare(office=office_a, day=closed, reason="Banjir")
        booking, slot = moves[index]
        return booking_reschedule(booking=Booking.objects.get(pk=booking.pk),
                                  slot=slot)

    _results, errors = race(act, 3)

    # Whoever came second was refused in words (a closed slot, a cancelled booking),
    # never by a deadlock or another database error.
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert not Booking.objects.filter(day=closed, status=BookingStatus.BOOKED).exists()
    for pk in [b.pk for b in staying]:
        assert Booking.objects.get(pk=pk).status == BookingStatus.CANCELLED
    leaving = Booking.objects.get(pk=leaving.pk)
    coming = Booking.objects.get(pk=coming.pk)
    assert (leaving.status, leaving.day) in [(BookingStatus.BOOKED, other),
                                             (BookingStatus.CANCELLED, closed)]
    assert (coming.status, coming.day) in [(BookingStatus.BOOKED, other),
                                           (BookingStatus.CANCELLED, closed)]
    # Every slot's counter is its booked bookings, and a closed slot holds nobody.
    for slot in Slot.objects.filter(date__in=[closed, other]):
        assert slot.booked == slot.bookings.filter(status=BookingStatus.BOOKED).count()
        assert not (slot.is_closed and slot.booked)


def test_shorter_hours_racing_residents_moving_in_and_out_of_the_late_times_never_deadlock(
        office_a, lost_card, slot_on):
    from django.db import transaction

    from registry.models import WorkingHours

    late = ["10:00", "10:30", "11:00", "11:30", "13:00", "13:30"]
    staying = [book(ResidentFactory(domicile_office=office_a), lost_card,
                    slot_on(lost_card, WEDNESDAY, start)) for start in late[:3]]
    leaving = book(ResidentFactory(domicile_office=office_a), lost_card,
                   slot_on(lost_card, WEDNESDAY, late[3]))
    coming = book(ResidentFactory(domicile_office=office_a), lost_card,
                  slot_on(lost_card, WEDNESDAY, "08:00"))
    newcomer = ResidentFactory(domicile_office=office_a)
    moves = {1: (leaving, fresh(slot_on(lost_card, WEDNESDAY, "08:30"))),
             2: (coming, fresh(slot_on(lost_card, WEDNESDAY, late[4])))}
    late_slot = fresh(slot_on(lost_card, WEDNESDAY, late[5]))

    def act(index):
        if index == 0:
            with transaction.atomic():
                WorkingHours.objects.filter(office=office_a, weekday=WEDNESDAY.weekday()
                                            ).update(closes="10:00")
                return office_hours_changed(office=office_a)
        if index == 3:
            return book(newcomer, lost_card, late_slot)
        booking, slot = moves[index]
        return booking_reschedule(booking=Booking.objects.get(pk=booking.pk),
                                  slot=slot)

    _results, errors = race(act, 4)

    # Whoever came second was refused in words (a closed slot, a cancelled booking),
    # never by a deadlock or another database error.
    assert all(isinstance(e, DomainError) for e in errors), errors
    wednesday = Booking.objects.filter(day=WEDNESDAY, status=BookingStatus.BOOKED)
    assert not wednesday.filter(slot__start__gte="10:00").exists()
    for pk in [b.pk for b in staying]:
        assert Booking.objects.get(pk=pk).status == BookingStatus.CANCELLED
    # Everyone cancelled was told once, with the reason.
    for booking in Booking.objects.filter(status=BookingStatus.CANCELLED):
        assert Notification.objects.filter(
            resident_id=booking.resident_id, kind="booking.cancelled_by_hours").count() == 1
    # Every slot's counter is its booked bookings, and a closed slot holds nobody.
    for slot in Slot.objects.filter(date=WEDNESDAY):
        assert slot.booked == slot.bookings.filter(status=BookingStatus.BOOKED).count()
        assert not (slot.is_closed and slot.booked)
        assert slot.is_closed == (slot.start >= time(10, 0))
