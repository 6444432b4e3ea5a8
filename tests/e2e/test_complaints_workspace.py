"""A public-relations officer handles a complaint in admin, in a real headless Chromium:
log the Instagram post, see the duplicate caught, link it to the resident's case by
NIK, assemble and publish the chronology, answer with a template, and print the
statement."""

import pytest

from complaints.models import Complaint
from registry.models import Role
from tests.factories import ApplicationFactory, ResidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_handles_an_instagram_post_in_the_browser(browser_page, office_a,
                                                              make_staff):
    make_staff(office_a, Role.PUBLIC_RELATIONS, username="humas", password="humas-pass-1")
    budi = ResidentFactory(domicile_office=office_a, name="Budi Santoso")
    application = ApplicationFactory(office=office_a, resident=budi)
    page, url = browser_page
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", "humas")
    page.fill("#id_password", "humas-pass-1")
    page.click("input[type=submit]")

    def log_post():
        page.goto(f"{url}/admin/complaints/complaint/add/")
        page.select_option("#id_office", str(office_a.pk))
        page.select_option("#id_channel", "instagram")
        page.fill("#id_link", "https://www.instagram.com/p/CfBudi/?igshid=x")
        page.fill("#id_handle", "@budi.santoso85")
        page.fill("#id_text", "Orang tanpa nomor dipanggil duluan!")
        page.select_option("#id_category", "queue_fairness")
        page.click("input[name=_save]")

    log_post()
    page.wait_for_selector("#result_list")
    complaint = Complaint.objects.get()
    log_post()
    page.wait_for_selector(".errornote, .errorlist")
    assert f"Unggahan ini sudah dicatat sebagai {complaint.reference}." in page.content()
    assert Complaint.objects.count() == 1

    page.goto(f"{url}/admin/complaints/complaint/{complaint.pk}/change/")
    handling = page.locator("#handling form").first
    handling.locator("select[name=method]").select_option("nik")
    handling.locator("input[name=value]").fill(budi.nik)
    handling.locator("input[type=submit]").click()
    page.wait_for_selector(".messagelist .success")
    assert application.number in page.inner_text("#complaint")

    page.click("#chronology input[type=submit]")
    page.wait_for_selector("#chronology textarea[name=point]")
    first = page.locator("#chronology textarea[name=point]").first
    assert first.input_value().startswith("Pada ")
    page.click("#chronology form:has(input[value=publish]) input[type=submit]")
    page.wait_for_selector("#chronology ol li")

    page.select_option("#responses select[name=template]", label="Keadilan antrean: "
                                                               "Urutan antrean")
    assert "Yth. Budi Santoso" in page.input_value("#responses textarea[name=text]")
    page.click("#responses button[value=respond]")
    page.wait_for_selector("#responses table tr")
    complaint.refresh_from_db()
    assert complaint.status == "responded"

    page.goto(f"{url}/complaints/{complaint.pk}/statement/")
    assert page.inner_text("h2") == f"Pernyataan resmi atas pengaduan {complaint.reference}"
    assert page.locator("#chronology li").count() >= 2
    assert budi.nik not in page.content()
