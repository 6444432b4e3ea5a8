"""Appointments tests run at a fixed moment: Monday 29 June 2026, 09:00 in Kota Bekasi
(WIB), so slots, windows and sweeps are exact."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from registry.appointments.models import Slot
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.slots import slots_ensure
from registry.models import Service
from tests.factories import ResidentFactory

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = date(2026, 6, 29)
NOW = datetime(2026, 6, 29, 9, 0, tzinfo=WIB)


@pytest.fixture
def clock():
    """The test's clock, moved with clock.move_to(datetime)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lost_card(office_a):
    """KTP-el hilang: lane C, KK and a police loss report valid 14 days."""
    return Service.objects.select_related("lane").get(office=office_a, code="KTP_HILANG")


@pytest.fixture
def slot_on(clock):
    """slot_on(service, day, "08:00") -> that slot of the service's lane (made if needed)."""

    def find(service, day, start="08:00"):
        slots_ensure(office=service.office, start=day, end=day)
        return Slot.objects.get(lane=service.lane, date=day, start=start)

    return find


def docs_ok(issued_on=date(2026, 6, 25)):
    """Declared documents of KTP_HILANG that pass the check for a visit this week."""
    return [{"requirement": "KK"}, {"requirement": "SURAT_KEHILANGAN", "issued_on": issued_on}]


def book(resident, service, slot, documents=None, **kwargs):
    """`resident` books `slot` for `service` through the service layer, with the
    documents of docs_ok() unless others are given."""
    return booking_create(office=service.office, resident=resident, service=service,
                          slot=slot, documents=docs_ok() if documents is None
                          else documents, **kwargs)


def bookings_missed_in(offices, per_office: int) -> list:
    """`per_office` bookings of KTP_HILANG in each office for Wednesday 1 July 2026, four
    to a slot from 08:00, made the Monday before: long past for a worker, which runs on
    the real clock."""
    wednesday = date(2026, 7, 1)
    made = []
    with time_machine.travel(NOW, tick=False):
        for office in offices:
            service = Service.objects.select_related("lane").get(office=office,
                                                                 code="KTP_HILANG")
            slots_ensure(office=office, start=wednesday, end=wednesday)
            slots = list(Slot.objects.filter(lane=service.lane, date=wednesday)
                         .order_by("start"))
            made.extend(book(ResidentFactory(domicile_office=office), service, slots[n // 4])
                        for n in range(per_office))
    return made
