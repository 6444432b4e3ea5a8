"""The real gateway clients, against a local HTTP server that answers like the gateway;
and the log backend, which writes whole messages only in development."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from registry.models import NotificationDelivery
from registry.notify.backends import (
    EmailBackend,
    InboxBackend,
    LogBackend,
    OutgoingMessage,
    PermanentFailure,
    SimulatedGateway,
    SmsGatewayBackend,
    TemporaryFailure,
    WhatsAppCloudBackend,
)
from registry.services.notification_sending import notification_deliver
from registry.services.notifications import notification_send

MESSAGE = OutgoingMessage(channel="whatsapp", address="+6281234500001", title="Kartu siap",
                          body="KTP-el Anda sudah dicetak.", link="https://x/app/1",
                          reference="n42")


@pytest.fixture
def gateway():
    """A local HTTP server; set `.status` and `.answer`, read `.requests`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            server.requests.append({"path": self.path, "headers": dict(self.headers),
                                    "json": json.loads(body)})
            self.send_response(server.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(server.answer).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.requests, server.status, server.answer = [], 200, {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


def test_whatsapp_posts_a_text_message_with_the_token(gateway, settings):
    settings.WHATSAPP_API_URL = gateway.url
    settings.WHATSAPP_PHONE_NUMBER_ID = "1234"
    settings.WHATSAPP_TOKEN = "secret-token"
    gateway.answer = {"messages": [{"id": "wamid.ABC"}]}
    assert WhatsAppCloudBackend().send(MESSAGE) == "wamid.ABC"
    request = gateway.requests[0]
    assert request["path"] == "/1234/messages"
    assert request["headers"]["Authorization"] == "Bearer secret-token"
    assert request["json"] == {
        "messaging_product": "whatsapp", "to": "6281234500001", "type": "text",
        "text": {"body": "*Kartu siap*\nKTP-el Anda sudah dicetak.\nhttps://x/app/1"},
    }


@pytest.mark.parametrize(("status", "error"), [(500, TemporaryFailure), (429, TemporaryFailure),
                                                (400, PermanentFailure)])
def test_gateway_errors_are_temporary_or_permanent(gateway, settings, status, error):
    settings.SMS_GATEWAY_URL = f"{gateway.url}/sms"
    gateway.status = status
    with pytest.raises(error):
        SmsGatewayBackend().send(MESSAGE)


def test_an_unreachable_gateway_is_a_temporary_failure(settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"  # discard port: nothing listens
    with pytest.raises(TemporaryFailure):
        SmsGatewayBackend().send(MESSAGE)


def test_sms_sends_the_reference_for_deduplication(gateway, settings):
    settings.SMS_GATEWAY_URL = f"{gateway.url}/sms"
    gateway.answer = {"id": "sms-9"}
    assert SmsGatewayBackend().send(MESSAGE) == "sms-9"
    assert gateway.requests[0]["json"] == {
        "to": "+6281234500001", "message": "Kartu siap: KTP-el Anda sudah dicetak.",
        "reference": "n42"}


def test_email_goes_through_djangos_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    EmailBackend().send(OutgoingMessage(channel="email", address="budi@example.org",
                                        title="Kartu siap", body="Sudah dicetak.",
                                        link="https://x/app/1", reference="n1"))
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["budi@example.org"], "Kartu siap", "Sudah dicetak.\n\nhttps://x/app/1")]


OTP = OutgoingMessage(channel="sms", address="+6281234500001", title="e-Open sign-in code",
                      body="Your e-Open code is 493817. It is valid for 5 minutes.",
                      reference="otp7", kind="otp")


def logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "registry.notify"]


def test_the_log_backend_writes_no_body_and_a_masked_recipient_in_production(caplog,
                                                                             settings):
    settings.DEBUG = False
    caplog.set_level(logging.INFO, logger="registry.notify")
    assert LogBackend().send(OTP) == "log:otp7"
    LogBackend().send(OutgoingMessage(channel="email", address="budi@example.org",
                                      title="Kartu siap", body="Kode tanda terima K7QP-2M",
                                      reference="n9", kind="handover.card_ready"))
    InboxBackend().send(OutgoingMessage(channel="push", address="", kind="booking.booked",
                                        title="Booking BK7Q2M confirmed", body="",
                                        reference="n10"))
    assert logged(caplog) == [
        "notification channel=sms to=+62812*****001 kind=otp ref=otp7",
        "notification channel=email to=b***@example.org kind=handover.card_ready ref=n9",
        "notification channel=push kind=booking.booked ref=n10",
    ]
    for secret in ("493817", "6281234500001", "budi@", "K7QP-2M", "BK7Q2M"):
        assert secret not in caplog.text


def test_the_log_backend_writes_the_whole_message_in_development(caplog, settings):
    """`make run` (DJANGO_DEBUG=1): demo residents read their sign-in code in the log; the
    phone number is masked there too (config.logfilters.MaskPersonalData)."""
    settings.DEBUG = True
    caplog.set_level(logging.INFO, logger="registry.notify")
    LogBackend().send(OTP)
    assert logged(caplog) == [
        ("notification channel=sms to=+62812*****001 kind=otp ref=otp7 "
        "title='e-Open sign-in code' body='Your e-Open code is 493817. It is valid for 5 "
        "minutes.' link=")]


def test_a_notification_is_logged_by_its_kind_without_its_text(application_a, settings,
                                                               caplog):
    settings.DEBUG = False
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS,
                                      "whatsapp": "registry.notify.backends.LogBackend"}
    caplog.set_level(logging.INFO, logger="registry.notify")
    notification = notification_send(
        office=application_a.office, resident=application_a.resident, kind="handover.ready",
        title="Kartu siap", body="Kode tanda terima %(code)s", params={"code": "K7QP-2M"},
        application=application_a)
    delivery = notification.deliveries.get(channel="whatsapp")
    notification_deliver(delivery_id=delivery.id)
    phone = application_a.resident.phone
    assert logged(caplog) == [(f"notification channel=whatsapp to={phone[:6]}*****"
                              f"{phone[-3:]} kind=handover.ready ref=n{delivery.id}")]
    assert NotificationDelivery.objects.get(pk=delivery.pk).status == "sent"
    assert "K7QP-2M" not in caplog.text
    assert phone not in caplog.text


def test_the_simulated_gateway_sends_each_reference_once_under_concurrent_senders():
    # Worker processes send side by side (tests/appointments/test_sweeps_worker.py): the
    # simulator must never read half a line, nor record a reference twice.
    gateway = SimulatedGateway()
    errors = []

    def send(worker):
        try:
            for n in range(60):
                gateway.send(OutgoingMessage(channel="sms", address="+6281200000000",
                                             title="t", body="x" * 2000,
                                             reference=f"ref{(worker + n) % 90}"))
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    references = [m["reference"] for m in SimulatedGateway.sent("sms")]
    assert sorted(references) == sorted({f"ref{n}" for n in range(65)})
