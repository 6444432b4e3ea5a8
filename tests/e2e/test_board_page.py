"""The public display board in a real headless Chromium: one column per lane, who is
called to which counter and why, the recent calls in Indonesian saying their lane, the
central-link notice; updated within 2 seconds of a call, without reloading."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from queues.models import Ticket
from queues.services.calling import ticket_call, ticket_call_next, ticket_no_show
from queues.services.counters import counter_create
from registry.central.services.link import central_outage_declare
from registry.models import Role
from tests.queues.conftest import lanes_of, walk_in

# Walk-in tickets are issued in office hours (tests/conftest.py: office_hours).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("office_hours")]


def test_the_board_explains_each_call_and_updates_without_reloading(browser_page, office_a,
                                                                    make_staff):
    operator = make_staff(office_a, Role.COUNTER_OPERATOR)
    lanes = lanes_of(office_a)
    loket2 = counter_create(office=office_a, number=2, lanes=[lanes["B"]])
    loket5 = counter_create(office=office_a, number=5, lanes=[lanes["C"]])
    # Thirteen numbers of lane B went before: B-014 is next.
    for _n in range(13):
        walk_in(office_a, "B")
        ticket_call_next(counter=loket2, by=operator)
        ticket_no_show(counter=loket2, by=operator)
    walk_in(office_a, "B")
    walk_in(office_a, "C", priority="elderly")
    walk_in(office_a, "C")

    page, url = browser_page
    page.goto(f"{url}/queues/board/3275/")
    page.wait_for_selector("#lane-C")
    assert page.locator("section.lane h2").all_inner_texts() == [
        "ALayanan KK dan umum", "BCek biometrik", "CPerubahan biodata"]
    assert page.locator("#lane-B .next .num").all_inner_texts() == ["B-014"]
    assert page.locator("#lane-C .next .num").all_inner_texts() == ["C-001", "C-002"]
    page.evaluate("window.__loaded = performance.timeOrigin")

    started = time.monotonic()
    ticket_call_next(counter=loket2, by=operator)
    page.wait_for_function(
        "document.querySelector('#recent-calls li .line')?.textContent === "
        "'B-014 ke Loket 2 - Cek biometrik'", timeout=5000)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"the board took {elapsed:.2f} s to show the call"
    assert page.inner_text("#lane-B .serving li") == "B-014\nNomor berikutnya\nLoket 2"

    ticket_call_next(counter=loket5, by=operator)
    page.wait_for_function("document.querySelector('#lane-C .serving li .code')?.textContent"
                           " === 'C-001'", timeout=5000)
    assert page.inner_text("#lane-C .serving li .why") == "Prioritas: Lansia"
    assert page.locator("#recent-calls li .line").all_inner_texts() == [
        "C-001 ke Loket 5 - Perubahan biodata", "B-014 ke Loket 2 - Cek biometrik",
        "B-013 ke Loket 2 - Cek biometrik", "B-012 ke Loket 2 - Cek biometrik",
        "B-011 ke Loket 2 - Cek biometrik", "B-010 ke Loket 2 - Cek biometrik",
        "B-009 ke Loket 2 - Cek biometrik", "B-008 ke Loket 2 - Cek biometrik"]
    assert "Prioritas: Lansia" in page.inner_text("#recent-calls li:first-child .why")
    assert page.inner_text("#lane-C .waiting-figures").startswith("1 menunggu")

    # An operator calls out of order: the board says so, and why.
    ticket_no_show(counter=loket5, by=operator)
    ticket_call(counter=loket5, ticket_id=Ticket.objects.get(
        office=office_a, code="C-001").pk, reason="missed_call", by=operator)
    page.wait_for_function("document.querySelector('#recent-calls li.ooo .why')", timeout=5000)
    assert page.inner_text("#recent-calls li.ooo .why").startswith(
        "(Di luar urutan: Terlewat dipanggil, sudah kembali")

    # The central link goes down: the notice is shown without reloading.
    assert page.locator("#notice.shown").count() == 0
    central_outage_declare(office=office_a, cause="Kabel putus",
                           message="Pencetakan KTP-el tertunda sampai jaringan pulih.",
                           expected_back=timezone.now() + timedelta(hours=4))
    page.wait_for_selector("#notice.shown", timeout=5000)
    assert "Sambungan ke server pusat (Kemendagri) terputus" in page.inner_text("#notice")
    assert "Pencetakan KTP-el tertunda sampai jaringan pulih." in page.inner_text("#notice")
    # It never reloaded.
    assert page.evaluate("window.__loaded") is not None


def test_the_board_shows_each_offices_own_queue(browser_page, office_a, office_b):
    walk_in(office_a, "C")
    walk_in(office_b, "A")
    page, url = browser_page
    page.goto(f"{url}/queues/board/3216/")
    page.wait_for_selector("#lane-A")
    assert page.locator("#lane-A .next .num").all_inner_texts() == ["A-001"]
    assert page.inner_text("#lane-C .next") == "-"
    assert page.inner_text("header h1") == "Disdukcapil Kabupaten Bekasi"
