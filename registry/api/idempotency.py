"""The Idempotency-Key header on create requests.

The same key and body from the same caller within 24 hours gets the first answer
again, and nothing new is created. The key is claimed in its own transaction before
the work starts, so two identical requests racing each other cannot both create.
"""

import hashlib
import json
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from registry.api.auth import principal_key
from registry.errors import Conflict, DomainError
from registry.models import IdempotencyRecord

KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
# A claimed key whose request never finished (the process died) is free again after
# this long; a real request finishes well within it.
ABANDONED_AFTER = timedelta(seconds=60)


def _body_hash(request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # multipart or form: files by name and size
        data = {
            key: [(getattr(v, "name", None) and f"{v.name}:{v.size}") or v for v in values]
            for key, values in data.lists()
        }
    canonical = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _claim(request, key: str) -> IdempotencyRecord | None:
    """Claim the key; the earlier record if the key was already used."""
    principal = principal_key(request.user)
    now = timezone.now()
    body_hash = _body_hash(request)
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            principal=principal, key=key, created_at__lt=now - settings.IDEMPOTENCY_TTL
        ).delete()
        IdempotencyRecord.objects.filter(
            principal=principal, key=key, status_code__isnull=True,
            created_at__lt=now - ABANDONED_AFTER,
        ).delete()
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                principal=principal, key=key, method=request.method,
                path=request.path[:255], body_hash=body_hash, created_at=now,
            )
    except IntegrityError:
        earlier = IdempotencyRecord.objects.get(principal=principal, key=key)
        if earlier.body_hash != body_hash or earlier.path != request.path[:255]:
            raise DomainError(
                _("This Idempotency-Key was already used for a different request."),
                "idempotency_key_reused",
            ) from None
        if earlier.status_code is None:
            raise Conflict(
                _("The first request with this Idempotency-Key is still being processed."),
                "idempotency_in_progress",
            ) from None
        return earlier
    return None


class IdempotentCreateMixin:
    """For APIViews whose POST creates: honour the Idempotency-Key header."""

    def post(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return super().post(request, *args, **kwargs)
        if not KEY_RE.match(key):
            raise DomainError(
                _("The Idempotency-Key header must be 1 to 128 visible ASCII characters."),
                "idempotency_key_invalid",
            )
        earlier = _claim(request, key)
        if earlier is not None:
            response = Response(earlier.response_body, status=earlier.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = super().post(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        if response.status_code >= 500 or response.status_code == 429:
            # Transient answers are not the request's outcome: free the key for a retry.
            IdempotencyRecord.objects.filter(principal=principal_key(request.user),
                                             key=key).delete()
            return response
        IdempotencyRecord.objects.filter(principal=principal_key(request.user), key=key).update(
            status_code=response.status_code, response_body=_storable(response.data),
        )
        return response


def _storable(data):
    """The answer as PostgreSQL's jsonb can keep it: jsonb refuses NUL in text, and a
    refusal may quote the request's value ("... is not a valid choice")."""
    if isinstance(data, str):
        return data.replace("\x00", "\ufffd")
    if isinstance(data, dict):
        return {_storable(key): _storable(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_storable(value) for value in data]
    return data
