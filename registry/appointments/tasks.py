"""Celery tasks of appointments: thin wrappers over the sweeps in services. Each sweep
reads the due time from the rows themselves, so a doubled or missed beat changes
nothing.

A sweep's beat task fans out: it queues one task per office with due work, as one
Celery group, and each office's share runs in its own transactions on whatever worker
takes it, so offices are swept side by side up to the workers' concurrency, and an
office that fails (its task fails, logged by Celery) does not stop the others. An
office task does at most one batch (sweeps.EXPIRY_BATCH, sweeps.SWEEP_BATCH) and,
after a full one, queues itself for the rest; if that cannot be queued, the next beat
takes what is left.

The office tasks carry the sweep's moment (ISO 8601) and its language: the dates in
the messages are formatted in the language the sweep ran in, whichever worker sends
them.
"""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone, translation

from registry.appointments.services import reminders, slots, sweeps
from registry.background import enqueue_now, fan_out


def _moment(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else timezone.now()


def _language(language: str | None) -> str:
    """The sweep's language: as asked, else the active one (the default in a worker)."""
    return language or translation.get_language() or settings.LANGUAGE_CODE


def _again_after_a_full_batch(task, done: int, batch: int | None, *args) -> None:
    """A full batch may leave more: the rest goes in a task of its own."""
    if batch is not None and done >= batch:
        enqueue_now(task, *args)


def _sweep_due(office_task, offices_with_work, now: str | None, language: str | None) -> int:
    """A beat task's fan-out: `office_task` for each office `offices_with_work` names,
    each carrying the sweep's moment and language; how many were queued."""
    moment = _moment(now)
    return fan_out(office_task, offices_with_work(now=moment), moment.isoformat(),
                    _language(language))


def _sweep_office(office_task, sweep, batch: int | None, office_id: int, now: str,
                  language: str | None) -> int:
    """One batch of an office's share, in the sweep's language; a full batch queues
    `office_task` again for the rest."""
    with translation.override(_language(language)):
        done = sweep(office_id=office_id, now=_moment(now), batch=batch, batches=1)
    _again_after_a_full_batch(office_task, done, batch, office_id, now, language)
    return done


@shared_task(name="appointments.tasks.bookings_expire_due")
def bookings_expire_due(now: str | None = None, language: str | None = None) -> int:
    """One bookings_expire_office per office with due bookings; how many were queued."""
    return _sweep_due(bookings_expire_office, sweeps.bookings_expire_offices, now, language)


@shared_task(name="appointments.tasks.bookings_expire_office")
def bookings_expire_office(office_id: int, now: str, language: str | None = None) -> int:
    return _sweep_office(bookings_expire_office, sweeps.bookings_expire_office,
                         sweeps.EXPIRY_BATCH, office_id, now, language)


@shared_task(name="appointments.tasks.applications_lapse_due")
def applications_lapse_due(now: str | None = None, language: str | None = None) -> int:
    """One applications_lapse_office per office with a case that may lapse."""
    return _sweep_due(applications_lapse_office, sweeps.applications_lapse_offices, now,
                      language)


@shared_task(name="appointments.tasks.applications_lapse_office")
def applications_lapse_office(office_id: int, now: str, language: str | None = None) -> int:
    return _sweep_office(applications_lapse_office, sweeps.applications_lapse_office,
                         sweeps.SWEEP_BATCH, office_id, now, language)


@shared_task(name="appointments.tasks.bookings_remind_due")
def bookings_remind_due(now: str | None = None, language: str | None = None) -> int:
    """One bookings_remind_office per office with a booking to remind around today."""
    return _sweep_due(bookings_remind_office, reminders.bookings_remind_offices, now, language)


@shared_task(name="appointments.tasks.bookings_remind_office")
def bookings_remind_office(office_id: int, now: str, language: str | None = None) -> int:
    return _sweep_office(bookings_remind_office, reminders.bookings_remind_office,
                         sweeps.SWEEP_BATCH, office_id, now, language)


@shared_task(name="appointments.tasks.slots_ensure_all")
def slots_ensure_all() -> int:
    """One slots_ensure_office per active office."""
    return fan_out(slots_ensure_office, slots.slots_ensure_offices())


@shared_task(name="appointments.tasks.slots_ensure_office")
def slots_ensure_office(office_id: int) -> int:
    return slots.slots_ensure_office(office_id=office_id)
