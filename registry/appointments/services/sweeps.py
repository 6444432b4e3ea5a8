"""The periodic sweeps: expiry of bookings whose day is over and lapse of cases not
booked again (the reminders are services.reminders). Set-based: a fixed number of
statements per office.

Each sweep has three parts: the offices with due work (`*_offices`), one office's share
(`*_office`, in its own transactions, at most `batches` batches when asked: the Celery
task of one office takes one batch and queues itself for the rest), and the whole sweep
(`*_due`), every office one after another in this process, as tests and benchmarks call
it. The beat runs one Celery task per office instead (registry.appointments.tasks), so
offices are swept side by side up to the workers' concurrency, and an office that fails
does not stop the others.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from registry import lock_objects as registry_lock_objects
from registry.appointments.models import (
    Booking,
    BookingStatus,
    Slot,
)
from registry.appointments.services import each_office
from registry.appointments.services.notices import (
    date_text,
)
from registry.appointments.services.slots import rebook_until
from registry.appointments.services.sms_offers import (
    CALL_OR_DESK,
    EXPIRED_INTRO,
    office_contact,
    sms_offers_after_expiry,
)
from registry.calendar import (
    office_now,
)
from registry.models import (
    Application,
    ApplicationStatus,
    Office,
    PhoneType,
    Resident,
    Service,
)
from registry.services.bulk_sql import sql_dialect, sql_value
from registry.services.cases import case_events_record_from_rows, case_events_record_many
from registry.services.notifications import notifications_send_from_rows, notifications_send_many

SWEEP_BATCH = 5000


EXPIRED_TITLE = _("Booking %(code)s has expired")


EXPIRED_BODY = _("You did not check in for %(service)s on %(date)s at %(start)s, so the "
                 "booking has expired. Your case stays open: re-book in the app by %(until)s "
                 "and nothing needs to be filled in again.")


# A sweep expires each office's due bookings in one transaction and a fixed number of
# statements (bookings_expire_due). A batch size is for tests and for a backlog too big
# for one transaction; None takes every due booking of an office at once.
EXPIRY_BATCH = None


def bookings_expire_offices(*, now: datetime) -> list[int]:
    """The offices with a booking due to expire at `now`, in id order."""
    return list(_expiry_due(now).values_list("id", flat=True))


def _expiry_due(now: datetime):
    return (Office.objects.filter(Exists(Booking.objects.filter(
        office=OuterRef("pk"), status=BookingStatus.BOOKED, expires_at__lte=now)))
        .order_by("id"))


def bookings_expire_due(*, now: datetime | None = None,
                        batch: int | None = EXPIRY_BATCH) -> int:
    """Expire every booking whose day has ended (in its office's zone) without a
    check-in: status expired, the case kept open for re-booking until the office's
    limit, a timeline event, and a message with the reason and how to re-book.

    Set-based: per office with due bookings, one transaction of eight statements
    whatever the number of bookings (see bookings_expire_office); the database writes
    every row. Here the offices are swept one after another; an office that fails does
    not stop the others (each_office). The beat sweeps them side by side, one Celery
    task per office (appointments.tasks.bookings_expire_due).

    Each office's rows are claimed by one conditional UPDATE that locks them in id
    order and stamps them with this run's sweep token; everything after reads the rows
    by that token. A second sweep at the same moment blocks on those row locks
    (PostgreSQL; on SQLite on the database's write lock), then finds them no longer
    booked and takes nothing, so each booking expires once, and its message, keyed
    `booking:<id>:expired` (unique per resident), is written and sent once. Running it
    again finds nothing.
    """
    now = now or timezone.now()
    # The offices' zones and re-booking days are read here at once, for all of them.
    offices = list(_expiry_due(now).values_list(
        "id", "timezone", "appointment_settings__rebook_days"))
    return each_office(
        lambda office: bookings_expire_office(
            office_id=office[0], now=now, batch=batch,
            until=rebook_until(office[1], office[2], now)),
        offices)


def bookings_expire_office(*, office_id: int, now: datetime,
                           batch: int | None = EXPIRY_BATCH, batches: int | None = None,
                           until: date | None = None) -> int:
    """Expire the office's bookings due at `now` (as bookings_expire_due does for all):
    transactions of at most `batch` bookings (None: all at once), at most `batches` of
    them (None: until none is left). How many expired; a full last batch means there
    may be more. `until`, the office's last day to re-book, is read here unless the
    caller read it in bulk."""
    if until is None:
        found = (Office.objects.filter(pk=office_id)
                 .values_list("timezone", "appointment_settings__rebook_days").first())
        if found is None:
            return 0
        until = rebook_until(*found, now)
    total = taken = 0
    while True:
        expired = _bookings_expire_batch(office_id=office_id, until=until, now=now,
                                         batch=batch)
        total += expired
        taken += 1
        if batch is None or expired < batch or (batches is not None and taken >= batches):
            return total


def _bookings_expire_batch(*, office_id: int, until: date, now: datetime,
                           batch: int | None) -> int:
    """One office's due bookings (at most `batch`), in one transaction: the claim, the
    due days, the cases, the timeline and the messages; eight statements."""
    from django.db import connection

    token = uuid.uuid4().hex
    with transaction.atomic():
        table = Booking._meta.db_table
        limit = f" LIMIT {int(batch)}" if batch is not None else ""
        # The due rows, locked in id order (PostgreSQL), so two sweeps never deadlock;
        # the outer condition is checked again on the locked rows.
        claim = (f"SELECT id FROM {table} WHERE office_id = %s AND status = %s "  # noqa: S608
                 f"AND expires_at <= %s ORDER BY id{limit}")
        claim_params = [office_id, BookingStatus.BOOKED, sql_value(now)]
        update = (f"UPDATE {table} SET status = %s, expired_at = %s, sweep_token = %s "  # noqa: S608
                  "WHERE status = %s AND id IN ")
        update_params = [BookingStatus.EXPIRED, sql_value(now), token,
                         BookingStatus.BOOKED]
        with connection.cursor() as cursor:
            if connection.features.has_select_for_update:
                # Claimed once, in a materialized CTE: as `id IN (subquery)` PostgreSQL
                # may run the subquery again for every row it updates (a nested loop),
                # its row locks then skip the rows just updated, and LIMIT lets more
                # than a batch through.
                cursor.execute(f"WITH claimed AS MATERIALIZED ({claim} FOR UPDATE) "  # noqa: S608
                               f"{update}(SELECT id FROM claimed)",
                               [*claim_params, *update_params])
            else:  # SQLite: the database's write lock; the subquery is run once
                cursor.execute(f"{update}({claim})", [*update_params, *claim_params])
            expired = cursor.rowcount
        if expired:
            expired_followup(office_id=office_id, token=token, until=until, now=now)
    return expired


def expired_followup(*, office_id: int, token: str, until: date, now: datetime) -> None:
    """For the office's bookings just expired under `token` (by the sweep, or one missed
    visit): free no place (the day is over), keep each case open for re-booking until
    `until`, write the timeline and tell each resident; six statements however many."""
    claimed = Booking.objects.filter(sweep_token=token)
    # Only cases still open and waiting: one that moved on keeps its status.
    Application.objects.filter(
        office_id=office_id, status=ApplicationStatus.OPEN,
        pk__in=claimed.values("application_id"),
    ).update(rebook_until=until, updated_at=now)
    # The dates are formatted by Django ("j F Y" in the active language), once per day.
    days = sorted(claimed.order_by().values_list("day", flat=True).distinct())
    rows_sql, rows_params = _expired_rows_sql(token=token, days=days, until=until)
    names = ["code", "date", "start", "service", "until"]
    case_events_record_from_rows(
        kind="booking.expired", rows_sql=rows_sql, rows_params=rows_params, names=names,
        at=now)
    # Residents on the app re-book there; those with no phone (or a phone not bound)
    # call the office or come to the desk; those who reply by SMS are offered free
    # times one by one below, as only they are.
    told_sql, told_params = _expired_rows_sql(token=token, days=days, until=until,
                                              told_by_sms=False)
    notifications_send_from_rows(
        office_id=office_id, kind="booking.expired", title=EXPIRED_TITLE,
        body={"app": EXPIRED_BODY, "desk": EXPIRED_DESK_BODY}, rows_sql=told_sql,
        rows_params=told_params, names=[*names, "contact"], link=reverse("booking-list"))
    sms_offers_after_expiry(office_id=office_id, token=token, until=until,
                            title=EXPIRED_TITLE, now=now)


def _expired_rows_sql(*, token: str, days: list[date], until: date,
                      told_by_sms: bool | None = None) -> tuple[str, list]:
    """The row source of registry.services' set-based writers for the bookings of one
    sweep token: each row's message params (code, date, start, service, until, the
    office's contact) and its message's variant ("app" for a smartphone, "desk" for a
    resident without one). `told_by_sms` False leaves out the residents who reply by
    SMS (a bound feature phone), True takes only them; None takes all."""
    day_cases = " ".join("WHEN %s THEN CAST(%s AS TEXT)" for _day in days)
    day_params = [value for day in days
                  for value in (sql_value(day), date_text(day))]
    hhmm = sql_dialect("hhmm").format("sl.start")
    by_sms = ("(rs.phone_type = %s AND rs.phone_bound_at IS NOT NULL "
              "AND COALESCE(rs.phone, '') <> '')")
    where, where_params = "", []
    if told_by_sms is not None:
        where = f" AND {'' if told_by_sms else 'NOT '}{by_sms}"
        where_params = [PhoneType.FEATURE_PHONE]
    sql = (
        "SELECT b.office_id AS office_id, b.resident_id AS resident_id, "  # noqa: S608
        "b.application_id AS application_id, "
        "'booking:' || CAST(b.id AS TEXT) || ':expired' AS dedup_key, b.code AS p_code, "
        f"CASE b.day {day_cases} END AS p_date, {hhmm} AS p_start, "
        "sv.name AS p_service, CAST(%s AS TEXT) AS p_until, "
        "COALESCE(NULLIF(o.whatsapp, ''), NULLIF(o.email, ''), o.name) AS p_contact, "
        "CASE WHEN rs.phone_type = %s THEN 'app' ELSE 'desk' END AS variant "
        f"FROM {Booking._meta.db_table} b "
        f"JOIN {Slot._meta.db_table} sl ON sl.id = b.slot_id "
        f"JOIN {Service._meta.db_table} sv ON sv.id = b.service_id "
        f"JOIN {Office._meta.db_table} o ON o.id = b.office_id "
        f"JOIN {Resident._meta.db_table} rs ON rs.id = b.resident_id "
        f"WHERE b.sweep_token = %s{where}")
    return sql, [*day_params, date_text(until), PhoneType.SMARTPHONE, token, *where_params]


EXPIRED_DESK_BODY = format_lazy("{} {}", EXPIRED_INTRO, CALL_OR_DESK)


LAPSED_TITLE = _("Your case %(number)s has lapsed")


LAPSED_BODY = _("No new booking was made for %(service)s by %(until)s, so the case is "
                "closed. You can start again at any time in the app.")


# A resident without the app is not sent to it.
LAPSED_DESK_BODY = _("No new booking was made for %(service)s by %(until)s, so the case is "
                     "closed. To start again, call or WhatsApp the office at %(contact)s or "
                     "come to the desk.")


def applications_lapse_offices(*, now: datetime) -> list[int]:
    """The offices that may have a case to lapse at `now`, in id order."""
    return list(_lapse_due(now).values_list("id", flat=True))


def _lapse_due(now: datetime):
    # No office's today is more than a day after UTC's: only offices with a case past
    # that can have one past their own.
    utc_tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
    return Office.objects.filter(is_active=True).filter(Exists(
        Application.objects.filter(office=OuterRef("pk"), status=ApplicationStatus.OPEN,
                                   rebook_until__lt=utc_tomorrow))).order_by("id")


def applications_lapse_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Close the cases whose re-booking time has passed without a new booking: status
    lapsed, a timeline event and a message. Per office, in its own zone, one office
    after another (the beat: one task per office, appointments.tasks)."""
    now = now or timezone.now()
    return each_office(
        lambda office: _applications_lapse_office(office=office, now=now, batch=batch),
        list(_lapse_due(now)))


def applications_lapse_office(*, office_id: int, now: datetime, batch: int = SWEEP_BATCH,
                              batches: int | None = None) -> int:
    """Lapse the office's cases due at `now`: transactions of at most `batch` cases, at
    most `batches` of them (None: until none is left). How many lapsed; a full last
    batch means there may be more."""
    office = Office.objects.filter(pk=office_id, is_active=True).first()
    if office is None:
        return 0
    return _applications_lapse_office(office=office, now=now, batch=batch, batches=batches)


def _applications_lapse_office(*, office: Office, now: datetime, batch: int,
                               batches: int | None = None) -> int:
    total = taken = 0
    today = now.astimezone(office_now(office).tzinfo).date()
    while True:
        with transaction.atomic():
            due = list(registry_lock_objects.applications_for_update(skip_locked=True)
                       .filter(office=office, status=ApplicationStatus.OPEN,
                               rebook_until__lt=today)
                       .exclude(bookings__status__in=[BookingStatus.BOOKED,
                                                      BookingStatus.CHECKED_IN])
                       .select_related("resident", "service")
                       .order_by("id")[:batch])
            if not due:
                break
            Application.objects.filter(pk__in=[a.pk for a in due]).update(
                status=ApplicationStatus.LAPSED, closed_at=now, updated_at=now)
            events, notes = [], []
            for application in due:
                params = {"number": application.number, "service": application.service.name,
                          "until": date_text(application.rebook_until)}
                events += [
                    {"application": application, "kind": "application.status", "at": now,
                     "params": {"old": ApplicationStatus.OPEN,
                                "new": ApplicationStatus.LAPSED}},
                    {"application": application, "kind": "booking.lapsed", "at": now,
                     "params": params}]
                on_app = application.resident.phone_type == PhoneType.SMARTPHONE
                notes.append({"office_id": office.id, "application_id": application.id,
                              "resident": application.resident, "kind": "booking.lapsed",
                              "title": LAPSED_TITLE,
                              "body": LAPSED_BODY if on_app else LAPSED_DESK_BODY,
                              "params": {**params, "contact": office_contact(office)},
                              "dedup_key": f"application:{application.id}:lapsed"})
            case_events_record_many(entries=events)
            notifications_send_many(entries=notes)
            total += len(due)
        taken += 1
        if len(due) < batch or (batches is not None and taken >= batches):
            break
    return total
