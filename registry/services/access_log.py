"""The access log: who looked at a resident's personal data (UU PDP 27/2022).

Every staff view of personal data writes one AccessLog row, with the residents it
showed in AccessLogResident: a page that lists fifty residents is one row and one
bulk insert, so the hot pages (the admin's resident list, the counter page) pay two
INSERTs (on PostgreSQL, one statement). The staff member's name is kept for the
office's supervisors; the resident's own view of the log (registry.selectors) shows the
office, the role and the reason.

On PostgreSQL a page that writes nothing else commits its log row without waiting for
the disk (synchronous_commit off for that transaction alone): the commit's flush was
most of what the log cost a page. A database crash can lose the last fraction of a
second of log rows (the WAL writer flushes within 3 x wal_writer_delay), never
corrupt them; a log row written inside a page's own transaction is flushed with it.
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import AccessLog, AccessLogResident, Office, Resident, Role
from registry.tenancy import staff_roles

SUPERUSER_ROLE = "superuser"
TARGET_MAX = 120
REASON_MAX = 200

# The role a log row names when the viewer holds several in the office: the one that
# explains the access best (the front desk serves residents; a supervisor oversees).
ROLE_ORDER = [
    Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.COURIER, Role.PUBLIC_RELATIONS,
    Role.SUPERVISOR, Role.OFFICE_ADMIN, Role.PROVINCIAL_SUPERVISOR,
]


def role_label(role: str) -> str:
    """A log row's role as staff and residents read it."""
    if role == SUPERUSER_ROLE:
        return _("System administrator")
    return str(Role(role).label) if role in Role.values else role


def viewer_role(user, office: Office | int | None) -> str:
    """The role `user` acted in at `office`, for the log."""
    roles = staff_roles(user, office) if office is not None else set()
    for role in ROLE_ORDER:
        if role in roles:
            return role
    if getattr(user, "is_superuser", False):
        return SUPERUSER_ROLE
    return next(iter(sorted(roles)), "")


def _resident_ids(residents: Iterable[Resident | int]) -> list[int]:
    ids = {r if isinstance(r, int) else r.pk for r in residents}
    ids.discard(None)
    return sorted(ids)


# One statement: the log row, then its residents (PostgreSQL). {cfg} turns the flush
# off for the statement's own transaction when it is not inside a page's transaction.
INSERT_POSTGRES = """
WITH {cfg} log AS (
    INSERT INTO registry_accesslog
        (at, user_id, office_id, role, kind, target, reason, resident_count)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    RETURNING id
)
INSERT INTO registry_accesslogresident (access_id, resident_id)
SELECT log.id, resident_id FROM {cfg_from} log, unnest(%s::bigint[]) AS resident_id
RETURNING access_id
"""
NO_FLUSH = {"cfg": "cfg AS (SELECT set_config('synchronous_commit', 'off', true)),",
            "cfg_from": "cfg,"}
INSERT_POSTGRES_NO_FLUSH = INSERT_POSTGRES.format(**NO_FLUSH)
INSERT_POSTGRES_IN_TRANSACTION = INSERT_POSTGRES.format(cfg="", cfg_from="")


def record_access(user, *, kind: str, residents: Iterable[Resident | int],
                  office: Office | int | None = None, target: str = "",
                  reason: str = "") -> AccessLog | None:
    """Log that `user` saw the personal data of `residents` (a kind of AccessKind).
    Nothing is written when no resident was shown (an empty list page)."""
    ids = _resident_ids(residents)
    if not ids:
        return None
    office_id = office.pk if isinstance(office, Office) else office
    log = AccessLog(
        at=timezone.now(), user=user, office_id=office_id,
        role=viewer_role(user, office_id), kind=kind, target=str(target)[:TARGET_MAX],
        reason=(reason or "").strip()[:REASON_MAX], resident_count=len(ids),
    )
    if connection.vendor != "postgresql":
        with transaction.atomic():
            log.save()
            AccessLogResident.objects.bulk_create(
                [AccessLogResident(access=log, resident_id=rid) for rid in ids],
                batch_size=500)
        return log
    params = [log.at, user.pk, office_id, log.role, kind, log.target, log.reason,
              len(ids), ids]
    # Outside a transaction the statement is its own, committed without a flush.
    sql = (INSERT_POSTGRES_IN_TRANSACTION if connection.in_atomic_block
           else INSERT_POSTGRES_NO_FLUSH)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        log.pk = cursor.fetchone()[0]
    log._state.adding = False
    return log
