"""The OpenAPI schema (drf-spectacular) says what the API really answers.

tests/api/test_schema_fuzz.py holds it to that: Schemathesis sends every operation
generated requests and checks each answer's status, content type and body against it.
What drf-spectacular cannot see from a view is added here, for every view at once:

- the error answers every operation can give, in the contract's {"detail", "code"}
  shape (registry.api.errors): 400 for any request, 401 with a token,
  403 for a role, 404 for an object in the path or a page past the last, 413 and 415
  for a body, 429 where throttled; a view documents the answers of its own rules
  (409, a 404 of an object named in the body, a 429 of a service) with extend_schema;
- the Idempotency-Key header of every create that honours it, and its 409;
- read-only fields that read a nullable column, or through a nullable relation, can be
  null (a booking's `application`, a complaint's `resolved_at`);
- a time field with its own format (`opens: "08:00"`) is a string of that pattern,
  not OpenAPI's `format: time` (which means 08:00:00).
"""

import re

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import permissions, serializers
from rest_framework.settings import api_settings

from registry.api.idempotency import KEY_RE, IdempotentCreateMixin
from registry.api.serializers import ErrorSerializer


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "registry.api.auth.BearerAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Residents: from /auth/token/ (one-time code). "
                               "Field team: from /auth/staff-token/."}


ERRORS = {
    "400": "The input is not valid, or the rules refuse it (`code` says which; field "
           "errors are under the field's name).",
    "401": "No valid token: missing, expired, revoked, or of an account that is gone.",
    "403": "The token's holder may not do this (a resident on the field team's API, "
           "staff without the role).",
    "404": "Not found, or not the caller's (another resident's or office's object); "
           "for a list, a page past the last.",
    "409": "The Idempotency-Key's first request is still being processed, or the "
           "object's state does not allow this (`code` says which).",
    "413": "The body is too large.",
    "415": "The body's content type is not one this operation reads.",
    "429": "Too many requests; `Retry-After` says when to try again.",
}

IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "pattern": KEY_RE.pattern},
    "description": "The same key and body within 24 hours returns the first answer and "
                   "creates nothing new.",
}

# Permissions every signed-in caller passes: only a missing token is refused (401).
_ANYONE_SIGNED_IN = (permissions.AllowAny, permissions.IsAuthenticated)

# strftime directives of a TimeField's own format, as the pattern of what it writes.
_TIME_DIRECTIVES = {"%H": r"\d{2}", "%I": r"\d{2}", "%M": r"\d{2}", "%S": r"\d{2}",
                    "%f": r"\d{6}", "%p": "(AM|PM)", "%%": "%"}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if self._honours_idempotency_key():
            operation.setdefault("parameters", [])
            if not any(p["name"] == "Idempotency-Key" for p in operation["parameters"]):
                operation["parameters"].append(IDEMPOTENCY_KEY)
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(status, {"description": ERRORS[status]})
        for status, response in responses.items():
            if status >= "400" and "content" not in response:
                response["content"] = {"application/json": {"schema": error}}
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_statuses(self, operation) -> list[str]:
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        # Every request can be refused as malformed: a NUL in its address
        # (registry.middleware), besides what its body and query are checked for.
        statuses = ["400"]
        if self.view.get_authenticators():
            statuses.append("401")
        if any(not isinstance(p, _ANYONE_SIGNED_IN) for p in self.view.get_permissions()):
            statuses.append("403")
        if any(p["in"] == "path" or (p["in"], p["name"]) == ("query", "page")
               for p in parameters):
            statuses.append("404")
        if self._honours_idempotency_key():
            statuses.append("409")
        if has_body:
            statuses += ["413", "415"]
        if self.view.get_throttles():
            statuses.append("429")
        return statuses

    def _honours_idempotency_key(self) -> bool:
        return self.method == "POST" and isinstance(self.view, IdempotentCreateMixin)

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "response" and not meta.get("nullable") and _reads_nullable(field):
            meta["nullable"] = True
        return meta

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        time_format = getattr(field, "format", None)
        if (isinstance(field, serializers.TimeField) and schema is not None
                and time_format not in (None, api_settings.TIME_FORMAT, "iso-8601")):
            schema.pop("format", None)
            schema["pattern"] = "^{}$".format("".join(
                _TIME_DIRECTIVES.get(part, re.escape(part))
                for part in re.split(r"(%.)", time_format) if part))
        return schema


def _reads_nullable(field) -> bool:
    """Whether a field of a ModelSerializer reads a column that can be null, or reads
    through a relation that can be empty ("domicile_office.code")."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or getattr(field, "source", "*") == "*" or not field.source_attrs:
        return False
    for name in field.source_attrs:
        try:
            column = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False  # a property or method: its own annotation says
        if isinstance(column, models.ForeignObjectRel):
            return False  # a reverse relation: DRF leaves the field out when it is empty
        if column.null:
            return True
        if not column.is_relation:
            return False
        model = column.related_model
    return False
