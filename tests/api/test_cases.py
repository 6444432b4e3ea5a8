"""The resident's own case files and inbox: another resident's or office's answer 404."""

import pytest
from django.utils import translation

from registry.models import ApplicationStatus, Notification
from registry.services.cases import application_set_status
from registry.services.notifications import notification_send

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_sees_their_case_files_with_the_timeline(as_resident, application_a,
                                                            application_b):
    application_set_status(application=application_a,
                           status=ApplicationStatus.IN_PROGRESS)
    client = as_resident(application_a.resident)
    response = client.get("/api/v1/applications/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    case = body["results"][0]
    assert (case["id"], case["status"], case["office"]) == (application_a.id, "in_progress",
                                                            "3275")
    assert [e["kind"] for e in case["timeline"]] == ["application.opened", "application.status"]
    assert case["timeline"][0]["at"].endswith("+07:00")  # the office's zone, WIB


def test_another_residents_case_answers_404(as_resident, application_a, application_b):
    client = as_resident(application_a.resident)
    response = client.get(f"/api/v1/applications/{application_b.id}/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code"}
    assert client.get(f"/api/v1/applications/{application_a.id}/").status_code == 200


def test_the_timeline_reads_in_english_on_request(as_resident, application_a):
    client = as_resident(application_a.resident)
    response = client.get(f"/api/v1/applications/{application_a.id}/",
                          headers={"Accept-Language": "en"})
    with translation.override("en"):
        expected = application_a.events.get().message
    assert response.json()["timeline"][0]["message"] == expected
    assert expected.startswith("Case ")


def test_the_inbox_holds_only_the_residents_own_notifications(as_resident, application_a,
                                                             application_b):
    for application in (application_a, application_b):
        notification_send(office=application.office, resident=application.resident,
                          kind="test", title="Halo", body="Pesan untuk %(name)s",
                          params={"name": application.resident.name},
                          application=application)
    client = as_resident(application_a.resident)
    response = client.get("/api/v1/notifications/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(n["title"], n["body"], n["read"]) for n in results] == [
        ("Halo", "Pesan untuk Budi Santoso", False)]
    mine = results[0]["id"]
    theirs = Notification.objects.get(resident=application_b.resident).id
    response = client.post("/api/v1/notifications/read/", {"ids": [mine, theirs]})
    assert response.json() == {"marked": 1}
    assert Notification.objects.get(id=theirs).read_at is None


def test_list_endpoints_do_not_query_per_row(client, application_a,
                                             django_assert_max_num_queries):
    from registry.api.auth import tokens_for_resident
    from tests.factories import ApplicationFactory

    for _ in range(5):
        ApplicationFactory(office=application_a.office, resident=application_a.resident)
    token = tokens_for_resident(application_a.resident)["access"]
    # Auth, count, page, prefetch of events; in-process, so they are counted on this
    # connection (over HTTP they would be the live server's, and nothing counted).
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["count"] == 6
