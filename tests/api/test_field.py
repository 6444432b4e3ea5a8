"""The field team's API over real HTTP: today's route, deliver with proof, fail."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from PIL import Image

from registry.api.auth import tokens_for_staff
from registry.calendar import office_next_working_day
from registry.deliveries import selectors
from registry.deliveries.models import Delivery, DeliveryAttempt
from registry.models import Role
from tests.factories import ApplicationFactory, assigned_delivery

pytestmark = pytest.mark.django_db(transaction=True)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 90, 160)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def route(office_a, make_staff):
    courier = make_staff(office_a, Role.COURIER, username="kurir-joko")
    deliveries = [assigned_delivery(ApplicationFactory(office=office_a), courier)
                  for _i in range(2)]
    return courier, deliveries


def form(delivery, **change):
    return {"recipient_name": "Siti Rahmawati", "recipient_relation": "spouse",
            "receipt_code": delivery.handover.card.receipt_code, "latitude": "-6.2381",
            "longitude": "107.0102", **change}


def test_the_courier_gets_the_days_route_with_masked_codes(route, as_staff, client,
                                                           django_assert_max_num_queries):
    courier, deliveries = route
    day = deliveries[0].scheduled_for.isoformat()
    body = as_staff(courier).get(f"/api/v1/field/deliveries/?date={day}").json()
    assert [r["id"] for r in body["results"]] == [
        d.id for d in sorted(deliveries, key=lambda d: d.route_position)]
    first = body["results"][0]
    assert first["receipt_code"] == "****-**" + Delivery.objects.get(
        pk=first["id"]).handover.card.receipt_code[-2:]
    assert first["status"] == "assigned"
    assert set(first) >= {"id", "address", "resident_name", "receipt_code", "status"}
    token = tokens_for_staff(courier)["access"]
    # The route in a fixed number of queries whatever its length, with its access-log row
    # (registry.services.access_log: one statement on PostgreSQL; on SQLite two INSERTs
    # in a savepoint).
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 11):
        in_process = client.get(f"/api/v1/field/deliveries/?date={day}",
                                HTTP_AUTHORIZATION=f"Bearer {token}")
    assert in_process.json() == body
    assert as_staff(courier).get("/api/v1/field/deliveries/?date=2022-13-45").status_code == 400


def test_others_see_nothing_of_the_route(route, as_staff, as_resident, make_staff, office_a,
                                         office_b):
    _courier, deliveries = route
    day = deliveries[0].scheduled_for.isoformat()
    colleague = make_staff(office_a, Role.COURIER, username="kurir-lain")
    elsewhere = make_staff(office_b, Role.COURIER, username="kurir-kab")
    for other in (colleague, elsewhere):
        client = as_staff(other)
        assert client.get(f"/api/v1/field/deliveries/?date={day}").json()["count"] == 0
        answer = client.post(f"/api/v1/field/deliveries/{deliveries[0].id}/deliver/",
                             data=form(deliveries[0]), files={"photo": ("p.jpg", jpeg())})
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
        failed = client.post(f"/api/v1/field/deliveries/{deliveries[0].id}/fail/",
                             json={"reason": "nobody_home"})
        assert failed.status_code == 404
    resident = as_resident(deliveries[0].application.resident)
    assert resident.get("/api/v1/field/deliveries/").status_code == 403
    supervisor = as_staff(make_staff(office_a, Role.SUPERVISOR))
    assert supervisor.get("/api/v1/field/deliveries/").status_code == 403
    assert Delivery.objects.filter(status="assigned").count() == 2
    assert DeliveryAttempt.objects.count() == 0


def test_a_wrong_receipt_code_is_refused_and_nothing_changes(route, as_staff):
    courier, deliveries = route
    delivery = deliveries[0]
    answer = as_staff(courier).post(
        f"/api/v1/field/deliveries/{delivery.id}/deliver/",
        data=form(delivery, receipt_code="AAAA-AAAA"), files={"photo": ("p.jpg", jpeg())})
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Kode tanda terima salah.",
                             "code": "receipt_code_wrong"}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.recipient_name, delivery.delivered_at) == (
        "assigned", "", None)
    assert DeliveryAttempt.objects.count() == 0


def test_delivered_with_photo_and_place_then_the_photo_is_for_office_staff_only(
        route, as_staff, make_staff, office_a, office_b, http):
    courier, deliveries = route
    delivery = deliveries[0]
    answer = as_staff(courier).post(
        f"/api/v1/field/deliveries/{delivery.id}/deliver/", data=form(delivery),
        files={"photo": ("bukti.jpg", jpeg(), "image/jpeg")})
    assert answer.status_code == 200
    assert answer.json()["status"] == "delivered"
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.recipient_name, attempt.recipient_relation, str(attempt.latitude)) == (
        "Siti Rahmawati", "spouse", "-6.238100")
    photo_url = f"/deliveries/photos/{attempt.id}/"
    make_staff(office_a, Role.SUPERVISOR, username="spv-kota", password="pw-kota-123")
    make_staff(office_b, Role.SUPERVISOR, username="spv-kab", password="pw-kab-123")
    import requests

    def session_for(username, password):
        session = requests.Session()
        login = session.get(f"{http.base_url}/deliveries/login/")
        token = login.cookies["csrftoken"]
        session.post(f"{http.base_url}/deliveries/login/",
                     data={"username": username, "password": password,
                           "csrfmiddlewaretoken": token},
                     headers={"Referer": f"{http.base_url}/deliveries/login/"})
        return session

    mine = session_for("spv-kota", "pw-kota-123").get(f"{http.base_url}{photo_url}")
    assert (mine.status_code, mine.headers["Content-Type"], mine.content[:2]) == (
        200, "image/jpeg", b"\xff\xd8")
    theirs = session_for("spv-kab", "pw-kab-123").get(f"{http.base_url}{photo_url}")
    assert theirs.status_code == 404
    anonymous = requests.get(f"{http.base_url}{photo_url}", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 302


def test_a_photo_that_is_not_an_image_is_refused(route, as_staff):
    courier, deliveries = route
    delivery = deliveries[0]
    answer = as_staff(courier).post(
        f"/api/v1/field/deliveries/{delivery.id}/deliver/", data=form(delivery),
        files={"photo": ("bukti.jpg", b"#!/bin/sh\necho not a photo\n", "image/jpeg")})
    assert (answer.status_code, answer.json()["code"]) == (400, "photo_type")
    assert Delivery.objects.get(pk=delivery.pk).status == "assigned"


def test_a_failure_goes_again_on_the_next_working_day(route, as_staff):
    courier, deliveries = route
    delivery = deliveries[1]
    answer = as_staff(courier).post(f"/api/v1/field/deliveries/{delivery.id}/fail/",
                                    json={"reason": "nobody_home", "note": "Pagar terkunci"})
    assert answer.status_code == 200
    scheduled = delivery.scheduled_for
    delivery.refresh_from_db()
    assert (delivery.status, delivery.failed_attempts, delivery.courier_id) == (
        "waiting", 1, None)
    assert delivery.not_before == office_next_working_day(delivery.office, scheduled)
    bad = as_staff(courier).post(f"/api/v1/field/deliveries/{deliveries[0].id}/fail/",
                                 json={"reason": "hujan"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_choice")


WIB = ZoneInfo("Asia/Jakarta")
MONDAY = datetime(2022, 7, 4, 8, 0, tzinfo=WIB)


@pytest.fixture
def monday_route(office_a, make_staff):
    """Two deliveries on the courier's route of Monday, with the clock on that Monday."""
    with time_machine.travel(MONDAY, tick=True) as traveller:
        courier = make_staff(office_a, Role.COURIER, username="kurir-senin")
        deliveries = [assigned_delivery(ApplicationFactory(office=office_a), courier)
                      for _i in range(2)]
        yield courier, deliveries, traveller


def phones(client, day) -> dict[int, str]:
    body = client.get(f"/api/v1/field/deliveries/?date={day}").json()
    return {row["id"]: row["resident_phone"] for row in body["results"]}


def masked(phone: str) -> str:
    return phone[:6] + "*****" + phone[-3:]


def test_the_courier_sees_full_phones_only_on_todays_open_deliveries(monday_route, as_staff):
    courier, (first, second), traveller = monday_route
    full = {d.id: d.application.resident.phone for d in (first, second)}
    assert all(len(phone) == 14 for phone in full.values())
    client = as_staff(courier)
    assert phones(client, "2022-07-04") == full
    answer = client.post(f"/api/v1/field/deliveries/{first.id}/deliver/", data=form(first),
                         files={"photo": ("bukti.jpg", jpeg(), "image/jpeg")})
    assert (answer.status_code, answer.json()["resident_phone"]) == (
        200, masked(full[first.id]))
    # Delivered is closed: masked; the other stop is still the courier's today.
    assert phones(client, "2022-07-04") == {first.id: masked(full[first.id]),
                                            second.id: full[second.id]}
    # The next morning yesterday's route shows no full number, even the stop still open.
    traveller.move_to(datetime(2022, 7, 5, 8, 0, tzinfo=WIB))
    client = as_staff(courier)
    assert phones(client, "2022-07-04") == {first.id: masked(full[first.id]),
                                            second.id: masked(full[second.id])}


def test_only_the_assigned_courier_may_see_a_full_phone(monday_route, make_staff, office_a,
                                                        office_b):
    courier, (delivery, _second), _traveller = monday_route
    delivery = Delivery.objects.select_related("office").get(pk=delivery.pk)
    colleague = make_staff(office_a, Role.COURIER, username="kurir-lain")
    elsewhere = make_staff(office_b, Role.COURIER, username="kurir-kab")
    assert selectors.delivery_phone_visible(delivery=delivery, courier=courier) is True
    assert selectors.delivery_phone_visible(delivery=delivery, courier=colleague) is False
    assert selectors.delivery_phone_visible(delivery=delivery, courier=elsewhere) is False
    delivery.status = "cancelled"
    assert selectors.delivery_phone_visible(delivery=delivery, courier=courier) is False


def test_the_schema_says_the_phone_may_be_masked():
    with translation.override("en"):
        spec = SchemaGenerator().get_schema(request=None, public=True)
    phone = spec["components"]["schemas"]["FieldDelivery"]["properties"]["resident_phone"]
    assert phone["type"] == "string"
    assert phone["description"].startswith(
        "In full only on a delivery assigned to you for today, until it is closed; "
        "otherwise masked")
