"""POST/GET /applications/{id}/handover/ and GET /deliveries/ over real HTTP."""

import pytest
from django.db import transaction

from registry.central.services.jobs import application_visit_completed, central_job_send
from registry.deliveries.models import Delivery, Handover
from registry.models import Role
from tests.factories import ApplicationFactory, assigned_delivery, card_stock_for, make_nik

pytestmark = pytest.mark.django_db(transaction=True)


def printed(application):
    card_stock_for(application.office)
    with transaction.atomic():
        application_visit_completed(application=application)
    for job in application.central_jobs.order_by("id"):
        central_job_send(job_id=job.id)
    return application


def test_the_resident_sees_the_options_and_chooses_home_delivery(application_a, as_resident):
    printed(application_a)
    client = as_resident(application_a.resident)
    url = f"/api/v1/applications/{application_a.id}/handover/"
    body = client.get(url).json()
    card = Handover.objects.get(application=application_a).card
    assert (body["method"], body["status"], body["receipt_code"], body["delivery"]) == (
        "pickup", "ready", card.receipt_code, None)
    assert [(o["method"], o["available"]) for o in body["options"]] == [
        ("pickup", True), ("proxy", True), ("delivery", True)]
    answer = client.post(url, json={"method": "delivery"})
    assert answer.status_code == 200
    assert answer.json()["method"] == "delivery"
    assert answer.json()["delivery"] == {"status": "waiting", "scheduled_for": None}
    listed = client.get("/api/v1/deliveries/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["status"] == "waiting"


def test_holder_in_person_is_refused_with_the_reason(office_a, resident_a, as_resident):
    # An office that requires the holder in person for a lost card's replacement (the
    # default catalogue delivers it).
    office_a.services.filter(code="KTP_HILANG").update(holder_in_person=True)
    application = printed(ApplicationFactory(
        office=office_a, resident=resident_a, service=office_a.services.get(code="KTP_HILANG")))
    client = as_resident(resident_a)
    url = f"/api/v1/applications/{application.id}/handover/"
    refused = client.post(url, json={"method": "delivery"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "holder_in_person"
    assert refused.json()["detail"].startswith("Layanan ini mewajibkan pemilik hadir sendiri")
    english = client.post(url, json={"method": "proxy", "proxy_name": "Siti",
                                     "proxy_nik": make_nik(female=True),
                                     "proxy_relation": "spouse"},
                          headers={"Accept-Language": "en"})
    assert english.json()["detail"].startswith("This service needs the holder in person")
    options = client.get(url).json()["options"]
    assert [(o["method"], o["available"], o["code"]) for o in options] == [
        ("pickup", True, ""), ("proxy", False, "holder_in_person"),
        ("delivery", False, "holder_in_person")]
    assert Handover.objects.get(application=application).method == "pickup"


def test_a_proxy_with_a_bad_nik_is_refused_and_nothing_changes(application_a, as_resident):
    printed(application_a)
    client = as_resident(application_a.resident)
    url = f"/api/v1/applications/{application_a.id}/handover/"
    refused = client.post(url, json={"method": "proxy", "proxy_name": "Siti",
                                     "proxy_nik": "123", "proxy_relation": "spouse"})
    assert (refused.status_code, refused.json()["code"]) == (400, "proxy_nik_invalid")
    bad_relation = client.post(url, json={"method": "proxy", "proxy_name": "Siti",
                                          "proxy_nik": make_nik(female=True),
                                          "proxy_relation": "tetangga"})
    assert bad_relation.status_code == 400
    assert Handover.objects.get(application=application_a).method == "pickup"


def test_no_hand_over_before_the_visit(application_a, as_resident):
    answer = as_resident(application_a.resident).post(
        f"/api/v1/applications/{application_a.id}/handover/", json={"method": "pickup"})
    assert (answer.status_code, answer.json()["code"]) == (409, "handover_not_yet")


def test_another_residents_or_offices_case_answers_404(application_a, application_b,
                                                        office_a, as_resident):
    printed(application_a)
    printed(application_b)
    neighbour = ApplicationFactory(office=office_a).resident
    for resident, application in ((neighbour, application_a),
                                  (application_a.resident, application_b)):
        client = as_resident(resident)
        url = f"/api/v1/applications/{application.id}/handover/"
        assert client.get(url).status_code == 404
        answer = client.post(url, json={"method": "pickup"})
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert Handover.objects.get(application=application_a).method == "pickup"


def test_deliveries_list_only_the_residents_own_with_bounded_queries(
        office_a, make_staff, as_resident, application_a, application_b, client,
        django_assert_max_num_queries):
    courier = make_staff(office_a, Role.COURIER)
    assigned_delivery(application_a, courier)
    other = ApplicationFactory(office=office_a)
    printed(other)
    from registry.deliveries.services.handovers import handover_choose

    handover_choose(application=other, method="delivery")
    from registry.api.auth import tokens_for_resident

    token = tokens_for_resident(application_a.resident)["access"]
    # In-process, so the queries are counted; the HTTP answer must be the same.
    with django_assert_max_num_queries(5):
        body = client.get("/api/v1/deliveries/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert as_resident(application_a.resident).get("/api/v1/deliveries/").json() == body
    assert [r["application"] for r in body["results"]] == [application_a.id]
    assert body["results"][0]["status"] == "assigned"
    assert body["results"][0]["office"] == "3275"
    assert as_resident(application_b.resident).get("/api/v1/deliveries/").json()[
        "count"] == 0
    assert Delivery.objects.count() == 2
