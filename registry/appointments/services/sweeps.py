"""The periodic sweeps: expiry of bookings whose day is over, lapse of cases not
booked again, and reminders. Set-based: a fixed number of statements per office.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import background
from registry.appointments import lock_objects
from registry.appointments.models import (
    AppointmentSettings,
    Booking,
    BookingStatus,
    Slot,
)
from registry.appointments.services.notices import (
    booking_link,
    date_text,
    requirements_text,
    slot_params,
)
from registry.appointments.services.requirements import DeclaredDocument, requirement_problems
from registry.appointments.services.slots import rebook_until
from registry.calendar import (
    office_now,
)
from registry.models import (
    Application,
    ApplicationStatus,
    Office,
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


def bookings_expire_due(*, now: datetime | None = None,
                        batch: int | None = EXPIRY_BATCH) -> int:
    """Expire every booking whose day has ended (in its office's zone) without a
    check-in: status expired, the case kept open for re-booking until the office's
    limit, a timeline event, and a message with the reason and how to re-book.

    Set-based: per office with due bookings, one transaction of eight statements
    whatever the number of bookings (see _bookings_expire_office); the database writes
    every row. On PostgreSQL the offices are swept side by side, one connection each
    (settings.SWEEP_THREADS); an office that fails does not stop the others.

    Each office's rows are claimed by one conditional UPDATE that locks them in id
    order and stamps them with this run's sweep token; everything after reads the rows
    by that token. A second sweep at the same moment blocks on those row locks
    (PostgreSQL; on SQLite on the database's write lock), then finds them no longer
    booked and takes nothing, so each booking expires once, and its message, keyed
    `booking:<id>:expired` (unique per resident), is written and sent once. Running it
    again finds nothing.
    """
    now = now or timezone.now()
    offices = list(
        Office.objects.filter(Exists(Booking.objects.filter(
            office=OuterRef("pk"), status=BookingStatus.BOOKED, expires_at__lte=now)))
        .order_by("id").values_list("id", "timezone", "appointment_settings__rebook_days"))

    def office_sweep(office) -> int:
        office_id, zone, rebook_days = office
        until = rebook_until(zone, rebook_days, now)
        total = 0
        while True:
            expired = _bookings_expire_office(office_id=office_id, until=until, now=now,
                                              batch=batch)
            total += expired
            if batch is None or expired < batch:
                return total

    # Offices share no rows: on PostgreSQL they are swept side by side.
    return sum(background.per_office(office_sweep, offices))


def _bookings_expire_office(*, office_id: int, until: date, now: datetime,
                            batch: int | None) -> int:
    """One office's due bookings (at most `batch`), in one transaction: the claim, the
    due days, the cases, the timeline and the messages; eight statements."""
    from django.db import connection

    token = uuid.uuid4().hex
    with transaction.atomic():
        table = Booking._meta.db_table
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        limit = f" LIMIT {int(batch)}" if batch is not None else ""
        with connection.cursor() as cursor:
            # Locked in id order, so two sweeps never deadlock; the outer condition is
            # checked again on the locked rows.
            cursor.execute(
                f"UPDATE {table} SET status = %s, expired_at = %s, sweep_token = %s "  # noqa: S608
                f"WHERE status = %s AND id IN (SELECT id FROM {table} WHERE office_id = %s "
                f"AND status = %s AND expires_at <= %s ORDER BY id{limit}{lock})",
                [BookingStatus.EXPIRED, sql_value(now), token,
                 BookingStatus.BOOKED, office_id, BookingStatus.BOOKED,
                 sql_value(now)])
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
    notifications_send_from_rows(
        office_id=office_id, kind="booking.expired", title=EXPIRED_TITLE,
        body=EXPIRED_BODY, rows_sql=rows_sql, rows_params=rows_params, names=names,
        link=reverse("booking-list"))


def _expired_rows_sql(*, token: str, days: list[date], until: date) -> tuple[str, list]:
    """The row source of registry.services' set-based writers for the bookings of one
    sweep token: each row's message params (code, date, start, service, until)."""
    day_cases = " ".join("WHEN %s THEN CAST(%s AS TEXT)" for _day in days)
    day_params = [value for day in days
                  for value in (sql_value(day), date_text(day))]
    hhmm = sql_dialect("hhmm").format("sl.start")
    sql = (
        "SELECT b.office_id AS office_id, b.resident_id AS resident_id, "  # noqa: S608
        "b.application_id AS application_id, "
        "'booking:' || CAST(b.id AS TEXT) || ':expired' AS dedup_key, b.code AS p_code, "
        f"CASE b.day {day_cases} END AS p_date, {hhmm} AS p_start, "
        "sv.name AS p_service, CAST(%s AS TEXT) AS p_until "
        f"FROM {Booking._meta.db_table} b "
        f"JOIN {Slot._meta.db_table} sl ON sl.id = b.slot_id "
        f"JOIN {Service._meta.db_table} sv ON sv.id = b.service_id "
        "WHERE b.sweep_token = %s")
    return sql, [*day_params, date_text(until), token]


LAPSED_TITLE = _("Your case %(number)s has lapsed")


LAPSED_BODY = _("No new booking was made for %(service)s by %(until)s, so the case is "
                "closed. You can start again at any time in the app.")


def applications_lapse_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Close the cases whose re-booking time has passed without a new booking: status
    lapsed, a timeline event and a message. Per office, in its own zone, the offices
    side by side (background.per_office)."""
    now = now or timezone.now()
    # No office's today is more than a day after UTC's: only offices with a case past
    # that can have one past their own.
    utc_tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
    offices = list(Office.objects.filter(is_active=True).filter(Exists(
        Application.objects.filter(office=OuterRef("pk"), status=ApplicationStatus.OPEN,
                                   rebook_until__lt=utc_tomorrow))).order_by("id"))
    return sum(background.per_office(
        lambda office: _applications_lapse_office(office=office, now=now, batch=batch),
        offices))


def _applications_lapse_office(*, office: Office, now: datetime, batch: int) -> int:
    total = 0
    today = now.astimezone(office_now(office).tzinfo).date()
    while True:
        with transaction.atomic():
            due = list(Application.objects.select_for_update(skip_locked=True,
                                                             of=("self",))
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
                notes.append({"office_id": office.id, "application_id": application.id,
                              "resident": application.resident, "kind": "booking.lapsed",
                              "title": LAPSED_TITLE, "body": LAPSED_BODY,
                              "params": params,
                              "dedup_key": f"application:{application.id}:lapsed"})
            case_events_record_many(entries=events)
            notifications_send_many(entries=notes)
            total += len(due)
        if len(due) < batch:
            break
    return total


REMINDER_TITLE = _("Reminder: your visit on %(date)s")


REMINDER_BODY = _("%(service)s at %(office)s on %(date)s, %(start)s-%(end)s, lane %(lane)s "
                  "(%(lane_name)s). Booking code %(code)s. Bring: %(requirements)s.")


def bookings_remind_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Send the day-before reminder (from the office's hour the day before) and the
    morning reminder (from its hour on the day, before the slot), each once: what to
    bring, and any requirement that will have expired by the visit. The offices side
    by side (background.per_office)."""
    now = now or timezone.now()
    # Only offices with a booking not yet reminded around today (a day either side of
    # UTC's, whatever the zone).
    utc_today = now.astimezone(UTC).date()
    waiting = Booking.objects.filter(
        Q(reminded_day_before_at__isnull=True) | Q(reminded_morning_at__isnull=True),
        office=OuterRef("office"), status=BookingStatus.BOOKED,
        day__range=(utc_today - timedelta(days=1), utc_today + timedelta(days=2)))
    plans = list(AppointmentSettings.objects.filter(office__is_active=True)
                 .filter(Exists(waiting)).select_related("office").order_by("office_id"))
    return sum(background.per_office(
        lambda plan: _remind_office(plan=plan, now=now, batch=batch), plans))


def _remind_office(*, plan: AppointmentSettings, now: datetime, batch: int) -> int:
    office = plan.office
    local = now.astimezone(office_now(office).tzinfo)
    today = local.date()
    sent = 0
    if local.time() >= plan.reminder_day_before_at:
        sent += _remind(office=office, day=today + timedelta(days=1),
                        field="reminded_day_before_at", now=now, today=today, batch=batch)
    if local.time() >= plan.reminder_morning_at:
        sent += _remind(office=office, day=today, field="reminded_morning_at", now=now,
                        today=today, batch=batch)
    return sent


def _remind(*, office: Office, day: date, field: str, now: datetime, today: date,
            batch: int) -> int:
    sent = 0
    while True:
        with transaction.atomic():
            due = list(lock_objects.bookings_for_update(skip_locked=True)
                       .filter(office=office, day=day, status=BookingStatus.BOOKED,
                               **{f"{field}__isnull": True}, slot__starts_at__gt=now)
                       .select_related("slot", "slot__lane", "service", "resident")
                       .prefetch_related("service__requirements",
                                         "documents__requirement")
                       .order_by("id")[:batch])
            if not due:
                return sent
            Booking.objects.filter(pk__in=[b.pk for b in due]).update(**{field: now})
            notes = []
            for booking in due:
                declared = [DeclaredDocument(doc.requirement, doc.issued_on)
                            for doc in booking.documents.all()]
                problems = [p for p in requirement_problems(
                    service=booking.service, visit_date=booking.day, today=today,
                    documents=declared) if p["code"] != "missing"]
                params = {**slot_params(booking), "office": office.name,
                          "requirements": requirements_text(booking.service)}
                body = REMINDER_BODY
                if problems:
                    params["problems"] = " ".join(p["message"] for p in problems)
                    body = WARNED_REMINDER_BODY
                notes.append({"office_id": office.id, "application_id": booking.application_id,
                              "resident": booking.resident, "kind": "booking.reminder",
                              "title": REMINDER_TITLE, "body": body, "params": params,
                              "link": booking_link(booking),
                              "dedup_key": f"booking:{booking.pk}:{field}:{booking.day}"})
            notifications_send_many(entries=notes)
            sent += len(due)
        if len(due) < batch:
            return sent


WARNED_REMINDER_BODY = _("%(service)s at %(office)s on %(date)s, %(start)s-%(end)s, lane "
                         "%(lane)s (%(lane_name)s). Booking code %(code)s. Bring: "
                         "%(requirements)s. Warning: %(problems)s")
