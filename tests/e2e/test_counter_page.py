"""The counter workstation in a real headless Chromium: an operator calls, calls again,
starts, identifies the resident, finishes with an outcome, marks a no-show, calls a
number out of order with a reason (and the board shows it), transfers, pauses."""

import pytest

from queues.models import Counter, Ticket
from queues.services.counters import counter_create
from registry.models import Application, Role
from tests.queues.conftest import lanes_of, walk_in

# Walk-in tickets are issued in office hours (tests/conftest.py: office_hours).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("office_hours")]


def act(page, button):
    page.click(button)
    page.wait_for_selector(".messages li")
    return page.inner_text(".messages li")


def test_an_operator_works_a_morning_at_loket_2(browser_page, office_a, office_b, make_staff,
                                                resident_a):
    make_staff(office_a, Role.COUNTER_OPERATOR, username="petugas2", password="loket-pass-1")
    lanes = lanes_of(office_a)
    counter_create(office=office_a, number=1, lanes=[lanes["A"]])
    loket2 = counter_create(office=office_a, number=2, lanes=[lanes["B"], lanes["A"]])
    counter_create(office=office_b, number=2, lanes=lanes_of(office_b).values())
    for lane in "BBBA":
        walk_in(office_a, lane)

    page, url = browser_page
    page.goto(f"{url}/admin/login/?next=/queues/counters/")
    page.fill("#id_username", "petugas2")
    page.fill("#id_password", "loket-pass-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#counter-2")
    assert page.locator("tbody tr").count() == 2  # Loket 1 and 2 of this office only
    page.click("#counter-2 a")
    page.wait_for_selector("#btn-call-next")
    assert page.locator("#waiting-B li").all_inner_texts()[0].startswith("B-001")

    assert act(page, "#btn-call-next") == "B-001 dipanggil."
    assert page.inner_text("#current-code") == "B-001"
    assert page.inner_text("#current-reason") == "Nomor berikutnya"
    assert act(page, "#btn-recall") == "B-001 dipanggil ulang."
    assert act(page, "#btn-start") == "Melayani B-001."
    page.fill("#nik", resident_a.nik)
    assert act(page, "#btn-identify").startswith("Nomor B-001: Budi Santoso, permohonan")
    page.select_option("#outcome", "served")
    assert act(page, "#btn-finish") == "B-001 selesai: Terlayani."
    ticket = Ticket.objects.select_related("application").get(office=office_a, code="B-001")
    assert (ticket.outcome, ticket.application.resident, ticket.application.status) == (
        "served", resident_a, "in_progress")

    assert act(page, "#btn-call-next") == "B-002 dipanggil."
    assert act(page, "#btn-no-show") == "B-002 dicatat tidak hadir."

    # B-002 comes back: called out of order, with the reason, shown on the board.
    b002 = Ticket.objects.get(office=office_a, code="B-002")
    page.select_option("#call-ticket", str(b002.pk))
    assert act(page, "#btn-call") == "Pilih alasan nomor ini dipanggil di luar urutan."
    page.select_option("#call-ticket", str(b002.pk))
    page.select_option("#call-reason", "missed_call")
    assert act(page, "#btn-call") == "B-002 dipanggil di luar urutan."
    board = page.context.new_page()
    board.goto(f"{url}/queues/board/3275/")
    board.wait_for_selector("#recent-calls li")
    assert board.inner_text("#recent-calls li:first-child .line") == (
        "B-002 ke Loket 2 - Cek biometrik")
    assert board.inner_text("#recent-calls li:first-child .why").startswith(
        "(Di luar urutan: Terlewat dipanggil, sudah kembali, ")
    assert board.inner_text("#lane-B .serving li .why") == (
        "Di luar urutan: Terlewat dipanggil, sudah kembali")
    board.close()

    # The resident needs lane C instead: transferred, keeping the issue time.
    act(page, "#btn-start")
    page.click("#transfer summary")
    page.select_option("#transfer-lane", "C")
    page.fill("#transfer-note", "Perlu perubahan biodata")
    assert act(page, "#btn-transfer") == "B-002 dialihkan ke jalur C."
    b002.refresh_from_db()
    assert (b002.lane.letter, b002.status, b002.transferred_from.letter) == ("C", "waiting", "B")

    page.click("#pause summary")
    page.select_option("#pause-reason", "break")
    assert act(page, "#btn-pause") == "Loket 2 dijeda."
    assert page.inner_text("#counter-state") == "Jeda (Istirahat)"
    assert act(page, "#btn-open") == "Loket 2 dibuka."
    assert act(page, "#btn-call-next") == "B-003 dipanggil."
    assert Counter.objects.get(pk=loket2.pk).state == "calling"
    assert Application.objects.filter(office=office_b).count() == 0
