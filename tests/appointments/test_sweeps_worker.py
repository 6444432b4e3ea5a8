"""The expiry and lapse sweeps on real Celery workers (SQLite and the filesystem broker
by default; PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set, as in CI):
queued twice, as a doubled beat would, or run by two workers at the same moment (each
beat task queues one task per office), each booking expires once, each case lapses
once, and each resident gets one message, sent once through the gateway."""

from datetime import date

import pytest

from tests.appointments.conftest import bookings_missed_in

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
