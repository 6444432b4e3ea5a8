from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from registry.middleware import OfficeTimezoneMiddleware
from registry.models import Role
from tests.factories import OfficeFactory


def test_staff_home_lists_the_users_offices_and_roles(client, make_staff, office_a, office_b):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    response = client.get(reverse("registry:staff-home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="office-3275"' in body
    assert 'id="office-3216"' not in body


def test_staff_home_needs_a_login(client, db):
    response = client.get(reverse("registry:staff-home"))
    assert response.status_code == 302


def test_staff_see_times_in_their_offices_zone(rf, make_staff, roles):
    jayapura = OfficeFactory(code="9471", timezone="Asia/Jayapura")
    seen = []
    middleware = OfficeTimezoneMiddleware(
        lambda request: seen.append(timezone.get_current_timezone_name()))
    request = rf.get("/admin/")
    request.user = make_staff(jayapura, Role.SUPERVISOR)
    middleware(request)
    request.user = AnonymousUser()
    middleware(request)
    assert seen == ["Asia/Jayapura", "Asia/Jakarta"]


def test_unknown_pages_answer_404_as_json_under_the_api(client, db):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Tidak ditemukan.", "code": "not_found"}
