"""The portal in a real browser: a staff member signs in to admin and sees their office;
the API docs page renders."""

import pytest

from registry.demo import DEMO_PASSWORD
from registry.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_sign_in_to_admin_and_see_their_office(browser_page, make_staff, office_a,
                                                     office_b):
    from django.contrib.auth import get_user_model

    user = make_staff(office_a, Role.SUPERVISOR, username="spv")
    user.set_password(DEMO_PASSWORD)
    user.save()
    page, url = browser_page
    page.goto(f"{url}/admin/")
    page.fill("#id_username", "spv")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#office-3275")
    assert "Disdukcapil Kota Bekasi" in page.inner_text("#site-name")
    assert page.locator("#office-3216").count() == 0
    assert get_user_model().objects.get(username="spv").last_login is not None


def test_the_api_docs_render(browser_page, office_a):
    page, url = browser_page
    page.goto(f"{url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".opblock").count() >= 10
