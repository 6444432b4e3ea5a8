"""Errors that services raise and every interface (API, admin, staff pages) shows.

A service refuses bad input by raising one of these with a message the person in
front of the screen can act on, and a stable `code` the mobile app can switch on.
Nothing has changed when one is raised.
"""


class DomainError(Exception):
    status = 400

    def __init__(self, message, code: str, *, extra: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.extra = extra or {}


class Conflict(DomainError):
    """The request is valid but the state does not allow it (a full slot)."""

    status = 409


class NotFound(DomainError):
    status = 404


class Throttled(DomainError):
    status = 429

    def __init__(self, message, code: str = "throttled", *, retry_after: int | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """An outside system we depend on did not answer; try again later."""

    status = 503


def violated_constraint(error, model) -> str | None:
    """The name of `model`'s unique constraint that the IntegrityError `error` broke, or
    None when it is none of them. PostgreSQL names it (psycopg's diagnostics); SQLite
    names only the columns ("UNIQUE constraint failed: t.a, t.b"), which are matched to
    the model's UniqueConstraints."""
    from django.db.models import UniqueConstraint

    diagnostics = getattr(error.__cause__, "diag", None)
    name = getattr(diagnostics, "constraint_name", None)
    if name:
        return name
    message = str(error)
    prefix = "UNIQUE constraint failed: "
    if prefix not in message:
        return None
    columns = {part.strip().rsplit(".", 1)[-1] for part in message.split(prefix, 1)[1].split(",")}
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields and columns == {
                model._meta.get_field(field).column for field in constraint.fields}:
            return constraint.name
    return None
