"""`manage.py load_demo --national N` (registry.demo_national): N offices spread over
the provinces and their time zones, each with its counters, lane plans, staff, its
last working day's history and a live day on which every periodic task finds work:
the expiry, the lapse, the reminders, the dispatch, the idle-counter check and the
slot top-up."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from queues.models import Counter, CounterState, Ticket, TicketStatus
from queues.services.counter_alerts import counter_alerts_check, offices_with_open_counters
from registry import demo_national
from registry.appointments.models import Booking, BookingStatus, LaneSchedule, Slot
from registry.appointments.services import reminders, sweeps
from registry.appointments.services.slots import slots_ensure_office
from registry.deliveries.models import Delivery, DeliveryStatus
from registry.deliveries.services.dispatch import deliveries_dispatch_offices
from registry.models import Application, ApplicationStatus, Office, Sequence

pytestmark = pytest.mark.django_db

# A Saturday evening in the west: the live day is the Monday after.
NOW = datetime(2026, 7, 18, 19, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
MONDAY = date(2026, 7, 20)
MOMENT = datetime(2026, 7, 20, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_specs_cover_every_regency_and_city_in_three_zones():
    specs = demo_national.national_specs()
    assert len(specs) == demo_national.NATIONAL_OFFICES == 514
    assert len({code for code, _name, _zone in specs}) == 514
    zones = [zone for _code, _name, zone in specs]
    assert (zones.count("Asia/Jakarta"), zones.count("Asia/Makassar"),
            zones.count("Asia/Jayapura")) == (301, 150, 63)
    assert sum(" Kota " in name for _code, name, _zone in specs) == 98
    assert specs[0] == ("1101", "Disdukcapil Kabupaten Aceh 1", "Asia/Jakarta")
    # A smaller deployment keeps the three zones.
    few = demo_national.national_specs(6)
    assert {zone for _code, _name, zone in few} == {"Asia/Jakarta", "Asia/Makassar",
                                                    "Asia/Jayapura"}


def test_national_day_gives_every_periodic_task_work():
    with time_machine.travel(NOW, tick=False):
        call_command("load_demo", national=6, quiet=True)
    offices = list(Office.objects.order_by("code"))
    assert len(offices) == 6
    ids = [office.id for office in offices]
    for office in offices:
        counters = Counter.objects.filter(office=office).count()
        assert counters == demo_national.counter_count(office)
        assert LaneSchedule.objects.filter(office=office).count() == 3
        # The live day: 4 no-shows on Friday, 25 bookings on Monday, 25 on Tuesday.
        assert Booking.objects.filter(office=office, status=BookingStatus.BOOKED,
                                      day=date(2026, 7, 17)).count() == 4
        assert Booking.objects.filter(office=office, status=BookingStatus.BOOKED,
                                      day=MONDAY).count() == 25
        assert Booking.objects.filter(office=office, status=BookingStatus.BOOKED,
                                      day=date(2026, 7, 21)).count() == 25
        assert Ticket.objects.filter(office=office, day=MONDAY,
                                     status=TicketStatus.WAITING).count() == 12
        assert Counter.objects.filter(office=office, state=CounterState.IDLE).count() == 2
        # Eight cards printed on Saturday for home delivery (the history's Friday may
        # leave some waiting too).
        assert Delivery.objects.filter(
            office=office, status=DeliveryStatus.WAITING,
            handover__card__printed_at=MOMENT - timedelta(days=2)).count() == 8
        # The history of the Friday before: closed, as the sweeps would leave it.
        assert Ticket.objects.filter(office=office, day=date(2026, 7, 17)).exists()
        assert not Ticket.objects.filter(office=office, day=date(2026, 7, 17),
                                         status=TicketStatus.WAITING).exists()
    # Slots exist from Friday to Tuesday only: the hourly top-up has the window to make.
    assert set(Slot.objects.values_list("date", flat=True)) == {
        date(2026, 7, 17), MONDAY, date(2026, 7, 21)} | set(
        Slot.objects.filter(date__lt=date(2026, 7, 17)).values_list("date", flat=True))
    assert sweeps.bookings_expire_offices(now=MOMENT) == ids
    assert sweeps.applications_lapse_offices(now=MOMENT) == ids
    assert reminders.bookings_remind_offices(now=MOMENT) == ids
    assert offices_with_open_counters() == ids
    assert deliveries_dispatch_offices(now=MOMENT) == ids
    assert Application.objects.filter(status=ApplicationStatus.OPEN,
                                      rebook_until=date(2026, 7, 19)).count() == 18
    # Each office raises its two idle-counter alerts at the moment.
    assert counter_alerts_check(office=offices[0], now=MOMENT) == 2
    with time_machine.travel(MOMENT, tick=False):
        assert slots_ensure_office(office_id=ids[0]) > 0

    # Written once: a second run adds nothing.
    bookings = Booking.objects.count()
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        call_command("load_demo", national=6, quiet=True)
    assert Office.objects.count() == 6
    assert Booking.objects.count() == bookings
    assert Sequence.objects.filter(scope=demo_national.NATIONAL_SCOPE).count() == 6
