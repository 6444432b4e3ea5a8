"""Every step writes the ticket's history and, once the resident is known, the case
timeline; the resident is told when called and when three tickets are ahead."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from queues.models import Ticket
from queues.services.calling import (
    ticket_call_next,
    ticket_finish,
    ticket_no_show,
    ticket_start,
    ticket_transfer,
)
from queues.services.issuing import ticket_identify
from registry.models import CaseEvent, Notification
from tests.factories import ResidentFactory
from tests.queues.conftest import lanes_of, walk_in

WIB = ZoneInfo("Asia/Jakarta")
FRIDAY = datetime(2022, 7, 1, 8, 0, tzinfo=WIB)


@pytest.fixture
def clock():
    with time_machine.travel(FRIDAY, tick=False) as traveller:
        yield traveller


def timeline(application):
    with_translation = []
    from django.utils import translation

    with translation.override("id"):
        for event in CaseEvent.objects.filter(application=application).order_by("at", "id"):
            with_translation.append((event.at.astimezone(WIB).strftime("%H:%M"), event.kind,
                                     event.message))
    return with_translation


def test_identifying_a_walk_in_writes_its_history_so_far_on_a_new_case(
        office_a, counter_factory, operator, clock, resident_a):
    biodata = counter_factory("C", number=5)
    biometric = counter_factory("B", number=2)
    walk_in(office_a, priority="elderly")
    clock.shift(timedelta(minutes=4))
    ticket_call_next(counter=biodata, by=operator)
    clock.shift(timedelta(minutes=1))
    ticket_start(counter=biodata, by=operator)
    clock.shift(timedelta(minutes=2))
    ticket = ticket_identify(counter=biodata, resident=resident_a, by=operator)
    clock.shift(timedelta(minutes=3))
    ticket_transfer(counter=biodata, to_lane=lanes_of(office_a)["B"], by=operator)
    clock.shift(timedelta(minutes=5))
    ticket_call_next(counter=biometric, by=operator)
    ticket_start(counter=biometric, by=operator)
    clock.shift(timedelta(minutes=10))
    ticket_finish(counter=biometric, by=operator, outcome="served")
    events = [(when, kind, message) for when, kind, message in timeline(ticket.application)
              if kind.startswith("queue.") or kind == "application.opened"]
    assert events == [
        ("08:00", "queue.issued", ("Nomor antrean C-001 diambil di kios untuk lajur C "
                                   "(Perubahan biodata). Prioritas: Lansia.")),
        ("08:04", "queue.called", ("Nomor C-001 dipanggil ke Loket 5, lajur C (Perubahan "
                                   "biodata). Alasan: Prioritas.")),
        ("08:05", "queue.started", "Pelayanan nomor C-001 dimulai di Loket 5."),
        ("08:07", "application.opened", ("Berkas 3275-2022-00001 dibuka untuk Perubahan tanda "
                                         "tangan atau foto KTP-el (Datang langsung).")),
        ("08:07", "queue.identified", "Pemegang nomor C-001 diidentifikasi di Loket 5."),
        ("08:10", "queue.transferred", ("Nomor C-001 dialihkan di Loket 5 dari lajur C "
                                        "(Perubahan biodata) ke lajur B (Cek biometrik); "
                                        "urutannya tetap menurut waktu nomor diambil.")),
        ("08:15", "queue.called", ("Nomor C-001 dipanggil ke Loket 2, lajur B (Cek "
                                   "biometrik). Alasan: Prioritas.")),
        ("08:15", "queue.started", "Pelayanan nomor C-001 dimulai di Loket 2."),
        ("08:25", "queue.finished", "Nomor C-001 selesai di Loket 2: Terlayani."),
    ]


def test_the_resident_is_told_when_called_and_when_three_are_ahead(
        office_a, counter_factory, operator, clock, resident_a):
    counter = counter_factory("C")
    for _n in range(5):
        walk_in(office_a)
    # Tickets of residents known from the start (bookings) are told; here we identify
    # C-005's holder through the case they are on.
    fifth = Ticket.objects.get(code="C-005")
    from registry.services.cases import application_open

    application = application_open(office=office_a, resident=resident_a,
                                   service=fifth.service, channel="app")
    Ticket.objects.filter(pk=fifth.pk).update(resident=resident_a, application=application)
    told = []
    for _n in range(5):
        ticket = ticket_call_next(counter=counter, by=operator)
        told.append(list(Notification.objects.filter(resident=resident_a).order_by("id")
                         .values_list("kind", "title")))
        ticket_no_show(counter=counter, by=operator, ticket_id=ticket.pk)
    assert told[0] == [("queue.nearly_turn", "Giliran Anda sudah dekat: C-005")]
    assert told[1] == told[0] == told[3]
    assert told[4] == [("queue.nearly_turn", "Giliran Anda sudah dekat: C-005"),
                       ("queue.called", "Nomor Anda C-005 dipanggil")]
    bodies = list(Notification.objects.filter(resident=resident_a).order_by("id")
                  .values_list("body", flat=True))
    assert bodies == [
        ("3 nomor lagi sebelum nomor Anda di lajur C (Perubahan biodata). Mohon tetap di "
         "ruang tunggu dan perhatikan layar antrean."),
        "Silakan menuju Loket 1 sekarang (lajur C, Perubahan biodata).",
    ]


def test_anonymous_tickets_notify_nobody(office_a, counter_factory, operator, clock):
    counter = counter_factory("C")
    ResidentFactory(domicile_office=office_a)
    for _n in range(5):
        walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    assert Notification.objects.count() == 0
