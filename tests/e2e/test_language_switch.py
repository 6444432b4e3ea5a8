"""The language switch in a real headless Chromium whose language is English: the pages
are Indonesian all the same until the operator clicks "English", which stays on the
next pages and in the admin until they click "Bahasa Indonesia"."""

import pytest

from queues.services.counters import counter_create
from registry.models import Lane, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_with_an_english_browser_chooses_english_and_back(browser_page, office_a,
                                                                      make_staff):
    make_staff(office_a, Role.COUNTER_OPERATOR, username="loket-kota", password="loket-pass-1")
    counter = counter_create(office=office_a, number=2,
                             lanes=list(Lane.objects.filter(office=office_a, letter="B")))
    page, url = browser_page
    page.set_extra_http_headers({"Accept-Language": "en-US,en;q=0.9"})
    page.goto(f"{url}/admin/login/?next=/staff/")
    assert page.get_attribute("input[type=submit]", "value") == "Masuk"
    page.fill("#id_username", "loket-kota")
    page.fill("#id_password", "loket-pass-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/staff/")
    assert page.inner_text("h1") == "Halaman petugas"
    assert page.get_attribute("html", "lang") == "id"
    assert page.inner_text(".language-switch") == "Bahasa Indonesia | English"

    # The switch posts (with the page's CSRF token) and comes back to the same page.
    with page.expect_navigation():
        page.click(".language-switch button[value=en]")
    assert page.url == f"{url}/staff/"
    assert page.inner_text("h1") == "Staff pages"
    assert page.get_attribute(".language-switch button[value=en]", "aria-pressed") == "true"

    # Kept on the next pages, the admin's too.
    page.goto(f"{url}/queues/counters/{counter.pk}/")
    assert "Display board" in page.inner_text("main")
    page.goto(f"{url}/admin/")
    assert page.text_content("#logout-form button").strip() == "Log out"

    # The admin has the switch too, beside the site's name.
    with page.expect_navigation():
        page.click("#branding .language-switch button[value=id]")
    assert page.url == f"{url}/admin/"
    assert page.text_content("#logout-form button").strip() == "Keluar"
    page.goto(f"{url}/staff/")
    assert page.inner_text("h1") == "Halaman petugas"
