"""How long the expiry sweep takes on a real Celery worker, and how many SQL statements
it sends, for 10,000 and 100,000 bookings whose day is over, across 10 offices.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_apptbench \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python -m tests.benchmarks.appointments_expiry
        [--sizes 10000 100000] [--offices 10] [--runs 3] [--concurrency 2]
        [--in-process]

It creates its own database (<name>_expiry, dropped at the end; a file under var/ on
SQLite), ten offices in WIB, WITA and WIT, and for each size the due bookings written
in bulk (residents with a phone, half of them on the app, one in five with an e-mail,
one in ten reading English; an open case each; bookings on the last working days, past
their end of day in the office's zone). It starts a real Celery worker (prefork,
--concurrency processes) on the broker (Redis with REDIS_URL, as in production; the
filesystem transport otherwise) reading that database.

Each run puts the bookings back, queues the beat task (appointments.tasks.
bookings_expire_due, which queues one appointments.tasks.bookings_expire_office per
office with due bookings) and measures the wall time from queuing it to the end of the
last office's task, as the worker's processes report it. It reports the median over
the runs, the statements the worker's processes sent (counted with execute wrappers,
by kind; the same for every size: a fixed number per office) and where the time went:
each office task's wall time, its time in statements by kind and in its COMMIT (where
PostgreSQL checks the deferred foreign keys). The delivery tasks the office tasks queue
go to a queue no worker reads (counted, not sent): the gateways are not what is
measured. With --in-process, each run is followed by the same sweep called directly in
this process (one office after another), timed for reference.
"""

import argparse
import logging
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter as Tally
from datetime import timedelta
from pathlib import Path

from tests.benchmarks import appointments_common as common  # first: sets Django up

BEAT_TASK = "appointments.tasks.bookings_expire_due"
OFFICE_TASK = "appointments.tasks.bookings_expire_office"
# The queue the delivery tasks are routed to in the benchmark's worker; nothing reads it.
DELIVERY_QUEUE_ENV = "EXPIRY_BENCH_DELIVERY_QUEUE"
# What the worker's processes write after every task (worker_main).
TASK_LINE = re.compile(
    r"bench-task (?P<name>\S+) office (?P<office>\S+) pid (?P<pid>\d+) "
    r"state (?P<state>\S+) result (?P<result>\S+) started (?P<started>[\d.]+) "
    r"wall (?P<wall>[\d.]+) statements (?P<count>\d+) \((?P<kinds>[^)]*)\) "
    r"in (?P<seconds>[\d.]+) commit (?P<commit>[\d.]+)")
RUN_TIMEOUT = 900


def build(offices, total: int, serial_start: int):
    from django.utils import timezone

    from registry.appointments.models import Booking, BookingStatus, Slot
    from registry.appointments.services.slots import slots_ensure
    from registry.calendar import office_day_bounds, office_today
    from registry.models import Application, ApplicationStatus, Resident, Service

    per_office = total // len(offices)
    serial = serial_start
    for office in offices:
        service = Service.objects.get(office=office, code="KTP_TTD_FOTO")
        today = office_today(office)
        slots_ensure(office=office, start=today - timedelta(days=10),
                     end=today - timedelta(days=1))
        slots = list(Slot.objects.filter(office=office, lane=service.lane,
                                         date__lt=today).order_by("date", "start"))
        residents = common.residents_create(office, per_office, start=serial)
        Resident.objects.filter(pk__in=[r.pk for r in residents[::10]]).update(language="en")
        now = timezone.now()
        applications = Application.objects.bulk_create(
            (Application(office=office, number=f"{office.code}-B-{serial + n:07d}",
                         resident=r, service=service, channel="app",
                         status=ApplicationStatus.OPEN, created_at=now)
             for n, r in enumerate(residents)), batch_size=2000)
        ends = {slot.date: office_day_bounds(office, slot.date)[1] for slot in slots}
        rows = []
        for n, (resident, application) in enumerate(zip(residents, applications,
                                                        strict=True)):
            slot = slots[n % len(slots)]
            rows.append(Booking(
                office=office, code=common.booking_code(serial + n), resident=resident,
                service=service, application=application, slot=slot, day=slot.date,
                expires_at=ends[slot.date], status=BookingStatus.BOOKED,
                created_at=now - timedelta(days=12)))
        Booking.objects.bulk_create(rows, batch_size=2000)
        serial += per_office
    return serial


def reset():
    """Put the bookings back as they were before the sweep."""
    from registry.appointments.models import Booking, BookingStatus
    from registry.models import Application, CaseEvent, Notification, NotificationDelivery

    NotificationDelivery.objects.all().delete()
    Notification.objects.all().delete()
    CaseEvent.objects.all().delete()
    Booking.objects.update(status=BookingStatus.BOOKED, expired_at=None, sweep_token="")
    Application.objects.update(rebook_until=None)
    vacuum()


def clear():
    from registry.appointments.models import Booking
    from registry.models import Application, Resident

    reset()
    Booking.objects.all().delete()
    Application.objects.all().delete()
    Resident.objects.all().delete()
    vacuum()


def vacuum():
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


class StatementCounter:
    """Counts the statements by kind, and the time spent in them (the database's work
    plus the driver's), on every connection of a process; the COMMITs apart."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            with self.lock:
                kind = sql.lstrip().split(None, 1)[0].upper()
                self.kinds[kind] += 1
                self.kind_seconds[kind] += time.perf_counter() - started

    def reset(self):
        with self.lock:
            self.kinds = Tally()
            self.kind_seconds = Tally()
            self.commit_seconds = 0.0

    @property
    def seconds(self) -> float:
        return sum(self.kind_seconds.values())

    def time_commits(self):
        """Time every COMMIT this process sends (the deferred checks run there)."""
        from django.db.backends.base.base import BaseDatabaseWrapper

        commit = BaseDatabaseWrapper._commit

        def timed(wrapper):
            started = time.perf_counter()
            try:
                return commit(wrapper)
            finally:
                self.commit_seconds += time.perf_counter() - started

        BaseDatabaseWrapper._commit = timed

    def attach_to_every_connection(self):
        """On every database connection this process opens from now on."""
        from django.db.backends.signals import connection_created

        def attach(sender, connection, **kwargs):
            # A connection object lives on through close and connect again.
            if self not in connection.execute_wrappers:
                connection.execute_wrappers.append(self)

        connection_created.connect(attach, weak=False)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def worker_main(argv: list[str], routes: dict | None = None):
    """The benchmark's worker: Celery's own (`argv` as for `celery worker`), with a
    statement counter on every database connection of its processes, a line per task
    (TASK_LINE), and the tasks of `routes` (by default the delivery tasks) routed to a
    queue no worker reads."""
    from celery.signals import task_postrun, task_prerun

    from config.celery import app

    app.conf.task_routes = routes if routes is not None else {
        "registry.tasks.notifications_deliver_pending": {
            "queue": os.environ[DELIVERY_QUEUE_ENV]}}
    counter = StatementCounter()
    counter.attach_to_every_connection()  # inherited by the pool's processes
    counter.time_commits()
    log = logging.getLogger("bench")
    begun = {}

    @task_prerun.connect(weak=False)
    def prerun(task_id=None, **kwargs):
        counter.reset()
        begun[task_id] = (time.time(), time.perf_counter())

    @task_postrun.connect(weak=False)
    def postrun(task_id=None, task=None, args=None, retval=None, state=None, **kwargs):
        started, clock = begun.pop(task_id)
        wall = time.perf_counter() - clock
        kinds = ", ".join(f"{kind} {n} {counter.kind_seconds[kind]:.6f}"
                          for kind, n in sorted(counter.kinds.items()))
        office = args[0] if args else "-"
        result = retval if isinstance(retval, int) else "-"
        log.warning("bench-task %s office %s pid %d state %s result %s started %.6f "
                    "wall %.6f statements %d (%s) in %.6f commit %.6f", task.name, office,
                    os.getpid(), state, result, started, wall, counter.total, kinds,
                    counter.seconds, counter.commit_seconds)

    app.worker_main(argv)


def task_lines(text: str) -> list[dict]:
    lines = []
    for match in TASK_LINE.finditer(text):
        line = match.groupdict()
        for key in ("started", "wall", "seconds", "commit"):
            line[key] = float(line[key])
        line["count"] = int(line["count"])
        parts = [part.split(" ") for part in line["kinds"].split(", ") if part]
        line["kinds"] = Tally({kind: int(n) for kind, n, _seconds in parts})
        line["kind_seconds"] = Tally({kind: float(seconds) for kind, _n, seconds in parts})
        lines.append(line)
    return lines


def wait_for_offices(worker, offset: int, total: int) -> list[dict]:
    """The task lines of this run once its office tasks have expired `total` bookings."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        lines = task_lines(worker.log()[offset:])
        failed = [line for line in lines if line["state"] != "SUCCESS"]
        if failed:
            raise RuntimeError(f"A task failed: {failed}\n{worker.log()[offset:]}")
        offices = [line for line in lines if line["name"] == OFFICE_TASK]
        beat = [line for line in lines if line["name"] == BEAT_TASK]
        if beat and len(offices) == int(beat[0]["result"]) and sum(
                int(line["result"]) for line in offices) == total:
            return lines
        time.sleep(0.05)
    raise TimeoutError(f"The offices were not swept in {RUN_TIMEOUT} s:\n{worker.log()}")


def deliveries_queued(queue: str) -> int | None:
    """How many delivery tasks wait in the unread queue (Redis only)."""
    if not os.environ.get("REDIS_URL"):
        return None
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"]).llen(queue)


def measure(worker, total: int, runs: int, delivery_queue: str, *, in_process: bool):
    from unittest import mock

    from django.utils import timezone

    from registry.appointments import tasks
    from registry.appointments.models import Booking
    from registry.appointments.services.sweeps import bookings_expire_due
    from registry.models import Notification, NotificationDelivery

    timings, counts = [], []
    for run in range(runs):
        reset()
        load = os.getloadavg()[0]
        queued_before = deliveries_queued(delivery_queue)
        offset = len(worker.log())
        started = time.time()
        tasks.bookings_expire_due.apply_async(kwargs={"now": timezone.now().isoformat()})
        lines = wait_for_offices(worker, offset, total)
        offices = [line for line in lines if line["name"] == OFFICE_TASK]
        [beat] = [line for line in lines if line["name"] == BEAT_TASK]
        elapsed = max(line["started"] + line["wall"] for line in offices) - started
        assert Booking.objects.filter(status="expired").count() == total
        assert Notification.objects.filter(kind="booking.expired").count() == total
        kinds = sum((line["kinds"] for line in lines), Tally())
        kind_seconds = sum((line["kind_seconds"] for line in offices), Tally())
        statements = sum(line["count"] for line in lines)
        walls = sorted(line["wall"] for line in offices)
        queued_after = deliveries_queued(delivery_queue)
        timings.append(elapsed)
        counts.append(statements)
        print(f"  run {run + 1}: {elapsed:.2f} s from queuing the beat task to the last "
              f"office done (load average {load:.2f} at the start)")
        print(f"    beat task: {beat['wall']:.3f} s, started "
              f"{beat['started'] - started:.3f} s after queuing; first office task "
              f"started {min(line['started'] for line in offices) - started:.3f} s after")
        print(f"    {len(offices)} office tasks on {len({line['pid'] for line in offices})} "
              f"processes: wall min {walls[0]:.2f}, median {statistics.median(walls):.2f}, "
              f"max {walls[-1]:.2f} s, summed {sum(walls):.2f} s, of which statements "
              f"{sum(line['seconds'] for line in offices):.2f} s "
              f"({', '.join(f'{k} {v:.2f}' for k, v in sorted(kind_seconds.items()))}) "
              f"and COMMIT {sum(line['commit'] for line in offices):.2f} s")
        print(f"    {statements} statements "
              f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}), "
              f"{NotificationDelivery.objects.count()} deliveries, "
              + (f"{queued_after - queued_before} delivery tasks queued"
                 if queued_after is not None else "delivery tasks not counted (no Redis)"))
        for line in sorted(offices, key=lambda line: line["started"]):
            print(f"      office {line['office']}: pid {line['pid']}, started "
                  f"{line['started'] - started:6.2f} s, wall {line['wall']:.2f} s, "
                  f"{line['seconds']:.2f} s in {line['count']} statements, COMMIT "
                  f"{line['commit']:.2f} s, {line['result']} expired")
        if in_process:
            reset()
            with mock.patch("registry.background.enqueue_now", return_value=True):
                begun = time.perf_counter()
                assert bookings_expire_due(now=timezone.now()) == total
                print(f"    for reference, the same sweep in this process, one office "
                      f"after another: {time.perf_counter() - begun:.2f} s")
    return timings, counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--offices", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2,
                        help="the worker's processes (default 2)")
    parser.add_argument("--in-process", action="store_true",
                        help="after each run, also time the sequential sweep in this "
                             "process (bookings_expire_due), for reference")
    args = parser.parse_args()

    import uuid

    from django.db import connection

    from registry.appointments.services.sweeps import EXPIRY_BATCH
    from tests.worker import real_worker

    summary = []
    delivery_queue = f"eopen-bench-deliveries-{uuid.uuid4().hex[:10]}"
    with common.bench_database("expiry") as database, \
            tempfile.TemporaryDirectory() as folder:
        print(f"database {database} ({connection.vendor}); batch {EXPIRY_BATCH or 'none'}; "
              f"broker {'Redis' if os.environ.get('REDIS_URL') else 'filesystem'}; "
              f"one task per office on a worker of {args.concurrency} processes")
        offices = common.offices_create(args.offices)
        entry = [sys.executable, "-m", "tests.benchmarks.appointments_expiry"]
        with real_worker(Path(folder), concurrency=args.concurrency, entry=entry,
                         extra_env={DELIVERY_QUEUE_ENV: delivery_queue,
                                    "PYTHONUNBUFFERED": "1"}) as worker:
            try:
                serial = 0
                for total in args.sizes:
                    clear()
                    started = time.perf_counter()
                    serial = build(offices, total, serial)
                    print(f"{total} due bookings in {args.offices} offices, built in "
                          f"{time.perf_counter() - started:.0f} s")
                    timings, counts = measure(worker, total, args.runs, delivery_queue,
                                              in_process=args.in_process)
                    summary.append((total, common.median(timings), min(timings),
                                    max(timings), set(counts)))
            finally:
                if os.environ.get("REDIS_URL"):
                    import redis

                    redis.Redis.from_url(os.environ["REDIS_URL"]).delete(delivery_queue)
        print()
        for total, med, low, high, statements in summary:
            print(f"expire {total} bookings: median {med:.2f} s over {args.runs} runs "
                  f"(min {low:.2f}, max {high:.2f}), {total / med:.0f} bookings/s; "
                  f"{'/'.join(map(str, sorted(statements)))} statements for "
                  f"{args.offices} offices; worker concurrency {args.concurrency}")
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker_main(sys.argv[1:])
    elif os.environ.get("PROFILE"):
        import cProfile

        cProfile.run("main()", sort="cumulative")
    else:
        main()
