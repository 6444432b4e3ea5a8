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

import json
import logging
from datetime import UTC, date
from functools import cache

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.base import ModelState
from django.utils import translation

from registry.encryption import EncryptedCharField, derived_fields, encrypt

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
    `model`'s table with no model instance per row, as the ORM would store the values:
    one COPY on PostgreSQL (its text format written here), one statement run per row by
    SQLite in C. For many rows that are only written (timelines, histories, loading
    past records); no defaults are filled in, so `fields` names every column without a
    database default. The caller holds the transaction. How many rows were written."""
    db = connections[DEFAULT_DB_ALIAS]
    return _write(db, model, [model._meta.get_field(name) for name in fields], rows)


# COPY's text format: a tab between values, \N for NULL, and these characters escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(field, name: str) -> str:
    """The expression writing value `name` of `field` in COPY's text format."""
    kind = field.get_internal_type()
    if isinstance(field, EncryptedCharField):
        return f"encrypt(str({name})).translate(escapes)"
    if kind == "JSONField":
        return f"dumps({name}, cls=encoders[{name!r}]).translate(escapes)"
    if kind == "BooleanField":
        return f"('t' if {name} else 'f')"
    if kind in ("DateTimeField", "DateField", "TimeField"):
        return f"{name}.isoformat()"
    if kind in ("CharField", "TextField", "SlugField", "EmailField", "URLField",
                "FileField", "GenericIPAddressField"):
        return f"str({name}).translate(escapes)"
    return f"str({name})"  # numbers, keys, UUIDs


def _copy_formatter(fields: list):
    """A function turning a row of `fields`' values into a line of COPY's text format,
    compiled once per call site: one call per row instead of one per value (hundreds of
    thousands of rows)."""
    names = [f"v{n}" for n in range(len(fields))]
    parts = [f"'\\\\N' if {name} is None else {_copy_value(field, name)}"
             for name, field in zip(names, fields, strict=True)]
    source = (f"def line(row):\n    {', '.join(names)}, = row\n"
              f"    return '\\t'.join(({', '.join(parts)},))\n")
    scope = {"dumps": json.dumps, "escapes": _COPY_ESCAPES, "encrypt": encrypt,
             "encoders": {name: getattr(field, "encoder", None)
                          for name, field in zip(names, fields, strict=True)}}
    exec(compile(source, "<copy row>", "exec"), scope)  # noqa: S102 - our own source
    return scope["line"]


def _write(db, model, fields: list, rows) -> int:
    table = db.ops.quote_name(model._meta.db_table)
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    written = 0
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            line = _copy_formatter(fields)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                lines: list[str] = []
                for row in rows:
                    lines.append(line(row))
                    if len(lines) >= 5000:
                        copy.write("\n".join(lines) + "\n")
                        written, lines = written + len(lines), []
                if lines:
                    copy.write("\n".join(lines) + "\n")
                    written += len(lines)
            return written
        adapters = [_adapter(field, db) for field in fields]
        sql = (f"INSERT INTO {table} ({columns}) "  # noqa: S608 - the model's names
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        chunk: list = []
        for row in rows:
            chunk.append(tuple(value if adapt is None or value is None else adapt(value)
                               for adapt, value in zip(adapters, row, strict=True)))
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
    if isinstance(field, EncryptedCharField):
        return encrypt
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
    # The hash and last-4 columns of encrypted fields are computed as save() would.
    stamped = [f for f in fields if getattr(f, "auto_now", False)
               or getattr(f, "auto_now_add", False) or f in derived_fields(model)]
    related = [(f.attname, f.name) for f in fields if f.is_relation]
    attnames = [f.attname for f in fields]
    rows = []
    for obj in objects:
        for field in stamped:
            field.pre_save(obj, add=True)
        values = obj.__dict__
        for attname, name in related:
            if values.get(attname) is None:
                target = obj._state.fields_cache.get(name)
                if target is not None:
                    # Not through the descriptor, which would drop the cached object.
                    values[attname] = target.pk
        rows.append(tuple(values.get(attname) for attname in attnames))
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
    adapters = [_adapter(field, db) for field in fields]
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
                           [value if adapt is None or value is None else adapt(value)
                            for row in part
                            for adapt, value in zip(adapters, row, strict=True)])
            ids.extend(found[0] for found in cursor.fetchall())
    return ids


def rows_update(model, fields: list[str], rows) -> int:
    """Set `fields` of many rows, each its own values: `rows` are (pk, *values) tuples.
    PostgreSQL takes them as one array per column in a statement per 10,000 rows;
    SQLite runs one statement per row in C. The caller holds the transaction."""
    db = connections[DEFAULT_DB_ALIAS]
    model_fields = [model._meta.get_field(name) for name in fields]
    table = db.ops.quote_name(model._meta.db_table)
    pk = db.ops.quote_name(model._meta.pk.column)
    rows = list(rows)
    if not rows:
        return 0
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            columns = [db.ops.quote_name(f.column) for f in model_fields]
            types = [model._meta.pk.rel_db_type(db)] + [f.db_type(db) for f in model_fields]
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            names = ", ".join(["id", *[f"v{n}" for n in range(len(fields))]])
            sets = ", ".join(f"{column} = v.v{n}" for n, column in enumerate(columns))
            sql = (f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v({names}) "  # noqa: S608
                   f"WHERE {table}.{pk} = v.id")
            for n in range(0, len(rows), 10_000):
                part = rows[n:n + 10_000]
                cursor.execute(sql, [list(column) for column in zip(*part, strict=True)])
            return len(rows)
        adapters = [_adapter(field, db) for field in model_fields]
        sets = ", ".join(f"{db.ops.quote_name(f.column)} = %s" for f in model_fields)
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608 - the model's names
            [(*(value if adapt is None or value is None else adapt(value)
                for adapt, value in zip(adapters, values, strict=True)), key)
             for key, *values in rows])
    return len(rows)


def instance(model, **values):
    """An unsaved instance of `model` with `values` (by field name, a related object for a
    foreign key, or by attname, its id) and its other fields at their defaults, made
    without Model.__init__'s signals and checks: for the hundreds of thousands of rows
    objects_insert writes (registry.demo_history). It reads and saves as usual."""
    obj = model.__new__(model)
    obj._state = ModelState()
    data = obj.__dict__
    constants, calls, relations = _construction(model)
    data.update(constants)
    for attname, make in calls:
        if attname not in values:
            data[attname] = make()
    for name, value in values.items():
        attname = relations.get(name)
        if attname is None:
            data[name] = value
        else:
            obj._state.fields_cache[name] = value
            data[attname] = value.pk if value is not None else None
    return obj


@cache
def _construction(model) -> tuple[dict, list, dict]:
    """`model`'s fields at their defaults: those that are constant, those made per
    instance (a callable default), and the foreign keys' attnames by field name."""
    constants, calls = {}, []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            calls.append((field.attname, field.default))
        else:
            constants[field.attname] = field.get_default()
    relations = {f.name: f.attname for f in model._meta.concrete_fields if f.is_relation}
    return constants, calls, relations
