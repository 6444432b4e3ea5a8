"""Past hand-overs and home deliveries (registry.demo_history): this app's HISTORY part
takes the cards the central history printed (those with no hand-over yet) and says how
each reached its holder, as the services would have recorded it: most collected at the
counter by the holder some days after printing, some by a proxy the holder named, a
share delivered home (chosen in the app), dispatched each working morning within the
couriers' daily maximum, delivered at the first attempt mostly, some after failed
attempts, a few returned to pick-up at the office after the office's maximum. Cards
printed lately are still waiting, as they would be.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from registry.calendar import OfficeCalendar, office_day_bounds, office_local, office_zone
from registry.central.models import Card
from registry.deliveries.models import (
    AttemptOutcome,
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
from registry.demo_history import (
    FAMILY_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
    at_work,
    events_write,
    kecamatan_of,
    nik_for,
    now,
    office_staff,
)
from registry.models import Application, ApplicationStatus, Office, Role, Service
from registry.nik import mask_nik
from registry.services.bulk_sql import instance, objects_insert, rows_insert, rows_update
from registry.services.offices import office_settings_get

DELIVERY_SHARE = 0.25
PROXY_SHARE = 0.08
DELIVERED_SHARE = 0.82
FAIL_REASONS = [(FailReason.NOBODY_HOME, 55), (FailReason.ADDRESS_NOT_FOUND, 15),
                (FailReason.NO_RECEIPT, 22), (FailReason.REFUSED, 8)]
# Who opens the door, relative to the holder.
RECIPIENTS = [(Relation.SELF, 55), (Relation.SPOUSE, 20), (Relation.PARENT, 12),
              (Relation.CHILD, 7), (Relation.SIBLING, 4), (Relation.OTHER_FAMILY, 2)]
PROXIES = [Relation.SPOUSE, Relation.PARENT, Relation.CHILD, Relation.SIBLING]
# Working days from printing to collection at the counter: (days, weight).
COLLECTED_AFTER = [(0, 15), (1, 20), (2, 14), (3, 10), (4, 8), (5, 7), (7, 8), (10, 7),
                   (15, 6), (25, 5)]


def history(*, offices: list[Office], start: date, end: date, rng, stdout=None
            ) -> dict[str, int]:
    """The HISTORY part: the hand-overs of the cards printed in `start`..`end`."""
    written: dict[str, int] = defaultdict(int)
    for office in offices:
        for key, count in _Office(office, start, end, rng).run().items():
            written[key] += count
    return dict(written)


class _Card:
    """A printed (or planned) card of the period, read as values: its case's service
    and resident are what the hand-over needs."""

    COLUMNS = ("id", "printed_at", "print_job__created_at", "application_id",
               "application__service_id", "application__resident__name",
               "application__resident__nik", "application__resident__address",
               "application__resident__kecamatan", "application__resident__kelurahan",
               "application__resident__latitude", "application__resident__longitude",
               "application__resident__domicile_office_id")

    def __init__(self, row: tuple, services: dict):
        (self.id, self.printed_at, self.planned_at, self.application_id, service_id,
         *resident) = row
        self.service = services[service_id]
        self.resident = _Resident(*resident)


class _Resident(NamedTuple):
    name: str
    nik: str
    address: str
    kecamatan: str
    kelurahan: str
    latitude: Decimal | None
    longitude: Decimal | None
    domicile_office_id: int | None


class _Office:
    def __init__(self, office: Office, start: date, end: date, rng):
        self.office, self.start, self.end, self.rng = office, start, end, rng
        self.settings = office_settings_get(DeliverySettings, office=office)
        self.couriers = office_staff(office, Role.COURIER)
        self.desk = (office_staff(office, Role.FRONT_DESK)
                     + office_staff(office, Role.COUNTER_OPERATOR) or [None])
        self.limit = now()
        today = self.limit.astimezone(office_zone(office)).date()
        self.calendar = OfficeCalendar(office, start, today + timedelta(days=60))
        self.today = today
        services = {s.id: s for s in Service.objects.filter(office=office)}
        self.cards = [_Card(row, services) for row in (
            Card.objects.filter(office=office, handover__isnull=True,
                                print_job__created_at__gte=office_day_bounds(office, start)[0])
            .order_by("print_job__created_at", "id").values_list(*_Card.COLUMNS))]
        self.handovers: list[Handover] = []
        self.deliveries: list[Delivery] = []
        self.attempts: list[tuple] = []
        self.events: list[dict] = []
        self.completed: list[tuple[Application, datetime]] = []

    def event(self, application_id, kind, at, params, actor=None, by_resident=False) -> None:
        if at is not None and at <= self.limit:
            self.events.append({"application_id": application_id,
                                "office_id": self.office.id, "kind": kind, "at": at,
                                "params": params, "actor": actor, "by_resident": by_resident})

    def run(self) -> dict[str, int]:
        rng = self.rng
        delivered_home = []
        for card in self.cards:
            service, resident = card.service, card.resident
            handover = instance(Handover, office=self.office,
                                application_id=card.application_id, card_id=card.id,
                                created_at=card.planned_at)
            self.handovers.append(handover)
            roll = rng.random()
            home = (service.home_delivery and not service.holder_in_person and self.couriers
                    and resident.domicile_office_id == self.office.id and resident.address)
            if home and roll < DELIVERY_SHARE:
                self._choose(handover, HandoverMethod.DELIVERY, card)
            elif not service.holder_in_person and roll < DELIVERY_SHARE + PROXY_SHARE:
                self._choose(handover, HandoverMethod.PROXY, card)
            if card.printed_at is None:
                continue  # refused by the central server: nothing to hand over yet
            if handover.method == HandoverMethod.DELIVERY:
                delivered_home.append(self._delivery(handover, card))
            else:
                self._collect(handover, card, card.printed_at)
        self._dispatch([d for d in delivered_home if d is not None])
        return self._write()

    def _choose(self, handover: Handover, method: str, card: Card) -> None:
        rng = self.rng
        ready = card.printed_at or handover.created_at
        chosen = handover.created_at + (ready - handover.created_at) * rng.random() + \
            timedelta(hours=rng.uniform(0, 20))
        if chosen > self.limit:
            return
        handover.method, handover.chosen_at = method, chosen
        params = {"method": method, "proxy_name": "", "proxy_relation": ""}
        if method == HandoverMethod.PROXY:
            relation = rng.choice(PROXIES)
            female = rng.random() < 0.5
            born = date(rng.randint(1955, 2005), rng.randint(1, 12), rng.randint(1, 28))
            handover.proxy_name = (f"{rng.choice(FEMALE_NAMES if female else MALE_NAMES)} "
                                   f"{rng.choice(FAMILY_NAMES)}").strip()
            handover.proxy_nik = nik_for(
                self.office, district=rng.randint(1, len(kecamatan_of(self.office))),
                born=born, female=female, serial=rng.randint(2000, 9999))
            handover.proxy_relation = relation
            params.update(proxy_name=handover.proxy_name, proxy_relation=relation)
        self.event(card.application_id, "handover.chosen", chosen, params, by_resident=True)

    def _collect(self, handover: Handover, card: _Card, ready: datetime) -> None:
        """Collected at the counter some working days after `ready`, by the holder or
        the proxy they named; not yet when that day is still to come."""
        rng = self.rng
        days = rng.choices(*zip(*COLLECTED_AFTER, strict=True))[0]
        day = self._working_day_after(ready, days)
        if day is None:
            return
        at = at_work(self.office, self.calendar, day, rng, 0.02, 0.95)
        if at <= ready:
            at = ready + timedelta(minutes=rng.uniform(20, 90))
        if at > self.limit:
            return
        resident = card.resident
        by_proxy = handover.method == HandoverMethod.PROXY and rng.random() < 0.85
        name = handover.proxy_name if by_proxy else resident.name
        nik = handover.proxy_nik if by_proxy else resident.nik
        relation = handover.proxy_relation if by_proxy else Relation.SELF
        staff = rng.choice(self.desk)
        fingerprint = card.service.holder_in_person
        handover.completed_at, handover.handed_over_by = at, staff
        handover.collected_by_name, handover.collected_by_nik = name, nik
        handover.collected_relation, handover.fingerprint_verified = relation, fingerprint
        self.event(card.application_id, "handover.collected", at,
                   {"name": name, "nik": mask_nik(nik), "relation": relation,
                    "fingerprint": fingerprint}, actor=staff)
        self.completed.append((card.application_id, at, staff))

    def _working_day_after(self, instant: datetime, days: int) -> date | None:
        day = instant.astimezone(office_zone(self.office)).date()
        found = 0 if self.calendar.is_working_day(day) else -1
        while found < days:
            day += timedelta(days=1)
            if day > self.calendar.end:
                return None
            if self.calendar.is_working_day(day):
                found += 1
        return day

    def _delivery(self, handover: Handover, card: _Card) -> Delivery | None:
        waiting = max(card.printed_at, handover.chosen_at or card.printed_at)
        if waiting > self.limit:
            return None
        resident = card.resident
        delivery = instance(
            Delivery, office=self.office, application_id=card.application_id, handover=handover,
            waiting_since=waiting, created_at=waiting, address=resident.address,
            kecamatan=resident.kecamatan, kelurahan=resident.kelurahan,
            latitude=resident.latitude, longitude=resident.longitude)
        delivery.case = card
        self.deliveries.append(delivery)
        self.event(card.application_id, "delivery.waiting", waiting,
                   {"address": resident.address})
        return delivery

    def _dispatch(self, deliveries: list[Delivery]) -> None:
        """Each working morning the waiting deliveries go out, oldest first, up to the
        couriers' maximum; each visit delivers or fails."""
        rng, settings = self.rng, self.settings
        taken = set(DispatchRun.objects.filter(office=self.office, day__gte=self.start)
                    .values_list("day", flat=True))
        self.runs: list[DispatchRun] = []
        coming = sorted(deliveries, key=lambda d: d.waiting_since)
        waiting: list[Delivery] = []  # in the office, oldest first
        day = self.start
        while day <= self.end:
            if not self.calendar.is_working_day(day) or day in taken:
                day += timedelta(days=1)
                continue
            dispatch_at = office_local(self.office, day, settings.dispatch_time)
            arrived = 0
            while arrived < len(coming) and coming[arrived].waiting_since < dispatch_at:
                arrived += 1
            waiting.extend(coming[:arrived])
            del coming[:arrived]
            due = [d for d in waiting if d.not_before is None or d.not_before <= day]
            capacity = settings.max_per_courier * len(self.couriers)
            out = due[:capacity]
            self.runs.append(DispatchRun(
                office=self.office, day=day, started_at=dispatch_at,
                finished_at=dispatch_at + timedelta(seconds=rng.uniform(1, 4)),
                couriers=len(self.couriers), assigned=len(out),
                left_waiting=len(due) - len(out), runs=1))
            for n, delivery in enumerate(out):
                courier = self.couriers[n % len(self.couriers)]
                stop = n // len(self.couriers) + 1
                self.event(delivery.application_id, "delivery.scheduled", dispatch_at,
                           {"day": day.isoformat(), "stop": stop,
                            "courier": courier.get_full_name() or courier.username})
                visited = office_local(self.office, day, time(8, 30)) + timedelta(
                    minutes=stop * rng.uniform(8, 14))
                if self._visit(delivery, day, courier, stop, visited):
                    waiting.remove(delivery)
            day += timedelta(days=1)

    def _visit(self, delivery: Delivery, day: date, courier, stop: int,
               visited: datetime) -> bool:
        """One attempt; True when the delivery is over (delivered or returned)."""
        rng = self.rng
        delivery.notified_for = day
        number = delivery.failed_attempts + 1
        case = delivery.case
        lat, lon = delivery.latitude, delivery.longitude
        if lat is not None:
            lat = (Decimal(lat) + Decimal(f"{rng.gauss(0, 0.0003):.6f}")).quantize(
                Decimal("0.000001"))
            lon = (Decimal(lon) + Decimal(f"{rng.gauss(0, 0.0003):.6f}")).quantize(
                Decimal("0.000001"))
        if rng.random() < DELIVERED_SHARE:
            relation = rng.choices(*zip(*RECIPIENTS, strict=True))[0]
            name = (case.resident.name if relation == Relation.SELF else
                    f"{rng.choice(FEMALE_NAMES + MALE_NAMES)} "
                    f"{case.resident.name.split(' ')[-1]}")
            self.attempts.append((delivery, number, courier.id, day, visited,
                                  AttemptOutcome.DELIVERED, "", "", name, relation, lat, lon))
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, visited
            delivery.courier, delivery.scheduled_for, delivery.route_position = courier, day, stop
            delivery.recipient_name, delivery.recipient_relation = name, relation
            handover = delivery.handover
            handover.completed_at, handover.collected_by_name = visited, name
            handover.collected_relation, handover.handed_over_by = relation, courier
            self.event(case.application_id, "delivery.delivered", visited,
                       {"name": name, "relation": relation, "latitude": str(lat or ""),
                        "longitude": str(lon or ""), "attempt": number}, actor=courier)
            self.completed.append((case.application_id, visited, courier))
            return True
        reason = rng.choices(*zip(*FAIL_REASONS, strict=True))[0]
        self.attempts.append((delivery, number, courier.id, day, visited, AttemptOutcome.FAILED,
                              reason, "", "", "", lat, lon))
        delivery.failed_attempts = number
        self.event(case.application_id, "delivery.failed", visited,
                   {"number": number, "reason": reason, "note": ""}, actor=courier)
        if number >= self.settings.max_failed_attempts:
            delivery.status = DeliveryStatus.RETURNED
            delivery.handover.method = HandoverMethod.PICKUP
            self.event(case.application_id, "delivery.returned", visited, {"count": number})
            # The holder comes for it at the office after all, most of them.
            if rng.random() < 0.7:
                self._collect(delivery.handover, case, visited)
            return True
        delivery.not_before = self._working_day_after(visited, 1)
        return False

    def _write(self) -> dict[str, int]:
        office = self.office
        objects_insert(self.handovers)
        objects_insert(self.deliveries)
        rows_insert(DeliveryAttempt, [
            "office", "delivery", "number", "courier", "scheduled_for", "at", "outcome",
            "reason", "note", "recipient_name", "recipient_relation", "latitude",
            "longitude", "photo"],
            ((office.id, d.id, *values, "") for d, *values in self.attempts))
        DispatchRun.objects.bulk_create(self.runs)
        for application_id, at, actor in self.completed:
            self.event(application_id, "application.status", at,
                       {"old": ApplicationStatus.READY, "new": ApplicationStatus.COMPLETED},
                       actor=actor)
        rows_update(Application, ["status", "closed_at", "updated_at"], (
            (application_id, ApplicationStatus.COMPLETED, at, at)
            for application_id, at, _actor in self.completed))
        events_write(self.events)
        return {"deliveries.Handover": len(self.handovers),
                "deliveries.Delivery": len(self.deliveries),
                "deliveries.DeliveryAttempt": len(self.attempts),
                "deliveries.DispatchRun": len(self.runs),
                "registry.CaseEvent": len(self.events)}
