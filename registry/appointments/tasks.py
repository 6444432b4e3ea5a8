"""Celery tasks of appointments: thin wrappers over the sweeps in services. Each sweep
reads the due time from the rows themselves, so a doubled or missed beat changes
nothing."""

from celery import shared_task

from registry.appointments import services


@shared_task(name="appointments.tasks.bookings_expire_due")
def bookings_expire_due() -> int:
    return services.bookings_expire_due()


@shared_task(name="appointments.tasks.applications_lapse_due")
def applications_lapse_due() -> int:
    return services.applications_lapse_due()


@shared_task(name="appointments.tasks.bookings_remind_due")
def bookings_remind_due() -> int:
    return services.bookings_remind_due()


@shared_task(name="appointments.tasks.slots_ensure_all")
def slots_ensure_all() -> int:
    return services.slots_ensure_all()
