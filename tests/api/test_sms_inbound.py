"""The SMS gateway's webhook over real HTTP: a reply 1 or 2 to an offer of free times
books it for the resident whose bound phone sent it; a repeat of the gateway's id
changes nothing; an unsigned, badly signed or stale request is refused 401 and changes
nothing; a phone bound to nobody, or another resident's, books nothing; an offer of
one office never books in another. The simulated gateway signs and sends the replies
as the real one would (SimulatedGateway.reply)."""

import json
import time
from datetime import date, datetime

import pytest
import time_machine

from registry.appointments.models import (
    Booking,
    BookingChannel,
    BookingStatus,
    Slot,
    SmsInbound,
    SmsOffer,
    SmsOfferStatus,
)
from registry.appointments.services.slots import slots_ensure
from registry.appointments.services.sweeps import bookings_expire_due
from registry.models import Application, CaseEvent, Service
from registry.notify.signing import gateway_headers
from tests.appointments.conftest import NOW, WIB, book
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db(transaction=True)

WEDNESDAY = date(2026, 7, 1)
THURSDAY_0005 = datetime(2026, 7, 2, 0, 5, tzinfo=WIB)
INBOUND = "/api/v1/sms/inbound/"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def offered(feature_phone, office_a, clock):
    """The feature-phone resident's Wednesday booking expired in the night to Thursday:
    the open offer of Thursday 08:00 and 08:30."""
    service = Service.objects.select_related("lane").get(office=office_a, code="KTP_HILANG")
    slots_ensure(office=office_a, start=WEDNESDAY, end=WEDNESDAY)
    book(feature_phone, service, Slot.objects.get(lane=service.lane, date=WEDNESDAY,
                                                  start="08:00"))
    clock.move_to(THURSDAY_0005)
    assert bookings_expire_due() == 1
    return SmsOffer.objects.get()


def reply(live_server, phone, text, gateway_id="gw-1", **signing):
    return SimulatedReply(live_server.url).send(phone, text, gateway_id, **signing)


class SimulatedReply:
    def __init__(self, url):
        self.url = url

    def send(self, phone, text, gateway_id, **signing):
        from registry.notify.backends import SimulatedGateway

        return SimulatedGateway.reply(phone=phone, text=text, base_url=self.url,
                                      gateway_id=gateway_id, **signing)


def state():
    """What a refused or repeated request must leave as it was."""
    return (list(Booking.objects.order_by("id").values_list("id", "status")),
            list(SmsOffer.objects.order_by("id").values_list("id", "status")),
            SmsInbound.objects.count(), CaseEvent.objects.count())


def test_reply_1_books_the_first_time_offered_and_a_repeat_changes_nothing(
        offered, feature_phone, live_server, sms_gateway):
    expired = Booking.objects.get(status=BookingStatus.EXPIRED)
    before = list(CaseEvent.objects.filter(application=expired.application)
                  .order_by("id").values_list("id", "kind"))
    sent_before = len(sms_gateway.received(feature_phone.phone))
    status, body = reply(live_server, "0813 7770 0001", "1")
    assert (status, body) == (200, {"id": "gw-1", "outcome": "booked"})
    booking = Booking.objects.get(status=BookingStatus.BOOKED)
    first = Slot.objects.select_related("lane").get(pk=offered.slot_ids[0])
    assert (booking.slot, booking.channel, booking.application_id, booking.resident) == (
        first, BookingChannel.SMS, expired.application_id, feature_phone)
    assert sorted((d.requirement.code, d.issued_on) for d in booking.documents.all()) == [
        ("KK", None), ("SURAT_KEHILANGAN", date(2026, 6, 25))]
    assert Application.objects.get(pk=expired.application_id).rebook_until is None
    offered.refresh_from_db()
    assert (offered.status, offered.booking, offered.answered_at) == (
        SmsOfferStatus.BOOKED, booking, THURSDAY_0005)
    inbound = SmsInbound.objects.get()
    assert (inbound.sender, inbound.text, inbound.outcome, inbound.resident, inbound.booking,
            inbound.office_id) == ("0813 7770 0001", "1", "booked", feature_phone, booking,
                                   booking.office_id)
    # The case goes on: its history kept, the new booking and the reply added.
    after = list(CaseEvent.objects.filter(application=expired.application)
                 .order_by("id").values_list("id", "kind"))
    assert after[:len(before)] == before
    assert [kind for _id, kind in after[len(before):]] == [
        "booking.created", "notification.sent", "sms.reply_received"]
    received = sms_gateway.received(feature_phone.phone)
    assert len(received) == sent_before + 1
    assert received[-1]["title"] == f"Booking {booking.code} confirmed"
    assert received[-1]["body"] == (
        "KTP-el hilang on 2 Juli 2026, 08:00-08:30, lane C (Perubahan biodata). Bring: "
        "Kartu Keluarga (KK) asli; Surat keterangan kehilangan dari Kepolisian. Show "
        f"code {booking.code} at the kiosk.")
    # The gateway sends the same SMS again: the first answer, nothing new.
    unchanged = state()
    assert reply(live_server, "+6281377700001", "1") == (
        200, {"id": "gw-1", "outcome": "booked"})
    assert reply(live_server, "+6281377700001", "2") == (
        200, {"id": "gw-1", "outcome": "booked"})
    assert state() == unchanged
    assert len(sms_gateway.received(feature_phone.phone)) == sent_before + 1


def signed(body: bytes, **signing):
    return {"Content-Type": "application/json", **gateway_headers(body=body, **signing)}


BODY = json.dumps({"id": "gw-9", "from": "+6281377700001", "text": "1"}).encode()


@pytest.mark.parametrize(("headers", "code"), [
    ({"Content-Type": "application/json"}, "signature_missing"),
    (signed(BODY, secret="not-the-secret"), "signature_invalid"),
    (signed(b'{"id": "gw-9", "from": "+6281377700001", "text": "2"}'), "signature_invalid"),
    ({**signed(BODY), "X-Gateway-Signature": "sha256=00"}, "signature_invalid"),
    ({"Content-Type": "application/json", "X-Gateway-Timestamp": "soon",
      "X-Gateway-Signature": "sha256=00"}, "signature_invalid"),
    ("stale", "signature_stale"),
    ("future", "signature_stale"),
])
def test_unsigned_badly_signed_or_stale_is_refused_and_changes_nothing(
        offered, http, headers, code):
    if headers in ("stale", "future"):
        skew = -301 if headers == "stale" else 301
        headers = signed(BODY, timestamp=int(time.time()) + skew)
    before = state()
    answer = http.post(INBOUND, data=BODY, headers={**headers, "Accept-Language": "en"})
    assert answer.status_code == 401
    assert answer.json()["code"] == code
    assert answer.headers["WWW-Authenticate"] == 'HMAC-SHA256 header="X-Gateway-Signature"'
    assert state() == before


def test_refusals_speak_english_on_request(offered, http):
    answer = http.post(INBOUND, json={"id": "x", "from": "1", "text": "1"},
                       headers={"Accept-Language": "en"})
    assert (answer.status_code, answer.json()) == (401, {
        "detail": "The request is not signed by the SMS gateway.",
        "code": "signature_missing"})


def test_signed_but_malformed_input_is_a_400_not_a_500(offered, http):
    for body in (b"{", b'{"id": "gw-3"}', b'{"id": "gw-3", "from": "0813", "text": "\\u0000"}',
                 b"[]"):
        answer = http.post(INBOUND, data=body, headers=signed(body))
        assert answer.status_code == 400, body
        assert set(answer.json()) >= {"detail", "code"}
    assert SmsInbound.objects.count() == 0


def test_a_reply_from_a_phone_bound_to_nobody_or_to_another_resident_books_nothing(
        offered, feature_phone, office_a, live_server, sms_gateway):
    before = state()
    other = ResidentFactory(domicile_office=office_a, phone="+6281388800002", language="en")
    typed_in = ResidentFactory(domicile_office=office_a, phone="+6281388800003",
                               phone_bound_at=None)
    # The NIK of the offer's resident in the text counts for nothing.
    assert reply(live_server, "+6281399900001", f"1 {feature_phone.nik}", "a") == (
        200, {"id": "a", "outcome": "unknown_sender"})
    assert reply(live_server, typed_in.phone, "1", "b") == (
        200, {"id": "b", "outcome": "unknown_sender"})
    assert reply(live_server, other.phone, "1", "c") == (
        200, {"id": "c", "outcome": "no_offer"})
    assert reply(live_server, "not a phone", "1", "d") == (
        200, {"id": "d", "outcome": "unknown_sender"})
    bookings, offers, inbound, _events = state()
    assert (bookings, offers, inbound) == (before[0], before[1], 4)
    assert sms_gateway.received("+6281399900001") == []
    assert sms_gateway.received(typed_in.phone) == []
    [answer] = sms_gateway.received(other.phone)
    assert answer["body"] == ("There is no open offer of times for you. Call or WhatsApp "
                              "the office at +6281100001111 or come to the desk.")
    # Once the phone is no longer bound, its replies book nothing either.
    feature_phone.phone_bound_at = None
    feature_phone.save(update_fields=["phone_bound_at"])
    assert reply(live_server, feature_phone.phone, "1", "e") == (
        200, {"id": "e", "outcome": "unknown_sender"})
    assert not Booking.objects.filter(status=BookingStatus.BOOKED).exists()


def test_a_taken_time_is_offered_again_and_unknown_text_gets_help(
        offered, feature_phone, live_server, sms_gateway):
    first = Slot.objects.get(pk=offered.slot_ids[0])
    Slot.objects.filter(pk=first.pk).update(booked=first.capacity)
    assert reply(live_server, feature_phone.phone, "halo, bisa jam 9?", "h") == (
        200, {"id": "h", "outcome": "unknown_text"})
    assert sms_gateway.received(feature_phone.phone)[-1]["body"] == (
        "Reply with the number of the time you want, for example 1. For anything else, "
        "call or WhatsApp the office at +6281100001111.")
    assert reply(live_server, feature_phone.phone, "1", "t") == (
        200, {"id": "t", "outcome": "slot_taken"})
    offered.refresh_from_db()
    again = SmsOffer.objects.exclude(pk=offered.pk).get()
    assert (offered.status, again.status, again.source_booking) == (
        SmsOfferStatus.REPLACED, SmsOfferStatus.OPEN, None)
    assert first.pk not in again.slot_ids
    times = [Slot.objects.get(pk=pk) for pk in again.slot_ids]
    assert [f"{s.start:%H:%M}" for s in times] == ["08:30", "09:00"]
    assert sms_gateway.received(feature_phone.phone)[-1]["body"] == (
        "That time has just been taken. Reply 1 for Thursday, 2 July 2026 08:30, 2 for "
        "Thursday, 2 July 2026 09:00.")
    assert reply(live_server, feature_phone.phone, "2", "u") == (
        200, {"id": "u", "outcome": "booked"})
    assert Booking.objects.get(status=BookingStatus.BOOKED).slot == times[1]


def test_an_offer_of_one_office_never_books_in_another(offered, feature_phone, office_b,
                                                       live_server):
    other = Service.objects.select_related("lane").get(office=office_b, code="KTP_HILANG")
    slots_ensure(office=office_b, start=date(2026, 7, 2), end=date(2026, 7, 2))
    theirs = Slot.objects.get(lane=other.lane, date=date(2026, 7, 2), start="08:00")
    # An offer whose slots were swapped for another office's (a bug, a hand edit).
    SmsOffer.objects.filter(pk=offered.pk).update(slot_ids=[theirs.pk])
    assert reply(live_server, feature_phone.phone, "1", "x") == (
        200, {"id": "x", "outcome": "slot_taken"})
    assert not Booking.objects.filter(office=office_b).exists()
    assert not Booking.objects.filter(status=BookingStatus.BOOKED).exists()
    theirs.refresh_from_db()
    assert theirs.booked == 0
    again = SmsOffer.objects.get(status=SmsOfferStatus.OPEN)
    assert again.office == offered.office
    assert set(Slot.objects.filter(pk__in=again.slot_ids)
               .values_list("office_id", flat=True)) == {offered.office_id}


def test_the_sms_reply_command_replies_as_the_gateway_does(offered, feature_phone,
                                                           live_server, sms_gateway):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sms_reply", "--from", "081377700001", "--text", "2", "--id", "cmd-1",
                 "--url", live_server.url, stdout=out)
    booking = Booking.objects.get(status=BookingStatus.BOOKED)
    assert booking.slot_id == offered.slot_ids[1]
    assert out.getvalue().splitlines()[0] == "200 {'id': 'cmd-1', 'outcome': 'booked'}"
    # Once the worker has sent the confirmation, the command shows it with the rest.
    assert sms_gateway.received(feature_phone.phone)[-1]["title"] == (
        f"Booking {booking.code} confirmed")
    out = StringIO()
    call_command("sms_reply", "--from", "081377700001", "--text", "2", "--id", "cmd-1",
                 "--url", live_server.url, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["200 {'id': 'cmd-1', 'outcome': 'booked'}",
                         "+6281377700001 has received (simulated gateway):"]
    assert lines[-1].startswith(f"  Booking {booking.code} confirmed: KTP-el hilang on ")


@pytest.mark.postgres
def test_replies_at_the_same_moment_book_once(offered, feature_phone):
    from registry.appointments.services.sms_replies import sms_inbound_receive
    from tests.concurrency import race

    # 1 and 2 under two ids, and a repeat of the first id, all at once.
    replies = [("r1", "1"), ("r2", "2"), ("r1", "1")]
    results, errors = race(lambda i: sms_inbound_receive(
        gateway_id=replies[i][0], sender=feature_phone.phone, text=replies[i][1]
    )[0].outcome, 3)
    assert errors == []
    assert Booking.objects.filter(status=BookingStatus.BOOKED).count() == 1
    assert SmsInbound.objects.count() == 2
    # Whichever came first booked; the other found the offer answered; the repeat
    # answered as its first.
    assert (sorted(results[:2]), results[2]) == (["booked", "no_offer"], results[0])
