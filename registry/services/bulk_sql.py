"""Writing many rows in a few statements (set-based sweeps).

A sweep over tens of thousands of rows cannot afford a Python object per row: the
database writes them with INSERT ... SELECT. Texts are translated in Python once per
language; each row's parts are put in by the database, by concatenation, so nothing
a row holds is ever read as a placeholder. Vendor differences (PostgreSQL in
production, SQLite >= 3.35 by default) are the few entries of SQL_DIALECT.

The caller describes its rows as one SELECT (`rows_sql`, `rows_params`) whose columns are

    office_id, resident_id, application_id, dedup_key, and one text column per
    template parameter, named p_<name> (p_code, p_date, ...)

and cases.case_events_record_from_rows and notifications.notifications_send_from_rows
write the timeline entries, the inbox rows, the deliveries and their
`notification.sent` entries exactly as case_events_record_many and
notifications_send_many would: the same texts, params, dedup keys and channels. The
statement count depends on neither the number of rows nor their content.
"""

import logging
from datetime import UTC, date

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import translation

logger = logging.getLogger(__name__)


SQL_DIALECT = {
    # A JSON object from key/value arguments: jsonb on PostgreSQL, text on SQLite.
    "json_object": {"postgresql": "jsonb_build_object", "sqlite": "json_object"},
    # A TIME column as HH:MM (SQLite keeps times as 'HH:MM:SS[.ffffff]' text).
    "hhmm": {"postgresql": "to_char({}, 'HH24:MI')", "sqlite": "substr({}, 1, 5)"},
}


_MARK = "\x00"  # never in a translation; splits a rendered template into its parts


def sql_dialect(name: str) -> str:

    return SQL_DIALECT[name][connection.vendor]


def sql_value(value):
    """A date or datetime as the database stores it, for a raw statement's parameter
    (SQLite compares the text: naive UTC, as the ORM writes it)."""
    from datetime import datetime


    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _sql_template(text, language: str, names: list[str]) -> tuple[str, list[str]]:
    """`text` translated into `language` and formatted as `text % params` would be, as
    an SQL expression that concatenates its literal parts (bound parameters) with the
    row's p_<name> columns of the row source `s`."""
    with translation.override(language):
        rendered = str(text) % {name: f"{_MARK}{name}{_MARK}" for name in names}
    pieces = rendered.split(_MARK)
    sql, params = [], []
    for index, piece in enumerate(pieces):
        if index % 2:
            sql.append(f"s.p_{piece}")
        elif piece:
            sql.append("CAST(%s AS TEXT)")
            params.append(piece)
    return " || ".join(sql) or "''", params


def sql_text_in_language(text, names: list[str]) -> tuple[str, list[str]]:
    """`text` in the resident's language (r.language; the default language when it is
    empty or unknown), as `notifications_send_many` renders it."""
    default = settings.LANGUAGE_CODE
    branches, params = [], []
    for code, _name in settings.LANGUAGES:
        if code != default:
            sql, values = _sql_template(text, code, names)
            branches.append(f"WHEN %s THEN {sql}")
            params += [code, *values]
    sql, values = _sql_template(text, default, names)
    if not branches:
        return sql, values
    return f"CASE r.language {' '.join(branches)} ELSE {sql} END", params + values


def rows_insert(model, fields: list[str], rows, *, batch: int = 2000) -> int:
    """Insert `rows` (tuples of the values of `fields`, foreign keys as ids) into
    `model`'s table with no model instance per row: the values are adapted as the ORM
    would save them (dates, datetimes, JSON, UUIDs), field by field. For many rows that
    are only written (timelines, histories, loading past records); no defaults are
    filled in, so `fields` names every column without a database default. The caller
    holds the transaction. How many rows were written."""
    model_fields = [model._meta.get_field(name) for name in fields]
    adapters = [_adapter(field, connections[DEFAULT_DB_ALIAS]) for field in model_fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in model_fields)
    table = connection.ops.quote_name(model._meta.db_table)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    written = 0
    with connection.cursor() as cursor:
        chunk: list = []
        for row in rows:
            chunk.append(tuple(value if adapt is None or value is None else adapt(value)
                               for adapt, value in zip(adapters, row, strict=True)))
            if len(chunk) >= batch:
                written += _insert(cursor, table, columns, one, chunk)
                chunk = []
        if chunk:
            written += _insert(cursor, table, columns, one, chunk)
    return written


def _insert(cursor, table: str, columns: str, one: str, chunk: list) -> int:
    sql = f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - names are the model's
    if connection.vendor == "sqlite":
        # SQLite takes few parameters per statement; one statement run per row in C.
        cursor.executemany(sql + one, chunk)
    else:
        per = max(1, min(len(chunk), 60_000 // len(chunk[0])))
        for n in range(0, len(chunk), per):
            part = chunk[n:n + per]
            cursor.execute(sql + ", ".join([one] * len(part)),
                           [value for row in part for value in row])
    return len(chunk)


def _adapter(field, db):
    """How a value of `field` is written, as the ORM prepares it (None: as it is). `db`
    is the connection itself, not the thread-local proxy, read once per value."""
    kind = field.get_internal_type()
    if kind == "DateTimeField" and db.vendor == "sqlite":
        # What adapt_datetimefield_value makes of an aware datetime (naive UTC text),
        # without its checks: hundreds of thousands of values.
        return lambda value: (str(value.astimezone(UTC).replace(tzinfo=None))
                              if value.tzinfo is not None
                              else db.ops.adapt_datetimefield_value(value))
    if kind == "DateTimeField":
        return db.ops.adapt_datetimefield_value
    if kind == "DateField":
        return db.ops.adapt_datefield_value
    if kind in ("JSONField", "UUIDField", "DecimalField", "TimeField"):
        return lambda value: field.get_db_prep_save(value, db)
    return None


def objects_insert(objects: list) -> list:
    """Insert unsaved instances of one model as bulk_create does (defaults and
    auto_now filled in by the instances, related objects saved before them taken by
    their ids, the new ids set on them) with less work per value, for the tens of
    thousands of rows of past records (registry.demo_history). No signals. The caller
    holds the transaction."""
    if not objects:
        return objects
    model = type(objects[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    adapters = [_adapter(field, connections[DEFAULT_DB_ALIAS]) for field in fields]
    stamped = [f for f in fields if getattr(f, "auto_now", False)
               or getattr(f, "auto_now_add", False)]
    related = [f for f in fields if f.is_relation]
    rows = []
    for obj in objects:
        for field in stamped:
            field.pre_save(obj, add=True)
        for field in related:
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                target = field.get_cached_value(obj)
                if target is not None:
                    # Not through the descriptor, which would drop the cached object.
                    obj.__dict__[field.attname] = target.pk
        rows.append(tuple(
            value if adapt is None or value is None else adapt(value)
            for adapt, value in zip(adapters, (getattr(obj, f.attname) for f in fields),
                                    strict=True)))
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    pk = connection.ops.quote_name(model._meta.pk.column)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    limit = 999 if connection.vendor == "sqlite" else 60_000
    per = max(1, limit // len(fields))
    ids = []
    with connection.cursor() as cursor:
        for n in range(0, len(rows), per):
            part = rows[n:n + per]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - model's names
                           + ", ".join([one] * len(part)) + f" RETURNING {pk}",
                           [value for row in part for value in row])
            ids.extend(found[0] for found in cursor.fetchall())
    for obj, new_id in zip(objects, ids, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = "default"
    return objects


def rows_update(model, fields: list[str], rows) -> int:
    """Set `fields` of many rows, each its own values: `rows` are (pk, *values) tuples,
    adapted as rows_insert adapts them; one statement run per row by the driver
    (SQLite in C, psycopg in a pipeline). The caller holds the transaction."""
    model_fields = [model._meta.get_field(name) for name in fields]
    adapters = [_adapter(field, connections[DEFAULT_DB_ALIAS]) for field in model_fields]
    sets = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in model_fields)
    sql = (f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET {sets} "  # noqa: S608
           f"WHERE {connection.ops.quote_name(model._meta.pk.column)} = %s")
    params = [(*(value if adapt is None or value is None else adapt(value)
                 for adapt, value in zip(adapters, values, strict=True)), pk)
              for pk, *values in rows]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)
