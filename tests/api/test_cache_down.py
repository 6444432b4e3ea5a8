"""The cache is a speed-up, never a dependency: with Redis unreachable, the slot list,
a booking and the display board still answer from the database, over real HTTP."""

import time

import pytest
import time_machine

from queues.models import Ticket
from registry.appointments.models import Booking, Slot
from tests.api.test_bookings import SLOTS_URL, booking_body, slot_id
from tests.appointments.conftest import NOW
from tests.queues.conftest import walk_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cache_down(settings):
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {"default": {
        "BACKEND": "config.cache.ReusedClientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}


def test_with_the_cache_down_slots_bookings_and_the_board_still_answer(
        cache_down, http, as_resident, office_a, resident_a):
    with time_machine.travel(NOW, tick=False):
        started = time.monotonic()
        listed = http.get(SLOTS_URL)
        assert listed.status_code == 200
        assert listed.json()["count"] == 14
        slot = slot_id(office_a)
        booked = as_resident(resident_a).post("/api/v1/bookings/", booking_body(slot=slot))
        assert booked.status_code == 201
        assert Booking.objects.get(code=booked.json()["code"]).slot_id == slot
        assert Slot.objects.get(pk=slot).booked == 1
        again = {r["id"]: r["remaining"] for r in http.get(SLOTS_URL).json()["results"]}
        assert again[slot] == 3
        walk_in(office_a, "C")
        board = http.get("/api/v1/offices/3275/board/")
        assert board.status_code == 200
        assert Ticket.objects.filter(office=office_a).count() == 1
        assert time.monotonic() - started < 20  # no call waited on the cache
