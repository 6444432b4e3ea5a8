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


def rows_insert(model, fields: list[str], rows) -> int:
    """Insert `rows` (tuples of the values of `fields`, foreign keys as ids) into
    `model`'s table with no model instance per row: the values are adapted as the ORM
    would save them (dates, datetimes, JSON, UUIDs), field by field, and sent as one
    COPY on PostgreSQL, one statement run per row by SQLite in C. For many rows that are
    only written (timelines, histories, loading past records); no defaults are filled
    in, so `fields` names every column without a database default. The caller holds
    the transaction. How many rows were written."""
    db = connections[DEFAULT_DB_ALIAS]
    model_fields = [model._meta.get_field(name) for name in fields]
    adapters = [_adapter(field, db) for field in model_fields]
    adapted = (tuple(value if adapt is None or value is None else adapt(value)
                     for adapt, value in zip(adapters, row, strict=True)) for row in rows)
    return _write(db, model, model_fields, adapted)


def _write(db, model, fields: list, rows) -> int:
    table = db.ops.quote_name(model._meta.db_table)
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    written = 0
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
            return written
        sql = (f"INSERT INTO {table} ({columns}) "  # noqa: S608 - the model's names
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        chunk: list = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= 5000:
                cursor.executemany(sql, chunk)
                written, chunk = written + len(chunk), []
        if chunk:
            cursor.executemany(sql, chunk)
            written += len(chunk)
    return written


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
    thousands of rows of past records (registry.demo_history): on PostgreSQL the ids
    are drawn from the table's sequence first and the rows sent as one COPY. No
    signals. The caller holds the transaction."""
    if not objects:
        return objects
    db = connections[DEFAULT_DB_ALIAS]
    model = type(objects[0])
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    adapters = [_adapter(field, db) for field in fields]
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
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                           "FROM generate_series(1, %s)",
                           [model._meta.db_table, pk.column, len(objects)])
            ids = [found[0] for found in cursor.fetchall()]
        _write(db, model, [pk, *fields], ((new_id, *row) for new_id, row
                                          in zip(ids, rows, strict=True)))
    else:
        ids = _returning(db, model, fields, rows)
    for obj, new_id in zip(objects, ids, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS
    return objects


def _returning(db, model, fields: list, rows: list) -> list[int]:
    """SQLite: the rows in statements of as many as its parameters allow, each
    returning the new ids in order (as bulk_create relies on)."""
    table = db.ops.quote_name(model._meta.db_table)
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per = max(1, db.features.max_query_params // len(fields))
    ids = []
    with db.cursor() as cursor:
        for n in range(0, len(rows), per):
            part = rows[n:n + per]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - model's names
                           + ", ".join([one] * len(part))
                           + f" RETURNING {db.ops.quote_name(model._meta.pk.column)}",
                           [value for row in part for value in row])
            ids.extend(found[0] for found in cursor.fetchall())
    return ids


def rows_update(model, fields: list[str], rows) -> int:
    """Set `fields` of many rows, each its own values: `rows` are (pk, *values) tuples,
    adapted as rows_insert adapts them; one statement run per row by the driver
    (SQLite in C, psycopg in a pipeline). The caller holds the transaction."""
    db = connections[DEFAULT_DB_ALIAS]
    model_fields = [model._meta.get_field(name) for name in fields]
    adapters = [_adapter(field, db) for field in model_fields]
    sets = ", ".join(f"{db.ops.quote_name(f.column)} = %s" for f in model_fields)
    sql = (f"UPDATE {db.ops.quote_name(model._meta.db_table)} SET {sets} "  # noqa: S608
           f"WHERE {db.ops.quote_name(model._meta.pk.column)} = %s")
    params = [(*(value if adapt is None or value is None else adapt(value)
                 for adapt, value in zip(adapters, values, strict=True)), pk)
              for pk, *values in rows]
    if params:
        with db.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)
