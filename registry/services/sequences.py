"""Numbers that count per office and scope (case numbers, ticket and booking codes).
"""

import logging

from django.db import connection

from registry.models import (
    Office,
)

logger = logging.getLogger(__name__)


def sequence_next(*, office: Office, scope: str) -> int:
    """The next number of a per-office counter (1, 2, 3, ...).

    Takes the counter's row lock until the caller's transaction ends, so numbers are
    handed out one at a time and never twice; the unique constraints of the rows that
    carry the numbers are the last line of defence.
    """
    # One statement (an upsert that returns the new value) instead of create, lock,
    # read and save: every booking, ticket and complaint takes a number, and the row
    # lock is held from here to the commit either way.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_sequence (office_id, scope, value) VALUES (%s, %s, 1) "
            "ON CONFLICT (office_id, scope) DO UPDATE SET value = registry_sequence.value + 1 "
            "RETURNING value",
            [office.id, scope],
        )
        return cursor.fetchone()[0]


def sequence_take(*, office: Office, scope: str, count: int) -> int:
    """Take `count` numbers of a per-office counter at once (loading records in bulk:
    registry.demo_history) and return the first; they run to first + count - 1. The
    row lock is held as sequence_next holds it."""
    if count < 1:
        raise ValueError("Take at least one number")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_sequence (office_id, scope, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (office_id, scope) DO UPDATE SET value = registry_sequence.value + %s "
            "RETURNING value",
            [office.id, scope, count, count],
        )
        return cursor.fetchone()[0] - count + 1
