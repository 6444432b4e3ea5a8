"""The SMS gateway's webhook signature, one recipe for both sides: the webhook checks
it (registry.appointments.api), the gateway simulator makes it.

    X-Gateway-Timestamp: <unix seconds>
    X-Gateway-Signature: sha256=<hex HMAC-SHA256(secret, b"<timestamp>." + raw body)>

The timestamp is inside the signature, so a captured request cannot be sent again
later with a new one; a timestamp further than SMS_GATEWAY_MAX_SKEW from now is
refused.
"""

import hashlib
import hmac
import time

from django.conf import settings

SIGNATURE_HEADER = "X-Gateway-Signature"


TIMESTAMP_HEADER = "X-Gateway-Timestamp"


PREFIX = "sha256="


def gateway_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return PREFIX + digest.hexdigest()


def gateway_headers(*, body: bytes, secret: str | None = None,
                    timestamp: int | None = None) -> dict[str, str]:
    """The headers the gateway sends with `body`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    secret = settings.SMS_GATEWAY_INBOUND_SECRET if secret is None else secret
    return {TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: gateway_signature(secret=secret, timestamp=stamp, body=body)}


def gateway_signature_problem(*, body: bytes, timestamp: str | None,
                              signature: str | None, now: float | None = None) -> str | None:
    """Why the request is not the gateway's: "signature_missing", "signature_stale" or
    "signature_invalid"; None when it is. With no secret configured, none is."""
    secret = settings.SMS_GATEWAY_INBOUND_SECRET
    if not timestamp or not signature:
        return "signature_missing"
    if not secret:
        return "signature_invalid"
    try:
        stamp = int(timestamp)
    except ValueError:
        return "signature_invalid"
    expected = gateway_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        return "signature_invalid"
    now = time.time() if now is None else now
    if abs(now - stamp) > settings.SMS_GATEWAY_MAX_SKEW.total_seconds():
        return "signature_stale"
    return None
