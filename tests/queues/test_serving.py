"""The counter turns a booked signature change into lost card + signature change without
a new ticket, and records a document found not valid (queues.services.serving and the
counter page's actions). Monday 29 June 2026 (tests/queues/conftest.py)."""

import pytest
import time_machine
from django.urls import reverse

from queues.models import Ticket
from queues.services.calling import ticket_call_next, ticket_start
from queues.services.issuing import ticket_check_in
from registry.models import CaseEvent, Role
from registry.service_sets import service_set_of
from tests.language import choose_language
from tests.queues.conftest import BOOKED_ON, at, book, walk_in

pytestmark = pytest.mark.django_db
LOST_AND_TTD = ["KTP_HILANG", "KTP_TTD_FOTO"]


@pytest.fixture
def serving(client, office_a, office_b, counter_factory, operator, ktp_photo):
    """08:10: the booked signature change checked in, called and being served at a
    lane C counter; the operator signed in."""
    with time_machine.travel(BOOKED_ON, tick=False) as clock:
        booking = book(ktp_photo, start="08:00")
        clock.move_to(at(8, 10))
        counter = counter_factory("C")
        ticket = ticket_check_in(office=office_a, booking_code=booking.code)
        ticket_call_next(counter=counter, by=operator)
        ticket_start(counter=counter, by=operator)
        client.force_login(operator)
        yield counter, ticket, booking


def act(client, counter, action, **data):
    return client.post(reverse("queues:counter-action", args=[counter.pk, action]), data,
                       follow=True)


def change(issued="2026-06-26", services=LOST_AND_TTD, **extra):
    return {"services": services, "doc_KK": "has", "doc_KTP_LAMA": "lost",
            "doc_SURAT_KEHILANGAN": "has", "issued_SURAT_KEHILANGAN": issued, **extra}


def state(ticket, booking):
    ticket.refresh_from_db()
    booking.refresh_from_db()
    return (ticket.service.code, booking.service.code, service_set_of(booking.application).codes)


def test_the_counter_changes_the_services_and_the_ticket_stays(client, serving, operator):
    counter, ticket, booking = serving
    choose_language(client, "en")
    page = client.get(reverse("queues:counter", args=[counter.pk]))
    assert 'id="change-services"' in page.content.decode()
    done = act(client, counter, "change-services", ticket=ticket.pk, **change())
    assert [str(m) for m in done.context["messages"]] == [
        (f"Ticket {ticket.code} is now for KTP-el hilang + Perubahan tanda tangan atau foto "
         "KTP-el.")]
    assert state(ticket, booking) == ("KTP_HILANG", "KTP_HILANG", LOST_AND_TTD)
    # The counter shows every service of the visit.
    page = client.get(reverse("queues:counter", args=[counter.pk]))
    assert ('id="current-services">KTP-el hilang + Perubahan tanda tangan atau foto KTP-el'
            in page.content.decode())
    assert (Ticket.objects.count(), ticket.code, ticket.status) == (1, "C-001", "serving")
    event = CaseEvent.objects.get(kind="booking.services_changed")
    assert (event.params["where"], event.actor) == ("counter", operator)


def test_an_expired_police_letter_at_the_counter_changes_nothing(client, serving):
    counter, ticket, booking = serving
    choose_language(client, "en")
    before = state(ticket, booking)
    refused = act(client, counter, "change-services", ticket=ticket.pk,
                  **change(issued="2026-06-01"))
    messages = [str(m) for m in refused.context["messages"]]
    assert messages[0] == "Some requirements are not met; see the problems."
    assert "Surat keterangan kehilangan dari Kepolisian expired on" in messages[1]
    assert state(ticket, booking) == before
    assert not CaseEvent.objects.filter(kind="booking.services_changed").exists()


def test_the_counter_records_a_document_found_not_valid(client, serving, operator):
    counter, ticket, booking = serving
    done = act(client, counter, "requirement-invalid", ticket=ticket.pk,
               requirement="SURAT_KEHILANGAN", reason="expired police letter")
    assert done.status_code == 200
    event = CaseEvent.objects.get(kind="queue.requirement_invalid")
    assert (event.application, event.actor, event.params["requirement"],
            event.params["document"], event.params["reason"], event.params["code"]) == (
        booking.application, operator, "SURAT_KEHILANGAN",
        "Surat keterangan kehilangan dari Kepolisian", "expired police letter", "C-001")


@pytest.mark.parametrize(("action", "data"), [
    ("requirement-invalid", {"requirement": "NOPE", "reason": "x"}),
    ("requirement-invalid", {"requirement": "SURAT_KEHILANGAN", "reason": ""}),
    ("change-services", change(services=[])),
    ("change-services", change(services=["NOPE"])),
    ("change-services", change(services=["KTP_BARU"])),
    ("change-services", change(issued="2026-13-45")),
    ("change-services", change(ticket="abc")),
])
def test_bad_input_changes_nothing_and_never_500(client, serving, action, data):
    counter, ticket, booking = serving
    before = state(ticket, booking)
    response = act(client, counter, action, **{"ticket": ticket.pk, **data})
    assert response.status_code in (200, 404)
    assert state(ticket, booking) == before
    assert not CaseEvent.objects.filter(kind__in=["booking.services_changed",
                                                  "queue.requirement_invalid"]).exists()


def test_a_walk_in_ticket_is_refused_a_services_change(client, office_a, counter_factory,
                                                       operator):
    with time_machine.travel(at(9, 0), tick=False):
        counter = counter_factory("C")
        walk_in(office_a, "C")
        ticket = ticket_call_next(counter=counter, by=operator)
        client.force_login(operator)
        choose_language(client, "en")
        refused = act(client, counter, "change-services", ticket=ticket.pk, **change())
    assert [str(m) for m in refused.context["messages"]] == [
        (f"Ticket {ticket.code} has no booking: take the resident's services as a new "
         "walk-in ticket.")]


def test_another_offices_operator_gets_404_and_other_roles_403(client, serving, operator_b,
                                                               make_staff, office_a):
    counter, ticket, booking = serving
    before = state(ticket, booking)
    client.force_login(operator_b)
    for action in ("change-services", "requirement-invalid"):
        response = client.post(reverse("queues:counter-action", args=[counter.pk, action]),
                               {"ticket": ticket.pk, "requirement": "SURAT_KEHILANGAN",
                                "reason": "x", **change()})
        assert response.status_code == 404
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    assert client.post(reverse("queues:counter-action", args=[counter.pk, "change-services"]),
                       change()).status_code == 403
    assert state(ticket, booking) == before
    assert not CaseEvent.objects.filter(kind="queue.requirement_invalid").exists()


def test_indonesian_by_default_english_by_choice(client, serving):
    counter, _ticket, _booking = serving
    url = reverse("queues:counter", args=[counter.pk])
    assert client.get(url)["Content-Language"] == "id"
    assert client.get(url)["Content-Language"] == "id"
    choose_language(client, "en")
    assert client.get(url)["Content-Language"] == "en"
