"""The display boards of a national deployment: 514 offices' boards polled at once on
gunicorn + PostgreSQL, as a ratio to /healthz served by the same server in the same run.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_queues \\
    REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python -m tests.benchmarks.queues_boards_national [--offices 514]
        [--seconds 8] [--runs 3] [--workers 4] [--clients 32] [--calls 5]
        [--cache-seconds 10] [--settle 15]

It creates its own test database (dropped at the end) and bulk-creates `--offices`
offices (regency and city codes, Asia/Jakarta), each with the standard lanes A, B and
C, one service per lane, 5 counters and this morning's 150 tickets: 100 finished (with
their history, for the estimates), 4 called or being served, 46 waiting (about 40 s
for 514 offices). It starts gunicorn (`--workers` sync workers; with REDIS_URL the
board's cache is shared by them), asks for every office's board once, then loads it
from `--clients` concurrent clients in two processes, each request on a new
connection and to the next office in a shuffled round of all of them, for `--seconds`
per measure, `--runs` times, alternating /healthz and the boards. Meanwhile, `--calls`
times a second, a counter at a random office calls next and marks a no-show through
the services, so those offices' boards are dropped from the cache as in a busy
morning. Reports each path's requests per second and p95 latency (medians of the
runs), the median of the runs' ratios, and whether the boards keep up with two
screens per office polling every 2 s (one request per office per second: 514/s).
Before each boards measure, `--settle` seconds of the same polling, not measured: the
screens poll all day, so the figure is their steady state, not the refill of every
board after the /healthz measure (longer than a board's cache) let them all expire.
`--cache-seconds` is the board's cache time (QUEUES_BOARD_CACHE_SECONDS; 10 by
default, each office's stretched by up to half again): with 1 s, as before issue 18,
nearly every poll of an office computed its board again.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from tests.benchmarks import queues_common as common
from tests.benchmarks.queues_board import (
    TRIVIAL,
    _free_port,
    _get,
    start_gunicorn,
)
from tests.benchmarks.queues_board import measure_paths as measure

TICKETS_DONE, TICKETS_ACTIVE, TICKETS_WAITING = 100, 4, 46
COUNTERS = [(1, "AC"), (2, "BA"), (3, "BC"), (4, "CB"), (5, "CA")]


def office_codes(count: int) -> list[str]:
    """Region codes like Kemendagri's: province (11..) and regency or city number."""
    return [f"{11 + n // 40:02d}{n % 40 + 1:02d}" for n in range(count)]


def build_offices(count: int, seed: int = 514):
    """`count` offices with a busy morning each, bulk-created. Returns their codes and,
    per office, (office, counters, service by lane letter) for the writer."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from queues.models import (
        Counter,
        CounterLane,
        CounterState,
        QueueSettings,
        Ticket,
        TicketEvent,
    )
    from registry.calendar import office_today
    from registry.catalogue import STANDARD_LANES
    from registry.models import Lane, Office, Role, Service, StaffMembership, WorkingHours
    from registry.services.offices import DEFAULT_CLOSES, DEFAULT_OPENS
    from registry.services.staff import roles_sync

    rng = random.Random(seed)
    roles_sync()
    codes = office_codes(count)
    offices = Office.objects.bulk_create(
        Office(code=code, name=f"Disdukcapil {code}", timezone="Asia/Jakarta")
        for code in codes)
    WorkingHours.objects.bulk_create(
        WorkingHours(office=office, weekday=day, opens=DEFAULT_OPENS, closes=DEFAULT_CLOSES)
        for office in offices for day in range(5))
    QueueSettings.objects.bulk_create(QueueSettings(office=office) for office in offices)
    lanes = Lane.objects.bulk_create(
        Lane(office=office, letter=letter, name=name)
        for office in offices for letter, name in STANDARD_LANES)
    lane_of = {(lane.office_id, lane.letter): lane for lane in lanes}
    services = Service.objects.bulk_create(
        Service(office=office, code=code, name=code, lane=lane_of[office.id, letter],
                estimated_minutes=10)
        for office in offices for letter, code in common.SERVICE_OF_LANE.items())
    service_of = {(s.office_id, s.lane_id): s for s in services}
    now = timezone.now()
    counters = Counter.objects.bulk_create(
        Counter(office=office, number=number, name=f"Loket {number}",
                state=CounterState.IDLE, state_since=now - timedelta(hours=2))
        for office in offices for number, _letters in COUNTERS)
    letters_of = dict(COUNTERS)
    CounterLane.objects.bulk_create(
        CounterLane(office_id=c.office_id, counter=c, lane=lane_of[c.office_id, letter],
                    position=n)
        for c in counters for n, letter in enumerate(letters_of[c.number], start=1))
    operator = get_user_model().objects.create(username="loket")
    StaffMembership.objects.bulk_create(
        StaffMembership(user=operator, office=office, role=Role.COUNTER_OPERATOR)
        for office in offices)
    counters_of = {}
    for counter in counters:
        counters_of.setdefault(counter.office_id, []).append(counter)
    today = office_today(offices[0])
    tickets, events = [], []
    for office in offices:
        numbers = {"A": 0, "B": 0, "C": 0}
        total = TICKETS_DONE + TICKETS_ACTIVE + TICKETS_WAITING
        for n in range(total):
            letter = rng.choice("ABC")
            numbers[letter] += 1
            lane = lane_of[office.id, letter]
            at = now - timedelta(minutes=3 * (total - n))
            ticket = Ticket(
                office=office, day=today, code=f"{letter}-{numbers[letter]:03d}",
                number=numbers[letter], lane=lane, service=service_of[office.id, lane.id],
                source="walk_in", priority="elderly" if rng.random() < 0.1 else "",
                band=0 if rng.random() < 0.1 else 2, order_at=at, issued_at=at,
                queued_at=at, sweep_due_at=now + timedelta(hours=8))
            if n < TICKETS_DONE:
                ticket.status, ticket.outcome = "done", "served"
                ticket.called_at = ticket.first_called_at = at + timedelta(minutes=20)
                ticket.finished_at = ticket.closed_at = at + timedelta(minutes=30)
                ticket.counter = counters_of[office.id][n % 5]
                ticket.call_reason, ticket.call_count = "next", 1
            elif n < TICKETS_DONE + TICKETS_ACTIVE:
                ticket.status = "called" if n % 2 else "serving"
                ticket.counter = counters_of[office.id][n - TICKETS_DONE]
                ticket.called_at = ticket.first_called_at = now - timedelta(minutes=2)
                ticket.call_reason, ticket.call_count = "next", 1
            tickets.append(ticket)
    tickets = Ticket.objects.bulk_create(tickets, batch_size=2000)
    for ticket in tickets:
        if ticket.called_at is None:
            continue
        events.append(TicketEvent(
            office_id=ticket.office_id, ticket=ticket, day=today, at=ticket.called_at,
            kind="called", lane_id=ticket.lane_id, counter=ticket.counter,
            reason="next", wait_seconds=1200))
        if ticket.status == "done":
            events.append(TicketEvent(
                office_id=ticket.office_id, ticket=ticket, day=today, at=ticket.finished_at,
                kind="finished", lane_id=ticket.lane_id, counter=ticket.counter,
                outcome="served", service_seconds=int(rng.lognormvariate(6.4, 0.4)),
                busy_seconds=int(rng.lognormvariate(6.5, 0.4))))
    TicketEvent.objects.bulk_create(events, batch_size=2000)
    active = {(t.office_id, t.counter_id) for t in tickets if t.status in ("called", "serving")}
    for counter in counters:
        if (counter.office_id, counter.pk) in active:
            counter.state, counter.operator = CounterState.CALLING, operator
        else:
            counter.state, counter.operator = CounterState.IDLE, operator
    Counter.objects.bulk_update(counters, ["state", "operator"], batch_size=2000)
    by_office = {office.id: (office, counters_of[office.id],
                             {letter: service_of[office.id, lane_of[office.id, letter].id]
                              for letter in "ABC"}) for office in offices}
    return codes, by_office, operator


class Writer(threading.Thread):
    """Queue changes at `rate` per second at random offices, through the services: a
    call next and a no-show at a counter with nobody at it (the morning's waiting
    tickets last the run)."""

    def __init__(self, rate: float, by_office: dict, operator):
        super().__init__(daemon=True)
        self.rate, self.by_office, self.operator = rate, by_office, operator
        self.stop = threading.Event()
        self.done = 0
        self.error = None

    def run(self):
        from django.db import connection

        from queues.services.calling import ticket_call_next, ticket_no_show

        rng = random.Random(7)
        offices = list(self.by_office.values())
        try:
            while not self.stop.wait(1 / self.rate if self.rate else 3600):
                _office, counters, _services = rng.choice(offices)
                counter = counters[rng.randrange(TICKETS_ACTIVE, len(counters))]
                ticket = ticket_call_next(counter=counter, by=self.operator)
                if ticket is not None:
                    ticket_no_show(counter=counter, by=self.operator, ticket_id=ticket.pk)
                self.done += 1
        except Exception as exc:  # reported at the end; the measures go on
            self.error = exc
        finally:
            connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--offices", type=int, default=514)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--calls", type=float, default=5.0)
    parser.add_argument("--cache-seconds", type=int, default=10)
    parser.add_argument("--settle", type=float, default=15,
                        help="seconds of unmeasured board polling before each measure")
    args = parser.parse_args()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the figure is for PostgreSQL.")
    with common.bench_database("boards") as database:
        started = time.perf_counter()
        codes, by_office, operator = build_offices(args.offices)
        print(f"{args.offices} offices set up in {time.perf_counter() - started:.0f} s; "
              f"gunicorn {args.workers} workers, {args.clients} clients, "
              f"{args.seconds:.0f} s x {args.runs} runs, {args.calls:g} queue changes/s, "
              f"board cache {args.cache_seconds} s in "
              f"{'Redis' if os.environ.get('REDIS_URL') else 'each worker (locmem)'}")
        boards = [f"/api/v1/offices/{code}/board/" for code in codes]
        port = _free_port()
        server = start_gunicorn(database, port, args.workers, args.cache_seconds)
        writer = Writer(args.calls, by_office, operator)
        rates = {"trivial": [], "boards": []}
        p95 = {"trivial": [], "boards": []}
        try:
            measure(port, [TRIVIAL], 1.0, args.clients)  # warm every worker
            # Every office's board once (and its history, cached a minute), as after
            # the first minutes of a morning.
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(lambda path: _get(port, path), boards))
            writer.start()
            for run in range(args.runs):
                for name, paths in (("trivial", [TRIVIAL]), ("boards", boards)):
                    if name == "boards" and args.settle:
                        # The screens poll all day: the boards are measured once their
                        # polling has run as long as a cached board lives, not straight
                        # after the /healthz measure left every board to expire.
                        measure(port, paths, args.settle, args.clients)
                    rate, latency = measure(port, paths, args.seconds, args.clients)
                    rates[name].append(rate)
                    p95[name].append(latency)
                print(f"  run {run + 1}: /healthz {rates['trivial'][-1]:.0f}/s "
                      f"(p95 {p95['trivial'][-1]:.0f} ms), boards {rates['boards'][-1]:.0f}/s "
                      f"(p95 {p95['boards'][-1]:.0f} ms)")
        finally:
            writer.stop.set()
            server.terminate()
            server.wait(timeout=30)
        ratio = statistics.median(b / t for b, t in zip(rates["boards"], rates["trivial"],
                                                         strict=True))
        boards_rate = statistics.median(rates["boards"])
        writer.join(timeout=30)
        print(f"  ({writer.done} calls and no-shows during the measures"
              f"{f'; the writer stopped: {writer.error!r}' if writer.error else ''})")
        print(f"/healthz: {statistics.median(rates['trivial']):.0f}/s, p95 "
              f"{statistics.median(p95['trivial']):.0f} ms; boards of {args.offices} offices: "
              f"{boards_rate:.0f}/s, p95 {statistics.median(p95['boards']):.0f} ms; "
              f"ratio {ratio:.2f} (median of the runs' ratios)")
        need = args.offices  # two screens per office, each every 2 s
        print(f"two screens per office every 2 s need {need}/s: "
              f"{'met' if boards_rate >= need else 'NOT met'} "
              f"({boards_rate / need:.2f} of it)")
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    main()
