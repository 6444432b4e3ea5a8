"""The courier's page on a phone screen, in a real headless Chromium: sign in, see the
day's route, record a hand-over with the receipt code, a photo and the location, and a
failed delivery."""

import io

import pytest
from PIL import Image

from registry.deliveries.models import Delivery, DeliveryAttempt
from registry.models import Role
from tests.factories import ApplicationFactory, assigned_delivery

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (180, 60, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_courier_works_the_route_on_a_phone(browser_page, office_a, office_b, make_staff):
    courier = make_staff(office_a, Role.COURIER, username="kurir", password="kurir-pass-1")
    first = assigned_delivery(ApplicationFactory(office=office_a), courier)
    second = assigned_delivery(ApplicationFactory(office=office_a), courier,
                               day=first.scheduled_for)
    other_office = assigned_delivery(
        ApplicationFactory(office=office_b),
        make_staff(office_b, Role.COURIER, username="kurir-kab"))
    day = first.scheduled_for.isoformat()

    page, url = browser_page
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=url)
    page.context.set_geolocation({"latitude": -6.2381, "longitude": 107.0102})
    page.goto(f"{url}/deliveries/?date={day}")
    page.fill("#id_username", "kurir")
    page.fill("#id_password", "kurir-pass-1")
    page.click("main button[type=submit]")  # not the language switch above
    page.goto(f"{url}/deliveries/?date={day}")
    page.wait_for_selector(f"#stop-{first.id}")
    assert page.locator("section.stop").count() == 2
    assert page.locator(f"#stop-{other_office.id}").count() == 0
    page.wait_for_function("document.querySelector('input.lat').value !== ''")
    # Made for the phone: nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    stop = page.locator(f"#stop-{first.id}")
    stop.locator("details.deliver summary").click()
    stop.locator("input[name=recipient_name]").fill("Siti Rahmawati")
    stop.locator("select[name=recipient_relation]").select_option("spouse")
    stop.locator("input[name=receipt_code]").fill("SALAH-123")
    stop.locator("input[name=photo]").set_input_files(
        {"name": "bukti.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    stop.locator("form.deliver-form button[type=submit]").click()
    page.wait_for_selector(".messages li.error")
    assert page.inner_text(".messages li.error") == "Kode tanda terima salah."
    assert Delivery.objects.get(pk=first.pk).status == "assigned"

    stop = page.locator(f"#stop-{first.id}")
    stop.locator("details.deliver summary").click()
    stop.locator("input[name=recipient_name]").fill("Siti Rahmawati")
    stop.locator("select[name=recipient_relation]").select_option("spouse")
    stop.locator("input[name=receipt_code]").fill(first.handover.card.receipt_code)
    stop.locator("input[name=photo]").set_input_files(
        {"name": "bukti.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    page.wait_for_function("document.querySelector('input.lat').value !== ''")
    stop.locator("form.deliver-form button[type=submit]").click()
    page.wait_for_selector(".messages li.success")
    assert page.inner_text(".messages li.success") == "Sudah diantar. Terima kasih."
    assert page.locator(f"#stop-{first.id}.delivered").count() == 1

    stop = page.locator(f"#stop-{second.id}")
    stop.locator("details.fail summary").click()
    stop.locator("select[name=reason]").select_option("nobody_home")
    stop.locator("input[name=note]").fill("Pagar terkunci")
    stop.locator("form.fail-form button[type=submit]").click()
    page.wait_for_selector(".messages li.success")
    assert page.inner_text(".messages li.success") == (
        "Tercatat. Kartu diantar lagi pada hari kerja berikutnya.")
    assert page.locator(f"#stop-{second.id}").count() == 0  # off today's route

    delivered = DeliveryAttempt.objects.get(delivery=first)
    assert (delivered.recipient_name, delivered.recipient_relation,
            str(delivered.latitude), str(delivered.longitude)) == (
        "Siti Rahmawati", "spouse", "-6.238100", "107.010200")
    failed = DeliveryAttempt.objects.get(delivery=second)
    assert (failed.outcome, failed.reason, failed.note) == ("failed", "nobody_home",
                                                            "Pagar terkunci")
