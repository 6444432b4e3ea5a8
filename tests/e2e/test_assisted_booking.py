"""Assisted booking in a real headless Chromium: the front desk registers a resident who
has no phone, picks the service and a time, is stopped by an expired police report,
corrects its date, books, and prints the one-page slip. Monday 29 June 2026, 09:00 WIB."""

import re
from datetime import date

import pytest

from registry.appointments.models import Booking
from registry.models import Resident, Role
from tests.appointments.conftest import clock  # noqa: F401 - the fixture, used by name
from tests.factories import make_nik

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADDRESS = "Jl. Ir. H. Juanda No. 100, Margahayu, Bekasi Timur, Kota Bekasi 17113"


def sign_in(page, url, username, password, next_path):
    page.goto(f"{url}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def test_the_front_desk_books_for_a_resident_without_a_phone_and_prints_the_slip(
        browser_page, clock, office_a, office_b, make_staff):  # noqa: F811
    office_a.address = ADDRESS
    office_a.save(update_fields=["address"])
    make_staff(office_a, Role.FRONT_DESK, username="desk-kota", password="desk-pass-1")
    nik = make_nik(regency="3275", born=date(1958, 2, 3), serial=77)
    page, url = browser_page
    sign_in(page, url, "desk-kota", "desk-pass-1", "/appointments/assisted/")
    page.wait_for_selector("#find-form")

    # An unknown NIK: the resident is registered on the spot, without a phone.
    page.fill("#id_nik", nik)
    page.click("#find-form button[type=submit]")
    page.wait_for_selector("#register-form")
    assert page.input_value("#id_nik") == nik
    page.fill("#id_name", "Sutrisno")
    page.fill("#id_birth_date", "1958-02-03")
    page.fill("#id_address", "Jl. Mawar No. 21")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#services")
    assert page.inner_text("#resident-name") == "Sutrisno"
    assert nik not in page.content()
    resident = Resident.objects.get(nik=nik)
    assert resident.phone == ""

    # The service, the documents and a time on Wednesday; the police report is too old.
    page.click("#services a[data-code=KTP_HILANG]")
    page.wait_for_selector("#book-form")
    page.check("#doc-KK input[type=checkbox]")
    page.check("#doc-SURAT_KEHILANGAN input[type=checkbox]")
    page.fill("#doc-SURAT_KEHILANGAN input[type=date]", "2026-06-10")
    wednesday_eight = "input[name=slot][data-date='2026-07-01'][data-start='08:00']"
    page.check(wednesday_eight)
    page.click("#book")
    page.wait_for_selector("#problems")
    problems = page.inner_text("#problems")
    assert "Surat keterangan kehilangan dari Kepolisian sudah kedaluwarsa pada 23 Juni 2026" \
        in problems
    assert "Minta di Polsek atau Polres terdekat" in problems
    assert not Booking.objects.exists()
    # What was entered is kept: only the date needs correcting.
    assert page.is_checked(wednesday_eight)
    assert page.is_checked("#doc-KK input[type=checkbox]")
    page.fill("#doc-SURAT_KEHILANGAN input[type=date]", "2026-06-25")
    page.click("#book")

    # The slip: code, QR, date, time, lane, requirements and the office's address.
    page.wait_for_selector("#slip")
    booking = Booking.objects.get()
    assert (booking.resident, booking.channel, booking.created_by.username) == \
        (resident, "assisted", "desk-kota")
    assert page.inner_text("#booking-code") == booking.code
    assert page.inner_text("#when") == "Rabu, 1 Juli 2026, 08:00-08:30"
    assert page.inner_text("#lane") == "C - Perubahan biodata"
    requirements = page.inner_text("#requirements")
    assert "Kartu Keluarga (KK) asli" in requirements
    assert "Surat keterangan kehilangan dari Kepolisian" in requirements
    assert ADDRESS in page.inner_text("#office-address")
    assert page.evaluate("document.getElementById('qr').naturalWidth") > 0

    # Printed, it is one A5 page without the page's header and buttons.
    page.emulate_media(media="print")
    assert not page.is_visible("header.top")
    assert not page.is_visible("#print")
    pdf = page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
