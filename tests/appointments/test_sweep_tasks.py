"""The sweeps' Celery tasks (registry.appointments.tasks): each beat task queues exactly
one task per office with due work, with the sweep's moment and language; an office
task does one batch and queues itself for the rest; the sweep called directly still
sweeps every office, one after another, and an office that fails there does not stop
the others. What is queued is captured here (apply_async), nothing reaches a broker;
the tasks on a real worker are in test_concurrency.py and test_sweeps_worker.py."""

from datetime import date, datetime

import pytest
from django.utils import translation

from registry.appointments import tasks
from registry.appointments.models import Booking, BookingStatus
from registry.appointments.services import sweeps
from registry.models import Application, ApplicationStatus, Notification, Service
from tests.appointments.conftest import WIB, book
from tests.factories import OfficeFactory, ResidentFactory

WEDNESDAY = date(2026, 7, 1)
FRIDAY = date(2026, 7, 3)
OFFICE_TASKS = (tasks.bookings_expire_office, tasks.applications_lapse_office,
                tasks.bookings_remind_office, tasks.slots_ensure_office)


@pytest.fixture(autouse=True)
def _worker_language():
    """No language active, as in a worker (whatever an earlier test left on this
    thread): the default, Indonesian."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def queued(mocker):
    """Every office task queued, as (task name, args), in the order queued."""
    calls = []
    for task in OFFICE_TASKS:
        def record(args=None, kwargs=None, name=task.name, **options):
            assert not kwargs
            calls.append((name, tuple(args or ())))
        mocker.patch.object(task, "apply_async", side_effect=record)
    return calls


def plain(calls):
    """(task name, office, moment, language) of each queued sweep task."""
    return [(name, args[0], datetime.fromisoformat(args[1]), *args[2:])
            for name, args in calls]


def run(calls):
    """Run the queued office tasks here, as a worker would; what each returned. (What
    they queue meanwhile is added to `calls`, not run.)"""
    by_name = {task.name: task for task in OFFICE_TASKS}
    return [by_name[name](*args) for name, args in list(calls)]


@pytest.fixture
def other_service(office_b):
    return Service.objects.select_related("lane").get(office=office_b, code="KTP_HILANG")


def booked(service, day, slot_on, start="08:00"):
    return book(ResidentFactory(domicile_office=service.office), service,
                slot_on(service, day, start))


def test_the_expiry_beat_queues_one_task_per_office_with_due_bookings(
        office_a, office_b, lost_card, other_service, slot_on, clock, queued):
    in_a = [booked(lost_card, WEDNESDAY, slot_on) for _n in range(3)]
    in_b = booked(other_service, WEDNESDAY, slot_on)
    later_in_b = booked(other_service, FRIDAY, slot_on)
    OfficeFactory()  # an office with nothing due
    now = datetime(2026, 7, 2, 0, 5, tzinfo=WIB)
    clock.move_to(now)

    with translation.override("en"):
        assert tasks.bookings_expire_due() == 2

    name = "appointments.tasks.bookings_expire_office"
    assert plain(queued) == [(name, office_a.pk, now, "en"), (name, office_b.pk, now, "en")]
    # Queuing is all the beat task did.
    assert not Booking.objects.filter(status=BookingStatus.EXPIRED).exists()
    # Each task sweeps its office only, in the sweep's language, whatever the worker's.
    assert run(queued) == [3, 1]
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert [statuses[b.pk] for b in [*in_a, in_b, later_in_b]] == [
        BookingStatus.EXPIRED] * 4 + [BookingStatus.BOOKED]
    bodies = Notification.objects.filter(kind="booking.expired").values_list("body",
                                                                           flat=True)
    assert len(bodies) == 4
    assert all("1 July 2026" in body for body in bodies)
    assert set(Booking.objects.filter(status=BookingStatus.EXPIRED)
               .values_list("expired_at", flat=True)) == {now}
    # A task that comes again (a doubled beat) finds nothing; nothing is due any more.
    assert run(queued) == [0, 0]
    queued.clear()
    assert tasks.bookings_expire_due() == 0
    assert queued == []


def test_the_expiry_beat_takes_the_worker_language_by_default(
        office_a, lost_card, slot_on, clock, queued):
    booked(lost_card, WEDNESDAY, slot_on)
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    assert tasks.bookings_expire_due() == 1
    assert [args[2] for _name, args in queued] == ["id"]
    assert run(queued) == [1]
    assert "1 Juli 2026" in Notification.objects.get(kind="booking.expired").body


def test_the_lapse_beat_queues_one_task_per_office_with_cases_past_their_limit(
        office_a, office_b, lost_card, other_service, slot_on, clock, queued):
    in_a = [booked(lost_card, WEDNESDAY, slot_on) for _n in range(2)]
    in_b = booked(other_service, FRIDAY, slot_on)
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    assert sweeps.bookings_expire_due() == 2
    clock.move_to(datetime(2026, 7, 4, 0, 5, tzinfo=WIB))
    assert sweeps.bookings_expire_due() == 1
    # A's cases could be re-booked until 1 August, B's until 3 August.
    now = datetime(2026, 8, 2, 0, 5, tzinfo=WIB)
    clock.move_to(now)

    assert tasks.applications_lapse_due() == 1
    assert plain(queued) == [("appointments.tasks.applications_lapse_office", office_a.pk,
                              now, "id")]
    assert run(queued) == [2]
    assert {Application.objects.get(pk=b.application_id).status
            for b in in_a} == {ApplicationStatus.LAPSED}
    assert Application.objects.get(pk=in_b.application_id).status == ApplicationStatus.OPEN
    queued.clear()
    clock.move_to(datetime(2026, 8, 4, 0, 5, tzinfo=WIB))
    assert tasks.applications_lapse_due() == 1
    assert [args[0] for _name, args in queued] == [office_b.pk]
    assert run(queued) == [1]


def test_the_reminder_beat_queues_one_task_per_office_with_bookings_to_remind(
        office_a, office_b, lost_card, other_service, slot_on, clock, queued):
    booked(lost_card, WEDNESDAY, slot_on)
    booked(other_service, FRIDAY, slot_on)
    now = datetime(2026, 6, 30, 16, 0, tzinfo=WIB)  # the day before Wednesday
    clock.move_to(now)

    assert tasks.bookings_remind_due() == 1
    assert plain(queued) == [("appointments.tasks.bookings_remind_office", office_a.pk, now,
                              "id")]
    assert run(queued) == [1]
    assert Notification.objects.filter(kind="booking.reminder").count() == 1


def test_the_slots_beat_queues_one_task_per_active_office(office_a, office_b, clock,
                                                          queued):
    OfficeFactory(is_active=False)
    assert tasks.slots_ensure_all() == 2
    assert queued == [("appointments.tasks.slots_ensure_office", (office_a.pk,)),
                      ("appointments.tasks.slots_ensure_office", (office_b.pk,))]
    made = run(queued)
    assert all(n > 0 for n in made)
    # Made already: a second top-up makes nothing.
    assert run(queued) == [0, 0]


def test_an_office_task_does_one_batch_and_queues_itself_for_the_rest(
        office_a, lost_card, slot_on, clock, queued, monkeypatch):
    monkeypatch.setattr(sweeps, "EXPIRY_BATCH", 2)
    for start in ["08:00", "08:00", "08:30", "08:30", "09:00"]:
        booked(lost_card, WEDNESDAY, slot_on, start)
    now = datetime(2026, 7, 2, 0, 5, tzinfo=WIB).isoformat()
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    name = "appointments.tasks.bookings_expire_office"

    # Each run takes one batch; after a full one the rest is queued as the same task.
    assert tasks.bookings_expire_office(office_a.pk, now, "id") == 2
    assert queued == [(name, (office_a.pk, now, "id"))]
    assert run(queued) == [2]
    assert queued == [(name, (office_a.pk, now, "id"))] * 2
    # Not a full batch: the office is done.
    assert run(queued[1:]) == [1]
    assert len(queued) == 2
    assert Booking.objects.filter(status=BookingStatus.EXPIRED).count() == 5


def test_a_lapse_task_does_one_batch_and_queues_itself_for_the_rest(
        office_a, lost_card, slot_on, clock, queued, monkeypatch):
    monkeypatch.setattr(sweeps, "SWEEP_BATCH", 2)
    for start in ["08:00", "08:30", "09:00"]:
        booked(lost_card, WEDNESDAY, slot_on, start)
    clock.move_to(datetime(2026, 7, 2, 0, 5, tzinfo=WIB))
    sweeps.bookings_expire_due()
    now = datetime(2026, 8, 2, 0, 5, tzinfo=WIB).isoformat()

    assert tasks.applications_lapse_office(office_a.pk, now, "id") == 2
    assert queued == [("appointments.tasks.applications_lapse_office",
                       (office_a.pk, now, "id"))]
    assert run(queued) == [1]
    assert len(queued) == 1
    assert set(Application.objects.values_list("status", flat=True)) == {
        ApplicationStatus.LAPSED}


def test_called_directly_a_failing_office_does_not_stop_the_others(
        office_a, office_b, lost_card, other_service, slot_on, clock, mocker):
    made = [booked(service, WEDNESDAY, slot_on, start)
            for service in (lost_card, other_service) for start in ["08:00", "08:30"]]
    real = sweeps._bookings_expire_batch

    def broken_in_a(**kwargs):
        if kwargs["office_id"] == office_a.pk:
            raise RuntimeError("office A's sweep broke")
        return real(**kwargs)

    clock.move_to(datetime(2026, 7, 2, 0, 30, tzinfo=WIB))
    mocker.patch.object(sweeps, "_bookings_expire_batch", side_effect=broken_in_a)
    with pytest.raises(RuntimeError, match="office A"):
        sweeps.bookings_expire_due()

    # B's bookings expired and were told; A's are untouched, for the next run.
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert {statuses[b.pk] for b in made if b.office_id == office_b.pk} == {"expired"}
    assert {statuses[b.pk] for b in made if b.office_id == office_a.pk} == {"booked"}
    assert Notification.objects.filter(kind="booking.expired", office=office_a).count() == 0
    mocker.stopall()
    assert sweeps.bookings_expire_due() == 2
    assert Notification.objects.filter(kind="booking.expired").count() == 4
