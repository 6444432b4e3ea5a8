"""How far off are the waiting estimates? A simulation that replays synthetic office
days through the real services and reports the error of the estimates residents see,
and how often the wait ends inside the range they are given.

    .venv/bin/python -m tests.benchmarks queues_estimates [--runs 3] [--days 5]
        [--seed 3275] [--load 1] [--detail] [--dump FILE]

Each run builds a Kota Bekasi office in a database of its own (SQLite in memory unless
DATABASE_URL is set) with the five counters of the demo (lanes A, B, C in different
orders) and replays `--days` working days, one after another, so from the second day
the estimates learn from the days before: the service times observed, the walk-ins by
time of day and the counters' usual pauses (the first day starts from the catalogue's
figures only, which are deliberately not the true ones). Run n uses the seed
`--seed` + n - 1, so the figures are reproducible (the clock is simulated: the
machine's load changes the run time only).

A day, on the office's clock (time_machine), through queues.services and
registry.appointments.services:
- walk-ins at the kiosk from 08:00 to 14:00, a Poisson stream of 30 an hour at first,
  24 from 09:00, 16 from 11:00 and 10 from 12:00 (times `--load`): a busy office, near
  what five counters can serve, with queues of an hour or more by late morning; lanes
  A/B/C 30/35/35 %, 8 % with a priority category. A walk-in the kiosk refuses
  (DomainError "walk_in_refused": a lane's quota, the cut-off time, or a wait past
  closing time) goes home: counted per day, and left out of the error figures. With
  `--no-kiosk-limits` the kiosk gives every walk-in a number, as it did before it had
  limits (the figures before them were measured so);
- bookings made the day before (2 places every 30 minutes per lane, 60 % taken),
  checked in at the kiosk around their slot (most a few minutes early, 10 % after the
  slot, 10 % never come);
- five operators call next, wait a minute for the resident (4 % of walk-ins and 2 % of
  bookings do not come: no-show after two minutes), serve them (busy time from the
  call lognormal, median 11/13/14 minutes in lanes A/B/C; the catalogue says 15/20/17.5),
  identify walk-ins by NIK and finish them as served; Loket 3 and Loket 4 take a lunch
  break in turn (12:00-12:45, 12:45-13:30), paused with the office's "break" reason,
  which this office sets to 45 allowed minutes (as an office with a 45-minute lunch
  would): the estimates expect a counter on break back when they run out, and from the
  second day foresee the breaks as the counters' usual pauses;
- the end-of-day sweep closes what is left.

Measured, in minutes: (1) at issue, the estimate printed on the slip (and given by
GET /tickets/: whole minutes, rounded up) against the wait until the ticket was first
called; (2) every 10 minutes, the estimate for every ticket still waiting against the
time it then still waited. Reported: median and p90 of the absolute error, and the
median signed error (positive: the estimate was too long), for the first day and the
later days of each run, then the median over the runs; and the range's coverage: the
share of waits inside the range of whole minutes (low-high: longer than low - 1 and at
most high, as "about 3 minutes" means at most 3), its median width, and the share of
estimates whose range is wide enough to be shown (queues.estimates.RANGE_SHOWN_FROM).
`--detail` breaks the error down by hour, lane, kind of ticket and position at issue;
`--dump` writes every sample as a JSON line (the range's constants in
queues.estimates were calibrated from such a dump).
"""

import argparse
import dataclasses
import heapq
import itertools
import json
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tests.benchmarks import queues_common as common

# Walk-ins per hour from each hour on (the kiosk closes at 14:00).
ARRIVAL_RATES = [(8, 30.0), (9, 24.0), (11, 16.0), (12, 10.0), (14, 0.0)]
LANE_SHARE = {"A": 0.30, "B": 0.35, "C": 0.35}
PRIORITY_SHARE = 0.08
# Counter busy time per ticket, from the call to the end: lognormal around the median.
BUSY_MEDIAN_MINUTES = {"A": 11.0, "B": 13.0, "C": 14.0}
BUSY_SIGMA = 0.45
WALK_UP = 60          # seconds from the call to the start of service
NO_SHOW_AFTER = 120   # seconds an operator waits before marking a no-show
NEXT_CALL_AFTER = 15  # seconds between the end of one ticket and the next call
NO_SHOW = {"walk_in": 0.04, "booking": 0.02}
BOOKING_PLACES = 2
BOOKING_TAKEN = 0.60
BOOKING_LATE = 0.10
BOOKING_ABSENT = 0.10
BREAKS = {3: ((12, 0), (12, 45)), 4: ((12, 45), (13, 30))}
BREAK_MINUTES = 45    # the office's "break" pause reason allows this long
SAMPLE_EVERY = 600
# The kiosk refuses walk-ins it cannot serve today (--no-kiosk-limits: it does not).
KIOSK_LIMITS = True


@dataclass
class Visit:
    kind: str                   # walk_in or booking
    lane: str
    service_code: str
    priority: str = ""
    booking_code: str = ""
    shows: bool = True
    busy_seconds: float = 0.0
    ticket_id: int | None = None
    issued_at: datetime | None = None
    called_at: datetime | None = None
    estimate_at_issue: int | None = None
    range_at_issue: tuple[int, int, float] | None = None
    position_at_issue: int | None = None


@dataclass
class Sample:
    """One estimate against what happened: (estimate, actual) in minutes, with what
    the breakdowns (--detail) group by."""

    estimate: float
    actual: float
    low: float | None = None
    high: float | None = None
    hour: int = 0
    lane: str = ""
    kind: str = ""
    position: int | None = None
    spread: float | None = None  # the estimate's standard deviation (minutes)


@dataclass
class DayErrors:
    at_issue: list[tuple[float, float]] = field(default_factory=list)   # (estimate, actual)
    waiting: list[tuple[float, float]] = field(default_factory=list)
    issue_samples: list[Sample] = field(default_factory=list)
    waiting_samples: list[Sample] = field(default_factory=list)
    tickets: int = 0
    never_called: int = 0
    refused: int = 0


class OfficeDay:
    """One simulated day at the office."""

    def __init__(self, *, office, day: date, counters, operators, services_by_lane,
                 residents, rng: random.Random, clock):
        from registry.calendar import office_local

        self.office, self.day, self.rng, self.clock = office, day, rng, clock
        self.counters = {c.number: c for c in counters}
        self.operators = dict(zip(sorted(self.counters), operators, strict=False))
        self.services_by_lane = services_by_lane
        self.residents = residents
        self.local = lambda hour, minute=0: office_local(office, day, _time(hour, minute))
        self.events, self.sequence = [], itertools.count()
        self.idle: set[int] = set()
        self.on_break: set[int] = set()
        self.break_due: set[int] = set()
        self.visits: dict[int, Visit] = {}
        self.samples: list[tuple[int, datetime, float]] = []
        self.errors = DayErrors()

    def at(self, when: datetime, action: str, *args) -> None:
        heapq.heappush(self.events, (when, next(self.sequence), action, args))

    # --- the day's plan ---------------------------------------------------------------

    def plan(self, bookings: list[tuple[object, Visit]]) -> None:
        t = self.local(8)
        end = self.local(14)
        while True:
            rate = next(r for h, r in reversed(ARRIVAL_RATES) if t >= self.local(h))
            if rate <= 0:
                break
            t += timedelta(hours=self.rng.expovariate(rate))
            if t >= end:
                break
            lane = self.rng.choices(list(LANE_SHARE), weights=LANE_SHARE.values())[0]
            service = self.rng.choice(self.services_by_lane[lane])
            visit = Visit(kind="walk_in", lane=lane, service_code=service.code,
                          priority=self.rng.choice(["elderly", "pregnant", "disabled",
                                                    "with_baby"])
                          if self.rng.random() < PRIORITY_SHARE else "")
            self.at(t, "arrive", self._with_times(visit))
        for slot, visit in bookings:
            if self.rng.random() < BOOKING_ABSENT:
                continue
            if self.rng.random() < BOOKING_LATE:
                arrive = slot.ends_at + timedelta(minutes=self.rng.uniform(1, 40))
            else:
                arrive = slot.starts_at + timedelta(
                    minutes=min(max(self.rng.gauss(-8, 10), -45), 25))
            self.at(max(arrive, self.local(7, 45)), "arrive", self._with_times(visit))
        for number in self.counters:
            self.at(self.local(8), "open", number)
        for number, (start, finish) in BREAKS.items():
            if number in self.counters:
                self.at(self.local(*start), "break", number)
                self.at(self.local(*finish), "resume", number)
        self.at(self.local(8, 5), "sample")

    def _with_times(self, visit: Visit) -> Visit:
        visit.shows = self.rng.random() >= NO_SHOW[visit.kind]
        median = BUSY_MEDIAN_MINUTES[visit.lane] * 60
        visit.busy_seconds = max(90.0, self.rng.lognormvariate(0, BUSY_SIGMA) * median)
        return visit

    # --- running it -------------------------------------------------------------------

    def run(self) -> DayErrors:
        while self.events:
            when, _seq, action, args = heapq.heappop(self.events)
            self.clock.move_to(when)
            getattr(self, f"_{action}")(when, *args)
        self._close_day()
        return self.errors

    def _estimates(self):
        from queues import selectors

        state = selectors.queue_state(office=self.office)
        return state, selectors.queue_estimates(state)

    def _arrive(self, now, visit: Visit):
        from queues import selectors
        from queues.estimates import to_minutes
        from queues.services.issuing import ticket_check_in, ticket_issue_walk_in
        from registry.errors import DomainError
        from registry.models import Service

        if visit.kind == "booking":
            ticket = ticket_check_in(office=self.office,
                                     booking_code=visit.booking_code)
        else:
            service = Service.objects.select_related("lane").get(office=self.office,
                                                                 code=visit.service_code)
            try:
                ticket = ticket_issue_walk_in(office=self.office, service=service,
                                              priority=visit.priority, limits=KIOSK_LIMITS)
            except DomainError as error:
                # The kiosk's limits (lane quota, cut-off time, a wait past closing
                # time): the resident goes home with no ticket and no estimate.
                if error.code != "walk_in_refused":
                    raise
                self.errors.refused += 1
                return
        visit.ticket_id, visit.issued_at = ticket.pk, now
        self.visits[ticket.pk] = visit
        self.errors.tickets += 1
        state, estimate = self._estimates()
        visit.estimate_at_issue = to_minutes(estimate.tickets.get(ticket.pk))
        visit.range_at_issue = _shown_range(estimate, ticket.pk)
        visit.position_at_issue = selectors.ticket_position(state, ticket)
        for number in sorted(self.idle):
            self.at(now, "free", number)
        self.idle.clear()

    def _open(self, now, number):
        from queues.services.counters import counter_open

        counter_open(counter=self.counters[number], by=self.operators[number])
        self.at(now, "free", number)

    def _break(self, now, number):
        if number in self.idle:
            self._pause(number)
        else:
            self.break_due.add(number)

    def _pause(self, number):
        from queues.services.counters import counter_pause

        self.idle.discard(number)
        self.break_due.discard(number)
        self.on_break.add(number)
        counter_pause(counter=self.counters[number], by=self.operators[number],
                      reason="break")

    def _resume(self, now, number):
        from queues.services.counters import counter_open

        self.break_due.discard(number)
        if number in self.on_break:
            self.on_break.discard(number)
            counter_open(counter=self.counters[number], by=self.operators[number])
            self.at(now, "free", number)

    def _free(self, now, number):
        from queues.services.calling import ticket_call_next

        if number in self.on_break:
            return
        if number in self.break_due:
            self._pause(number)
            return
        ticket = ticket_call_next(counter=self.counters[number],
                                  by=self.operators[number])
        if ticket is None:
            self.idle.add(number)
            return
        visit = self.visits[ticket.pk]
        if visit.called_at is None:
            visit.called_at = now
        if visit.shows:
            self.at(now + timedelta(seconds=WALK_UP), "start", number, ticket.pk)
        else:
            self.at(now + timedelta(seconds=NO_SHOW_AFTER), "no_show", number, ticket.pk)

    def _start(self, now, number, ticket_id):
        from queues.services.calling import ticket_start
        from queues.services.issuing import ticket_identify

        counter, operator = self.counters[number], self.operators[number]
        ticket_start(counter=counter, by=operator, ticket_id=ticket_id)
        visit = self.visits[ticket_id]
        if visit.kind == "walk_in":
            ticket_identify(counter=counter, resident=self.rng.choice(self.residents),
                            by=operator, ticket_id=ticket_id)
        finish = now + timedelta(seconds=max(visit.busy_seconds - WALK_UP, 30))
        self.at(finish, "finish", number, ticket_id)

    def _finish(self, now, number, ticket_id):
        from queues.services.calling import ticket_finish

        ticket_finish(counter=self.counters[number], by=self.operators[number],
                      outcome="served", ticket_id=ticket_id)
        self.at(now + timedelta(seconds=NEXT_CALL_AFTER), "free", number)

    def _no_show(self, now, number, ticket_id):
        from queues.services.calling import ticket_no_show

        ticket_no_show(counter=self.counters[number], by=self.operators[number],
                       ticket_id=ticket_id)
        self.at(now + timedelta(seconds=NEXT_CALL_AFTER), "free", number)

    def _sample(self, now):
        waiting = {pk for pk, v in self.visits.items() if v.called_at is None}
        if waiting:
            _state, estimate = self._estimates()
            for pk, seconds in estimate.tickets.items():
                if pk in waiting:
                    self.samples.append((pk, now, seconds / 60, _shown_range(estimate, pk)))
        if now < self.local(14) or any(v.called_at is None for v in self.visits.values()):
            self.at(now + timedelta(seconds=SAMPLE_EVERY), "sample")

    def _close_day(self):
        from queues.services.closing import tickets_close_due

        for visit in self.visits.values():
            if visit.called_at is None:
                self.errors.never_called += 1
                continue
            waited = (visit.called_at - visit.issued_at).total_seconds() / 60
            if visit.estimate_at_issue is not None:
                self.errors.at_issue.append((float(visit.estimate_at_issue), waited))
                low, high, spread = visit.range_at_issue or (None, None, None)
                self.errors.issue_samples.append(Sample(
                    estimate=float(visit.estimate_at_issue), actual=waited, low=low,
                    high=high, spread=spread,
                    hour=visit.issued_at.astimezone(self.local(8).tzinfo).hour,
                    lane=visit.lane, kind=visit.kind, position=visit.position_at_issue))
        for pk, at, estimate, shown in self.samples:
            visit = self.visits[pk]
            if visit.called_at is not None:
                actual = (visit.called_at - at).total_seconds() / 60
                self.errors.waiting.append((estimate, actual))
                low, high, spread = shown or (None, None, None)
                self.errors.waiting_samples.append(Sample(
                    estimate=estimate, actual=actual, low=low, high=high, spread=spread,
                    hour=at.astimezone(self.local(8).tzinfo).hour, lane=visit.lane,
                    kind=visit.kind))
        end = self.local(23, 59)
        self.clock.move_to(end)
        while tickets_close_due(now=end):
            pass


def _shown_range(estimate, ticket_id) -> tuple[int, int, float] | None:
    """The range of whole minutes of the ticket's estimate (low, high), whether shown
    or not, and the spread it came from (minutes), if any."""
    ranges = getattr(estimate, "ranges", None) or {}
    if ticket_id not in ranges:
        return None
    from queues.estimates import RANGE_ABOVE, range_minutes

    low, high = ranges[ticket_id]
    spread = (high - estimate.tickets[ticket_id]) / RANGE_ABOVE / 60
    return (*range_minutes(low, high), spread)


def _time(hour, minute):
    from datetime import time as clock_time

    return clock_time(hour, minute)


def make_bookings(*, office, day, services_by_lane, rng, issued_on: date) -> list:
    """The day's bookings, each by a resident of its own; (slot, Visit) pairs."""
    from registry.appointments.models import Slot
    from registry.appointments.services.bookings import booking_create
    from registry.appointments.services.slots import slots_ensure
    from registry.services.residents import resident_register
    from tests.factories import make_nik

    slots_ensure(office=office, start=day, end=day)
    made = []
    for slot in Slot.objects.filter(office=office, date=day).select_related("lane").order_by(
            "starts_at", "lane__letter"):
        for _place in range(slot.capacity):
            if rng.random() >= BOOKING_TAKEN:
                continue
            service = rng.choice(services_by_lane[slot.lane.letter])
            born = date(1970 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28))
            resident = resident_register(
                nik=make_nik(born=born), name=f"Warga {rng.randrange(10**6)}",
                birth_date=born, domicile_office=office)
            documents = [{"requirement": r.code,
                          **({"issued_on": issued_on} if r.valid_days else {})}
                         for r in service.requirements.all()]
            booking = booking_create(office=office, resident=resident,
                                     service=service, slot=slot,
                                     documents=documents)
            made.append((slot, Visit(kind="booking", lane=slot.lane.letter,
                                     service_code=service.code, booking_code=booking.code)))
    return made


def run_once(seed: int, day_count: int) -> list[DayErrors]:
    import time_machine
    from django.contrib.auth import get_user_model

    from queues.models import PauseReason
    from queues.services.counters import counter_create, pause_reasons_ensure
    from registry.appointments.models import LaneSchedule
    from registry.calendar import office_hours_on, office_local, office_today
    from registry.models import Lane, Role, Service, StaffMembership
    from registry.services.offices import catalogue_seed, office_create
    from registry.services.residents import resident_register
    from registry.services.staff import roles_sync
    from tests.factories import make_nik

    rng = random.Random(seed)
    roles_sync()
    office = office_create(code="3275", name="Disdukcapil Kota Bekasi")
    catalogue_seed(office=office)
    # The operators' lunch lasts 45 minutes here: the office says so on its "break"
    # reason, and the estimates expect a counter on break back after that.
    pause_reasons_ensure(office)
    PauseReason.objects.filter(office=office, code="break").update(
        allowed_minutes=BREAK_MINUTES)
    lanes = {lane.letter: lane for lane in Lane.objects.filter(office=office)}
    for lane in lanes.values():
        LaneSchedule.objects.update_or_create(
            lane=lane, defaults={"office": office, "slot_minutes": 30,
                                 "capacity": BOOKING_PLACES})
    counters = [counter_create(office=office, number=n,
                               lanes=[lanes[x] for x in letters])
                for n, letters in common.COUNTERS]
    operators = get_user_model().objects.bulk_create(
        get_user_model()(username=f"loket{n}-{seed}") for n in range(1, 6))
    StaffMembership.objects.bulk_create(
        StaffMembership(user=u, office=office, role=Role.COUNTER_OPERATOR) for u in operators)
    services_by_lane = {letter: list(Service.objects.filter(office=office, lane=lane,
                                                            is_active=True).order_by("code"))
                        for letter, lane in lanes.items()}
    born = date(1985, 5, 17)
    residents = [resident_register(
        nik=make_nik(born=born, serial=9000 + n), name=f"Pemohon {n}", birth_date=born,
        domicile_office=office) for n in range(40)]
    days, day = [], office_today(office)
    while len(days) < day_count:
        day += timedelta(days=1)
        if office_hours_on(office, day) is not None:
            days.append(day)
    results = []
    # The bookings of every day are made the day before the first, at 10:00.
    with time_machine.travel(office_local(office, days[0] - timedelta(days=1),
                                          _time(10, 0)), tick=False) as clock:
        bookings = {day: make_bookings(office=office, day=day,
                                       services_by_lane=services_by_lane, rng=rng,
                                       issued_on=days[0] - timedelta(days=3))
                    for day in days}
        for day in days:
            simulated = OfficeDay(office=office, day=day, counters=counters,
                                  operators=operators, services_by_lane=services_by_lane,
                                  residents=residents, rng=rng, clock=clock)
            simulated.plan(bookings[day])
            results.append(simulated.run())
    return results


def summary(pairs: list[tuple[float, float]]) -> dict:
    from queues.selectors import percentile

    errors = [abs(e - a) for e, a in pairs]
    signed = [e - a for e, a in pairs]
    return {"n": len(pairs), "median": statistics.median(errors) if errors else None,
            "p90": percentile(errors, 90), "bias": statistics.median(signed) if signed else None,
            "actual_median": statistics.median([a for _e, a in pairs]) if pairs else None}


def coverage(samples: list[Sample]) -> dict:
    """The share of actual waits inside the range shown (whole minutes: a wait of
    20.4 minutes is inside 15-20), and the median width of the ranges; `wide`: the
    share of estimates wide enough that the resident sees the range."""
    ranged = [s for s in samples if s.low is not None]
    if not ranged:
        return {"n": 0}
    from queues.estimates import RANGE_SHOWN_FROM

    inside = [s.low - 1 < s.actual <= s.high for s in ranged]
    wide = [s for s in ranged if s.high - s.low > RANGE_SHOWN_FROM]
    return {"n": len(ranged),
            "inside": sum(inside) / len(inside) if inside else None,
            "width": statistics.median(s.high - s.low for s in ranged) if ranged else None,
            "wide": len(wide) / len(ranged) if ranged else None,
            "inside_wide": (sum(s.low - 1 < s.actual <= s.high for s in wide) / len(wide)
                            if wide else None)}


def fmt(figures: dict) -> str:
    if not figures["n"]:
        return "no data"
    return (f"median {figures['median']:.1f}, p90 {figures['p90']:.1f} (bias "
            f"{figures['bias']:+.1f}; actual waits median {figures['actual_median']:.0f}; "
            f"n={figures['n']})")


def fmt_coverage(figures: dict) -> str:
    if not figures["n"]:
        return "no ranges"
    return (f"{figures['inside']:.0%} of waits inside the range (median width "
            f"{figures['width']:.0f} min); {figures['wide']:.0%} wide enough to be shown, "
            f"{figures['inside_wide'] or 0:.0%} of those inside")


def breakdown(samples: list[Sample], key, label: str) -> None:
    """Error per group (--detail): where the error comes from."""
    groups: dict = {}
    for sample in samples:
        groups.setdefault(key(sample), []).append(sample)
    print(f"    by {label}:")
    for group in sorted(groups, key=lambda g: (g is None, g)):
        figures = summary([(s.estimate, s.actual) for s in groups[group]])
        print(f"      {group!s:>10}: {fmt(figures)}; {fmt_coverage(coverage(groups[group]))}")


def queue_length(sample: Sample) -> str:
    if sample.position is None:
        return "?"
    for bound in (1, 3, 6, 10, 15, 20, 30):
        if sample.position <= bound:
            return f"<={bound:02d}"
    return ">30"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3275)
    parser.add_argument("--load", type=float, default=1.0,
                        help="walk-in arrival rates times this (1: a busy office)")
    parser.add_argument("--detail", action="store_true",
                        help="the error per hour, lane, kind of ticket and queue length")
    parser.add_argument("--dump", metavar="FILE",
                        help="write every sample (at issue and while waiting) to FILE, "
                             "as JSON lines, to study the error")
    parser.add_argument("--no-kiosk-limits", action="store_true",
                        help="the kiosk gives every walk-in a number (no refusals)")
    args = parser.parse_args()
    global ARRIVAL_RATES, KIOSK_LIMITS  # the knobs of the synthetic day
    ARRIVAL_RATES = [(hour, rate * args.load) for hour, rate in ARRIVAL_RATES]
    KIOSK_LIMITS = not args.no_kiosk_limits
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")
    from django.core.cache import cache

    per_run = []
    for run in range(args.runs):
        started = time.perf_counter()
        cache.clear()
        with common.bench_database(f"estimates{run}"):
            days = run_once(args.seed + run, args.days)
        first = summary(days[0].at_issue)
        later = summary([p for d in days[1:] for p in d.at_issue])
        overall = summary([p for d in days for p in d.at_issue])
        waiting = summary([p for d in days for p in d.waiting])
        waiting_later = summary([p for d in days[1:] for p in d.waiting])
        tickets = sum(d.tickets for d in days)
        never = sum(d.never_called for d in days)
        print(f"run {run + 1} (seed {args.seed + run}, load {args.load:g}, {args.days} days, "
              f"{tickets} tickets, "
              f"{never} never called, {time.perf_counter() - started:.0f} s):")
        print(f"  at issue, day 1 (catalogue only): {fmt(first)}")
        print(f"  at issue, days 2-{args.days} (learned):  {fmt(later)}")
        print(f"  at issue, all days:               {fmt(overall)}")
        print(f"  while waiting (10-min samples), all days: {fmt(waiting)}")
        issue_cover = coverage([s for d in days for s in d.issue_samples])
        waiting_cover = coverage([s for d in days for s in d.waiting_samples])
        print(f"  range at issue: {fmt_coverage(issue_cover)}")
        print(f"  range while waiting: {fmt_coverage(waiting_cover)}")
        print(f"  walk-ins refused at the kiosk, per day: {[d.refused for d in days]}")
        if args.detail:
            issued = [s for d in days for s in d.issue_samples]
            for key, label in ((lambda s: s.hour, "hour of issue"),
                               (lambda s: s.lane, "lane"), (lambda s: s.kind, "kind"),
                               (queue_length, "position at issue")):
                breakdown(issued, key, label)
            breakdown([s for d in days for s in d.waiting_samples], lambda s: s.hour,
                      "hour (while waiting)")
        if args.dump:
            with open(args.dump, "a") as out:
                for number, d in enumerate(days, start=1):
                    for at_issue, samples in ((True, d.issue_samples),
                                              (False, d.waiting_samples)):
                        for sample in samples:
                            out.write(json.dumps({"run": run + 1, "day": number,
                                                  "at_issue": at_issue,
                                                  **dataclasses.asdict(sample)}) + "\n")
        per_run.append({"first": first, "later": later, "overall": overall,
                        "waiting": waiting, "waiting_later": waiting_later,
                        "issue_cover": issue_cover, "waiting_cover": waiting_cover,
                        "refused": sum(d.refused for d in days)})
    print(f"median over {args.runs} runs, absolute error of the estimate in minutes:")
    for key, label in (("first", "at issue, first day"), ("later", "at issue, later days"),
                       ("overall", "at issue, all days"), ("waiting", "while waiting"),
                       ("waiting_later", "while waiting, later days")):
        print(f"  {label:28s} median {statistics.median(r[key]['median'] for r in per_run):.1f}"
              f", p90 {statistics.median(r[key]['p90'] for r in per_run):.1f}, bias "
              f"{statistics.median(r[key]['bias'] for r in per_run):+.1f}")
    for key, label in (("issue_cover", "range at issue"), ("waiting_cover", "range while waiting")):
        if all(r[key]["n"] for r in per_run):
            print(f"  {label:28s} "
                  f"{statistics.median(r[key]['inside'] for r in per_run):.0%} of waits inside "
                  f"(median width {statistics.median(r[key]['width'] for r in per_run):.0f} "
                  f"min), {statistics.median(r[key]['wide'] for r in per_run):.0%} shown")
    print(f"  walk-ins refused at the kiosk: {[r['refused'] for r in per_run]}")
    print(f"machine: {common.machine()}")


if __name__ == "__main__":
    main()
