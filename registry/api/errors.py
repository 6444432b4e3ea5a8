"""Every API error has the contract's shape: {"detail": "...", "code": "..."}, plus
field errors as DRF writes them, in the client's language (Indonesian by default)."""

import logging

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from registry.errors import DomainError, Throttled

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("django.security")


def _first_code(codes) -> str:
    if isinstance(codes, dict):
        for value in codes.values():
            return _first_code(value)
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    return str(codes) if codes else "invalid"


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def body_too_large() -> dict:
    return {"detail": _("The request is too large (at most %(size)s MB).") % {
        "size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)},
        "code": "request_too_large"}


def _suspicious(exc: SuspiciousOperation) -> Response:
    """Django refuses these while reading the request (DATA_UPLOAD_MAX_* settings);
    left to Django they answer its error page, an HTML one with DEBUG on."""
    security_logger.warning("%s: %s", type(exc).__name__, exc)
    if isinstance(exc, RequestDataTooBig):
        return Response(body_too_large(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return Response({"detail": _("The request has too many fields."),
                         "code": "too_many_fields"}, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": _("The request could not be understood."),
                     "code": "bad_request"}, status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc, context):
    if isinstance(exc, SuspiciousOperation):
        return _suspicious(exc)
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message), "code": exc.code, **exc.extra}
        headers = {}
        if isinstance(exc, Throttled) and exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        return Response(body, status=exc.status, headers=headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            field = next(iter(detail), "")
            message = _first_message(detail)
            if field and field != "non_field_errors":
                message = _("%(field)s: %(message)s") % {"field": field, "message": message}
            body = {"detail": message, "code": _first_code(exc.get_codes())}
            body.update(detail)
        else:
            body = {"detail": _first_message(detail), "code": _first_code(exc.get_codes()),
                    "non_field_errors": detail}
        response.data = body
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response

    detail = getattr(exc, "detail", None)
    codes = exc.get_codes() if hasattr(exc, "get_codes") else None
    if isinstance(detail, dict):
        # simplejwt's token errors carry a dict with a nested list of messages.
        message = detail.get("detail", _first_message(detail))
        code = detail.get("code") or _first_code(codes)
    else:
        message, code = detail, _first_code(codes)
    response.data = {"detail": str(message), "code": str(code)}
    return response
