"""The kiosk, the counter workstation and the board pages: who may open them, and what
their forms do. (Browser tests in tests/e2e drive them in Chromium.)"""

import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from queues import selectors
from queues.models import Counter, Ticket
from queues.services.calling import ticket_call_next
from queues.services.counters import counter_create
from queues.services.issuing import ticket_identify
from registry.models import ActivationCode, Resident, Role
from registry.notify.backends import SimulatedGateway
from tests.factories import ResidentFactory, make_nik
from tests.language import choose_language
from tests.queues.conftest import (
    BOOKED_ON,
    TUESDAY,
    at,
    book,
    lanes_of,
    service_of,
    walk_in,
)


@pytest.fixture
def kota_counter(office_a):
    lanes = lanes_of(office_a)
    return counter_create(office=office_a, number=2, lanes=[lanes["B"], lanes["A"]])


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_the_kiosk_issues_a_ticket_and_shows_it(client, office_a, office_b, make_staff):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    page = client.get(reverse("queues:kiosk"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="KTP_BARU"' in body
    assert "Cek biometrik" in body
    key = page.context["issue_key"]
    response = client.post(reverse("queues:kiosk"), {"service": "KTP_BARU",
                                                     "priority": "pregnant", "issue_key": key})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("queues:kiosk-ticket", args=[ticket.pk])
    assert (ticket.office, ticket.code, ticket.priority) == (office_a, "B-001", "pregnant")
    again = client.post(reverse("queues:kiosk"), {"service": "KTP_BARU", "priority": "pregnant",
                                                  "issue_key": key})
    assert again["Location"] == response["Location"]
    assert Ticket.objects.count() == 1
    slip = client.get(response["Location"])
    assert slip.status_code == 200
    assert slip.context["ahead"] == 0
    assert "B-001" in slip.content.decode()


def test_the_slip_prints_a_wide_estimate_as_a_range(client, office_a, make_staff):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    counter_create(office=office_a, number=1, lanes=[lanes_of(office_a)["C"]])
    tickets = [walk_in(office_a) for _n in range(5)]
    first = client.get(reverse("queues:kiosk-ticket", args=[tickets[0].pk]))
    assert (first.context["minutes"], first.context["minutes_range"]) == (0, None)
    assert re.search(r'id="estimate">[^<]* 0 ', first.content.decode())
    last = client.get(reverse("queues:kiosk-ticket", args=[tickets[-1].pk]))
    shown = selectors.wait_range_shown(
        selectors.queue_estimates(selectors.queue_state(office=office_a)), tickets[-1].pk)
    assert shown is not None
    assert last.context["minutes_range"] == shown
    estimate = re.search(r'id="estimate">([^<]*)<', last.content.decode()).group(1)
    assert f" {shown['low']}-{shown['high']} " in estimate


def test_the_kiosk_refuses_another_offices_service_and_ticket(client, office_a, office_b,
                                                              make_staff):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    other = walk_in(office_b)
    assert client.get(reverse("queues:kiosk-ticket", args=[other.pk])).status_code == 404
    response = client.post(reverse("queues:kiosk"), {"service": "NOPE", "office": "3216"},
                           follow=True)
    assert messages_of(response) == ["Pilih layanan."]
    assert Ticket.objects.filter(office=office_a).count() == 0


@pytest.mark.parametrize("role", [Role.COUNTER_OPERATOR, Role.COURIER, Role.PUBLIC_RELATIONS])
def test_the_kiosk_is_for_the_front_desk(client, office_a, make_staff, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(reverse("queues:kiosk")).status_code == 403


def test_pages_need_a_login(client, office_a, kota_counter):
    for url in (reverse("queues:kiosk"), reverse("queues:check-in"), reverse("queues:counters"),
                reverse("queues:counter", args=[kota_counter.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_an_operator_works_at_a_counter_of_their_office(client, office_a, office_b,
                                                        make_staff, kota_counter):
    operator = make_staff(office_a, Role.COUNTER_OPERATOR)
    client.force_login(operator)
    listing = client.get(reverse("queues:counters"))
    assert [c.name for c in listing.context["counters"]] == ["Loket 2"]
    walk_in(office_a, "A")
    walk_in(office_a, "B")
    page = client.get(reverse("queues:counter", args=[kota_counter.pk]))
    assert [(c["lane"].letter, [t.code for t in c["tickets"]]) for c in
            page.context["lane_columns"]] == [("B", ["B-001"]), ("A", ["A-001"])]
    action = reverse("queues:counter-action", args=[kota_counter.pk, "call-next"])
    response = client.post(action, follow=True)
    assert messages_of(response) == ["B-001 dipanggil."]
    current = response.context["current"]
    assert (current.code, current.status) == ("B-001", "called")
    response = client.post(reverse("queues:counter-action", args=[kota_counter.pk, "start"]),
                           {"ticket": current.pk}, follow=True)
    assert messages_of(response) == ["Melayani B-001."]
    response = client.post(reverse("queues:counter-action", args=[kota_counter.pk, "finish"]),
                           {"ticket": current.pk, "outcome": "served"}, follow=True)
    assert messages_of(response) == [
        ("Identifikasi pemohon (NIK) sebelum menyelesaikan nomor B-001, agar kunjungan ini "
        "tercatat di berkas permohonannya.")]
    nik = make_nik(regency="3275")
    response = client.post(reverse("queues:counter-action", args=[kota_counter.pk, "identify"]),
                           {"ticket": current.pk, "nik": nik}, follow=True)
    assert messages_of(response) == [
        "NIK ini belum terdaftar: isi juga nama dan tanggal lahir dari KTP atau KK."]
    response = client.post(reverse("queues:counter-action", args=[kota_counter.pk, "identify"]),
                           {"ticket": current.pk, "nik": nik, "name": "Sri Wahyuni",
                            "birth_date": "1990-05-17"}, follow=True)
    ticket = Ticket.objects.select_related("application", "resident").get(pk=current.pk)
    assert messages_of(response) == [
        f"Nomor B-001: Sri Wahyuni, permohonan {ticket.application.number}."]
    response = client.post(reverse("queues:counter-action", args=[kota_counter.pk, "finish"]),
                           {"ticket": current.pk, "outcome": "served"}, follow=True)
    assert messages_of(response) == ["B-001 selesai: Terlayani."]
    assert ticket.resident.nik == nik


def test_counter_actions_of_another_office_answer_404(client, office_a, office_b, make_staff,
                                                      kota_counter):
    client.force_login(make_staff(office_b, Role.COUNTER_OPERATOR))
    walk_in(office_a, "B")
    assert client.get(reverse("queues:counter", args=[kota_counter.pk])).status_code == 404
    response = client.post(reverse("queues:counter-action", args=[kota_counter.pk,
                                                                  "call-next"]))
    assert response.status_code == 404
    assert Ticket.objects.get().status == "waiting"


def test_the_front_desk_does_not_work_counters(client, office_a, make_staff, kota_counter):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    assert client.get(reverse("queues:counters")).status_code == 403
    assert client.post(reverse("queues:counter-action",
                               args=[kota_counter.pk, "call-next"])).status_code == 403


def test_an_unknown_action_is_404(client, office_a, make_staff, kota_counter):
    client.force_login(make_staff(office_a, Role.COUNTER_OPERATOR))
    url = reverse("queues:counter-action", args=[kota_counter.pk, "explode"])
    assert client.post(url).status_code == 404
    assert client.get(reverse("queues:counter-action",
                              args=[kota_counter.pk, "call-next"])).status_code == 405


def test_out_of_order_and_transfer_through_the_page(client, office_a, make_staff, kota_counter):
    client.force_login(make_staff(office_a, Role.COUNTER_OPERATOR))
    walk_in(office_a, "B")
    second = walk_in(office_a, "B")
    url = reverse("queues:counter-action", args=[kota_counter.pk, "call"])
    response = client.post(url, {"ticket": second.pk}, follow=True)
    assert messages_of(response) == ["Pilih alasan nomor ini dipanggil di luar urutan."]
    response = client.post(url, {"ticket": second.pk, "reason": "family"}, follow=True)
    assert messages_of(response) == ["B-002 dipanggil di luar urutan."]
    response = client.post(reverse("queues:counter-action", args=[kota_counter.pk, "transfer"]),
                           {"ticket": second.pk, "lane": "C", "note": "Ubah biodata"},
                           follow=True)
    assert messages_of(response) == ["B-002 dialihkan ke jalur C."]
    assert Ticket.objects.get(pk=second.pk).lane.letter == "C"


def test_pause_and_resume_through_the_page(client, office_a, make_staff, kota_counter):
    client.force_login(make_staff(office_a, Role.COUNTER_OPERATOR))
    for action, expected, state in (("open", "Loket 2 dibuka.", "idle"),
                                    ("pause", "Loket 2 dijeda.", "paused"),
                                    ("open", "Loket 2 dibuka.", "idle"),
                                    ("close", "Loket 2 ditutup.", "closed")):
        response = client.post(reverse("queues:counter-action", args=[kota_counter.pk, action]),
                               {"reason": "break", "note": "Istirahat siang"}, follow=True)
        assert messages_of(response) == [expected]
        assert Counter.objects.get(pk=kota_counter.pk).state == state


def test_the_board_page_is_public(client, office_a, kota_counter):
    walk_in(office_a, "B")
    response = client.get(reverse("queues:board", args=["3275"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Disdukcapil Kota Bekasi" in body
    assert '"next": ["B-001"]' in body
    assert 'data-api="/api/v1/offices/3275/board/"' in body
    assert client.get(reverse("queues:board", args=["9999"])).status_code == 404


def test_staff_links_by_role(client, office_a, make_staff):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    body = client.get(reverse("registry:staff-home")).content.decode()
    assert "/queues/kiosk/?office=3275" in body
    assert "/queues/check-in/?office=3275" in body
    assert "/queues/counters/" not in body
    assert "/queues/board/3275/" in body


# --- Booking check-in ---------------------------------------------------------------


@pytest.fixture
def booked(office_a, office_b, ktp_photo):
    """Monday 08:10: a booking of office_a at 08:00, one of office_b, one for Tuesday."""
    with time_machine.travel(BOOKED_ON, tick=False) as clock:
        bookings = {"today": book(ktp_photo, start="08:00"),
                    "tuesday": book(ktp_photo, day=TUESDAY),
                    "other": book(service_of(office_b, "KTP_TTD_FOTO"))}
        clock.move_to(at(8, 10))
        yield bookings


def test_the_front_desk_checks_a_booking_in_by_its_code(client, office_a, make_staff,
                                                        booked):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    page = client.get(reverse("queues:check-in"))
    assert page.status_code == 200
    assert [b.code for b in page.context["bookings"]] == [booked["today"].code]
    assert f'id="booking-{booked["today"].code}"' in page.content.decode()
    response = client.post(reverse("queues:check-in"),
                           {"code": f"eopen:{booked['today'].code.lower()}"})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (reverse("queues:kiosk-ticket", args=[ticket.pk])
                                    + "?back=check-in")
    assert (ticket.code, ticket.booking) == ("C-001", booked["today"])
    slip = client.get(response["Location"]).content.decode()
    assert f"Pemesanan {booked['today'].code} sudah lapor hadir." in slip
    assert 'href="/queues/check-in/?office=3275"' in slip
    listed = client.get(reverse("queues:check-in")).content.decode()
    assert ">C-001</a> (Menunggu)" in listed
    # The same code again: the same ticket.
    again = client.post(reverse("queues:check-in"), {"code": booked["today"].code})
    assert again["Location"] == response["Location"]
    assert Ticket.objects.count() == 1


def test_check_in_refusals_show_why_and_change_nothing(client, office_a, make_staff, booked):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    other = client.post(reverse("queues:check-in"), {"code": booked["other"].code})
    assert other.status_code == 404
    assert [booked["other"].code in m for m in messages_of(other)] == [True]
    tuesday = client.post(reverse("queues:check-in"), {"code": booked["tuesday"].code})
    assert tuesday.status_code == 400
    assert booked["tuesday"].code in messages_of(tuesday)[0]
    empty = client.post(reverse("queues:check-in"), {"code": ""})
    assert empty.status_code == 400
    assert messages_of(empty) == ["Ketik kode pemesanan atau pindai kode QR-nya."]
    assert not Ticket.objects.exists()
    for booking in booked.values():
        booking.refresh_from_db()
        assert booking.status == "booked"


def test_the_kiosk_checks_a_booking_in(client, office_a, make_staff, booked):
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    kiosk = client.get(reverse("queues:kiosk")).content.decode()
    assert 'id="kiosk-checkin"' in kiosk
    response = client.post(reverse("queues:check-in"),
                           {"code": booked["today"].code, "from_kiosk": "1"})
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("queues:kiosk-ticket", args=[ticket.pk])
    refused = client.post(reverse("queues:check-in"),
                          {"code": booked["other"].code, "from_kiosk": "1"})
    assert refused.status_code == 404
    assert 'id="kiosk-checkin"' in refused.content.decode()
    assert [booked["other"].code in m for m in messages_of(refused)] == [True]
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("role", [Role.COUNTER_OPERATOR, Role.COURIER])
def test_check_in_is_for_the_front_desk(client, office_a, make_staff, booked, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(reverse("queues:check-in")).status_code == 403
    assert client.post(reverse("queues:check-in"),
                       {"code": booked["today"].code}).status_code == 403
    assert not Ticket.objects.exists()


# --- The desk's identity work (issue 12) ----------------------------------------------

CODE_RE = re.compile(r'id="activation-code-value"[^>]*>([A-Z0-9]{4}-[A-Z0-9]{4})<')
SIM = "registry.notify.backends.SimulatedGateway"


def printed_code(response) -> str | None:
    found = CODE_RE.search(response.content.decode())
    return found.group(1) if found else None


@pytest.fixture
def sms(settings):
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "sms": SIM}
    return lambda: SimulatedGateway.sent("sms")


def test_the_check_in_ticket_carries_an_activation_code_once_without_a_bound_phone(
        client, office_a, make_staff, booked):
    resident = booked["today"].resident
    Resident.objects.filter(pk=resident.pk).update(phone_bound_at=None)
    frontdesk = make_staff(office_a, Role.FRONT_DESK)
    client.force_login(frontdesk)
    choose_language(client, "en")
    response = client.post(reverse("queues:check-in"), {"code": booked["today"].code})
    issued = ActivationCode.objects.get()
    assert (issued.resident, issued.office, issued.created_by) == (resident, office_a,
                                                                   frontdesk)
    ticket = client.get(response["Location"])
    assert messages_of(ticket) == [
        ("An activation code is on the ticket, shown this once; codes printed before no "
         "longer work.")]
    code = printed_code(ticket)
    assert code is not None
    assert code.replace("-", "") not in issued.code_hash
    assert ticket["Cache-Control"] == "private, no-store"
    assert "location.href" not in ticket.content.decode()  # no return to the kiosk
    again = client.get(response["Location"])
    assert printed_code(again) is None
    assert 'id="new-activation-code"' in again.content.decode()
    renew = client.post(reverse("queues:kiosk-ticket-activation", args=[ticket.context[
        "ticket"].pk]))
    assert renew["Location"] == response["Location"]
    renewed = client.get(renew["Location"])
    assert messages_of(renewed) == [
        "A new activation code is on the ticket; codes printed before no longer work."]
    assert printed_code(renewed) not in (None, code)
    assert ActivationCode.objects.filter(expires_at__gt=timezone.now()).count() == 1
    # Staff of another office: 404, and no code.
    client.force_login(make_staff(office_b_of(booked), Role.FRONT_DESK))
    assert client.post(reverse("queues:kiosk-ticket-activation",
                               args=[ticket.context["ticket"].pk])).status_code == 404
    assert ActivationCode.objects.count() == 2


def office_b_of(booked):
    return booked["other"].office


def test_no_activation_code_at_the_kiosk_nor_for_a_bound_phone(client, office_a, make_staff,
                                                               booked):
    Resident.objects.filter(pk=booked["today"].resident_id).update(phone_bound_at=None)
    client.force_login(make_staff(office_a, Role.FRONT_DESK))
    # The unattended kiosk: nobody has seen the resident.
    response = client.post(reverse("queues:check-in"),
                           {"code": booked["today"].code, "from_kiosk": "1"})
    page = client.get(response["Location"]).content.decode()
    assert 'id="activation-code"' not in page
    assert 'id="activation-missing"' not in page
    assert not ActivationCode.objects.exists()
    # A bound phone: no code at the desk either.
    Resident.objects.filter(pk=booked["today"].resident_id).update(
        phone_bound_at=timezone.now())
    desk_ticket = client.get(response["Location"] + "?back=check-in").content.decode()
    assert 'id="activation-missing"' not in desk_ticket
    assert client.post(reverse("queues:check-in"), {"code": booked["today"].code}
                       ).status_code == 302
    assert not ActivationCode.objects.exists()


def test_check_in_shows_the_not_verified_mark_until_the_ktp_is_checked(
        client, office_a, make_staff, booked):
    resident = booked["today"].resident
    assert resident.identity_verified_at is None  # as a self-registered resident
    frontdesk = make_staff(office_a, Role.FRONT_DESK)
    client.force_login(frontdesk)
    choose_language(client, "en")
    page = client.get(reverse("queues:check-in")).content.decode()
    mark = f'id="unverified-{booked["today"].code}"'
    assert mark in page
    assert "Not verified: check the KTP-el" in page
    # Another office's front desk: 404, and the mark stays.
    client.force_login(make_staff(office_b_of(booked), Role.FRONT_DESK))
    verify = reverse("queues:check-in-verify", args=[resident.pk])
    assert client.post(verify, {"office": "3216"}).status_code == 404
    resident.refresh_from_db()
    assert resident.identity_verified_at is None
    client.force_login(frontdesk)
    done = client.post(verify, {"office": "3275"})
    assert done["Location"] == "/queues/check-in/?office=3275"
    resident.refresh_from_db()
    assert resident.identity_verified_by == frontdesk
    assert resident.identity_verified_at == timezone.now()
    page = client.get(reverse("queues:check-in"))
    assert messages_of(page) == [f"{resident.name}: KTP-el checked."]
    assert mark not in page.content.decode()


@pytest.fixture
def at_counter(client, office_a, make_staff, kota_counter):
    """An operator of office_a with an existing, not verified resident identified at
    Loket 2: (operator, ticket, resident)."""
    with time_machine.travel(at(9, 0), tick=False):
        operator = make_staff(office_a, Role.COUNTER_OPERATOR)
        resident = ResidentFactory(domicile_office=office_a, phone="", phone_bound_at=None)
        walk_in(office_a, "B")
        ticket_call_next(counter=kota_counter, by=operator)
        ticket = ticket_identify(counter=kota_counter, resident=resident,
                                 by=operator)
        client.force_login(operator)
        yield operator, ticket, resident


def counter_post(client, counter, action, **data):
    return client.post(reverse("queues:counter-action", args=[counter.pk, action]), data,
                       follow=True)


def test_the_counter_checks_the_ktp_and_binds_a_phone_by_the_code_sent_to_it(
        client, kota_counter, at_counter, sms):
    _operator, ticket, resident = at_counter
    choose_language(client, "en")
    page = client.get(reverse("queues:counter", args=[kota_counter.pk])).content.decode()
    assert 'id="unverified"' in page
    assert "Not verified: check the KTP-el" in page
    assert "No phone bound: the resident cannot sign in to the app yet." in page
    # Not before the KTP-el is checked.
    refused = counter_post(client, kota_counter, "bind-phone", ticket=ticket.pk,
                           phone="0812 7777 0101")
    assert messages_of(refused) == ["Check the resident's KTP-el first, then bind the phone."]
    assert sms() == []
    checked = counter_post(client, kota_counter, "verify-identity", ticket=ticket.pk)
    assert messages_of(checked) == [f"{resident.name}: KTP-el checked."]
    assert 'id="unverified"' not in checked.content.decode()

    sent = counter_post(client, kota_counter, "bind-phone", ticket=ticket.pk,
                        phone="0812 7777 0101")
    assert messages_of(sent) == [
        "A code was sent to +62812*****101. Ask the resident to read it to you."]
    assert 'id="btn-bind-phone-confirm"' in sent.content.decode()
    [message] = sms()
    assert message["address"] == "+6281277770101"
    code = re.search(r"\b(\d{6})\b", message["body"]).group(1)
    wrong = counter_post(client, kota_counter, "bind-phone-confirm", ticket=ticket.pk,
                         code=f"{(int(code) + 1) % 10**6:06d}")
    assert messages_of(wrong) == ["The code is wrong."]
    resident.refresh_from_db()
    assert (resident.phone, resident.phone_bound_at) == ("", None)
    bound = counter_post(client, kota_counter, "bind-phone-confirm", ticket=ticket.pk,
                         code=code)
    assert messages_of(bound) == [f"{resident.name}'s phone is bound."]
    resident.refresh_from_db()
    assert (resident.phone, resident.phone_bound_at, resident.token_generation) == (
        "+6281277770101", timezone.now(), 0)
    assert "Phone bound: +62812*****101" in bound.content.decode()


def test_the_counter_receipt_carries_an_activation_code_once(client, kota_counter,
                                                             at_counter):
    operator, ticket, resident = at_counter
    choose_language(client, "en")
    page = client.get(reverse("queues:counter", args=[kota_counter.pk])).content.decode()
    receipt_url = reverse("queues:counter-receipt", args=[kota_counter.pk, ticket.pk])
    assert f'action="{receipt_url}"' in page
    made = client.post(receipt_url)
    assert made["Location"] == receipt_url
    issued = ActivationCode.objects.get()
    assert (issued.resident, issued.created_by) == (resident, operator)
    receipt = client.get(receipt_url)
    code = printed_code(receipt)
    assert code is not None
    assert ticket.application.number in receipt.content.decode()
    assert messages_of(receipt) == [
        ("An activation code is on the receipt, shown this once; codes printed before no "
         "longer work.")]
    again = client.get(receipt_url)
    assert printed_code(again) is None
    assert 'id="activation-missing"' in again.content.decode()
    # A bound phone: the receipt has no code.
    Resident.objects.filter(pk=resident.pk).update(phone_bound_at=timezone.now(),
                                                   phone="+6281277770102")
    client.post(receipt_url)
    assert printed_code(client.get(receipt_url)) is None
    assert ActivationCode.objects.count() == 1


def test_another_offices_operator_gets_404_on_the_desk_actions(client, office_b, make_staff,
                                                              kota_counter, at_counter, sms):
    _operator, ticket, resident = at_counter
    client.force_login(make_staff(office_b, Role.COUNTER_OPERATOR))
    receipt_url = reverse("queues:counter-receipt", args=[kota_counter.pk, ticket.pk])
    assert client.get(receipt_url).status_code == 404
    assert client.post(receipt_url).status_code == 404
    for action, data in (("verify-identity", {}), ("bind-phone", {"phone": "081277770103"}),
                         ("bind-phone-confirm", {"code": "123456"})):
        response = client.post(reverse("queues:counter-action", args=[kota_counter.pk,
                                                                      action]),
                               {"ticket": ticket.pk, **data})
        assert response.status_code == 404, action
    resident.refresh_from_db()
    assert (resident.identity_verified_at, resident.phone, resident.phone_bound_at) == (
        None, "", None)
    assert not ActivationCode.objects.exists()
    assert sms() == []
