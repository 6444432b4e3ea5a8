"""Past queue days (registry.demo_history): this app's HISTORY part replays each working
day of an office at its counters, as the calling policy would have run it, and writes
what the services would have left: the tickets (walk-ins from the kiosk, most before
ten; the bookings checked in that day), their history with the waits, service and busy
times where the statistics read them, each counter's states (idle, calling, serving,
paused, closed) and the alerts of a counter idle or paused too long while people waited.

The day: counters open around opening time (one late now and then) with their usual
operator; the kiosk gives numbers from an hour before opening until the walk-in
cut-off; a free counter calls from its lanes in its order, by band then time (queues.
policy, with the fairness cap); residents walk up, are served for the minutes their
service takes (each operator at their own pace), and most are served; some are not
(a document missing, the central link down), some referred to another lane, some do
not come when called. Each counter pauses once (prayer, a break, the link down), and
some days an operator stands idle for a while with people waiting. Counters close when
the hall is empty.

The served visits move their cases on (registry.central.demo_history.visits_completed),
and the bookings behind the tickets end (registry.appointments.demo_history).
"""

import heapq
import itertools
from collections import defaultdict, deque
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model

from queues import policy
from queues.models import (
    Band,
    CallReason,
    Counter,
    CounterAlert,
    CounterAlertEnd,
    CounterAlertKind,
    CounterEvent,
    CounterLane,
    CounterState,
    NotServedReason,
    Outcome,
    Priority,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketSource,
    TicketStatus,
)
from queues.services.counters import counter_create, pause_reasons_ensure
from queues.services.walk_in_limits import ISSUING_STARTS_BEFORE_OPENING
from registry.appointments.demo_history import bookings_finished
from registry.appointments.models import Booking, BookingStatus
from registry.calendar import OfficeCalendar, office_day_bounds, office_local
from registry.central.demo_history import visits_completed
from registry.central.models import CentralOutage
from registry.demo_history import (
    FAMILY_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
    applications_create,
    day_load,
    events_write,
    now,
    residents_create,
)
from registry.models import (
    Application,
    Channel,
    Lane,
    Office,
    Role,
    Service,
    StaffMembership,
    TurnAway,
    TurnAwayReason,
)
from registry.services.bulk_sql import instance, objects_insert, rows_insert
from registry.services.offices import office_settings_get
from registry.services.staff import staff_membership_grant

# Walk-ins per counter on an ordinary day (the bookings come on top).
WALK_INS_PER_COUNTER = 11
# How the kiosk's numbers spread over the day: (minutes from opening, weight) from each
# point on; the kiosk opens an hour before the office.
ARRIVALS = [(-60, 0.9), (-30, 1.8), (0, 2.4), (30, 2.3), (60, 2.0), (90, 1.7), (120, 1.4),
            (150, 1.1), (180, 0.9), (210, 0.7), (240, 0.5), (270, 0.6), (300, 0.6),
            (330, 0.4)]
PRIORITY_SHARE = {TicketSource.WALK_IN: 0.07, TicketSource.BOOKING: 0.03}
PRIORITIES = [Priority.ELDERLY] * 5 + [Priority.PREGNANT] * 2 + [Priority.DISABLED,
                                                                  Priority.WITH_BABY]
NO_SHOW_SHARE = {TicketSource.WALK_IN: 0.05, TicketSource.BOOKING: 0.025}
SERVICE_WEIGHT = {"KTP_BARU": 3, "KK_UBAH": 3, "KTP_TTD_FOTO": 1.2, "KTP_HILANG": 1.5,
                  "KTP_UBAH_DATA": 1.5, "KTP_CETAK_ULANG": 1.5, "KTP_RUSAK": 1}
NOT_SERVED_REASONS = [(NotServedReason.MISSING_DOCUMENTS, 35),
                      (NotServedReason.EXPIRED_DOCUMENTS, 15),
                      (NotServedReason.WRONG_SERVICE, 15), (NotServedReason.RESIDENT_LEFT, 6),
                      (NotServedReason.EQUIPMENT, 5), (NotServedReason.OTHER, 4)]
OTHER_NOTES = ["Berkas akan dilengkapi besok", "Data di KK belum diperbarui",
               "Pemohon diminta membawa dokumen asli"]
TICKET_EVENT_FIELDS = ["office", "ticket", "day", "at", "kind", "lane", "counter", "actor",
                       "reason", "ahead_of_turn", "outcome", "to_lane", "note", "wait_seconds",
                       "service_seconds", "busy_seconds"]
COUNTER_EVENT_FIELDS = ["office", "counter", "day", "at", "state", "previous", "operator",
                        "actor", "pause_reason", "note", "ticket"]
# Counter minutes of a service: its catalogue minutes times this, lognormal around it.
SERVICE_PACE, SERVICE_SPREAD = 0.68, 0.25


class _Ticket:
    __slots__ = ("band", "booking", "called", "calls", "closed", "code", "counter", "events",
                 "finished", "first_called", "issued", "lane", "note", "operator", "order",
                 "outcome", "priority", "queued", "reason", "resident_at", "row", "seq",
                 "service", "source", "started", "transferred_from")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))
        self.events = []
        self.calls = 0


class _Desk:
    """One counter through the day."""

    def __init__(self, counter: Counter, lane_ids: list[int], operator, rng):
        self.counter, self.lane_ids, self.operator = counter, lane_ids, operator
        self.state = CounterState.CLOSED
        self.busy = False       # calling, serving, paused or idling on purpose
        self.woken = False      # a "wake" is already on its way
        self.closed = False
        self.pause = None       # (from, minutes, reason code)
        self.pause_due = False
        self.slack = None       # (from, minutes): standing idle while people wait
        self.pace = rng.uniform(0.85, 1.2)
        self.last = 0.0


def history(*, offices: list[Office], start: date, end: date, rng, stdout=None
            ) -> dict[str, int]:
    """The HISTORY part: each office's queue days `start`..`end`."""
    written: dict[str, int] = defaultdict(int)
    for office in offices:
        for key, count in _Office(office, start, end, rng).run().items():
            written[key] += count
    return dict(written)


def _operators(office: Office, count: int, rng) -> list:
    """The office's counter operators, made up to `count` (accounts that cannot sign in,
    named as the office's staff lists show them)."""
    users = list(get_user_model().objects.filter(
        memberships__office=office, memberships__role=Role.COUNTER_OPERATOR,
        is_active=True).order_by("id").distinct())
    for number in range(len(users) + 1, count + 1):
        user, created = get_user_model().objects.get_or_create(
            username=f"loket{number}.{office.code}",
            defaults={"first_name": rng.choice(MALE_NAMES + FEMALE_NAMES),
                      "last_name": rng.choice([n for n in FAMILY_NAMES if n])})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        staff_membership_grant(user=user, office=office, role=Role.COUNTER_OPERATOR)
        users.append(user)
    return users


class _Office:
    def __init__(self, office: Office, start: date, end: date, rng):
        self.office, self.start, self.end, self.rng = office, start, end, rng
        self.settings = office_settings_get(QueueSettings, office=office)
        self.reasons = {r.code: r for r in pause_reasons_ensure(office)}
        self.lanes = {lane.id: lane for lane in Lane.objects.filter(office=office,
                                                                    is_active=True)}
        counters = list(Counter.objects.filter(office=office, is_active=True).order_by("number"))
        if not counters:
            ordered = sorted(self.lanes.values(), key=lambda lane: lane.letter)
            # One counter per lane, each also taking the next lanes, and one more.
            counters = [counter_create(office=office, number=n + 1,
                                       lanes=ordered[n % len(ordered):]
                                       + ordered[:n % len(ordered)])
                        for n in range(len(ordered) + 1)]
        order = defaultdict(list)
        for counter_id, lane_id in (CounterLane.objects.filter(office=office)
                                    .order_by("counter_id", "position")
                                    .values_list("counter_id", "lane_id")):
            order[counter_id].append(lane_id)
        self.counters = [(c, [lane for lane in order[c.id] if lane in self.lanes])
                         for c in counters]
        self.operators = _operators(office, len(counters) + 1, rng)
        desk = (StaffMembership.objects.filter(office=office, role=Role.FRONT_DESK)
                .select_related("user").order_by("id").first())
        self.desk = desk.user if desk else None
        self.services = defaultdict(list)
        for service in Service.objects.filter(office=office, is_active=True).select_related("lane"):
            if service.lane_id in self.lanes:
                self.services[service.lane_id].append(service)
        self.calendar = OfficeCalendar(office, start, end)
        first, last = (office_day_bounds(office, start)[0],
                       office_day_bounds(office, end)[1])
        self.outages = list(CentralOutage.objects.filter(
            office=office, started_at__lt=last, ended_at__gt=first).values_list(
            "started_at", "ended_at"))
        self.bookings = defaultdict(list)
        for booking in (Booking.objects.filter(office=office, day__range=(start, end),
                                               status=BookingStatus.CHECKED_IN,
                                               ticket__isnull=True)
                        .select_related("slot", "service", "application__service",
                                        "application__resident", "resident")
                        .order_by("checked_in_at")):
            if booking.service.lane_id in self.lanes:
                self.bookings[booking.day].append(booking)
        self.numbers = defaultdict(int)
        for day, lane_id, number in Ticket.objects.filter(
                office=office, day__range=(start, end)).values_list("day", "lane_id", "number"):
            self.numbers[day, lane_id] = max(self.numbers[day, lane_id], number)
        self.limit = now()
        self.tickets: list[_Ticket] = []
        # (counter id, day, at, state, previous, operator id, actor id, pause reason
        # id, ticket): written once the tickets have their ids.
        self.counter_events: list[tuple] = []
        self.alerts: list[CounterAlert] = []

    # --- the day ------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        for day in self.calendar.working_days():
            if self.lanes and self.counters:
                _Day(self, day).run()
        return self.write()

    def write(self) -> dict[str, int]:
        office, rng = self.office, self.rng
        walk_ins = [t for t in self.tickets if t.resident_at is not None]
        residents = residents_create(office=office, rng=rng,
                                     moments=[t.resident_at for t in walk_ins], at_desk=True)
        applications = [instance(Application, office=office, resident=r, service=t.service,
                                 channel=Channel.WALK_IN, created_by=t.operator,
                                 created_at=t.resident_at)
                        for t, r in zip(walk_ins, residents, strict=True)]
        applications_create(office=office, applications=applications)
        for ticket, resident, application in zip(walk_ins, residents, applications, strict=True):
            ticket.row.resident, ticket.row.application = resident, application
        objects_insert([t.row for t in self.tickets])
        office_id = office.id
        events = rows_insert(TicketEvent, TICKET_EVENT_FIELDS, (
            (office_id, t.row.id, t.row.day, e["at"], e["kind"], e["lane_id"],
             e["counter"].id if e["counter"] is not None else None,
             e["actor"].id if e["actor"] is not None else None, e.get("reason") or "",
             e.get("ahead_of_turn", False), e.get("outcome") or "", e.get("to_lane_id"),
             e.get("note") or "", e.get("wait_seconds"), e.get("service_seconds"),
             e.get("busy_seconds")) for t in self.tickets for e in t.events))
        rows_insert(CounterEvent, COUNTER_EVENT_FIELDS, (
            (office_id, *values, "", ticket.row.id if ticket is not None else None)
            for *values, ticket in self.counter_events))
        CounterAlert.objects.bulk_create(self.alerts, batch_size=2000)
        turn_aways = self._turn_aways(walk_ins, residents)
        timeline = self._timeline()
        events_write(timeline)
        written = {"registry.Resident": len(residents),
                   "registry.Application": len(applications), "queues.Ticket": len(self.tickets),
                   "queues.TicketEvent": events,
                   "queues.CounterEvent": len(self.counter_events),
                   "queues.CounterAlert": len(self.alerts),
                   "registry.TurnAway": len(turn_aways),
                   "registry.CaseEvent": len(timeline) + len(applications)}
        done = [(t.booking, t.finished, t.operator) for t in self.tickets
                if t.booking is not None and t.row.status == TicketStatus.DONE]
        missed = [(t.booking, t.closed) for t in self.tickets
                  if t.booking is not None and t.row.status == TicketStatus.NO_SHOW]
        for key, count in bookings_finished(office=office, done=done, missed=missed).items():
            written[key] = written.get(key, 0) + count
        visits = sorted([(t.row.application, t.finished, t.operator) for t in self.tickets
                         if t.row.outcome == Outcome.SERVED and t.row.application is not None],
                        key=lambda v: v[1])
        for key, count in visits_completed(office=office, visits=visits, rng=rng,
                                           start=self.start, end=self.end).items():
            written[key] = written.get(key, 0) + count
        return written

    def _turn_aways(self, walk_ins, residents) -> list[TurnAway]:
        """About one walk-in in twenty-five was first sent away at the door on an
        earlier working day (no booking, a document missing or expired, the day full):
        the trips made for nothing the one-trip charts count."""
        reasons = [TurnAwayReason.MISSING_DOCUMENT] * 4 + [TurnAwayReason.NO_BOOKING] * 3 + [
            TurnAwayReason.INVALID_DOCUMENT] * 2 + [TurnAwayReason.OFFICE_FULL]
        days = self.calendar.working_days()
        rows = []
        for ticket, resident in zip(walk_ins, residents, strict=True):
            if self.rng.random() >= 0.04 or ticket.resident_at is None:
                continue
            earlier = [d for d in days if d < ticket.row.day][-5:]
            if not earlier:
                continue
            day = self.rng.choice(earlier)
            at = office_local(self.office, day, time(8, 0)) + timedelta(
                minutes=self.rng.randint(0, 420))
            if at > self.limit:
                continue
            rows.append(TurnAway(office=self.office, resident=resident,
                                 service=ticket.service, reason=self.rng.choice(reasons),
                                 at=at, actor=self.desk))
        return TurnAway.objects.bulk_create(rows, batch_size=2000)

    def _timeline(self) -> list[dict]:
        """Each ticket's history on its case's timeline, as ticket_timeline_record
        writes it (a walk-in's at the time of each step: identifying writes it then)."""
        entries = []
        for ticket in self.tickets:
            application = ticket.row.application
            if application is None:
                continue
            for event in ticket.events:
                lane = self.lanes[event["lane_id"]]
                params = {"code": ticket.code, "lane": lane.letter, "lane_name": lane.name}
                if event["counter"] is not None:
                    params["counter"] = event["counter"].name
                for name in ("reason", "outcome"):
                    if event.get(name):
                        params[name] = event[name]
                if event.get("to_lane_id"):
                    params["to_lane"] = self.lanes[event["to_lane_id"]].letter
                    params["to_lane_name"] = self.lanes[event["to_lane_id"]].name
                kind = event["kind"]
                if kind == TicketEventKind.ISSUED:
                    params["priority"] = ticket.priority
                elif kind == TicketEventKind.CHECKED_IN:
                    params.update(booking=ticket.booking.code, priority=ticket.priority,
                                  on_time=ticket.band != Band.IN_TURN or bool(ticket.priority))
                elif kind == TicketEventKind.NO_SHOW and event["counter"] is None:
                    params["by_sweep"] = True
                entries.append({"application_id": application.id, "office_id": self.office.id,
                                "kind": f"queue.{kind}", "at": event["at"],
                                "actor": event["actor"], "params": params,
                                "note": event.get("note") or ""})
        return entries



class _Day:
    """One working day of the office, simulated in seconds from midnight."""

    def __init__(self, site: _Office, day: date):
        self.site, self.day, self.rng = site, day, site.rng
        self.office = site.office
        self.midnight = office_day_bounds(self.office, day)[0]
        hours = site.calendar.hours_on(day)
        self.opens = hours.opens.hour * 3600 + hours.opens.minute * 60
        self.closes = hours.closes.hour * 3600 + hours.closes.minute * 60
        until = site.settings.walk_in_until
        self.walk_ins_until = min(until.hour * 3600 + until.minute * 60 if until
                                  else self.closes, self.closes - 45 * 60)
        grace = min(self.closes + site.settings.end_of_day_grace_minutes * 60, 86399)
        self.sweep_due = self.at(grace)
        self.outages = [((s - self.midnight).total_seconds(), (e - self.midnight).total_seconds())
                        for s, e in site.outages if s < self.at(86400) and e > self.midnight]
        self.waiting: dict[int, list[_Ticket]] = defaultdict(list)
        self.ahead: dict[int, deque] = defaultdict(lambda: deque(maxlen=site.settings.ahead_cap))
        self.heap: list = []
        self.seq = itertools.count()
        self.desks = self._desks()

    def at(self, seconds: float) -> datetime:
        return self.midnight + timedelta(seconds=seconds)

    def link_down(self, seconds: float) -> bool:
        return any(s <= seconds < e for s, e in self.outages)

    def push(self, seconds: float, kind: str, item) -> None:
        heapq.heappush(self.heap, (seconds, next(self.seq), kind, item))

    # --- planning -------------------------------------------------------------------

    def _desks(self) -> list[_Desk]:
        rng, site = self.rng, self.site
        operators = list(site.operators)
        spare = operators[len(site.counters):] or operators[:1]
        desks = []
        for n, (counter, lane_ids) in enumerate(site.counters):
            operator = operators[n % len(operators)]
            if rng.random() < 0.08:  # the usual operator is away: the spare sits here
                operator = spare[0]
                spare = spare[1:] or [operators[n % len(operators)]]
            desk = _Desk(counter, lane_ids, operator, rng)
            late = rng.random() < 0.08
            opens = self.opens + (rng.uniform(10, 35) if late else rng.uniform(-6, 6)) * 60
            roll = rng.random()
            if self.day.weekday() == 4 and roll < 0.5:  # the Friday prayer
                desk.pause = (11.5 * 3600 + rng.uniform(0, 10) * 60, rng.uniform(55, 85),
                              "prayer")
            elif roll < 0.6:
                desk.pause = (11.8 * 3600 + rng.uniform(0, 40) * 60, rng.uniform(12, 26),
                              "prayer")
            else:
                desk.pause = (11.5 * 3600 + rng.uniform(0, 90) * 60, rng.uniform(20, 42),
                              "break")
            for begins, ends in self.outages:
                if ends - begins > 40 * 60 and rng.random() < 0.3:
                    desk.pause = (begins + 300, (ends - begins) / 60 - 5, "system_down")
            if rng.random() < 0.14:
                desk.slack = (rng.uniform(9, 14) * 3600, rng.uniform(6, 24))
            desks.append(desk)
            self.push(opens, "open", desk)
            self.push(desk.pause[0], "pause", desk)
        return desks

    def _arrivals(self) -> None:
        rng, site = self.rng, self.site
        served = {lane for desk in self.desks for lane in desk.lane_ids}
        lanes = [lane for lane in site.services if lane in served]
        if not lanes:
            return
        load = day_load(self.office, self.day)
        count = round(WALK_INS_PER_COUNTER * len(self.desks) * load * rng.uniform(0.9, 1.1))
        kiosk = self.opens - ISSUING_STARTS_BEFORE_OPENING.total_seconds()
        points = [(self.opens + m * 60, w) for m, w in ARRIVALS
                  if kiosk <= self.opens + m * 60 < self.walk_ins_until]
        spans = [(t, points[i + 1][0] if i + 1 < len(points) else self.walk_ins_until, w)
                 for i, (t, w) in enumerate(points)]
        weights = [w * (e - s) for s, e, w in spans]
        for _n in range(count):
            begins, ends, _w = rng.choices(spans, weights)[0]
            issued = rng.uniform(begins, ends)
            lane_id = rng.choice(lanes)
            lane_services = site.services[lane_id]
            service = rng.choices(lane_services,
                                  [SERVICE_WEIGHT.get(x.code, 1) for x in lane_services])[0]
            priority = (rng.choice(PRIORITIES)
                        if rng.random() < PRIORITY_SHARE[TicketSource.WALK_IN] else "")
            self.push(issued, "arrive", _Ticket(
                source=TicketSource.WALK_IN, service=service, lane=lane_id, priority=priority,
                issued=issued, queued=issued, order=issued,
                band=policy.band_for(priority=priority, booking_on_time=False)))
        for booking in site.bookings.get(self.day, []):
            lane_id = booking.service.lane_id
            if lane_id not in served:
                continue
            arrived = (booking.checked_in_at - self.midnight).total_seconds()
            on_time = booking.checked_in_at <= booking.slot.ends_at
            priority = (rng.choice(PRIORITIES)
                        if rng.random() < PRIORITY_SHARE[TicketSource.BOOKING] else "")
            order = ((booking.slot.starts_at - self.midnight).total_seconds() if on_time
                     else arrived)
            self.push(arrived, "arrive", _Ticket(
                source=TicketSource.BOOKING, service=booking.service, lane=lane_id,
                priority=priority, issued=arrived, queued=arrived, order=order,
                booking=booking, band=policy.band_for(priority=priority,
                                                      booking_on_time=on_time)))

    # --- the run --------------------------------------------------------------------

    def run(self) -> None:
        self._arrivals()
        while self.heap:
            seconds, _seq, kind, item = heapq.heappop(self.heap)
            if kind == "arrive":
                self._arrive(item, seconds)
            elif kind == "open":
                self._state(item, seconds, CounterState.IDLE)
                self._try(item, seconds)
            elif kind == "pause":
                item.pause_due = True
                self._try(item, seconds)
            elif kind in ("wake", "slack_end"):
                item.woken = False
                item.busy = item.busy and kind != "slack_end"
                self._try(item, seconds)
            elif kind == "resume":
                item.busy = False
                self._state(item, seconds, CounterState.IDLE)
                self._try(item, seconds)
            elif kind == "done":
                self._done(*item, seconds)
        for desk in self.desks:
            if desk.state != CounterState.CLOSED:
                closed = max(self.closes, desk.last) + self.rng.uniform(1, 12) * 60
                self._state(desk, closed, CounterState.CLOSED)
        for tickets in self.waiting.values():
            for ticket in tickets:  # never called: the end-of-day sweep closes them
                closed = self._sweep_time()
                self._event(ticket, TicketEventKind.NO_SHOW, closed, None,
                            reason="end_of_day")
                self._close(ticket, TicketStatus.NO_SHOW, closed)
        self.waiting.clear()

    def _sweep_time(self) -> datetime:
        return min(self.sweep_due + timedelta(seconds=self.rng.uniform(5, 240)),
                   self.site.limit)

    def _arrive(self, ticket: _Ticket, seconds: float) -> None:
        if ticket.code is None:  # a new ticket (one transferred keeps its code)
            key = (self.day, ticket.lane)
            self.site.numbers[key] += 1
            number = self.site.numbers[key]
            ticket.code = f"{self.site.lanes[ticket.lane].letter}-{number:03d}"
            booking = ticket.booking
            ticket.row = instance(
                Ticket, office=self.office, day=self.day, code=ticket.code, number=number,
                lane_id=ticket.lane, service=ticket.service, source=ticket.source,
                priority=ticket.priority, band=ticket.band, order_at=self.at(ticket.order),
                booking=booking, resident=booking.resident if booking else None,
                application=booking.application if booking else None,
                issued_at=self.at(seconds), queued_at=self.at(seconds),
                sweep_due_at=self.sweep_due)
            self.site.tickets.append(ticket)
            by = self.site.desk if self.rng.random() < 0.2 else None
            if booking is not None:
                self._event(ticket, TicketEventKind.CHECKED_IN, self.at(seconds), None,
                            by=by, reason=ticket.priority or (
                                "on_time" if ticket.band != Band.IN_TURN else "late"))
            else:
                self._event(ticket, TicketEventKind.ISSUED, self.at(seconds), None, by=by,
                            reason=ticket.priority)
        ticket.seq = next(self.seq)
        self.waiting[ticket.lane].append(ticket)
        for desk in self.desks:
            if ticket.lane in desk.lane_ids and self._can_call(desk):
                desk.woken = True
                self.push(seconds + self.rng.uniform(3, 25), "wake", desk)

    @staticmethod
    def _can_call(desk: _Desk) -> bool:
        return (desk.state == CounterState.IDLE and not desk.busy and not desk.woken
                and not desk.closed)

    def _waiting_in(self, desk: _Desk, seconds: float) -> int:
        return sum(1 for lane in desk.lane_ids for t in self.waiting.get(lane, [])
                   if t.issued <= seconds)

    def _pick(self, desk: _Desk, seconds: float) -> tuple[_Ticket, str, bool] | None:
        """The next ticket for `desk` by the calling policy (queues.policy): its first
        lane with anyone waiting, by band then time, unless the fairness cap calls the
        walk-in who waited longest."""
        settings = self.site.settings
        for lane_id in desk.lane_ids:
            tickets = self.waiting.get(lane_id)
            if not tickets:
                continue

            def band(t, seconds=seconds):
                return policy.effective_band(band=t.band, order_at=t.order, now=seconds)

            in_turn = [t for t in tickets if band(t) == Band.IN_TURN]
            recent = self.ahead[lane_id]
            if in_turn and len(recent) == settings.ahead_cap and all(recent):
                longest = min(in_turn, key=lambda t: (t.order, t.seq))
                if seconds - longest.order >= settings.fairness_wait_minutes * 60:
                    return longest, CallReason.FAIRNESS, False
            chosen = min(tickets, key=lambda t: (band(t), t.order, t.seq))
            chosen_band = band(chosen)
            return chosen, policy.call_reason(
                band=chosen_band, transferred=chosen.transferred_from is not None,
                forced_by_fairness=False), chosen_band != Band.IN_TURN and bool(in_turn)
        return None

    def _try(self, desk: _Desk, seconds: float) -> None:
        """The counter is free at `seconds`: it pauses if its pause is due, stands idle a
        while if its operator idles today, calls the next ticket, or waits for one."""
        if desk.busy or desk.closed or desk.state == CounterState.CLOSED:
            return
        if desk.pause_due:
            self._pause(desk, seconds)
            return
        picked = self._pick(desk, seconds)
        if picked is None:
            desk.last = max(desk.last, seconds)
            return
        if desk.slack is not None and desk.slack[0] <= seconds:
            minutes = desk.slack[1]
            desk.slack = None
            ends = seconds + minutes * 60
            if minutes >= self.site.settings.idle_alert_minutes:
                self._alert(desk, seconds, ends, CounterAlertKind.IDLE, None)
            desk.busy = True
            self.push(ends, "slack_end", desk)
            return
        ticket, reason, ahead = picked
        self.waiting[ticket.lane].remove(ticket)
        self.ahead[ticket.lane].append(ahead)
        self._call(desk, ticket, seconds, reason, ahead)

    def _pause(self, desk: _Desk, seconds: float) -> None:
        _begins, minutes, code = desk.pause
        desk.pause, desk.pause_due = None, False
        reason = self.site.reasons.get(code) or self.site.reasons.get("break")
        if reason is None:
            self._try(desk, seconds)
            return
        self._state(desk, seconds, CounterState.PAUSED, pause_reason=reason)
        ends = seconds + minutes * 60
        allowed = seconds + reason.allowed_minutes * 60
        if ends > allowed and self._waiting_in(desk, allowed):
            self._alert(desk, allowed, ends, CounterAlertKind.PAUSED_LONG, reason)
        desk.busy = True
        self.push(ends, "resume", desk)

    def _call(self, desk: _Desk, ticket: _Ticket, seconds: float, reason: str,
              ahead: bool) -> None:
        rng, operator = self.rng, desk.operator
        desk.busy = True
        ticket.calls = 1
        ticket.first_called = ticket.called = seconds
        ticket.counter, ticket.operator, ticket.reason = desk.counter, operator, reason
        self._event(ticket, TicketEventKind.CALLED, self.at(seconds), desk.counter, by=operator,
                    reason=reason, ahead_of_turn=ahead,
                    wait_seconds=int(seconds - ticket.queued))
        self._state(desk, seconds, CounterState.CALLING, ticket=ticket)
        if rng.random() < NO_SHOW_SHARE[ticket.source]:
            recalled = seconds + rng.uniform(50, 90)
            ticket.calls, ticket.called = 2, recalled
            self._event(ticket, TicketEventKind.RECALLED, self.at(recalled), desk.counter,
                        by=operator, reason=CallReason.RECALL)
            self.push(recalled + rng.uniform(60, 150), "done", (desk, ticket, "no_show"))
            return
        started = seconds + rng.uniform(20, 100)
        ticket.started = started
        self._event(ticket, TicketEventKind.STARTED, self.at(started), desk.counter, by=operator)
        self._state(desk, started, CounterState.SERVING, ticket=ticket)
        minutes = ticket.service.estimated_minutes * SERVICE_PACE * desk.pace * \
            rng.lognormvariate(0, SERVICE_SPREAD)
        self.push(started + min(max(minutes, 3), 45) * 60, "done", (desk, ticket, "served"))

    def _done(self, desk: _Desk, ticket: _Ticket, how: str, seconds: float) -> None:
        rng, operator, counter = self.rng, desk.operator, desk.counter
        busy = int(seconds - ticket.first_called)
        if how == "no_show":
            self._event(ticket, TicketEventKind.NO_SHOW, self.at(seconds), counter, by=operator,
                        busy_seconds=busy)
            self._close(ticket, TicketStatus.NO_SHOW, self._sweep_time())
        else:
            outcome, why, note = self._outcome(ticket, seconds)
            service_seconds = int(seconds - ticket.started)
            if ticket.source == TicketSource.WALK_IN and ticket.resident_at is None and (
                    outcome != Outcome.NOT_SERVED or rng.random() < 0.4):
                # Identified at the counter from the KTP-el: the case opens then.
                ticket.resident_at = self.at(ticket.started + min(
                    rng.uniform(20, 120), max(service_seconds - 5, 1)))
                self._event(ticket, TicketEventKind.IDENTIFIED, ticket.resident_at, counter,
                            by=operator)
            if outcome == Outcome.REFERRED:
                self._transfer(ticket, seconds, counter, operator, service_seconds, busy)
            else:
                self._event(ticket, TicketEventKind.FINISHED, self.at(seconds), counter,
                            by=operator, outcome=outcome, reason=why, note=note,
                            service_seconds=service_seconds, busy_seconds=busy)
                ticket.finished = self.at(seconds)
                ticket.outcome, ticket.note = outcome, note
                ticket.row.outcome_reason = why
                self._close(ticket, TicketStatus.DONE, ticket.finished)
        self._state(desk, seconds, CounterState.IDLE, ticket=ticket)
        desk.busy = False
        desk.last = seconds
        desk.woken = True
        self.push(seconds + rng.uniform(5, 40), "wake", desk)

    def _outcome(self, ticket: _Ticket, seconds: float) -> tuple[str, str, str]:
        rng = self.rng
        if ticket.service.needs_central and self.link_down(seconds) and rng.random() < 0.35:
            return Outcome.NOT_SERVED, NotServedReason.CENTRAL_LINK_DOWN, ""
        roll = rng.random()
        if roll < 0.02 and ticket.transferred_from is None and len(self.site.services) > 1:
            return Outcome.REFERRED, "", ""
        if roll < 0.05:
            return Outcome.PARTLY_SERVED, "", ""
        if roll < 0.115:
            reasons, weights = zip(*NOT_SERVED_REASONS, strict=True)
            why = rng.choices(reasons, weights)[0]
            return Outcome.NOT_SERVED, why, (rng.choice(OTHER_NOTES)
                                            if why == NotServedReason.OTHER else "")
        return Outcome.SERVED, "", ""

    def _transfer(self, ticket: _Ticket, seconds: float, counter, operator,
                  service_seconds: int, busy: int) -> None:
        """Referred to another lane: it keeps its code and issue time there."""
        served = [lane for lane in self.site.services if lane != ticket.lane and any(
            lane in d.lane_ids for d in self.desks)]
        if not served:
            served = [lane for lane in self.site.services if lane != ticket.lane]
        to_lane = self.rng.choice(served)
        self._event(ticket, TicketEventKind.TRANSFERRED, self.at(seconds), counter, by=operator,
                    lane_id=ticket.lane, to_lane_id=to_lane, outcome=Outcome.REFERRED,
                    service_seconds=service_seconds, busy_seconds=busy)
        ticket.transferred_from, ticket.lane = ticket.lane, to_lane
        ticket.queued, ticket.first_called, ticket.started = seconds, None, None
        ticket.calls = 0
        self.push(seconds, "arrive", ticket)

    def _close(self, ticket: _Ticket, status: str, closed: datetime) -> None:
        row = ticket.row
        row.status, row.closed_at = status, closed
        row.lane_id, row.queued_at = ticket.lane, self.at(ticket.queued)
        row.transferred_from_id = ticket.transferred_from
        if ticket.counter is not None:
            row.counter, row.operator = ticket.counter, ticket.operator
            row.first_called_at = self.at(ticket.first_called)
            row.called_at = self.at(ticket.called)
            row.call_reason, row.call_count = ticket.reason, ticket.calls
        if status == TicketStatus.DONE:
            row.started_at = self.at(ticket.started)
            row.finished_at = ticket.finished
            row.outcome, row.outcome_note = ticket.outcome, ticket.note or ""
        ticket.closed = closed

    def _event(self, ticket: _Ticket, kind: str, at: datetime, counter, *, by=None,
               lane_id: int | None = None, **fields) -> None:
        ticket.events.append({"kind": kind, "at": at, "lane_id": lane_id or ticket.lane,
                              "counter": counter, "actor": by, **fields})

    def _state(self, desk: _Desk, seconds: float, state: str, *, pause_reason=None,
               ticket: _Ticket | None = None) -> None:
        if desk.state == state and pause_reason is None:
            return
        operator = desk.operator
        self.site.counter_events.append((
            desk.counter.id, self.day, self.at(seconds), state, desk.state,
            None if state == CounterState.CLOSED else operator.id, operator.id,
            pause_reason.id if pause_reason is not None else None, ticket))
        desk.state = state
        if state == CounterState.CLOSED:
            desk.closed = True

    def _alert(self, desk: _Desk, since: float, ends: float, kind: str, reason) -> None:
        """An episode of the counter leaving people waiting, raised by the minute's
        check once it lasted the office's idle minutes, closed by the next call."""
        raised = since + self.site.settings.idle_alert_minutes * 60 + self.rng.uniform(0, 60)
        if kind == CounterAlertKind.PAUSED_LONG:
            raised = since + self.rng.uniform(0, 60)
        if raised >= ends:
            return
        self.site.alerts.append(CounterAlert(
            office=self.office, counter=desk.counter, day=self.day, kind=kind,
            operator=desk.operator, pause_reason=reason, since=self.at(since),
            raised_at=self.at(raised), waiting=self._waiting_in(desk, since),
            closed_at=self.at(ends), ended_by=CounterAlertEnd.CALLED))
