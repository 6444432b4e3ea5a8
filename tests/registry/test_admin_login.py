"""Staff sign in to admin with a password; django-axes locks a username and address
after repeated failures."""

import pytest
from django.urls import reverse

from registry.models import Role


def _login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("admin:login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.COURIER,)])
def test_each_admin_role_signs_in_and_sees_only_its_office(client, make_staff, office_a,
                                                           office_b, role):
    make_staff(office_a, role, username="u")
    response = _login(client, "u", "pass-for-tests-1")
    assert response.status_code == 302
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert [p["office"].code for p in index.context["office_panels"]] == ["3275"]


def test_couriers_do_not_use_admin(client, make_staff, office_a):
    make_staff(office_a, Role.COURIER, username="kurir")
    response = _login(client, "kurir", "pass-for-tests-1")
    assert response.status_code == 200  # the login form again
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_username_from_that_address(client, make_staff, office_a,
                                                               settings):
    make_staff(office_a, Role.FRONT_DESK, username="desk")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "desk", "wrong").status_code == 200
    assert _login(client, "desk", "wrong").status_code == 429  # the fifth failure locks
    locked = _login(client, "desk", "pass-for-tests-1")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # The same username from another counter's address is not locked.
    assert _login(client, "desk", "pass-for-tests-1", address="10.0.0.2").status_code == 302
