"""The cache is a speed-up, never a dependency: with Redis unreachable, the slot list,
a booking and the display board still answer from the database, over real HTTP."""

import logging
import time

import pytest
import time_machine
from django.core.cache import cache

from config.logfilters import AtMostEvery
from queues.models import Ticket
from registry.appointments.models import Booking, Slot
from tests.api.test_bookings import SLOTS_URL, booking_body, slot_id
from tests.appointments.conftest import NOW
from tests.queues.conftest import walk_in

pytestmark = pytest.mark.django_db(transaction=True)


# Nothing listens on port 1: every cache call fails at once. The password must never
# reach the logs.
DOWN_URL = "redis://:hush-hush@127.0.0.1:1/0"


@pytest.fixture
def cache_down(settings):
    # The production cache (config.settings, with REDIS_URL), pointed at no server.
    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": DOWN_URL,
        "OPTIONS": {"IGNORE_EXCEPTIONS": True,
                    "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5}}}


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


def test_with_the_cache_down_one_log_record_a_minute_without_the_password(cache_down, caplog):
    [throttle] = [f for f in logging.getLogger("django_redis.cache").filters
                  if isinstance(f, AtMostEvery)]
    throttle.last = None  # as if no error had been logged this minute
    with caplog.at_level(logging.ERROR, logger="django_redis.cache"):
        for _ in range(5):
            assert cache.get_many(["a", "b"]) == {}
            assert cache.get("a", "default") == "default"
            cache.set("a", 1, 5)
            cache.delete_many(["a", "b"])
    logged = [r for r in caplog.records if r.name == "django_redis.cache"]
    assert len(logged) == 1
    text = caplog.text
    assert "127.0.0.1:1" in text  # the traceback says which server
    assert "hush-hush" not in text
