"""Fixtures of the queue tests: counters at both offices, operators, walk-ins and
bookings."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queues.services.counters import counter_create
from queues.services.issuing import ticket_issue_walk_in
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.slots import slots_ensure
from registry.models import Lane, Role, Service

WIB = ZoneInfo("Asia/Jakarta")
# Bookings are made on a Friday for the Monday (and Tuesday) after.
MONDAY = date(2026, 6, 29)
TUESDAY = date(2026, 6, 30)
BOOKED_ON = datetime(2026, 6, 26, 10, 0, tzinfo=WIB)


@pytest.fixture(autouse=True)
def _office_hours(office_hours):
    """Tickets are issued in office hours unless a test sets its own clock."""


def lanes_of(office) -> dict:
    return {lane.letter: lane for lane in Lane.objects.filter(office=office)}


def service_of(office, code="KTP_TTD_FOTO") -> Service:
    return Service.objects.select_related("lane").get(office=office, code=code)


# One service per lane of the standard catalogue.
SERVICE_OF_LANE = {"A": "KK_UBAH", "B": "KTP_BARU", "C": "KTP_TTD_FOTO"}


def walk_in(office, lane="C", priority="", **kwargs):
    return ticket_issue_walk_in(office=office,
                                service=service_of(office, SERVICE_OF_LANE[lane]),
                                priority=priority, **kwargs)


@pytest.fixture
def counter_factory(office_a):
    def make(letters="C", number=None, office=None):
        office = office or office_a
        lanes = lanes_of(office)
        from queues.models import Counter

        number = number or (Counter.objects.filter(office=office).count() + 1)
        return counter_create(office=office, number=number,
                              lanes=[lanes[x] for x in letters])

    return make


@pytest.fixture
def operator(make_staff, office_a):
    return make_staff(office_a, Role.COUNTER_OPERATOR, username="operator-a")


@pytest.fixture
def operator_b(make_staff, office_b):
    return make_staff(office_b, Role.COUNTER_OPERATOR, username="operator-b")


def at(hour, minute=0, day=MONDAY):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)


@pytest.fixture
def ktp_photo(office_a):
    """KTP_TTD_FOTO: lane C (Perubahan biodata)."""
    return service_of(office_a, "KTP_TTD_FOTO")


def book(service, day=MONDAY, start="08:00", resident=None):
    """A booking of `service` made at BOOKED_ON (the clock must allow it), by a new
    resident unless one is given, with every document it needs declared."""
    from registry.appointments.models import Slot
    from tests.factories import ResidentFactory

    slots_ensure(office=service.office, start=day, end=day)
    slot = Slot.objects.get(lane=service.lane, date=day, start=start)
    documents = [{"requirement": r.code,
                  **({"issued_on": BOOKED_ON.date() - timedelta(days=3)} if r.valid_days
                     else {})}
                 for r in service.requirements.all()]
    return booking_create(
        office=service.office, resident=resident or ResidentFactory(
            domicile_office=service.office),
        service=service, slot=slot, documents=documents, now=BOOKED_ON)
