"""Every write of hand-over and home delivery: one function per operation, one
transaction each, each on the case timeline.

The card printed by registry.central reaches the resident in one of three ways: the
holder collects it at the counter, a proxy the holder named collects it, or a courier
delivers it home. Whoever receives it gives the receipt code. Services whose policy
needs the holder in person (a fingerprint match) offer the first way only.
"""

import heapq
import math
from datetime import date

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import tenancy
from registry.background import enqueue_on_commit
from registry.calendar import (
    office_is_working_day,
    office_next_working_day,
    office_today,
    office_zone,
)
from registry.cards import normalize_receipt_code
from registry.central.models import Card
from registry.deliveries import lock_objects
from registry.deliveries.models import (
    PROXY_RELATIONS,
    AttemptOutcome,
    CourierAbsence,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    DeliveryStatus,
    DispatchRun,
    FailReason,
    Handover,
    HandoverMethod,
    Relation,
)
from registry.deliveries.validators import check_photo
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application, ApplicationStatus, Office, Role, StaffMembership
from registry.nik import NikError, mask_nik, parse_nik
from registry.selectors import office_settings_get
from registry.services.cases import (
    application_set_status,
    case_event_record,
    case_events_record_many,
)
from registry.services.notifications import notification_send

DEFAULT_DISPATCH_TIME = DeliverySettings._meta.get_field("dispatch_time").default
# Residents told per run of the notifying task; the task queues itself for the rest.
NOTIFY_BATCH = 500




# --- The resident's choice ------------------------------------------------------


def handover_open(*, application: Application, card: Card) -> Handover:
    """The card of a served application will be printed: its hand-over starts as
    pick-up by the holder. Called by registry.central in the caller's transaction."""
    handover, _created = Handover.objects.get_or_create(
        application=application, defaults={"office_id": application.office_id, "card": card})
    return handover


def handover_options(*, handover: Handover) -> list[dict]:
    """Each method, whether it is offered for this case and, if not, why."""
    application = handover.application
    service = application.service
    resident = application.resident
    in_person = str(_("This service needs the holder in person at hand-over (a fingerprint "
                      "match before the card is given), so only the holder can collect it."))
    options = [{"method": HandoverMethod.PICKUP.value, "available": True, "code": "",
                "reason": ""}]
    for method in (HandoverMethod.PROXY, HandoverMethod.DELIVERY):
        code, reason = "", ""
        if service.holder_in_person:
            code, reason = "holder_in_person", in_person
        elif method == HandoverMethod.DELIVERY:
            code, reason = _delivery_refusal(handover, resident)
        options.append({"method": method.value, "available": not code, "code": code,
                        "reason": str(reason)})
    return options


def _delivery_refusal(handover: Handover, resident) -> tuple[str, str]:
    application = handover.application
    if not application.service.home_delivery:
        return "delivery_not_offered", _("Home delivery is not offered for this service.")
    if resident.domicile_office_id != application.office_id:
        return "delivery_outside_area", _("Home delivery reaches addresses in the office's own "
                                          "area only; collect the card at the office.")
    if not resident.address:
        return "address_missing", _("Your domicile address is not on record; update it at "
                                    "the office's front desk.")
    if handover.deliveries.filter(status=DeliveryStatus.RETURNED).exists() and not \
            handover.deliveries.filter(status__in=[DeliveryStatus.WAITING,
                                                   DeliveryStatus.ASSIGNED]).exists():
        return "delivery_returned", _("Delivery was tried too many times; the card waits for "
                                      "you at the office.")
    return "", ""


def handover_for_application(*, application: Application) -> Handover:
    handover = (Handover.objects.select_related("card", "application__service",
                                                "application__resident", "application__office")
                .filter(application=application).first())
    if handover is None:
        if not application.service.produces_card:
            raise Conflict(_("This service does not produce a card to hand over."), "no_card")
        raise Conflict(_("You can choose how to receive the card after your visit, once "
                         "the card is on its way."), "handover_not_yet")
    return handover


def _active_delivery(handover: Handover) -> Delivery | None:
    return (lock_objects.deliveries_for_update()
            .filter(handover=handover, status__in=[DeliveryStatus.WAITING,
                                                   DeliveryStatus.ASSIGNED]).first())


def _delivery_create(handover: Handover) -> Delivery:
    resident = handover.application.resident
    delivery = Delivery.objects.create(
        office_id=handover.office_id, application_id=handover.application_id,
        handover=handover, address=resident.address, kecamatan=resident.kecamatan,
        kelurahan=resident.kelurahan, latitude=resident.latitude,
        longitude=resident.longitude,
    )
    case_event_record(application=handover.application, kind="delivery.waiting",
                      params={"address": resident.address})
    return delivery


def handover_choose(*, application: Application, method: str, proxy_name: str = "",
                    proxy_nik: str = "", proxy_relation: str = "", by=None,
                    by_resident: bool = False) -> Handover:
    """Record how the card reaches the resident (the app or the front desk). Refused,
    changing nothing, when the service's policy or the case does not allow it. Locks
    the hand-over row."""
    if method not in HandoverMethod.values:
        raise DomainError(_("Choose pickup, proxy or delivery."), "method_invalid")
    with transaction.atomic():
        handover = handover_for_application(application=application)
        handover = lock_objects.handovers_for_update().select_related(
            "card", "application__service", "application__resident").get(pk=handover.pk)
        if handover.completed_at is not None:
            raise Conflict(_("The card has already been handed over."), "handover_completed")
        active = _active_delivery(handover)
        if active is not None and active.status == DeliveryStatus.ASSIGNED:
            raise Conflict(_("The card is out with a courier today; the choice can be "
                             "changed if this delivery fails."), "delivery_under_way")
        offered = {o["method"]: o for o in handover_options(handover=handover)}[method]
        if not offered["available"]:
            raise DomainError(offered["reason"], offered["code"])
        fields = {"method": method, "proxy_name": "", "proxy_nik": "", "proxy_relation": ""}
        if method == HandoverMethod.PROXY:
            fields.update(_proxy_fields(handover, proxy_name, proxy_nik, proxy_relation))
        if all(getattr(handover, k) == v for k, v in fields.items()):
            return handover  # the same choice again: nothing to record
        for key, value in fields.items():
            setattr(handover, key, value)
        handover.chosen_at = timezone.now()
        handover.chosen_by = by if getattr(by, "pk", None) else None
        handover.save()
        case_event_record(
            application=handover.application, kind="handover.chosen",
            params={"method": method, "proxy_name": fields["proxy_name"],
                    "proxy_relation": fields["proxy_relation"]},
            actor=by, by_resident=by_resident)
        if method == HandoverMethod.DELIVERY:
            if active is None and handover.card.printed_at is not None:
                _delivery_create(handover)
        elif active is not None:
            active.status = DeliveryStatus.CANCELLED
            active.save(update_fields=["status"])
            case_event_record(application=handover.application, kind="delivery.cancelled",
                              actor=by, by_resident=by_resident)
    return handover


def _proxy_fields(handover: Handover, name: str, nik: str, relation: str) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("Give the proxy's full name."), "proxy_name_required")
    try:
        parsed = parse_nik(nik or "").nik
    except NikError as exc:
        raise DomainError(exc.message, "proxy_nik_invalid") from exc
    if parsed == handover.application.resident.nik:
        raise DomainError(_("The proxy is someone other than the holder."), "proxy_is_holder")
    if relation not in dict(PROXY_RELATIONS):
        raise DomainError(_("Choose the proxy's relation to the holder: spouse, parent, "
                            "child, sibling or other family."), "proxy_relation_invalid")
    return {"proxy_name": name, "proxy_nik": parsed, "proxy_relation": relation}


def handover_card_printed(*, card: Card) -> Handover:
    """The card is printed (registry.central, in its transaction): a chosen home
    delivery starts waiting for dispatch, and the resident is told how to receive it,
    with the receipt code."""
    handover = Handover.objects.select_related(
        "application__service", "application__resident", "application__office").get(card=card)
    handover.card = card
    application = handover.application
    office = application.office
    params = {"number": application.number, "office": office.name,
              "code": card.receipt_code}
    if handover.method == HandoverMethod.DELIVERY:
        _delivery_create(handover)
        body = _("Your card for case %(number)s is printed and will be delivered to your home; "
                 "you will be told the day. Whoever receives it must give the receipt code "
                 "%(code)s.")
    elif application.service.holder_in_person:
        body = _("Your card for case %(number)s is printed. Collect it in person at %(office)s "
                 "with the receipt code %(code)s: a fingerprint match is needed, "
                 "so nobody else can collect it.")
    elif handover.method == HandoverMethod.PROXY:
        params["proxy"] = handover.proxy_name
        body = _("Your card for case %(number)s is printed. %(proxy)s can collect it at "
                 "%(office)s with the receipt code %(code)s and their own KTP-el. You can "
                 "still collect it yourself or choose home delivery in the app.")
    else:
        body = _("Your card for case %(number)s is printed. Collect it at %(office)s "
                 "with the receipt code %(code)s, send a family member as your proxy, or "
                 "choose home delivery in the app.")
    notification_send(office=office, resident=application.resident, kind="card.ready",
                      title=_("Your KTP-el is ready"), body=body, params=params,
                      application=application, dedup_key=f"card-ready:{card.id}")
    return handover


# --- Pick-up at the counter --------------------------------------------------------


def handover_collect(*, handover: Handover, receipt_code: str, collector_name: str,
                     collector_nik: str, by, fingerprint_verified: bool = False) -> Handover:
    """Give the printed card to the holder or their named proxy at the counter. The
    receipt code is required; who collected, their relation, the staff member and the
    time are recorded. A wrong code or a wrong person is refused and changes nothing."""
    with transaction.atomic():
        handover = lock_objects.handovers_for_update().select_related(
            "card", "application__service", "application__resident").get(pk=handover.pk)
        application = handover.application
        if not tenancy.staff_has_role(by, handover.office_id, Role.FRONT_DESK,
                                      Role.COUNTER_OPERATOR, Role.SUPERVISOR,
                                      Role.OFFICE_ADMIN):
            raise NotFound(_("Not found."), "not_found")
        if handover.completed_at is not None:
            raise Conflict(_("The card has already been handed over."), "handover_completed")
        if handover.card.printed_at is None:
            raise Conflict(_("The card is not printed yet."), "card_not_printed")
        if normalize_receipt_code(receipt_code) != handover.card.receipt_code:
            raise DomainError(_("The receipt code is wrong."), "receipt_code_wrong")
        name = (collector_name or "").strip()
        if not name or len(name) > 120:
            raise DomainError(_("Give the name of the person collecting the card."),
                              "collector_name_required")
        try:
            nik = parse_nik(collector_nik or "").nik
        except NikError as exc:
            raise DomainError(exc.message, "collector_nik_invalid") from exc
        if nik == application.resident.nik:
            relation = Relation.SELF
            if application.service.holder_in_person and not fingerprint_verified:
                raise DomainError(_("Match the holder's fingerprint before handing over this "
                                    "card."), "fingerprint_required")
        elif (handover.method == HandoverMethod.PROXY and nik == handover.proxy_nik
              and not application.service.holder_in_person):
            relation = handover.proxy_relation
        else:
            raise DomainError(_("Only the holder, or the proxy the holder named, can collect "
                                "this card."), "not_holder_or_proxy")
        active = _active_delivery(handover)
        if active is not None and active.status == DeliveryStatus.ASSIGNED:
            raise Conflict(_("The card is out with a courier today."), "delivery_under_way")
        if active is not None:
            active.status = DeliveryStatus.CANCELLED
            active.save(update_fields=["status"])
            case_event_record(application=application, kind="delivery.cancelled", actor=by)
        handover.completed_at = timezone.now()
        handover.collected_by_name = name
        handover.collected_by_nik = nik
        handover.collected_relation = relation
        handover.handed_over_by = by
        handover.fingerprint_verified = bool(fingerprint_verified)
        handover.save()
        case_event_record(application=application, kind="handover.collected",
                          params={"name": name, "nik": mask_nik(nik), "relation": relation,
                                  "fingerprint": bool(fingerprint_verified)}, actor=by)
        application_set_status(application=application, status=ApplicationStatus.COMPLETED,
                               actor=by)
    return handover


# --- Dispatch ----------------------------------------------------------------------


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


def deliveries_dispatch_due(*, now=None) -> list[int]:
    """The beat's sweep: queue today's dispatch for every office whose dispatch time
    has come on a working day and that has not dispatched today."""
    from registry.deliveries.tasks import deliveries_dispatch as dispatch_task

    queued = []
    for office in Office.objects.filter(is_active=True).select_related("delivery_settings"):
        local_now = (now or timezone.now()).astimezone(office_zone(office))
        today = local_now.date()
        dispatch_time = (office.delivery_settings.dispatch_time
                         if hasattr(office, "delivery_settings") else DEFAULT_DISPATCH_TIME)
        if local_now.time() < dispatch_time or not office_is_working_day(office, today):
            continue
        # The morning's run is recorded even when there was nothing to assign, so a card
        # printed in the afternoon waits for the next working morning.
        if DispatchRun.objects.filter(office=office, day=today).exists():
            continue
        enqueue_on_commit(dispatch_task, office.id, today.isoformat())
        queued.append(office.id)
    return queued


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


# --- The courier at the door --------------------------------------------------------


def _courier_delivery(delivery_id: int, courier) -> Delivery:
    delivery = (lock_objects.deliveries_for_update()
                .select_related("application__service", "application__resident",
                                "application__office", "handover__card")
                .filter(pk=delivery_id, courier=courier,
                        office_id__in=tenancy.staff_offices_with_role(courier, Role.COURIER))
                .first())
    if delivery is None:
        raise NotFound(_("Not found."), "not_found")
    if delivery.status != DeliveryStatus.ASSIGNED:
        raise Conflict(_("This delivery is no longer on your route (%(status)s).")
                       % {"status": delivery.get_status_display()}, "delivery_not_assigned")
    return delivery


def _coordinates(latitude, longitude):
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError):
        raise DomainError(_("The location is missing; allow the phone to share it."),
                          "location_required") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise DomainError(_("The location is not valid."), "location_invalid")
    return round(lat, 6), round(lon, 6)


def delivery_deliver(*, delivery_id: int, courier, recipient_name: str,
                     recipient_relation: str, receipt_code: str, photo, latitude,
                     longitude) -> Delivery:
    """The courier handed the card over: the recipient, their relation to the holder,
    the receipt code (a wrong one is refused and changes nothing), a photo and the
    place are recorded, and the case is completed."""
    name = (recipient_name or "").strip()
    if not name or len(name) > 120:
        raise DomainError(_("Give the name of the person who received the card."),
                          "recipient_name_required")
    if recipient_relation not in Relation.values:
        raise DomainError(_("Choose the recipient's relation to the holder."),
                          "recipient_relation_invalid")
    lat, lon = _coordinates(latitude, longitude)
    with transaction.atomic():
        delivery = _courier_delivery(delivery_id, courier)
        application = delivery.application
        card = delivery.handover.card
        if normalize_receipt_code(receipt_code) != card.receipt_code:
            raise DomainError(_("The receipt code is wrong."), "receipt_code_wrong")
        if recipient_relation != Relation.SELF and application.service.holder_in_person:
            raise DomainError(_("Only the holder can receive this card."), "holder_in_person")
        extension = check_photo(photo)
        now = timezone.now()
        attempt = DeliveryAttempt(
            office_id=delivery.office_id, delivery=delivery,
            number=delivery.attempts.count() + 1, courier=courier,
            scheduled_for=delivery.scheduled_for, at=now, outcome=AttemptOutcome.DELIVERED,
            recipient_name=name, recipient_relation=recipient_relation,
            latitude=lat, longitude=lon)
        attempt.photo.save(f"proof.{extension}", photo, save=False)
        attempt.save()
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.recipient_name = name
        delivery.recipient_relation = recipient_relation
        delivery.save()
        handover = delivery.handover
        handover.completed_at = now
        handover.collected_by_name = name
        handover.collected_relation = recipient_relation
        handover.collected_by_nik = ""
        handover.handed_over_by = courier
        handover.save()
        case_event_record(application=application, kind="delivery.delivered",
                          params={"name": name, "relation": recipient_relation,
                                  "latitude": str(lat), "longitude": str(lon),
                                  "attempt": attempt.number}, actor=courier)
        application_set_status(application=application, status=ApplicationStatus.COMPLETED,
                               actor=courier)
    return delivery


def delivery_fail(*, delivery_id: int, courier, reason: str, note: str = "",
                  latitude=None, longitude=None) -> Delivery:
    """The card could not be delivered: it goes out again on the next working day, or
    after the office's maximum of failed attempts waits for pick-up at the office."""
    if reason not in FailReason.values:
        raise DomainError(_("Choose why the card could not be delivered."), "reason_invalid")
    note = (note or "").strip()
    if len(note) > 500:
        raise DomainError(_("The note is too long (at most 500 characters)."), "note_too_long")
    lat = lon = None
    if latitude not in (None, "") and longitude not in (None, ""):
        lat, lon = _coordinates(latitude, longitude)
    with transaction.atomic():
        delivery = _courier_delivery(delivery_id, courier)
        application = delivery.application
        office = application.office
        attempt = DeliveryAttempt.objects.create(
            office_id=delivery.office_id, delivery=delivery,
            number=delivery.attempts.count() + 1, courier=courier,
            scheduled_for=delivery.scheduled_for, outcome=AttemptOutcome.FAILED,
            reason=reason, note=note, latitude=lat, longitude=lon)
        delivery.failed_attempts += 1
        delivery.courier = None
        delivery.route_position = None
        scheduled = delivery.scheduled_for
        delivery.scheduled_for = None
        limit = office_settings_get(DeliverySettings, office=office).max_failed_attempts
        params = {"number": attempt.number, "reason": reason, "note": note}
        case_event_record(application=application, kind="delivery.failed", params=params,
                          actor=courier)
        if delivery.failed_attempts >= limit:
            delivery.status = DeliveryStatus.RETURNED
            delivery.save()
            handover = delivery.handover
            handover.method = HandoverMethod.PICKUP
            handover.save(update_fields=["method"])
            case_event_record(application=application, kind="delivery.returned",
                              params={"count": delivery.failed_attempts})
            notification_send(
                office=office, resident=application.resident, kind="delivery.returned",
                title=_("Your KTP-el waits at the office"),
                body=_("We could not deliver your card for case %(number)s after %(count)s "
                       "attempts. It waits for you at %(office)s: collect it with the receipt "
                       "code, or send a family member as your proxy."),
                params={"number": application.number, "count": delivery.failed_attempts,
                        "office": office.name},
                application=application, dedup_key=f"delivery-returned:{delivery.id}")
        else:
            delivery.status = DeliveryStatus.WAITING
            delivery.not_before = office_next_working_day(office, scheduled or
                                                          office_today(office))
            delivery.save()
            notification_send(
                office=office, resident=application.resident, kind="delivery.failed",
                title=_("We could not deliver your KTP-el"),
                body=_("The courier could not deliver your card for case %(number)s today "
                       "(%(reason)s). It goes out again on %(date)s."),
                params={"number": application.number, "reason": FailReason(reason).label,
                        "date": delivery.not_before.strftime("%d-%m-%Y")},
                application=application, dedup_key=f"delivery-failed:{attempt.id}")
    return delivery


# --- Supervisors ------------------------------------------------------------------------


def delivery_reopen(*, delivery: Delivery, by, reason: str) -> Delivery:
    """A supervisor reopens a delivered or returned delivery (a disputed hand-over, a
    failure recorded by mistake): it waits for the next dispatch again, the case is
    open again, and the reason is on the timeline. The earlier attempts stay."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError(_("Say why the delivery is reopened."), "reason_required")
    with transaction.atomic():
        delivery = (lock_objects.deliveries_for_update()
                    .select_related("application", "handover").get(pk=delivery.pk))
        if not tenancy.staff_has_role(by, delivery.office_id, Role.SUPERVISOR):
            raise NotFound(_("Not found."), "not_found")
        if delivery.status not in (DeliveryStatus.DELIVERED, DeliveryStatus.RETURNED):
            raise Conflict(_("Only a delivered or returned delivery can be reopened."),
                           "delivery_not_closed")
        if Delivery.objects.filter(application=delivery.application_id, status__in=[
                DeliveryStatus.WAITING, DeliveryStatus.ASSIGNED]).exists():
            raise Conflict(_("Another delivery of this card is under way."),
                           "delivery_under_way")
        previous = delivery.status
        now = timezone.now()
        delivery.status = DeliveryStatus.WAITING
        delivery.failed_attempts = 0
        delivery.not_before = None
        delivery.courier = None
        delivery.scheduled_for = None
        delivery.route_position = None
        delivery.delivered_at = None
        delivery.recipient_name = ""
        delivery.recipient_relation = ""
        delivery.waiting_since = now
        delivery.reopened_at = now
        delivery.reopened_by = by
        delivery.reopen_reason = reason
        delivery.save()
        handover = delivery.handover
        handover.method = HandoverMethod.DELIVERY
        handover.completed_at = None
        handover.collected_by_name = ""
        handover.collected_by_nik = ""
        handover.collected_relation = ""
        handover.handed_over_by = None
        handover.save()
        case_event_record(application=delivery.application, kind="delivery.reopened",
                          params={"previous": previous, "reason": reason}, actor=by)
        application_set_status(application=delivery.application,
                               status=ApplicationStatus.READY, actor=by)
    return delivery


@transaction.atomic
def courier_absence_add(*, office: Office, courier, day: date, reason: str = "",
                        by=None) -> CourierAbsence:
    if not StaffMembership.objects.filter(office=office, user=courier,
                                          role=Role.COURIER).exists():
        raise DomainError(_("This person is not a courier of the office."), "not_a_courier")
    absence, _created = CourierAbsence.objects.get_or_create(
        office=office, courier=courier, day=day, defaults={"reason": reason[:200]})
    return absence


@transaction.atomic
def delivery_settings_update(*, office: Office, max_per_courier: int,
                             max_failed_attempts: int, dispatch_time) -> DeliverySettings:
    if not 1 <= int(max_per_courier) <= 500:
        raise DomainError(_("A courier takes between 1 and 500 deliveries a day."),
                          "max_per_courier_invalid")
    if not 1 <= int(max_failed_attempts) <= 10:
        raise DomainError(_("Allow between 1 and 10 failed attempts."),
                          "max_failed_attempts_invalid")
    found = office_settings_get(DeliverySettings, office=office)
    found.max_per_courier = int(max_per_courier)
    found.max_failed_attempts = int(max_failed_attempts)
    found.dispatch_time = dispatch_time
    found.save()
    return found
