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
from datetime import date

from django.conf import settings
from django.db import connection
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
