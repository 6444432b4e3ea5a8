"""Every write of the registry core. One function per operation, each in one
transaction, each recording the case event it causes."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from registry import extensions, tenancy
from registry.background import enqueue_on_commit
from registry.calendar import office_today
from registry.errors import Conflict, DomainError, NotFound
from registry.models import (
    DEFAULT_CLOSES,
    DEFAULT_OPENS,
    Application,
    ApplicationStatus,
    CaseEvent,
    Closure,
    DeliveryStatus,
    Lane,
    NikDisclosure,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    Office,
    Requirement,
    Resident,
    Role,
    Service,
    StaffMembership,
    StaffTokenState,
    WorkingHours,
)
from registry.nik import NikError, parse_nik
from registry.timeline import is_known_kind
from registry.validators import normalize_phone

logger = logging.getLogger(__name__)


# --- Sequences -------------------------------------------------------------


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


# --- Offices and staff -----------------------------------------------------


@transaction.atomic
def office_create(*, code: str, name: str, timezone_name: str = "Asia/Jakarta",
                  address: str = "", **contacts) -> Office:
    """A new office with the default week: Monday to Friday, 08:00 to 15:00."""
    if Office.objects.filter(code=code).exists():
        raise Conflict(_("An office with region code %(code)s exists.") % {"code": code},
                       "office_exists")
    office = Office(code=code, name=name, timezone=timezone_name, address=address, **contacts)
    office.full_clean()
    office.save()
    WorkingHours.objects.bulk_create(
        WorkingHours(office=office, weekday=day, opens=DEFAULT_OPENS, closes=DEFAULT_CLOSES)
        for day in range(5)
    )
    return office


@transaction.atomic
def catalogue_seed(*, office: Office) -> list[Service]:
    """Give an office the standard lanes and services (registry.catalogue). Existing
    lanes, services and requirements are left as the office edited them."""
    from registry.catalogue import STANDARD_LANES, STANDARD_SERVICES

    lanes = {}
    for letter, name in STANDARD_LANES:
        lanes[letter], _created = Lane.objects.get_or_create(
            office=office, letter=letter, defaults={"name": name})
    services = []
    for spec in STANDARD_SERVICES:
        service, created = Service.objects.get_or_create(
            office=office, code=spec["code"],
            defaults={
                "name": spec["name"], "lane": lanes[spec["lane"]], "steps": spec["steps"],
                "estimated_minutes": spec["minutes"], "home_delivery": spec["home_delivery"],
                "holder_in_person": spec["holder_in_person"],
                "produces_card": spec["produces_card"], "needs_central": True,
            },
        )
        if created:
            Requirement.objects.bulk_create(
                Requirement(office=office, service=service, code=code, name=name,
                            valid_days=days, how_to_obtain=hint, position=position)
                for position, (code, name, days, hint) in enumerate(spec["requirements"])
            )
        services.append(service)
    return services


@transaction.atomic
def closure_add(*, office: Office, day: date, reason: str, by=None) -> Closure:
    """Close the office on one day. Bookings on that day are moved by
    registry.appointments.services.closures.closure_declare, which calls this."""
    if Closure.objects.filter(office=office, date=day).exists():
        raise Conflict(_("The office is already closed on %(date)s.") % {"date": day},
                       "closure_exists")
    return Closure.objects.create(office=office, date=day, reason=reason, created_by=by)


def collect_role_permissions() -> dict[str, list[str]]:
    """The permissions of each role, joined from every app's roles.py (registered in
    its AppConfig.ready(), see registry.extensions)."""
    joined: dict[str, list[str]] = {role: [] for role in Role}
    for role_permissions in extensions.registered(extensions.ROLES):
        for role, perms in role_permissions.items():
            joined[role].extend(perms)
    return joined


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create or update one group per role with exactly its permissions.

    Raises if a listed permission does not exist, so a typo in a roles.py is caught
    by the first test that sets up roles rather than silently granting nothing.
    """
    groups = {}
    for role, perms in collect_role_permissions().items():
        wanted = set(perms)
        found = list(
            Permission.objects.filter(
                Q(*[Q(content_type__app_label=p.split(".")[0], codename=p.split(".")[1])
                    for p in wanted], _connector=Q.OR)
            ).select_related("content_type")
        ) if wanted else []
        missing = wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        if missing:
            raise ValueError(f"Role {role}: unknown permissions {sorted(missing)}")
        group, _created = Group.objects.get_or_create(name=str(Role(role).label))
        group.permissions.set(found)
        groups[role] = group
    return groups


def _sync_user_groups(user) -> None:
    from registry.roles import ADMIN_ROLES

    roles = set(StaffMembership.objects.filter(user=user).values_list("role", flat=True))
    names = [str(Role(role).label) for role in roles]
    user.groups.set(Group.objects.filter(name__in=names))
    user.is_staff = user.is_superuser or bool(roles & {str(r) for r in ADMIN_ROLES})
    user.save(update_fields=["is_staff"])
    tenancy.forget_memberships(user)


@transaction.atomic
def staff_membership_grant(*, user, office: Office, role: str, by=None) -> StaffMembership:
    """Give `user` a role in `office`; their groups and admin access follow.

    With `by`, the grant is theirs: refused unless they may grant the role there and
    manage the account (registry.tenancy.staff_manageable_by)."""
    if by is not None and (role not in tenancy.staff_grantable_roles(by, office)
                           or not tenancy.staff_may_manage(by, user)):
        raise NotFound(_("Not found."), "not_found")
    membership, _created = StaffMembership.objects.get_or_create(
        user=user, office=office, role=role
    )
    _sync_user_groups(user)
    return membership


@transaction.atomic
def staff_user_create(*, username: str, password: str | None, office: Office, role: str,
                      by, first_name: str = "", last_name: str = "", email: str = ""):
    """A new staff account with its first role, made by `by`. It is never without an
    office: an account with none is managed by superusers only, so an office
    administrator's new account starts in one of their offices. No password
    (`None`) makes an account that cannot sign in with one."""
    if role not in tenancy.staff_grantable_roles(by, office):
        raise NotFound(_("Not found."), "not_found")
    user = get_user_model()(username=username, first_name=first_name, last_name=last_name,
                            email=email)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    StaffMembership.objects.create(user=user, office=office, role=role)
    _sync_user_groups(user)
    return user


@transaction.atomic
def staff_membership_revoke(*, membership: StaffMembership) -> None:
    """Remove a role; the user's API tokens end with it (the field team's phones)."""
    user = membership.user
    membership.delete()
    _sync_user_groups(user)
    staff_tokens_revoke(user=user)


@transaction.atomic
def staff_tokens_revoke(*, user) -> None:
    """End every API token of a staff user: their tokens carry the generation this
    raises (registry.api.auth). Password changes and deactivation need no call."""
    StaffTokenState.objects.get_or_create(user=user)
    StaffTokenState.objects.filter(user=user).update(generation=F("generation") + 1)


@transaction.atomic
def resident_tokens_revoke(*, resident: Resident) -> None:
    """End every API token of a resident (sign out everywhere): their tokens carry the
    generation this raises (registry.api.auth)."""
    Resident.objects.filter(pk=resident.pk).update(
        token_generation=F("token_generation") + 1)


# --- Residents -------------------------------------------------------------


def _nik_or_error(nik: str):
    try:
        return parse_nik(nik)
    except NikError as exc:
        raise DomainError(exc.message, exc.code) from exc


@transaction.atomic
def resident_register(*, nik: str, name: str, birth_date: date, sex: str = "", phone: str = "",
                      email: str = "", address: str = "", kelurahan: str = "",
                      kecamatan: str = "", domicile_office: Office | None = None,
                      language: str = "id", verified_by=None) -> Resident:
    """Register a resident by NIK.

    The NIK must be well-formed. When its date or sex disagrees with what was given,
    the resident is registered and flagged for staff to verify at the visit: a NIK is
    never reissued to correct a birth date, so refusing would lock them out for good.
    The domicile office defaults to the office of the NIK's region (its first four
    digits) when the deployment serves it. Staff registering a resident from the KTP-el
    or KK in front of them pass `verified_by`: the identity is verified at creation (a
    self-registered resident is not, until the desk checks the card). A phone given here
    is a contact number, not bound: it receives no sign-in code until it is bound.
    """
    parts = _nik_or_error(nik)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Enter the resident's name."), "name_required")
    if birth_date > timezone.localdate():
        raise DomainError(_("The birth date is in the future."), "birth_date_future")
    if Resident.objects.filter(nik=parts.nik).exists():
        raise Conflict(_("A resident with this NIK is already registered."), "resident_exists")
    if not sex:
        sex = "F" if parts.female else "M"
    if domicile_office is None:
        domicile_office = Office.objects.filter(code=parts.regency).first()
    return Resident.objects.create(
        nik=parts.nik,
        name=name,
        birth_date=birth_date,
        sex=sex,
        phone=normalize_phone(phone) if phone else "",
        email=email,
        address=address,
        kelurahan=kelurahan,
        kecamatan=kecamatan,
        domicile_office=domicile_office,
        language=language,
        nik_needs_review=not parts.matches_birth_date(birth_date, sex),
        identity_verified_at=timezone.now() if verified_by is not None else None,
        identity_verified_by=verified_by if getattr(verified_by, "pk", None) else None,
    )


@transaction.atomic
def resident_nik_verify(*, resident: Resident, by) -> Resident:
    """Staff saw the documents: the NIK and the birth date belong together, and the
    resident's identity is verified (if it was not yet)."""
    now = timezone.now()
    resident.nik_needs_review = False
    resident.nik_reviewed_by = by
    resident.nik_reviewed_at = now
    fields = ["nik_needs_review", "nik_reviewed_by", "nik_reviewed_at"]
    if resident.identity_verified_at is None:
        resident.identity_verified_at = now
        resident.identity_verified_by = by
        fields += ["identity_verified_at", "identity_verified_by"]
    resident.save(update_fields=fields)
    return resident


@transaction.atomic
def resident_nik_disclose(*, resident: Resident, office: Office, user, reason: str) -> str:
    """The full NIK, for a staff member whose role in `office` allows it. Recorded."""
    if not user.has_perm("registry.view_full_nik", NikDisclosure(office=office)):
        raise NotFound(_("Not found."), "not_found")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why you need the full NIK."), "reason_required")
    NikDisclosure.objects.create(office=office, resident=resident, user=user, reason=reason)
    return resident.nik


# --- Case files and their timeline -----------------------------------------


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
            number=f"{office.code}-{year}-{number:05d}",
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
    return application


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


# --- Notifications ---------------------------------------------------------


def notification_channels_for(resident: Resident) -> list[tuple[str, str]]:
    """(channel, address) pairs a resident can be reached on. Every notification is
    also stored in the app inbox, so the app channel only adds a push."""
    channels = []
    if resident.app_registered_at:
        channels.append((NotificationChannel.PUSH, ""))
    if resident.phone:
        channels.append((NotificationChannel.WHATSAPP, resident.phone))
    if resident.email:
        channels.append((NotificationChannel.EMAIL, resident.email))
    return channels


def notification_send(*, office: Office, resident: Resident, kind: str, title, body,
                      params: dict | None = None, application: Application | None = None,
                      link: str = "", dedup_key: str | None = None) -> Notification | None:
    """Tell a resident something: store it in their inbox and queue its sending on
    each of their channels once the transaction commits.

    `title` and `body` are translatable strings formatted with `params`, rendered in
    the resident's language. With a `dedup_key` the same fact is told once: a second
    call with the key returns None and sends nothing.
    """
    params = params or {}
    with translation.override(resident.language):
        title_text = str(title) % params if params else str(title)
        body_text = str(body) % params if params else str(body)
    with transaction.atomic(savepoint=False):
        if dedup_key:
            try:
                with transaction.atomic():
                    notification = Notification.objects.create(
                        office=office, resident=resident, application=application, kind=kind,
                        title=title_text, body=body_text, link=link, dedup_key=dedup_key,
                    )
            except IntegrityError:
                return None
        else:
            notification = Notification.objects.create(
                office=office, resident=resident, application=application, kind=kind,
                title=title_text, body=body_text, link=link,
            )
        deliveries = NotificationDelivery.objects.bulk_create(
            NotificationDelivery(office=office, notification=notification, channel=channel,
                                 address=address)
            for channel, address in notification_channels_for(resident)
        )
        if application is not None:
            case_event_record(application=application, kind="notification.sent",
                              params={"title": title_text})
        from registry.tasks import notification_deliver

        for delivery in deliveries:
            enqueue_on_commit(notification_deliver, delivery.id)
    return notification


def _backoff(attempts: int) -> timedelta:
    # 1, 2, 4, 8, 16 ... minutes, at most an hour: gateways recover in minutes.
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def notification_deliver(*, delivery_id: int) -> NotificationDelivery | None:
    """Send one delivery through its channel's backend, once.

    Holds the delivery's row lock while sending, so two workers never send it twice;
    a worker that dies mid-send rolls back and the row is sent again later (the
    gateway deduplicates by the delivery's reference). Failures are retried with
    backoff by the sweep; after NOTIFY_MAX_ATTEMPTS, or a permanent refusal, a failed
    WhatsApp message falls back to SMS.
    """
    from registry.notify.backends import (
        OutgoingMessage,
        PermanentFailure,
        TemporaryFailure,
        get_backend,
    )

    with transaction.atomic():
        delivery = (
            NotificationDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification")
            .filter(id=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return None
        notification = delivery.notification
        message = OutgoingMessage(
            channel=delivery.channel, address=delivery.address, title=notification.title,
            body=notification.body, link=notification.link, reference=f"n{delivery.id}",
            kind=notification.kind,
        )
        delivery.attempts += 1
        try:
            delivery.provider_ref = get_backend(delivery.channel).send(message)[:120]
        except TemporaryFailure as exc:
            delivery.last_error = str(exc)[:1000]
            if delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.next_attempt_at = timezone.now() + _backoff(delivery.attempts)
        except PermanentFailure as exc:
            delivery.last_error = str(exc)[:1000]
            delivery.status = DeliveryStatus.FAILED
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        delivery.save()
        if delivery.status == DeliveryStatus.FAILED and delivery.channel == "whatsapp":
            _fallback_to_sms(delivery)
    return delivery


def _fallback_to_sms(delivery: NotificationDelivery) -> None:
    from registry.tasks import notification_deliver as deliver_task

    sms, created = NotificationDelivery.objects.get_or_create(
        notification_id=delivery.notification_id, channel=NotificationChannel.SMS,
        defaults={"office_id": delivery.office_id, "address": delivery.address},
    )
    if created:
        enqueue_on_commit(deliver_task, sms.id)


# Deliveries younger than this were just queued by their own transaction; the sweep
# leaves them alone. A queued delivery is not queued again for LEASE.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_LEASE = timedelta(minutes=5)
SWEEP_BATCH = 500


def notifications_resend_pending(*, now=None) -> int:
    """Queue again the deliveries that are due and were not sent (the broker was down,
    a worker died, a retry is due). Bounded batches; safe to run at any time."""
    from registry.tasks import notification_deliver as deliver_task

    now = now or timezone.now()
    queued = 0
    with transaction.atomic():
        due = list(
            NotificationDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:SWEEP_BATCH]
        )
        NotificationDelivery.objects.filter(id__in=due).update(next_attempt_at=now + SWEEP_LEASE)
        for delivery_id in due:
            enqueue_on_commit(deliver_task, delivery_id)
            queued += 1
    return queued


@transaction.atomic
def notifications_mark_read(*, resident: Resident, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(resident=resident, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(id__in=ids)
    return unread.update(read_at=timezone.now())


# --- Many timeline entries at once (the morning dispatch) ------------------


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


# --- Many notifications at once (sweeps over thousands of bookings) ------------------

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
    deliveries = []
    for notification, entry in zip(notifications, entries, strict=True):
        deliveries.extend(
            NotificationDelivery(office_id=notification.office_id, notification=notification,
                                 channel=channel, address=address)
            for channel, address in notification_channels_for(entry["resident"]))
    NotificationDelivery.objects.bulk_create(deliveries, batch_size=batch_size)
    case_events_record_many(entries=[
        {"office_id": n.office_id, "application_id": n.application_id,
         "kind": "notification.sent", "params": {"title": n.title}}
        for n in notifications if n.application_id], batch_size=batch_size)
    ids = [delivery.id for delivery in deliveries]
    for start in range(0, len(ids), NOTIFY_TASK_CHUNK):
        enqueue_on_commit(notifications_deliver_many, ids[start:start + NOTIFY_TASK_CHUNK])
    return len(notifications)


# --- Many notifications in a few statements (set-based sweeps) -----------------------
# A sweep over tens of thousands of rows cannot afford a Python object per row: the
# database writes them with INSERT ... SELECT. The caller describes its rows as one
# SELECT (`rows_sql`, `rows_params`) whose columns are
#
#     office_id, resident_id, application_id, dedup_key, and one text column per
#     template parameter, named p_<name> (p_code, p_date, ...)
#
# and the functions below write the timeline entries, the inbox rows, the deliveries
# and their `notification.sent` entries exactly as `case_events_record_many` and
# `notifications_send_many` would: the same texts, params, dedup keys and channels.
# Texts are translated in Python once per language; each row's parts are put in by the
# database, by concatenation, so nothing a row holds is ever read as a placeholder.
# The statement count depends on neither the number of rows nor their content.
#
# Vendor differences (PostgreSQL in production, SQLite >= 3.35 by default) are the few
# entries of SQL_DIALECT, nothing else.

SQL_DIALECT = {
    # A JSON object from key/value arguments: jsonb on PostgreSQL, text on SQLite.
    "json_object": {"postgresql": "jsonb_build_object", "sqlite": "json_object"},
    # A TIME column as HH:MM (SQLite keeps times as 'HH:MM:SS[.ffffff]' text).
    "hhmm": {"postgresql": "to_char({}, 'HH24:MI')", "sqlite": "substr({}, 1, 5)"},
}
_MARK = "\x00"  # never in a translation; splits a rendered template into its parts


def sql_dialect(name: str) -> str:
    from django.db import connection

    return SQL_DIALECT[name][connection.vendor]


def sql_value(value):
    """A date or datetime as the database stores it, for a raw statement's parameter
    (SQLite compares the text: naive UTC, as the ORM writes it)."""
    from datetime import datetime

    from django.db import connection

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


def _sql_text_in_language(text, names: list[str]) -> tuple[str, list[str]]:
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


def case_events_record_from_rows(*, kind: str, rows_sql: str, rows_params: list,
                                 names: list[str], at) -> int:
    """One timeline entry `kind` per row of the row source, its params the row's
    p_<name> columns (as text) under their names. The caller holds the transaction."""
    if not is_known_kind(kind):
        raise ValueError(f"Unknown case event kind {kind!r}; declare it in an events.py")
    from django.db import connection

    pairs = ", ".join(f"CAST(%s AS TEXT), s.p_{name}" for name in names)
    sql = (
        f"INSERT INTO {CaseEvent._meta.db_table} "  # noqa: S608 - names and columns are ours
        "(office_id, application_id, at, kind, params, note, actor_id, by_resident) "
        f"SELECT s.office_id, s.application_id, %s, %s, {sql_dialect('json_object')}"
        f"({pairs}), '', NULL, %s FROM ({rows_sql}) s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [sql_value(at), kind, *names, False, *rows_params])
        return cursor.rowcount


def notifications_send_from_rows(*, office_id: int, kind: str, title, body, rows_sql: str,
                                 rows_params: list, names: list[str], link: str = "") -> int:
    """Tell the resident of each row of the row source, as `notifications_send_many`
    would: an inbox entry (title and body in the resident's language, formatted with
    the row's p_<name> columns; the row's dedup_key), a pending delivery per channel
    the resident has (push when on the app, WhatsApp when a phone, e-mail when an
    address), a `notification.sent` timeline entry per case, and, after commit, one
    task that sends this office's new deliveries (`notifications_deliver_pending`).

    Four statements whatever the number of rows. Every row needs a dedup key: it is how
    the deliveries find their notification, and a key told before fails the whole
    statement (as in `notifications_send_many`), so the caller's transaction rolls back
    rather than telling anyone twice. All rows belong to the office `office_id`. The
    caller holds the transaction and makes sure each row is taken once (a sweep claims
    its rows).
    """
    from django.db import connection

    from registry.tasks import notifications_deliver_pending

    now = sql_value(timezone.now())
    title_sql, title_params = _sql_text_in_language(title, names)
    body_sql, body_params = _sql_text_in_language(body, names)
    rows = f"({rows_sql}) s JOIN {Resident._meta.db_table} r ON r.id = s.resident_id"
    told = (f"{rows} JOIN {Notification._meta.db_table} n ON n.resident_id = s.resident_id "
            "AND n.dedup_key = s.dedup_key")
    channels = " UNION ALL ".join(
        f"SELECT CAST('{channel}' AS TEXT) AS channel, {order} AS ord"
        for order, channel in enumerate([NotificationChannel.PUSH,
                                         NotificationChannel.WHATSAPP,
                                         NotificationChannel.EMAIL]))
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
            "SELECT n.office_id, n.id, c.channel, CASE c.channel WHEN %s THEN r.phone "
            "WHEN %s THEN r.email ELSE '' END, %s, 0, %s, NULL, '', '' "
            f"FROM {told} CROSS JOIN ({channels}) c "
            # The rule of notification_channels_for, in SQL (tests hold them equal).
            "WHERE n.dedup_key IS NOT NULL AND ("
            "(c.channel = %s AND r.app_registered_at IS NOT NULL) "
            "OR (c.channel = %s AND COALESCE(r.phone, '') <> '') "
            "OR (c.channel = %s AND COALESCE(r.email, '') <> '')) "
            "ORDER BY n.id, c.ord",
            [NotificationChannel.WHATSAPP, NotificationChannel.EMAIL, DeliveryStatus.PENDING,
             now, *rows_params, NotificationChannel.PUSH, NotificationChannel.WHATSAPP,
             NotificationChannel.EMAIL])
        delivered = cursor.rowcount
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


# One task sends a sweep's deliveries in an office: pages of DELIVER_PAGE, leased before
# they are sent, for at most DELIVER_TASK_SECONDS (well inside the task time limit even
# with a slow gateway), then the task queues itself for the rest.
DELIVER_PAGE = 100
DELIVER_TASK_SECONDS = 60.0


def notifications_deliver_pending(*, office_id: int, after_id: int = 0,
                                  seconds: float = DELIVER_TASK_SECONDS) -> int | None:
    """Send the office's pending deliveries with an id above `after_id` whose time has
    come, in id order, for about `seconds`. Returns the id to go on after when some
    are left, else None.

    Each page is taken with FOR UPDATE SKIP LOCKED and leased as the resend sweep does
    (next attempt SWEEP_LEASE ahead), so the sweep and another runner leave it alone;
    each delivery is then sent by `notification_deliver`: its own transaction and row
    lock, sent once, retried with backoff by the resend sweep, WhatsApp falling back to
    SMS. A worker that dies mid-page leaves its leased rows to the resend sweep once
    the lease ends; rows not reached when the time is up are handed back at once.
    """
    import time

    deadline = time.monotonic() + seconds
    while True:
        now = timezone.now()
        with transaction.atomic():
            ids = list(
                NotificationDelivery.objects.select_for_update(skip_locked=True)
                .filter(office_id=office_id, id__gt=after_id, status=DeliveryStatus.PENDING,
                        next_attempt_at__lte=now)
                .order_by("id").values_list("id", flat=True)[:DELIVER_PAGE])
            NotificationDelivery.objects.filter(id__in=ids).update(
                next_attempt_at=now + SWEEP_LEASE)
        for index, delivery_id in enumerate(ids):
            if time.monotonic() > deadline:
                NotificationDelivery.objects.filter(
                    id__in=ids[index:], status=DeliveryStatus.PENDING).update(
                    next_attempt_at=timezone.now())
                return after_id
            notification_deliver(delivery_id=delivery_id)
            after_id = delivery_id
        if len(ids) < DELIVER_PAGE:
            return None
