"""The expiry and lapse sweeps on real Celery workers (SQLite and the filesystem broker
by default; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set, as in CI):
queued twice, as a doubled beat would, or run by two workers at the same moment (each
beat task queues one task per office), each booking expires once, each case lapses
once, and each resident gets one message, sent once through the gateway."""

import signal
import subprocess
from collections import Counter as Tally
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from django.conf import settings

from registry.appointments.models import Booking, BookingStatus
from registry.appointments.services import sweeps
from registry.appointments.tasks import (
    applications_lapse_due,
    applications_lapse_office,
    bookings_expire_due,
    bookings_expire_office,
)
from registry.models import (
    Application,
    ApplicationStatus,
    CaseEvent,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
)
from registry.notify.backends import SimulatedGateway
from tests.appointments.conftest import WIB, bookings_missed_in
from tests.worker import Worker, real_worker, runs_of, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SIM = "registry.notify.backends.SimulatedGateway"
WEDNESDAY = date(2026, 7, 1)
PER_OFFICE = 12
# The filesystem broker hands out about two tasks a second; Redis is much faster.
TIMEOUT = 120


@pytest.fixture
def worker_env(settings):
    """The workers send through the simulated gateway, which this process reads."""
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "whatsapp": SIM,
                                      "sms": SIM, "email": SIM}
    return {"NOTIFY_WHATSAPP_BACKEND": SIM, "NOTIFY_SMS_BACKEND": SIM,
            "NOTIFY_EMAIL_BACKEND": SIM}


@pytest.fixture
def missed_bookings(office_a, office_b):
    """PER_OFFICE bookings in each office for Wednesday 1 July 2026, made the Monday
    before: long past for the workers, which run on the real clock."""
    return bookings_missed_in((office_a, office_b), PER_OFFICE)


def fanned_out(beat_task, office_task, beats: int, *workers: Worker):
    """A check: the beat task ran `beats` times and every office task it queued ran."""
    def check():
        queued = runs_of(beat_task.name, *workers)
        return len(queued) == beats and len(runs_of(office_task.name, *workers)) == sum(
            queued)
    return check


def sent_once(kind: str) -> list[NotificationDelivery]:
    """Every delivery of `kind` went out, each after one attempt, each once at the
    gateway."""
    deliveries = list(NotificationDelivery.objects.filter(notification__kind=kind))
    assert {(d.channel, d.status, d.attempts) for d in deliveries} == {
        ("whatsapp", DeliveryStatus.SENT, 1)}
    references = Tally(m["reference"] for m in SimulatedGateway.sent("whatsapp"))
    assert {f"n{d.pk}": references[f"n{d.pk}"] for d in deliveries} == {
        f"n{d.pk}": 1 for d in deliveries}
    return deliveries


def all_sent(kind: str):
    def check():
        return NotificationDelivery.objects.filter(notification__kind=kind).exists() and \
            not NotificationDelivery.objects.filter(notification__kind=kind,
                                                    status=DeliveryStatus.PENDING).exists()
    return check


@contextmanager
def another_worker(first: Worker, tmp_path, *, concurrency: int):
    """A second worker node on the first one's broker and queue."""
    args = list(first.args)
    name = args.index("-n") + 1
    args[name] = args[name].replace("@", "-2@", 1)
    args = [f"--concurrency={concurrency}" if a.startswith("--concurrency=") else a
            for a in args]
    log_path = tmp_path / "worker-2.log"
    process = subprocess.Popen(args, env=first.env, stdout=log_path.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=settings.BASE_DIR)
    second = Worker(process, log_path, first.env, args)
    try:
        second.wait_ready()
        yield second
    finally:
        second.kill(signal.SIGTERM)


def assert_expired_once(made):
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.EXPIRED}
    notes = Notification.objects.filter(kind="booking.expired")
    assert sorted(notes.values_list("resident_id", "dedup_key")) == sorted(
        (b.resident_id, f"booking:{b.pk}:expired") for b in made)
    assert Tally(CaseEvent.objects.filter(kind="booking.expired")
                 .values_list("application_id", flat=True)) == {
        b.application_id: 1 for b in made}
    assert len(sent_once("booking.expired")) == len(made)
    assert set(Application.objects.values_list("status", flat=True)) == {
        ApplicationStatus.OPEN}


def test_the_expiry_task_queued_twice_expires_each_booking_once(missed_bookings, worker_env,
                                                                 tmp_path):
    with real_worker(tmp_path, extra_env=worker_env) as worker:
        bookings_expire_due.apply_async()
        bookings_expire_due.apply_async()
        wait_for(fanned_out(bookings_expire_due, bookings_expire_office, 2, worker),
                 timeout=TIMEOUT, message="the worker did not run the sweep twice")
        wait_for(all_sent("booking.expired"), timeout=TIMEOUT,
                 message="the messages were not sent")
        # One worker, one task at a time: both beat tasks ran before the offices' tasks
        # and queued one per office; each office's first task took all its bookings,
        # the second none.
        assert runs_of(bookings_expire_due.name, worker) == [2, 2]
        assert runs_of(bookings_expire_office.name, worker) == [12, 12, 0, 0]
    assert_expired_once(missed_bookings)


def test_the_expiry_task_in_two_workers_at_once_expires_each_booking_once(
        missed_bookings, worker_env, tmp_path):
    with real_worker(tmp_path, concurrency=2, extra_env=worker_env) as first, \
            another_worker(first, tmp_path, concurrency=2) as second:
        for _n in range(4):
            bookings_expire_due.apply_async()
        wait_for(fanned_out(bookings_expire_due, bookings_expire_office, 4, first, second),
                 timeout=TIMEOUT, message="the workers did not run the sweep four times")
        wait_for(all_sent("booking.expired"), timeout=TIMEOUT,
                 message="the messages were not sent")
        assert sum(runs_of(bookings_expire_office.name, first, second)) == 24
    assert_expired_once(missed_bookings)


@pytest.fixture
def waited_too_long(missed_bookings):
    """The bookings expired on 2 July 2026; re-booking was open until 1 August."""
    sweeps.bookings_expire_due(now=datetime(2026, 7, 2, 0, 30, tzinfo=WIB))
    assert set(Application.objects.values_list("rebook_until", flat=True)) == {
        date(2026, 8, 1)}
    return missed_bookings


def assert_lapsed_once(made):
    assert set(Application.objects.values_list("status", flat=True)) == {
        ApplicationStatus.LAPSED}
    notes = Notification.objects.filter(kind="booking.lapsed")
    assert sorted(notes.values_list("resident_id", "dedup_key")) == sorted(
        (b.resident_id, f"application:{b.application_id}:lapsed") for b in made)
    assert Tally(CaseEvent.objects.filter(kind="booking.lapsed")
                 .values_list("application_id", flat=True)) == {
        b.application_id: 1 for b in made}
    assert len(sent_once("booking.lapsed")) == len(made)


def test_the_lapse_task_queued_twice_lapses_each_case_once(waited_too_long, worker_env,
                                                           tmp_path):
    with real_worker(tmp_path, extra_env=worker_env) as worker:
        applications_lapse_due.apply_async()
        applications_lapse_due.apply_async()
        wait_for(fanned_out(applications_lapse_due, applications_lapse_office, 2, worker),
                 timeout=TIMEOUT, message="the worker did not run the sweep twice")
        wait_for(all_sent("booking.lapsed"), timeout=TIMEOUT,
                 message="the messages were not sent")
        assert runs_of(applications_lapse_due.name, worker) == [2, 2]
        assert runs_of(applications_lapse_office.name, worker) == [12, 12, 0, 0]
    assert_lapsed_once(waited_too_long)


def test_the_lapse_task_in_two_workers_at_once_lapses_each_case_once(waited_too_long,
                                                                    worker_env, tmp_path):
    with real_worker(tmp_path, concurrency=2, extra_env=worker_env) as first, \
            another_worker(first, tmp_path, concurrency=2) as second:
        for _n in range(4):
            applications_lapse_due.apply_async()
        wait_for(fanned_out(applications_lapse_due, applications_lapse_office, 4, first,
                            second),
                 timeout=TIMEOUT, message="the workers did not run the sweep four times")
        wait_for(all_sent("booking.lapsed"), timeout=TIMEOUT,
                 message="the messages were not sent")
        assert sum(runs_of(applications_lapse_office.name, first, second)) == 24
    assert_lapsed_once(waited_too_long)
