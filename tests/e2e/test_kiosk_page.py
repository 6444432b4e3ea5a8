"""The walk-in kiosk in a real headless Chromium, on a touch screen signed in as the
office's front-desk account: priority category, service, the ticket slip."""

import pytest

from queues.models import Ticket
from registry.models import Role
from tests.queues.conftest import walk_in

# Walk-in tickets are issued in office hours (tests/conftest.py: office_hours).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("office_hours")]

KIOSK = {"width": 1080, "height": 1920}


def sign_in(page, url, username, password, next_path):
    page.goto(f"{url}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def test_a_resident_takes_a_priority_number_at_the_kiosk(browser_page, office_a, office_b,
                                                         make_staff):
    make_staff(office_a, Role.FRONT_DESK, username="kios-kota", password="kios-pass-1")
    walk_in(office_a, "C")
    walk_in(office_b, "C")
    page, url = browser_page
    page.set_viewport_size(KIOSK)
    sign_in(page, url, "kios-kota", "kios-pass-1", "/queues/kiosk/")
    page.wait_for_selector("#walk-in")
    assert page.inner_text("h1") == "Ambil nomor antrean"
    assert page.inner_text("#lane-C h2").startswith("CPerubahan biodata")
    assert "1 menunggu" in page.inner_text("#lane-C h2")
    page.click("label:has(input[name=priority][value=elderly])")
    page.click("#lane-C button[value=KTP_HILANG]")
    page.wait_for_selector("#ticket-code")
    assert page.inner_text("#ticket-code") == "C-002"
    # A priority number goes ahead of the walk-in who came first.
    assert page.inner_text("#ahead") == "Anda berikutnya di jalur ini."
    assert "Prioritas: Lansia" in page.inner_text("#slip")
    ticket = Ticket.objects.get(office=office_a, code="C-002")
    assert (ticket.priority, ticket.service.code, ticket.band) == ("elderly", "KTP_HILANG", 0)

    # "Done" goes back to the kiosk, and a new number is the next of its lane.
    page.click("#again")
    page.wait_for_selector("#walk-in")
    page.click("#lane-C button[value=KTP_TTD_FOTO]")
    page.wait_for_selector("#ticket-code")
    assert page.inner_text("#ticket-code") == "C-003"
    assert page.inner_text("#ahead") == "2 nomor lagi sebelum Anda di jalur ini"
    assert Ticket.objects.filter(office=office_a).count() == 3
    assert Ticket.objects.filter(office=office_b).count() == 1
    # Nothing sticks out sideways on the kiosk's portrait screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= KIOSK["width"]


def test_a_resident_checks_in_with_the_booking_qr_at_the_kiosk(browser_page, office_a,
                                                               office_b, make_staff):
    """A QR scanner at the kiosk types what the QR holds and Enter into the focused
    booking-code field."""
    import time_machine

    from registry.appointments.models import BookingStatus
    from tests.queues.conftest import BOOKED_ON, at, book, service_of

    make_staff(office_a, Role.FRONT_DESK, username="kios-kota", password="kios-pass-1")
    with time_machine.travel(BOOKED_ON, tick=False):
        booking = book(service_of(office_a, "KTP_TTD_FOTO"), start="09:00")
        other = book(service_of(office_b, "KTP_TTD_FOTO"), start="09:00")
    with time_machine.travel(at(8, 40), tick=True):
        walk_in(office_a, "C")
        page, url = browser_page
        page.set_viewport_size(KIOSK)
        sign_in(page, url, "kios-kota", "kios-pass-1", "/queues/kiosk/")
        page.wait_for_selector("#kiosk-checkin")
        # Another office's booking: refused, said why, nothing issued.
        page.keyboard.type(other.code)
        page.keyboard.press("Enter")
        page.wait_for_selector(".messages li")
        assert other.code in page.inner_text(".messages li")
        assert Ticket.objects.filter(office=office_a).count() == 1
        # The scanner types the QR's text: the focus is back on the field.
        page.keyboard.type(f"EOPEN:{booking.code}")
        page.keyboard.press("Enter")
        page.wait_for_selector("#ticket-code")
        assert page.inner_text("#ticket-code") == "C-002"
        assert page.inner_text("#booking") == (
            f"Pemesanan {booking.code} sudah lapor hadir. Mulai pukul 09:00 Anda dipanggil "
            "lebih dulu daripada pemohon yang datang langsung.")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN
    ticket = Ticket.objects.get(office=office_a, code="C-002")
    assert (ticket.booking, ticket.resident, ticket.band) == (booking, booking.resident, 1)
