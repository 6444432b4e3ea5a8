"""Notifications to residents: the inbox row, its deliveries by channel (an outbox the
worker sends and the sweep retries), for one resident or many at once, and many in a
few statements from a SELECT (set-based sweeps).
"""

import logging
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from registry.background import enqueue_on_commit
from registry.encryption import ColumnSpec, EncryptedCharField, reencrypt_column
from registry.models import (
    Application,
    CaseEvent,
    DeliveryStatus,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    Office,
    PhoneType,
    Resident,
)
from registry.services.bulk_sql import sql_dialect, sql_text_in_language, sql_value
from registry.services.cases import case_events_record_many

logger = logging.getLogger(__name__)


class ChannelRule(NamedTuple):
    """One way to reach a resident: the channel, the resident's fields that must all be
    set for it, the field that is its address (None: the app's inbox), and the phone
    types it is for (None: every type)."""

    channel: str
    needs: tuple[str, ...]
    address: str | None
    phone_types: tuple[str, ...] | None = None


# Where a resident can be reached, in the order deliveries are made. The phone type
# chooses the phone channel: a smartphone gets push (once on the app) and WhatsApp, a
# feature phone SMS, and only to a bound phone (a number typed in by staff is not
# known to be theirs), no phone none; e-mail goes to anyone with an address.
# notification_channels_for reads it for one resident; _channels_sql writes the same
# rule for a set-based sweep, so the two cannot drift apart.
CHANNEL_RULES = [
    ChannelRule(NotificationChannel.PUSH, ("app_registered_at",), None,
                (PhoneType.SMARTPHONE,)),
    ChannelRule(NotificationChannel.WHATSAPP, ("phone",), "phone", (PhoneType.SMARTPHONE,)),
    ChannelRule(NotificationChannel.SMS, ("phone", "phone_bound_at"), "phone",
                (PhoneType.FEATURE_PHONE,)),
    ChannelRule(NotificationChannel.EMAIL, ("email",), "email"),
]


def notification_channels_for(resident: Resident) -> list[tuple[str, str]]:
    """(channel, address) pairs a resident can be reached on. Every notification is
    also stored in the app inbox, so the app channel only adds a push."""
    return [(rule.channel, getattr(resident, rule.address) if rule.address else "")
            for rule in CHANNEL_RULES
            if all(getattr(resident, field) for field in rule.needs)
            and (rule.phone_types is None or resident.phone_type in rule.phone_types)]


def notification_send(*, office: Office, resident: Resident, kind: str, title, body,
                      params: dict | None = None, application: Application | None = None,
                      link: str = "", dedup_key: str | None = None,
                      channels: list[tuple[str, str]] | None = None,
                      case_events: list[dict] | None = None) -> Notification | None:
    """Tell a resident something: store it in their inbox and queue its sending on
    each of their channels once the transaction commits (notifications_send_many, for
    one resident, each delivery in a task of its own).

    `title` and `body` are translatable strings formatted with `params`, rendered in
    the resident's language. With a `dedup_key` the same fact is told once: a second
    call with the key returns None and sends nothing. `channels`, (channel, address)
    pairs, replace the resident's own (CHANNEL_RULES): an answer to an SMS goes back by
    SMS to the number it came from.

    The sending is one task for all the notification's deliveries (one message to the
    broker); each delivery is still its own row, sent and retried on its own, and the
    resend sweep queues any whose task was lost. `case_events`, timeline entries of
    the caller (as case_events_record_many takes them), are written in the same
    statement as the notification's own entry, before it.
    """
    from registry.tasks import notification_deliver, notifications_deliver_many

    entry = {"office_id": office.id, "resident": resident, "kind": kind, "title": title,
             "body": body, "params": params, "link": link, "dedup_key": dedup_key,
             "application_id": application.id if application is not None else None,
             "channels": channels}
    with transaction.atomic(savepoint=False):
        if dedup_key:
            try:
                with transaction.atomic():
                    [(notification, deliveries)] = _notifications_write(
                        entries=[entry], case_events=case_events)
            except IntegrityError:
                return None
        else:
            [(notification, deliveries)] = _notifications_write(entries=[entry],
                                                                case_events=case_events)
        if len(deliveries) == 1:
            enqueue_on_commit(notification_deliver, deliveries[0].id)
        elif deliveries:
            enqueue_on_commit(notifications_deliver_many, [d.id for d in deliveries])
    return notification


@transaction.atomic
def notifications_mark_read(*, resident: Resident, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(resident=resident, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(id__in=ids)
    return unread.update(read_at=timezone.now())


NOTIFY_TASK_CHUNK = 200


def notifications_send_many(*, entries: list[dict], batch_size: int = 2000) -> int:
    """Tell many residents at once, as `notification_send` tells one: an inbox entry,
    one delivery row per channel, a timeline entry per case, and the sending queued
    after commit in tasks of NOTIFY_TASK_CHUNK deliveries.

    Each entry has `office_id`, `resident` (a Resident), `kind`, `title`, `body`,
    `params`, and optional `application_id`, `link`, `dedup_key`. Texts are rendered
    once per language. The caller holds the transaction and makes sure each fact is
    sent once (a sweep locks its rows); a repeated dedup key fails the whole batch
    rather than being skipped.
    """
    from registry.tasks import notifications_deliver_many

    written = _notifications_write(entries=entries, batch_size=batch_size)
    ids = [delivery.id for _notification, deliveries in written for delivery in deliveries]
    for start in range(0, len(ids), NOTIFY_TASK_CHUNK):
        enqueue_on_commit(notifications_deliver_many, ids[start:start + NOTIFY_TASK_CHUNK])
    return len(written)


def _notifications_write(*, entries: list[dict], batch_size: int = 2000,
                         case_events: list[dict] | None = None,
                         ) -> list[tuple[Notification, list[NotificationDelivery]]]:
    """The rows of telling residents, for one or many: each entry's inbox entry (texts
    in its resident's language), a pending delivery per channel the resident has, and
    a `notification.sent` timeline entry per case. Each notification with its
    deliveries, in the entries' order; queueing the sending is the caller's."""
    rendered: dict[tuple[int, str], str] = {}

    def render(text, language, params):
        # Entries of one sweep share their (lazy) texts: translate each once per language.
        key = (id(text), language)
        if key not in rendered:
            with translation.override(language):
                rendered[key] = str(text)
        return rendered[key] % params if params else rendered[key]

    notifications = []
    for entry in entries:
        resident = entry["resident"]
        language = resident.language or "id"
        params = entry.get("params") or {}
        notifications.append(Notification(
            office_id=entry["office_id"], resident_id=resident.id,
            application_id=entry.get("application_id"), kind=entry["kind"],
            title=render(entry["title"], language, params)[:200],
            body=render(entry["body"], language, params), link=entry.get("link", ""),
            dedup_key=entry.get("dedup_key")))
    Notification.objects.bulk_create(notifications, batch_size=batch_size)
    written = []
    for notification, entry in zip(notifications, entries, strict=True):
        written.append((notification, [
            NotificationDelivery(office_id=notification.office_id, notification=notification,
                                 channel=channel, address=address)
            for channel, address in (entry.get("channels") if entry.get("channels") is not None
                                     else notification_channels_for(entry["resident"]))]))
    NotificationDelivery.objects.bulk_create(
        [delivery for _notification, deliveries in written for delivery in deliveries],
        batch_size=batch_size)
    case_events_record_many(entries=[*(case_events or []), *(
        {"office_id": n.office_id, "application_id": n.application_id,
         "kind": "notification.sent", "params": {"title": n.title}}
        for n in notifications if n.application_id)], batch_size=batch_size)
    return written


def _channels_sql() -> tuple[str, str, str, dict]:
    """CHANNEL_RULES for a set-based sweep over residents `r`: the channels as a row
    source `c` (channel, ord), the address of channel `c.channel`, and the condition
    that the resident has it; with their parameters."""
    channels = " UNION ALL ".join(
        f"SELECT CAST('{rule.channel}' AS TEXT) AS channel, {order} AS ord"
        for order, rule in enumerate(CHANNEL_RULES))
    fields = {field.name: field for field in Resident._meta.concrete_fields}
    address_whens, address_params, reachable, reachable_params = [], [], [], []
    for rule in CHANNEL_RULES:
        if rule.address:
            address_whens.append(f"WHEN %s THEN r.{fields[rule.address].column}")
            address_params.append(rule.channel)
        conditions = ["c.channel = %s"]
        reachable_params.append(rule.channel)
        for needed in rule.needs:
            column = f"r.{fields[needed].column}"
            conditions.append(
                f"COALESCE({column}, '') <> ''" if fields[needed].get_internal_type()
                in ("CharField", "EmailField", "TextField") else f"{column} IS NOT NULL")
        if rule.phone_types is not None:
            conditions.append(f"r.{fields['phone_type'].column} IN "
                              f"({', '.join('%s' for _type in rule.phone_types)})")
            reachable_params.extend(rule.phone_types)
        reachable.append(f"({' AND '.join(conditions)})")
    address_sql = f"CASE c.channel {' '.join(address_whens)} ELSE '' END"
    return channels, address_sql, " OR ".join(reachable), {
        "address": address_params, "reachable": reachable_params}


def notifications_send_from_rows(*, office_id: int, kind: str, title, body, rows_sql: str,
                                 rows_params: list, names: list[str], link: str = "") -> int:
    """Tell the resident of each row of the row source, as `notifications_send_many`
    would: an inbox entry (title and body in the resident's language, formatted with
    the row's p_<name> columns; the row's dedup_key), a pending delivery per channel
    the resident has (push when on the app, WhatsApp when a phone, e-mail when an
    address), a `notification.sent` timeline entry per case, and, after commit, one
    task that sends this office's new deliveries
    (notification_sending.notifications_deliver_pending).

    `body` may be a dict of texts by variant, for rows told differently (a resident
    without the app is not sent to it): each row's `variant` column picks one, the
    first is the rest's.

    Four statements whatever the number of rows. Every row needs a dedup key: it is how
    the deliveries find their notification, and a key told before fails the whole
    statement (as in `notifications_send_many`), so the caller's transaction rolls back
    rather than telling anyone twice. All rows belong to the office `office_id`. The
    caller holds the transaction and makes sure each row is taken once (a sweep claims
    its rows).
    """

    from registry.tasks import notifications_deliver_pending

    now = sql_value(timezone.now())
    title_sql, title_params = sql_text_in_language(title, names)
    body_sql, body_params = _body_sql(body, names)
    rows = f"({rows_sql}) s JOIN {Resident._meta.db_table} r ON r.id = s.resident_id"
    told = (f"{rows} JOIN {Notification._meta.db_table} n ON n.resident_id = s.resident_id "
            "AND n.dedup_key = s.dedup_key")
    channels, address_sql, reachable_sql, rule_params = _channels_sql()
    with connection.cursor() as cursor:
        # The deliveries written below are the office's first ones after this id.
        cursor.execute(f"SELECT MAX(id) FROM {NotificationDelivery._meta.db_table}")  # noqa: S608
        after_id = cursor.fetchone()[0] or 0
        cursor.execute(
            f"INSERT INTO {Notification._meta.db_table} "  # noqa: S608 - our names only
            "(office_id, resident_id, application_id, kind, title, body, link, dedup_key, "
            "created_at, read_at) "
            f"SELECT s.office_id, s.resident_id, s.application_id, %s, "
            f"substr({title_sql}, 1, 200), {body_sql}, %s, s.dedup_key, %s, NULL "
            f"FROM {rows}",
            [kind, *title_params, *body_params, link, now, *rows_params])
        told_count = cursor.rowcount
        if not told_count:
            return 0
        cursor.execute(
            f"INSERT INTO {NotificationDelivery._meta.db_table} "  # noqa: S608 - ours
            "(office_id, notification_id, channel, address, status, attempts, "
            "next_attempt_at, sent_at, provider_ref, last_error) "
            f"SELECT n.office_id, n.id, c.channel, {address_sql}, %s, 0, %s, NULL, '', '' "
            f"FROM {told} CROSS JOIN ({channels}) c "
            f"WHERE n.dedup_key IS NOT NULL AND ({reachable_sql}) "
            "ORDER BY n.id, c.ord",
            [*rule_params["address"], DeliveryStatus.PENDING, now, *rows_params,
             *rule_params["reachable"]])
        delivered = cursor.rowcount
        if delivered and any(rule.address and not isinstance(
                Resident._meta.get_field(rule.address), EncryptedCharField)
                for rule in CHANNEL_RULES):
            # The SQL copied the residents' encrypted phones as they are, but the e-mail
            # addresses in clear: those are encrypted here (registry.encryption).
            reencrypt_column(connection, ColumnSpec(
                NotificationDelivery._meta.db_table, "address"), plaintext_ok=True,
                after_pk=after_id)
        cursor.execute(
            f"INSERT INTO {CaseEvent._meta.db_table} "  # noqa: S608 - our names only
            "(office_id, application_id, at, kind, params, note, actor_id, by_resident) "
            f"SELECT n.office_id, n.application_id, %s, %s, "
            f"{sql_dialect('json_object')}(CAST(%s AS TEXT), n.title), '', NULL, %s "
            f"FROM {told} WHERE n.dedup_key IS NOT NULL AND n.application_id IS NOT NULL "
            "ORDER BY n.id",
            [now, "notification.sent", "title", False, *rows_params])
    if delivered:
        enqueue_on_commit(notifications_deliver_pending, office_id, after_id)
    return told_count


def _body_sql(body, names: list[str]) -> tuple[str, list]:
    """The body in the resident's language, one of a dict's texts by the row's variant."""
    if not isinstance(body, dict):
        return sql_text_in_language(body, names)
    (_first, default), *others = body.items()
    whens, params = [], []
    for variant, text in others:
        sql, values = sql_text_in_language(text, names)
        whens.append(f"WHEN %s THEN {sql}")
        params += [variant, *values]
    sql, values = sql_text_in_language(default, names)
    if not whens:
        return sql, values
    return f"CASE s.variant {' '.join(whens)} ELSE {sql} END", [*params, *values]
