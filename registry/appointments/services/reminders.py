"""The reminder sweep: the day-before and the morning reminder of a booking, each sent
once, with what to bring and any requirement that will have expired by the visit. Its
parts are those of the other sweeps (services.sweeps): the offices with due work, one
office's share, and the whole sweep.
"""

from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.appointments import lock_objects
from registry.appointments.models import AppointmentSettings, Booking, BookingStatus
from registry.appointments.services import each_office
from registry.appointments.services.notices import booking_link, requirements_text, slot_params
from registry.appointments.services.requirements import DeclaredDocument, requirement_problems
from registry.appointments.services.sweeps import SWEEP_BATCH
from registry.calendar import office_now
from registry.models import Office
from registry.service_sets import service_set_of
from registry.services.notifications import notifications_send_many

REMINDER_TITLE = _("Reminder: your visit on %(date)s")


REMINDER_BODY = _("%(service)s at %(office)s on %(date)s, %(start)s-%(end)s, lane %(lane)s "
                  "(%(lane_name)s). Booking code %(code)s. Bring: %(requirements)s.")


def bookings_remind_offices(*, now: datetime) -> list[int]:
    """The offices that may have a reminder due at `now`, in id order."""
    return list(_remind_due(now).values_list("office_id", flat=True))


def _remind_due(now: datetime):
    # Only offices with a booking not yet reminded around today (a day either side of
    # UTC's, whatever the zone).
    utc_today = now.astimezone(UTC).date()
    waiting = Booking.objects.filter(
        Q(reminded_day_before_at__isnull=True) | Q(reminded_morning_at__isnull=True),
        office=OuterRef("office"), status=BookingStatus.BOOKED,
        day__range=(utc_today - timedelta(days=1), utc_today + timedelta(days=2)))
    return (AppointmentSettings.objects.filter(office__is_active=True)
            .filter(Exists(waiting)).order_by("office_id"))


def bookings_remind_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Send the day-before reminder (from the office's hour the day before) and the
    morning reminder (from its hour on the day, before the slot), each once: what to
    bring, and any requirement that will have expired by the visit. One office after
    another (the beat: one task per office, appointments.tasks)."""
    now = now or timezone.now()
    return each_office(lambda plan: _remind_office(plan=plan, now=now, batch=batch),
                       list(_remind_due(now).select_related("office")))


def bookings_remind_office(*, office_id: int, now: datetime, batch: int = SWEEP_BATCH,
                           batches: int | None = None) -> int:
    """Send the office's reminders due at `now`: of each kind (day before, morning),
    transactions of at most `batch` bookings, at most `batches` of them (None: until
    none is left). How many were sent; `batch` or more means there may be more."""
    plan = (AppointmentSettings.objects.filter(office_id=office_id, office__is_active=True)
            .select_related("office").first())
    if plan is None:
        return 0
    return _remind_office(plan=plan, now=now, batch=batch, batches=batches)


def _remind_office(*, plan: AppointmentSettings, now: datetime, batch: int,
                   batches: int | None = None) -> int:
    office = plan.office
    local = now.astimezone(office_now(office).tzinfo)
    today = local.date()
    sent = 0
    if local.time() >= plan.reminder_day_before_at:
        sent += _remind(office=office, day=today + timedelta(days=1),
                        field="reminded_day_before_at", now=now, today=today, batch=batch,
                        batches=batches)
    if local.time() >= plan.reminder_morning_at:
        sent += _remind(office=office, day=today, field="reminded_morning_at", now=now,
                        today=today, batch=batch, batches=batches)
    return sent


def _remind(*, office: Office, day: date, field: str, now: datetime, today: date,
            batch: int, batches: int | None = None) -> int:
    sent = taken = 0
    while True:
        with transaction.atomic():
            due = list(lock_objects.bookings_for_update(skip_locked=True)
                       .filter(office=office, day=day, status=BookingStatus.BOOKED,
                               **{f"{field}__isnull": True}, slot__starts_at__gt=now)
                       .select_related("slot", "slot__lane", "service", "resident",
                                       "application__service")
                       .prefetch_related("service__requirements",
                                         "application__extra_services__requirements",
                                         "documents__requirement")
                       .order_by("id")[:batch])
            if not due:
                return sent
            Booking.objects.filter(pk__in=[b.pk for b in due]).update(**{field: now})
            notes = []
            for booking in due:
                declared = [DeclaredDocument(doc.requirement, doc.issued_on)
                            for doc in booking.documents.all()]
                service_set = service_set_of(booking.application)
                problems = [p for p in requirement_problems(
                    service_set=service_set, visit_date=booking.day, today=today,
                    documents=declared) if p["code"] != "missing"]
                params = {**slot_params(booking, service_set=service_set),
                          "office": office.name,
                          "requirements": requirements_text(service_set)}
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
        taken += 1
        if len(due) < batch or (batches is not None and taken >= batches):
            return sent


WARNED_REMINDER_BODY = _("%(service)s at %(office)s on %(date)s, %(start)s-%(end)s, lane "
                         "%(lane)s (%(lane_name)s). Booking code %(code)s. Bring: "
                         "%(requirements)s. Warning: %(problems)s")
