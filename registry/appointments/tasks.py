"""Celery tasks of appointments: thin wrappers over the sweeps in services. Each sweep
reads the due time from the rows themselves, so a doubled or missed beat changes
nothing."""

from celery import shared_task

from registry.appointments.services import slots, sweeps


@shared_task(name="appointments.tasks.bookings_expire_due")
def bookings_expire_due() -> int:
    return sweeps.bookings_expire_due()


@shared_task(name="appointments.tasks.applications_lapse_due")
def applications_lapse_due() -> int:
    return sweeps.applications_lapse_due()


@shared_task(name="appointments.tasks.bookings_remind_due")
def bookings_remind_due() -> int:
    return sweeps.bookings_remind_due()


@shared_task(name="appointments.tasks.slots_ensure_all")
def slots_ensure_all() -> int:
    return slots.slots_ensure_all()
