"""The morning dispatch: the day's deliveries shared among the couriers on duty, by
area, and the residents told when their courier comes.
"""

import heapq
import math
from datetime import date
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.background import enqueue_on_commit, fan_out
from registry.calendar import (
    national_holiday,
    office_is_working_day,
    office_today,
)
from registry.deliveries import lock_objects
from registry.deliveries.models import (
    CourierAbsence,
    Delivery,
    DeliverySettings,
    DeliveryStatus,
    DispatchRun,
)
from registry.errors import DomainError
from registry.models import Closure, Office, Role, StaffMembership, WorkingHours
from registry.services.cases import (
    case_events_record_many,
)
from registry.services.notifications import notification_send
from registry.services.offices import office_settings_get

DEFAULT_DISPATCH_TIME = DeliverySettings._meta.get_field("dispatch_time").default


# Residents told per run of the notifying task; the task queues itself for the rest.
NOTIFY_BATCH = 500


def couriers_on_duty(*, office: Office, day: date) -> list:
    absent = CourierAbsence.objects.filter(office=office, day=day).values("courier_id")
    user_ids = (StaffMembership.objects.filter(office=office, role=Role.COURIER,
                                               user__is_active=True)
                .exclude(user_id__in=absent).values("user_id"))
    return list(get_user_model().objects.filter(id__in=user_ids).order_by("username"))


def _shares(loads: dict[int, int], limit: int, count: int) -> dict[int, int]:
    """How many new deliveries each courier gets: one at a time to the least loaded
    courier with room, so loads end as even as the limit allows."""
    heap = [(load, courier_id) for courier_id, load in loads.items() if load < limit]
    heapq.heapify(heap)
    given = dict.fromkeys(loads, 0)
    while count and heap:
        load, courier_id = heapq.heappop(heap)
        given[courier_id] += 1
        count -= 1
        if load + 1 < limit:
            heapq.heappush(heap, (load + 1, courier_id))
    return given


def route_order(stops: list[dict], start: tuple[float, float] | None) -> list[dict]:
    """Nearest neighbour from the office over the stops with coordinates, then the
    others by kelurahan and address. Distances are equirectangular (exact enough across
    a regency) on floats computed once: a courier's 100 stops cost 5,000 comparisons."""
    located = [(s, float(s["latitude"]), float(s["longitude"])) for s in stops
               if s["latitude"] is not None and s["longitude"] is not None]
    unlocated = sorted((s for s in stops if s["latitude"] is None or s["longitude"] is None),
                       key=lambda s: (s["kelurahan"].lower(), s["address"].lower(), s["id"]))
    if not located:
        return unlocated
    here = start or (located[0][1], located[0][2])
    squash = math.cos(math.radians(here[0])) ** 2
    ordered = []
    remaining = located
    while remaining:
        lat, lon = here
        best = min(range(len(remaining)), key=lambda i: (
            (remaining[i][1] - lat) ** 2 + (remaining[i][2] - lon) ** 2 * squash,
            remaining[i][0]["id"]))
        stop, lat, lon = remaining.pop(best)
        ordered.append(stop)
        here = (lat, lon)
    return ordered + unlocated


def deliveries_dispatch(*, office: Office, day: date | None = None, by=None) -> DispatchRun:
    """Assign the cards waiting for delivery to the couriers on duty and order each
    route. Waiting deliveries go oldest first up to the couriers' room (the office's
    maximum per courier, counting what each already has that day), grouped by kecamatan
    and kelurahan into even shares, each share in nearest-neighbour order.

    Running it again the same day assigns only what is still waiting: the day's
    DispatchRun row is locked for the whole run, and only WAITING rows (locked, by pk)
    are assigned. Residents are told after commit by `deliveries_notify_scheduled`.
    """
    day = day or office_today(office)
    if not office_is_working_day(office, day):
        raise DomainError(_("The office is closed on %(date)s: deliveries are dispatched on "
                            "working days only.") % {"date": day.isoformat()}, "closed_day")
    limit = office_settings_get(DeliverySettings, office=office).max_per_courier
    with transaction.atomic():
        run = lock_objects.dispatch_run_for_update(office=office, day=day)
        _carry_over_unattempted(office, day)
        couriers = couriers_on_duty(office=office, day=day)
        loads = dict.fromkeys((c.id for c in couriers), 0)
        loads.update({
            row["courier_id"]: row["n"] for row in
            Delivery.objects.filter(office=office, scheduled_for=day,
                                    courier_id__in=loads.keys())
            .exclude(status=DeliveryStatus.CANCELLED)
            .values("courier_id").annotate(n=Count("id"))
        })
        room = sum(max(0, limit - load) for load in loads.values())
        dispatchable = (Delivery.objects.filter(office=office, status=DeliveryStatus.WAITING)
                        .filter(Q(not_before__isnull=True) | Q(not_before__lte=day)))
        chosen = list(
            dispatchable.order_by("waiting_since", "id")
            .values("id", "application_id", "kecamatan", "kelurahan", "address", "latitude",
                    "longitude")[:room]
        )
        # Lock the chosen rows (by pk) so a concurrent cancel or hand-over waits.
        locked = set(lock_objects.deliveries_for_update()
                     .filter(id__in=[c["id"] for c in chosen], status=DeliveryStatus.WAITING)
                     .order_by("id").values_list("id", flat=True))
        chosen = [c for c in chosen if c["id"] in locked]
        chosen.sort(key=lambda c: (c["kecamatan"].lower(), c["kelurahan"].lower(), c["id"]))
        shares = _shares(loads, limit, len(chosen))
        start = ((float(office.latitude), float(office.longitude))
                 if office.latitude is not None and office.longitude is not None else None)
        first_stop = dict(
            Delivery.objects.filter(office=office, scheduled_for=day,
                                    courier_id__in=loads.keys())
            .values("courier_id").annotate(last=Max("route_position"))
            .values_list("courier_id", "last"))
        names = {c.id: (c.get_full_name() or c.get_username()) for c in couriers}
        plan, events, position = [], [], 0
        for courier in couriers:
            share = chosen[position:position + shares[courier.id]]
            position += shares[courier.id]
            for stop, item in enumerate(route_order(share, start),
                                        start=(first_stop.get(courier.id) or 0) + 1):
                plan.append((item["id"], courier.id, stop))
                events.append({"application_id": item["application_id"],
                               "office_id": office.id, "kind": "delivery.scheduled",
                               "actor": by, "params": {"day": day.isoformat(), "stop": stop,
                                                       "courier": names[courier.id]}})
        assigned = _assign(plan, day)
        case_events_record_many(entries=events)
        run.runs += 1
        run.couriers = len(couriers)
        run.assigned += assigned
        run.left_waiting = dispatchable.count()
        run.finished_at = timezone.now()
        run.save()
        if assigned:
            from registry.deliveries.tasks import deliveries_notify_scheduled

            enqueue_on_commit(deliveries_notify_scheduled, office.id, day.isoformat())
    return run


# Rows per UPDATE ... FROM (VALUES ...) statement: well under SQLite's 32766 parameters.
ASSIGN_BATCH = 2000


def _assign(plan: list[tuple[int, int, int]], day: date) -> int:
    """Set (delivery id, courier id, stop) for many deliveries, still WAITING, in a few
    statements. Django's bulk_update writes a CASE per field and row, which made a
    morning of 10,000 cards take minutes; UPDATE ... FROM (VALUES ...) is understood by
    PostgreSQL and SQLite (3.33+) alike, whose unnamed VALUES columns are column1..3."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    assigned = 0
    with connection.cursor() as cursor:
        for start in range(0, len(plan), ASSIGN_BATCH):
            rows = plan[start:start + ASSIGN_BATCH]
            values = ", ".join(["(%s, %s, %s)"] * len(rows))
            cursor.execute(
                f"UPDATE {table} SET status = %s, scheduled_for = %s, "  # noqa: S608 - names are ours
                f"courier_id = v.column2, route_position = v.column3 "
                f"FROM (VALUES {values}) AS v "
                f"WHERE {table}.id = v.column1 AND {table}.status = %s",
                [DeliveryStatus.ASSIGNED.value, day,
                 *[value for row in rows for value in row], DeliveryStatus.WAITING.value])
            assigned += cursor.rowcount
    return assigned


def _carry_over_unattempted(office: Office, day: date) -> int:
    """Deliveries assigned on an earlier day and never attempted wait again."""
    stale = list(lock_objects.deliveries_for_update()
                 .filter(office=office, status=DeliveryStatus.ASSIGNED, scheduled_for__lt=day)
                 .order_by("id").values("id", "application_id", "scheduled_for"))
    if not stale:
        return 0
    Delivery.objects.filter(id__in=[s["id"] for s in stale]).update(
        status=DeliveryStatus.WAITING, courier=None, scheduled_for=None, route_position=None)
    case_events_record_many(entries=[
        {"application_id": s["application_id"], "office_id": office.id,
         "kind": "delivery.not_attempted", "params": {"day": s["scheduled_for"].isoformat()}}
        for s in stale])
    return len(stale)


def deliveries_dispatch_offices(*, now=None) -> list[int]:
    """The offices whose dispatch time has come on a working day and that have not
    dispatched that day, at `now`, in id order: in four queries whatever the number of
    offices (the beat asks every five minutes, 514 offices at national scale)."""
    now = now or timezone.now()
    due: dict[int, date] = {}
    for office_id, zone, dispatch_time in (
            Office.objects.filter(is_active=True).order_by("id")
            .values_list("id", "timezone", "delivery_settings__dispatch_time")):
        local_now = now.astimezone(ZoneInfo(zone))
        if local_now.time() >= (dispatch_time or DEFAULT_DISPATCH_TIME):
            due[office_id] = local_now.date()
    if not due:
        return []
    days = set(due.values())
    weekdays: dict[int, set[int]] = {}
    for office_id, weekday in WorkingHours.objects.filter(office_id__in=due).values_list(
            "office_id", "weekday"):
        weekdays.setdefault(office_id, set()).add(weekday)
    closed = set(Closure.objects.filter(office_id__in=due, date__in=days)
                 .values_list("office_id", "date"))
    # The morning's run is recorded even when there was nothing to assign, so a card
    # printed in the afternoon waits for the next working morning.
    done = set(DispatchRun.objects.filter(office_id__in=due, day__in=days)
               .values_list("office_id", "day"))
    return [office_id for office_id, day in due.items()
            if day.weekday() in weekdays.get(office_id, ()) and not national_holiday(day)
            and (office_id, day) not in closed and (office_id, day) not in done]


def deliveries_dispatch_due(*, now=None) -> list[int]:
    """The beat's sweep: queue today's dispatch (deliveries_dispatch, one task per
    office, as Celery groups: one per local date) for every office
    deliveries_dispatch_offices names; those offices. A doubled beat queues an office
    twice at most, and its DispatchRun row makes the second task do nothing."""
    from registry.deliveries.tasks import deliveries_dispatch as dispatch_task

    now = now or timezone.now()
    offices = deliveries_dispatch_offices(now=now)
    by_day: dict[date, list[int]] = {}
    zones = dict(Office.objects.filter(pk__in=offices).values_list("id", "timezone"))
    for office_id in offices:
        by_day.setdefault(now.astimezone(ZoneInfo(zones[office_id])).date(),
                          []).append(office_id)
    for day, office_ids in sorted(by_day.items()):
        fan_out(dispatch_task, office_ids, day.isoformat())
    return offices


def deliveries_notify_scheduled(*, office_id: int, day: date) -> int:
    """Tell each resident whose card is out for delivery on `day` that it comes today,
    once (dedup key), in batches; returns how many are left to tell."""
    from registry.deliveries.tasks import deliveries_notify_scheduled as notify_task

    pending = (Delivery.objects.filter(office_id=office_id, scheduled_for=day,
                                       status=DeliveryStatus.ASSIGNED)
               .exclude(notified_for=day))
    batch = list(pending.select_related("application__resident", "application__office",
                                        "handover__card").order_by("id")[:NOTIFY_BATCH])
    for delivery in batch:
        application = delivery.application
        with transaction.atomic():
            notification_send(
                office=application.office, resident=application.resident,
                kind="delivery.today", title=_("Your KTP-el comes today"),
                body=_("A courier of %(office)s brings your card for case %(number)s today, "
                       "%(date)s, to %(address)s. Whoever receives it must give the receipt "
                       "code from your receipt (ending in %(end)s) and will be photographed "
                       "with the card."),
                params={"office": application.office.name, "number": application.number,
                        "date": day.strftime("%d-%m-%Y"), "address": delivery.address,
                        "end": delivery.handover.card.receipt_code[-2:]},
                application=application, dedup_key=f"delivery-today:{delivery.id}:{day}")
            Delivery.objects.filter(pk=delivery.pk).update(notified_for=day)
    left = pending.count()
    if left:
        enqueue_on_commit(notify_task, office_id, day.isoformat())
    return left
