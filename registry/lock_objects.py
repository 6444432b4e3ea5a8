"""The select_for_update querysets of the registry core, in one place.

Each locks its own rows only (`of=("self",)`), whatever a caller joins for reading;
rows taken several at a time are ordered by primary key (or due time, for sweeps,
with SKIP LOCKED), so two transactions never wait on each other in opposite orders.
Lock order: the resident, then their sign-in codes; a case file before the rows of
the apps that hang on it.
"""

from django.db.models import QuerySet

from registry.models import Application, NotificationDelivery, OtpChallenge, Resident


def residents_for_update() -> QuerySet[Resident]:
    return Resident.objects.select_for_update(of=("self",))


def otp_challenges_for_update() -> QuerySet[OtpChallenge]:
    return OtpChallenge.objects.select_for_update(of=("self",))


def applications_for_update(*, skip_locked: bool = False) -> QuerySet[Application]:
    """Case files to lock; with `skip_locked` one another transaction holds is passed
    over (a sweep takes it next time)."""
    return Application.objects.select_for_update(of=("self",), skip_locked=skip_locked)


def notification_deliveries_for_update(*, skip_locked: bool = False
                                       ) -> QuerySet[NotificationDelivery]:
    """Deliveries to lock; with `skip_locked` one another sender holds is passed over."""
    return NotificationDelivery.objects.select_for_update(of=("self",),
                                                          skip_locked=skip_locked)
