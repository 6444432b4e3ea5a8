"""The lean booking path (issue 18): POST /api/v1/bookings/ in eleven statements with the
case number taken last, one task published, the office's catalogue from the worker's
copy, which a change by staff makes stale on every worker at once."""

import re
from datetime import date, timedelta

import pytest
from celery.app.task import Task
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from registry.api.auth import tokens_for_resident
from registry.appointments import catalogue
from registry.appointments.models import AppointmentSettings, Booking, Slot
from registry.models import Application, CaseEvent, Notification, Requirement, Service
from tests.appointments.conftest import docs_ok
from tests.factories import ResidentFactory

# Real transactions: BEGIN and COMMIT are counted, and the tasks are queued on commit.
pytestmark = pytest.mark.django_db(transaction=True)

WEDNESDAY = date(2026, 7, 1)
# Every statement of one booking, BEGIN and COMMIT included, on both databases: the
# resident of the token; BEGIN; the place taken (the slot's row and what the booking
# needs to know of the resident, in one UPDATE ... RETURNING); the case, the booking,
# its documents, the notification, its deliveries, the timeline entries (one INSERT
# for all three); the case number; COMMIT. PostgreSQL takes the number last (one
# statement that also writes it into the case and its "opened" entry); SQLite, one
# writer at a time anyway, takes it before the case is written.
STATEMENTS = 11


def _post(client, token, body):
    return client.post("/api/v1/bookings/", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="id")


def _body(slot, documents=None, service="KTP_HILANG"):
    documents = docs_ok() if documents is None else documents
    return {"office": "3275", "service": service, "slot": slot.pk,
            "documents": [{**doc, "issued_on": str(doc["issued_on"])} if "issued_on" in doc
                          else doc for doc in documents]}


def _token(office):
    return tokens_for_resident(ResidentFactory(domicile_office=office))["access"]


def test_a_booking_is_eleven_statements_with_the_case_number_last(
        office_a, lost_card, slot_on, mocker):
    slot = slot_on(lost_card, WEDNESDAY)
    client = Client()
    assert _post(client, _token(office_a), _body(slot)).status_code == 201  # warm copy
    resident = ResidentFactory(domicile_office=office_a, email="sari@example.id")
    token = tokens_for_resident(resident)["access"]
    published = mocker.patch.object(Task, "apply_async")

    with CaptureQueriesContext(connection) as queries:
        answer = _post(client, token, _body(slot))

    assert answer.status_code == 201, answer.content
    sql = [query["sql"] for query in queries]
    assert len(sql) == STATEMENTS, "\n".join(sql)
    assert (sql[1].split()[0], sql[-1]) == ("BEGIN", "COMMIT")  # SQLite: BEGIN IMMEDIATE
    assert sql[2].startswith("UPDATE appointments_slot SET booked = booked + 1")
    number_at = -2 if connection.vendor == "postgresql" else 3
    assert "registry_sequence" in sql[number_at]
    assert sum("registry_sequence" in text for text in sql) == 1
    # The rows, as before: the case numbered, its three entries in order, the place.
    body = answer.json()
    booking = Booking.objects.get(code=body["code"])
    application = Application.objects.get(pk=body["application"])
    assert re.fullmatch(r"3275-2026-\d{5}", application.number)
    assert list(CaseEvent.objects.filter(application=application)
                .values_list("kind", flat=True)) == [
        "application.opened", "booking.created", "notification.sent"]
    assert CaseEvent.objects.get(application=application,
                                 kind="application.opened").params["number"] == \
        application.number
    assert (booking.resident_id, booking.slot_id, booking.documents.count()) == \
        (resident.pk, slot.pk, 2)
    assert Slot.objects.get(pk=slot.pk).booked == 2
    # One task published for the booking's deliveries (WhatsApp and e-mail).
    deliveries = sorted(Notification.objects.get(application=application).deliveries
                        .values_list("id", flat=True))
    assert len(deliveries) == 2
    assert published.call_count == 1
    assert sorted(published.call_args.kwargs["args"][0]) == deliveries
    # The answer points at the QR; it does not carry the image.
    assert "qr" not in body
    assert body["qr_url"] == f"http://testserver/api/v1/bookings/{body['code']}/qr.svg"
    assert ([r["code"] for r in body["requirements"]], body["services"]) == (
        ["KK", "SURAT_KEHILANGAN"], ["KTP_HILANG"])
    assert [d["requirement"] for d in body["documents"]] == ["KK", "SURAT_KEHILANGAN"]


def test_a_change_by_staff_is_seen_by_the_next_booking_on_every_worker(
        office_a, lost_card, slot_on):
    slot = slot_on(lost_card, WEDNESDAY)
    client = Client()
    assert _post(client, _token(office_a), _body(slot)).status_code == 201
    # What another worker holds: copies made before any of the changes below. It is
    # put back after each change, as on a worker that did not make the change.
    other_worker = dict(catalogue._COPIES)
    assert other_worker

    def as_other_worker():
        catalogue._COPIES.update(other_worker)

    # A new requirement: the next booking without it is refused, and takes no place.
    Requirement.objects.create(office=office_a, service=lost_card, code="PAS_FOTO",
                               name="Pas foto 3x4", position=9)
    as_other_worker()
    refused = _post(client, _token(office_a), _body(slot))
    assert (refused.status_code, refused.json()["code"]) == (400, "requirements_not_met")
    assert [p["requirement"] for p in refused.json()["problems"]] == ["PAS_FOTO"]
    assert Slot.objects.get(pk=slot.pk).booked == 1
    # Removed again: not asked for any more.
    Requirement.objects.filter(service=lost_card, code="PAS_FOTO").get().delete()
    as_other_worker()
    assert _post(client, _token(office_a), _body(slot)).status_code == 201

    # The office's booking window: two days from Monday leaves Wednesday out.
    plan = AppointmentSettings.objects.get(office=office_a)
    window, plan.booking_window_days = plan.booking_window_days, 1
    plan.save()
    as_other_worker()
    late = _post(client, _token(office_a), _body(slot))
    assert (late.status_code, late.json()["code"]) == (400, "slot_not_bookable")
    plan.booking_window_days = window
    plan.save()

    # The service withdrawn from the catalogue.
    service = Service.objects.get(pk=lost_card.pk)
    service.is_active = False
    service.save()
    as_other_worker()
    gone = _post(client, _token(office_a), _body(slot))
    assert (gone.status_code, gone.json()["code"]) == (404, "service_not_found")
    assert Slot.objects.get(pk=slot.pk).booked == 2


def test_a_booking_refused_after_taking_its_place_gives_the_place_back(
        office_a, lost_card, slot_on):
    """The API's slot is read by the statement that takes its place: what is checked
    after (the slot's lane, the window, the requirements) rolls the place back."""
    slot = slot_on(lost_card, WEDNESDAY)
    other_lane = Slot.objects.filter(office=office_a, date=WEDNESDAY).exclude(
        lane=lost_card.lane).first()
    client = Client()
    wrong_lane = _post(client, _token(office_a), _body(other_lane))
    assert (wrong_lane.status_code, wrong_lane.json()["code"]) == (404, "slot_not_found")
    expired = _post(client, _token(office_a), _body(slot, docs_ok(
        issued_on=WEDNESDAY - timedelta(days=30))))
    assert (expired.status_code, expired.json()["code"]) == (400, "requirements_not_met")
    assert list(Slot.objects.filter(pk__in=[slot.pk, other_lane.pk])
                .values_list("booked", flat=True)) == [0, 0]
    assert Booking.objects.count() == Application.objects.count() == 0
