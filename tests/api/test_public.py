"""Public endpoints: offices and their services, over real HTTP."""

from datetime import date

import pytest

from registry.calendar import office_today
from registry.services.offices import closure_add

pytestmark = pytest.mark.django_db(transaction=True)


def test_offices_are_listed_with_contacts(http, office_a, office_b):
    office_a.instagram = "@disdukcapilkotabekasi"
    office_a.save()
    response = http.get("/api/v1/offices/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [o["code"] for o in body["results"]] == ["3216", "3275"]
    kota = body["results"][1]
    assert kota["timezone"] == "Asia/Jakarta"
    assert kota["contacts"]["instagram"] == "@disdukcapilkotabekasi"
    assert set(kota["contacts"]) == {"website", "instagram", "facebook", "x", "youtube",
                                     "email", "whatsapp"}


def test_office_detail_has_hours_link_status_and_closures(http, office_a):
    today = office_today(office_a)
    closure_day = date.fromordinal(today.toordinal() + 3)
    closure_add(office=office_a, day=closure_day, reason="Rapat kerja")
    response = http.get("/api/v1/offices/3275/")
    assert response.status_code == 200
    body = response.json()
    assert body["opening_hours"][0] == {"weekday": 0, "day": "Senin", "opens": "08:00",
                                        "closes": "15:00"}
    assert len(body["opening_hours"]) == 5
    assert body["link_status"] == "up"
    assert body["notice"] is None
    assert {"date": closure_day.isoformat(), "reason": "Rapat kerja"} in body[
        "upcoming_closures"]


def test_unknown_office_is_404_in_the_contract_shape(http, office_a):
    response = http.get("/api/v1/offices/9999/")
    assert response.status_code == 404
    assert response.json()["code"] == "office_not_found"


def test_services_carry_lane_steps_and_requirements(http, office_a, office_b):
    response = http.get("/api/v1/offices/3275/services/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    lost = next(s for s in body["results"] if s["code"] == "KTP_HILANG")
    assert lost["lane"] == "C"
    assert lost["home_delivery"] is True
    assert lost["holder_in_person"] is False
    assert [r["code"] for r in lost["requirements"]] == ["KK", "SURAT_KEHILANGAN"]
    assert lost["requirements"][1]["valid_days"] == 14
    assert lost["requirements"][0]["valid_days"] is None
    assert lost["steps"][0] == "Verifikasi berkas dan surat kehilangan di loket"


def test_errors_are_in_english_on_request(http, office_a):
    response = http.get("/api/v1/offices/9999/", headers={"Accept-Language": "en"})
    assert response.json()["detail"] == "No office has region code 9999."


def test_schema_and_docs_are_served(http, office_a):
    schema = http.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/offices/", "/api/v1/auth/otp/", "/api/v1/applications/{id}/"):
        assert path in paths
    docs = http.get("/api/docs/", headers={"Accept": "text/html"})
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
