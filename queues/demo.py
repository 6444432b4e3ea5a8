"""Demo data of the queues, run by `manage.py load_demo` after the registry's. Safe to
run again: it creates only what is missing.

Kota Bekasi gets five counters serving lanes A, B and C in different orders, and a
morning under way (walk-ins waiting, a priority ticket, the bookings checked in by the
appointments demo, one served, one being served, one no-show, one called, a counter
paused for prayer and one idle while lane C waits); Kabupaten
Bekasi gets three counters and a quiet queue. The board is at /queues/board/3275/ and
/queues/board/3216/.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from queues.models import Counter, CounterState, QueueSettings, Ticket
from queues.services.calling import ticket_call_next, ticket_finish, ticket_no_show, ticket_start
from queues.services.counters import counter_create, counter_open, counter_pause
from queues.services.issuing import ticket_check_in, ticket_identify, ticket_issue_walk_in
from registry.appointments.models import Booking, BookingStatus
from registry.calendar import office_today
from registry.models import Lane, Resident, Service
from registry.services.offices import office_settings_get

COUNTERS = {
    "kota": [(1, "AC"), (2, "BA"), (3, "BC"), (4, "CB"), (5, "CA")],
    "kab": [(1, "ABC"), (2, "BC"), (3, "CA")],
}

# (service code, priority) in the order the residents arrive.
WALK_INS = {
    "kota": [("KK_UBAH", ""), ("KTP_BARU", ""), ("KTP_HILANG", ""), ("KTP_BARU", ""),
             ("KTP_TTD_FOTO", ""), ("KTP_BARU", "pregnant"), ("KK_UBAH", ""),
             ("KTP_HILANG", "elderly"), ("KTP_BARU", ""), ("KTP_TTD_FOTO", ""),
             ("KTP_BARU", ""), ("KK_UBAH", ""), ("KTP_HILANG", "")],
    "kab": [("KTP_BARU", ""), ("KTP_TTD_FOTO", ""), ("KK_UBAH", "")],
}


def _service(office, code):
    found = Service.objects.select_related("lane").filter(office=office, code=code).first()
    return found or Service.objects.select_related("lane").filter(office=office).first()


def seed(*, offices: dict, stdout=None) -> None:
    """`offices` maps the demo prefixes ("kota", "kab") to their Office."""
    for prefix, office in offices.items():
        with transaction.atomic():
            office_settings_get(QueueSettings, office=office)
            lanes = {lane.letter: lane for lane in Lane.objects.filter(office=office)}
            for number, letters in COUNTERS[prefix]:
                if not Counter.objects.filter(office=office, number=number).exists():
                    counter_create(office=office, number=number,
                                   lanes=[lanes[x] for x in letters if x in lanes])
        if Ticket.objects.filter(office=office, day=office_today(office)).exists():
            continue
        frontdesk = get_user_model().objects.filter(username=f"{prefix}.frontdesk").first()
        for code, priority in WALK_INS[prefix]:
            # The demo's morning is loaded whatever the hour: the kiosk's limits (closed
            # days, hours) would refuse it on a weekend or in the evening.
            ticket_issue_walk_in(office=office, service=_service(office, code),
                                 priority=priority, by=frontdesk, limits=False)
        _checked_in_bookings(office, frontdesk)
        if prefix == "kota":
            _morning_under_way(office)


def _checked_in_bookings(office, frontdesk) -> None:
    """Today's bookings the appointments demo checked in get their tickets."""
    for booking in (Booking.objects.filter(office=office, day=office_today(office),
                                           status=BookingStatus.CHECKED_IN,
                                           ticket__isnull=True).order_by("checked_in_at")):
        ticket_check_in(office=office, booking_code=booking.code, by=frontdesk)


def _morning_under_way(office) -> None:
    operator = get_user_model().objects.filter(username="kota.operator").first()
    counters = {c.number: c for c in Counter.objects.filter(office=office)}
    # NIKs are encrypted (registry.encryption): the city's residents are picked in Python.
    residents = sorted((r for r in Resident.objects.all()
                        if r.nik.startswith("3275")), key=lambda r: r.nik)
    # Loket 2 serves lane B first: the pregnant resident's priority ticket, served.
    ticket = ticket_call_next(counter=counters[2], by=operator)
    if ticket is not None:
        ticket_start(counter=counters[2], by=operator)
        if len(residents) > 2:
            ticket_identify(counter=counters[2], resident=residents[2], by=operator)
            ticket_finish(counter=counters[2], by=operator, outcome="served")
        else:
            ticket_finish(counter=counters[2], by=operator, outcome="not_served",
                          reason="resident_left")
    # Loket 3: the next in lane B did not come.
    if ticket_call_next(counter=counters[3], by=operator) is not None:
        ticket_no_show(counter=counters[3], by=operator)
    # Loket 4 serves lane C first: the elderly resident, being served now.
    if ticket_call_next(counter=counters[4], by=operator) is not None:
        ticket_start(counter=counters[4], by=operator)
    # Loket 1: lane A's first walk-in, called.
    ticket_call_next(counter=counters[1], by=operator)
    # Loket 3 pauses for prayer; Loket 5 opens and, like Loket 2, calls nobody while people
    # wait: five minutes into `make run` the beat alerts kota.supervisor (staff home,
    # admin index).
    if counters[3].state != CounterState.PAUSED:
        counter_pause(counter=counters[3], by=operator, reason="prayer")
    counter_open(counter=counters[5], by=operator)
