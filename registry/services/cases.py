"""Case files (applications) and their timeline: one entry, many at once, or many in a
few statements from a SELECT (set-based sweeps).
"""

import logging
import secrets
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.calendar import office_today
from registry.errors import DomainError, NotFound
from registry.models import (
    Application,
    ApplicationStatus,
    CaseEvent,
    Office,
    Resident,
    Service,
    TurnAway,
)
from registry.services.bulk_sql import sql_dialect, sql_value
from registry.services.sequences import sequence_next
from registry.timeline import is_known_kind

logger = logging.getLogger(__name__)

# A case opened within this many days of a turn-away at the door for the same service
# (or none named) is the trip the resident had to make again (registry.services.turn_aways).
TURN_AWAY_LINK_DAYS = 60


def case_event_record(*, application: Application, kind: str, params: dict | None = None,
                      note: str = "", actor=None, by_resident: bool = False,
                      at=None) -> CaseEvent:
    """Write one entry on the case timeline. Every state change of every app calls it
    inside its own transaction, so the event exists exactly when the change does."""
    if not is_known_kind(kind):
        raise ValueError(f"Unknown case event kind {kind!r}; declare it in an events.py")
    return CaseEvent.objects.create(
        office_id=application.office_id,
        application=application,
        kind=kind,
        params=params or {},
        note=note,
        actor=actor if getattr(actor, "pk", None) else None,
        by_resident=by_resident,
        at=at or timezone.now(),
    )


def application_open(*, office: Office, resident: Resident, service: Service, channel: str,
                     by=None) -> Application:
    """Open a case file for a resident's request at an office."""
    if service.office_id != office.id or not service.is_active:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    year = office_today(office).year
    # Within a caller's transaction (a booking) no savepoint is needed: a failed write
    # fails the caller's transaction as a whole.
    with transaction.atomic(savepoint=False):
        number = sequence_next(office=office, scope=f"application:{year}")
        application = Application.objects.create(
            office=office,
            number=_case_number(office, year, number),
            resident=resident,
            service=service,
            channel=channel,
            created_by=by if getattr(by, "pk", None) else None,
        )
        case_event_record(
            application=application,
            kind="application.opened",
            params={"number": application.number, "service": service.name,
                    "channel": channel},
            actor=by,
            by_resident=channel == "app",
        )
        turn_aways_link(application=application)
    return application


# A case opened with its number taken last (application_start) carries this until
# application_number_take: unique (the rest is random) and never a real number.
UNNUMBERED_PREFIX = "~"


def application_start(*, office: Office, resident: Resident, service: Service,
                      channel: str, by=None, at=None) -> tuple[Application, dict]:
    """Open a case file, as `application_open` does, inside the caller's transaction,
    leaving to the caller the timeline entry that says so (returned, to be written with
    the caller's own entries by case_events_record_many) and the case number: the
    caller takes it with `application_number_take` as the last write before its
    commit, and links the resident's turn-aways (turn_aways_link) when it knows there
    are any.

    On PostgreSQL the case gets a placeholder number here and its real one at the end:
    the per-office number's row lock, which every new case of the office waits for, is
    then held only from that statement to the commit. Elsewhere (SQLite, one writer at a
    time anyway) the number is taken here."""
    if service.office_id != office.id or not service.is_active:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    year = office_today(office).year
    if connection.vendor == "postgresql":
        number = f"{UNNUMBERED_PREFIX}{secrets.token_hex(9)}"
    else:
        number = _case_number(office, year, sequence_next(office=office,
                                                          scope=f"application:{year}"))
    application = Application.objects.create(
        office=office, number=number, resident=resident, service=service, channel=channel,
        created_by=by if getattr(by, "pk", None) else None)
    opened = {"application": application, "kind": "application.opened",
              "params": {"number": number, "service": service.name, "channel": channel},
              "actor": by, "by_resident": channel == "app", "at": at}
    return application, opened


def _case_number(office: Office, year: int, number: int) -> str:
    return f"{office.code}-{year}-{number:05d}"


_NUMBER_TAKE_SQL = (
    "WITH seq AS ("
    " INSERT INTO registry_sequence (office_id, scope, value) VALUES (%s, %s, 1)"
    " ON CONFLICT (office_id, scope) DO UPDATE SET value = registry_sequence.value + 1"
    " RETURNING value),"
    " app AS (UPDATE registry_application SET number = %s ||"
    " CASE WHEN seq.value < 100000 THEN lpad(seq.value::text, 5, '0')"
    " ELSE seq.value::text END"
    " FROM seq WHERE registry_application.id = %s RETURNING registry_application.number)"
    " UPDATE registry_caseevent SET params = jsonb_set(params, '{number}',"
    " to_jsonb(app.number)) FROM app"
    " WHERE registry_caseevent.application_id = %s"
    " AND registry_caseevent.kind = 'application.opened'"
    " RETURNING app.number")


def application_number_take(*, application: Application) -> None:
    """Give a case opened by `application_start` its number: the next of its office
    and year, on the case and in its "application.opened" entry (already written). One
    statement on PostgreSQL, the last before the caller's commit; nothing to do where
    application_start took it."""
    if not application.number.startswith(UNNUMBERED_PREFIX):
        return
    year = office_today(application.office).year
    with connection.cursor() as cursor:
        # The upsert of sequence_next, the case's number and its opening entry's,
        # in one statement.
        cursor.execute(_NUMBER_TAKE_SQL,
            [application.office_id, f"application:{year}",
             f"{application.office.code}-{year}-", application.id, application.id])
        application.number = cursor.fetchone()[0]


def turn_aways_link(*, application: Application) -> int:
    """Link the resident's unlinked turn-aways of the last TURN_AWAY_LINK_DAYS at the
    case's office, for its service or with no service named, to this new case. The
    caller holds the transaction."""
    since = application.created_at - timedelta(days=TURN_AWAY_LINK_DAYS)
    return (TurnAway.objects.filter(
        office_id=application.office_id, resident_id=application.resident_id,
        application__isnull=True, at__gte=since, at__lte=application.created_at)
        .filter(Q(service_id=application.service_id) | Q(service__isnull=True))
        .update(application=application))


def application_set_status(*, application: Application, status: str, actor=None,
                           note: str = "", by_resident: bool = False) -> Application:
    """Move a case file to another status. The caller holds the transaction."""
    old = application.status
    if old == status:
        return application
    application.status = status
    closing = status in (ApplicationStatus.COMPLETED, ApplicationStatus.LAPSED,
                         ApplicationStatus.CANCELLED)
    application.closed_at = timezone.now() if closing else None
    application.save(update_fields=["status", "closed_at", "updated_at"])
    case_event_record(
        application=application, kind="application.status",
        params={"old": old, "new": status}, actor=actor, note=note, by_resident=by_resident,
    )
    return application


@transaction.atomic
def application_add_note(*, application: Application, note: str, by) -> CaseEvent:
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Write the note."), "note_required")
    return case_event_record(application=application, kind="application.note", note=note,
                             actor=by)


def case_events_record_many(*, entries: list[dict], batch_size: int = 1000) -> int:
    """Write many timeline entries in one statement per batch: each entry has the
    arguments of `case_event_record` (application, or application_id and office_id;
    kind, params, note, actor, at). The
    caller holds the transaction. Used where one operation touches thousands of cases."""
    now = timezone.now()
    rows = []
    for entry in entries:
        kind = entry["kind"]
        if not is_known_kind(kind):
            raise ValueError(f"Unknown case event kind {kind!r}; declare it in an events.py")
        application = entry.get("application")
        actor = entry.get("actor")
        rows.append(CaseEvent(
            office_id=entry.get("office_id") or application.office_id,
            application_id=entry.get("application_id") or application.id, kind=kind,
            params=entry.get("params") or {}, note=entry.get("note", ""),
            actor=actor if getattr(actor, "pk", None) else None,
            by_resident=entry.get("by_resident", False), at=entry.get("at") or now,
        ))
    CaseEvent.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


def case_events_record_from_rows(*, kind: str, rows_sql: str, rows_params: list,
                                 names: list[str], at) -> int:
    """One timeline entry `kind` per row of the row source, its params the row's
    p_<name> columns (as text) under their names. The caller holds the transaction."""
    if not is_known_kind(kind):
        raise ValueError(f"Unknown case event kind {kind!r}; declare it in an events.py")

    pairs = ", ".join(f"CAST(%s AS TEXT), s.p_{name}" for name in names)
    sql = (
        f"INSERT INTO {CaseEvent._meta.db_table} "  # noqa: S608 - names and columns are ours
        "(office_id, application_id, at, kind, params, note, actor_id, by_resident) "
        f"SELECT s.office_id, s.application_id, %s, %s, {sql_dialect('json_object')}"
        f"({pairs}), '', NULL, %s FROM ({rows_sql}) s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [sql_value(at), kind, *names, False, *rows_params])
        return cursor.rowcount
