"""Fixtures of the queue tests: counters at both offices, operators, and the clock."""

import pytest
from django.core.cache import cache

from queues import services
from registry.models import Lane, Role, Service


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The board and the observed service times are cached per office; every test
    starts without them (office ids and codes repeat between tests)."""
    cache.clear()
    yield
    cache.clear()


def lanes_of(office) -> dict:
    return {lane.letter: lane for lane in Lane.objects.filter(office=office)}


def service_of(office, code="KTP_TTD_FOTO") -> Service:
    return Service.objects.select_related("lane").get(office=office, code=code)


# One service per lane of the standard catalogue.
SERVICE_OF_LANE = {"A": "KK_UBAH", "B": "KTP_BARU", "C": "KTP_TTD_FOTO"}


def walk_in(office, lane="C", priority="", **kwargs):
    return services.ticket_issue_walk_in(office=office,
                                         service=service_of(office, SERVICE_OF_LANE[lane]),
                                         priority=priority, **kwargs)


@pytest.fixture
def counter_factory(office_a):
    def make(letters="C", number=None, office=None):
        office = office or office_a
        lanes = lanes_of(office)
        from queues.models import Counter

        number = number or (Counter.objects.filter(office=office).count() + 1)
        return services.counter_create(office=office, number=number,
                                       lanes=[lanes[x] for x in letters])

    return make


@pytest.fixture
def operator(make_staff, office_a):
    return make_staff(office_a, Role.COUNTER_OPERATOR, username="operator-a")


@pytest.fixture
def operator_b(make_staff, office_b):
    return make_staff(office_b, Role.COUNTER_OPERATOR, username="operator-b")
