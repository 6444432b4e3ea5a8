"""Ways to reach a resident. Every backend has the same interface:

    backend.send(message: OutgoingMessage) -> str   # the provider's reference

and raises TemporaryFailure (try again later) or PermanentFailure (this address
cannot be reached). settings.NOTIFICATION_BACKENDS picks one per channel.
"""

import fcntl
import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from functools import cache

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from registry.privacy import mask_address

logger = logging.getLogger("registry.notify")


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str
    address: str
    title: str
    body: str
    link: str = ""
    # Stable per delivery, so a gateway that deduplicates sends it once.
    reference: str = ""
    # What the message is (the notification's kind, "otp"...), for the log.
    kind: str = ""


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class LogBackend:
    """Writes the message to the log: the default for every channel, for development.

    Only with DEBUG on (`make run`, where demo residents read their sign-in code from
    the log) is the whole message written. Otherwise the log gets the channel, a masked
    recipient, the kind and the reference: a log is read by more people, and kept
    longer, than a resident's phone, and bodies carry sign-in codes, receipt codes and
    booking codes. `check --deploy` warns when a channel still uses this backend
    (registry.checks).
    """

    def send(self, message: OutgoingMessage) -> str:
        if settings.DEBUG:
            logger.info(
                "notification channel=%s to=%s kind=%s ref=%s title=%r body=%r link=%s",
                message.channel, message.address, message.kind, message.reference,
                message.title, message.body, message.link,
            )
        else:
            logger.info("notification channel=%s to=%s kind=%s ref=%s", message.channel,
                        mask_address(message.address), message.kind, message.reference)
        return f"log:{message.reference}"


class InboxBackend:
    """Push to the app. The stored notification is the inbox the app reads through the
    API, so there is nothing further to send; a push gateway would plug in here."""

    def send(self, message: OutgoingMessage) -> str:
        # Titles carry booking and ticket codes: the kind says enough.
        logger.info("notification channel=push kind=%s ref=%s", message.kind,
                    message.reference)
        return f"inbox:{message.reference}"


class EmailBackend:
    """E-mail through Django's mail settings (EMAIL_HOST and friends)."""

    def send(self, message: OutgoingMessage) -> str:
        body = message.body + (f"\n\n{message.link}" if message.link else "")
        try:
            send_mail(message.title, body, None, [message.address], fail_silently=False)
        except OSError as exc:
            raise TemporaryFailure(str(exc)) from exc
        return f"email:{message.reference}"


def _post_json(url: str, payload: dict, token: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the URL comes from settings
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.NOTIFY_HTTP_TIMEOUT) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise TemporaryFailure(f"HTTP {exc.code}") from exc
        raise PermanentFailure(f"HTTP {exc.code}: {exc.read()[:200]!r}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TemporaryFailure(str(exc)) from exc


class WhatsAppCloudBackend:
    """WhatsApp Business Cloud API: a text message to the resident's number."""

    def send(self, message: OutgoingMessage) -> str:
        url = f"{settings.WHATSAPP_API_URL}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages"
        text = f"*{message.title}*\n{message.body}" + (f"\n{message.link}" if message.link else "")
        payload = {
            "messaging_product": "whatsapp",
            "to": message.address.lstrip("+"),
            "type": "text",
            "text": {"body": text},
        }
        answer = _post_json(url, payload, settings.WHATSAPP_TOKEN)
        messages = answer.get("messages") or [{}]
        return str(messages[0].get("id", ""))


class SmsGatewayBackend:
    """A generic HTTP SMS gateway: POST {to, message, reference} with a bearer token."""

    def send(self, message: OutgoingMessage) -> str:
        text = f"{message.title}: {message.body}"
        answer = _post_json(
            settings.SMS_GATEWAY_URL,
            {"to": message.address, "message": text, "reference": message.reference},
            settings.SMS_GATEWAY_TOKEN,
        )
        return str(answer.get("id", ""))


class SimulatedGateway:
    """Stands in for WhatsApp or an SMS gateway in development, demos and tests.

    It keeps what it was asked to send as JSON lines in NOTIFY_SIMULATOR_DIR (one file
    per channel), deduplicates by reference like a real gateway with idempotency keys,
    and fails on demand: write {"fail": "temporary"} or {"fail": "permanent"} to
    `<channel>.control.json` in that folder. Files, not memory, so a test and a
    separate worker process see the same gateway.
    """

    def _paths(self, channel: str):
        from pathlib import Path

        folder = Path(settings.NOTIFY_SIMULATOR_DIR)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{channel}.jsonl", folder / f"{channel}.control.json"

    def send(self, message: OutgoingMessage) -> str:
        log_path, control_path = self._paths(message.channel)
        if control_path.exists():
            mode = json.loads(control_path.read_text() or "{}").get("fail")
            if mode == "temporary":
                raise TemporaryFailure("simulated gateway is down")
            if mode == "permanent":
                raise PermanentFailure("simulated gateway refused the address")
        # Several worker processes send at once: the look for the reference and the
        # append are one step under an exclusive lock, as a real gateway's idempotency
        # check is, and no reader sees half a line.
        with log_path.open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            for line in handle.read().splitlines():
                if json.loads(line)["reference"] == message.reference:
                    return f"sim:{message.reference}"
            handle.write(json.dumps(asdict(message)) + "\n")
        return f"sim:{message.reference}"

    @classmethod
    def sent(cls, channel: str) -> list[dict]:
        log_path, _control = cls()._paths(channel)
        if not log_path.exists():
            return []
        with log_path.open() as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            return [json.loads(line) for line in handle.read().splitlines()]

    @classmethod
    def received(cls, phone: str, channel: str = "sms") -> list[dict]:
        """What the phone was sent on `channel`, oldest first (any spelling of the
        number: 0812..., 62812..., +62812...)."""
        from registry.validators import normalize_phone

        number = normalize_phone(phone)
        return [message for message in cls.sent(channel) if message["address"] == number]

    @classmethod
    def reply(cls, *, phone: str, text: str, base_url: str, gateway_id: str | None = None,
              secret: str | None = None, timestamp: int | None = None) -> tuple[int, dict]:
        """Send an SMS from `phone` to the office as the gateway does: POST {id, from,
        text} over HTTP to the webhook at `base_url`, signed with the inbound secret
        (SMS_GATEWAY_INBOUND_SECRET unless another is given). The answer's status and
        body."""
        import uuid

        from django.urls import reverse

        from registry.notify.signing import gateway_headers

        body = json.dumps({"id": gateway_id or f"sim-{uuid.uuid4().hex}", "from": phone,
                           "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 - a URL the developer gives
            base_url.rstrip("/") + reverse("sms-inbound"), data=body, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     **gateway_headers(body=body, secret=secret, timestamp=timestamp)})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    @classmethod
    def set_failure(cls, channel: str, mode: str | None) -> None:
        _log, control_path = cls()._paths(channel)
        control_path.write_text(json.dumps({"fail": mode}))


@cache
def _backend_for(path: str):
    return import_string(path)()


def get_backend(channel: str):
    return _backend_for(settings.NOTIFICATION_BACKENDS[channel])
