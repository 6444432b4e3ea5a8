"""The periodic work of a national deployment (514 offices) on real Celery workers: the
hourly slot top-up, the expiry and the lapse, the reminders, the delivery dispatch and
the idle-counter check, each with 1 and with 2 worker processes.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_3 \\
    REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python -m tests.benchmarks national_periodic [--offices 514] [--runs 3]
        [--concurrency 1 2] [--tasks slots expire lapse remind dispatch idle]
        [--keep | --database NAME]

It creates its own database (<name>_national, dropped at the end unless --keep; with
--database it uses one kept before and generates nothing) and writes the national
deployment into it (registry.demo_national, as `manage.py load_demo --national`: the
offices, their last working day's history, and a live day D whose due work each
sweep finds at 10:00 WIB on D, the moment every beat task is given). Then for each
worker size (--concurrency: one worker of 1, then of 2 prefork processes, on the
broker: Redis with REDIS_URL, the filesystem transport otherwise) and each task, each
run puts the due work back as it was (rows the run wrote are deleted, rows it changed
restored), queues the beat task and measures the wall time from queuing it to the
end of the last office task, as the worker's processes report it (after every task a
line with its start, wall time and statements). The tasks those office tasks queue in
turn (the notifications' delivery, the idle alerts' e-mails, the "comes today"
messages) go to a queue no worker reads: the gateways are not what is measured.

Statements are counted in the worker's processes, with an execute wrapper on every
database connection (tests/benchmarks/appointments_expiry.StatementCounter): every
statement the beat task and the office tasks send, BEGIN/COMMIT/SAVEPOINT included.
It prints, for each task and worker size, the median over --runs runs (and min, max),
the statements, the office tasks and the load average at the start of each run, and
how the median compares with the task's period.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter as Tally
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from tests.benchmarks import appointments_common as common  # first: sets Django up
from tests.benchmarks.appointments_expiry import task_lines
from tests.benchmarks.appointments_expiry import worker_main as expiry_worker_main

# The follow-up tasks, routed to a queue nobody reads (DEAD_QUEUE_ENV).
FOLLOW_UPS = ["registry.tasks.notifications_deliver_pending",
              "registry.tasks.notification_deliver", "registry.tasks.notifications_deliver_many",
              "queues.tasks.counter_alert_email", "deliveries.tasks.deliveries_notify_scheduled"]
DEAD_QUEUE_ENV = "NATIONAL_BENCH_DEAD_QUEUE"
RUN_TIMEOUT = 1800

# name: (beat task, office task, period in seconds, takes the moment)
TASKS = {
    "slots": ("appointments.tasks.slots_ensure_all", "appointments.tasks.slots_ensure_office",
              3600, False),
    "expire": ("appointments.tasks.bookings_expire_due",
               "appointments.tasks.bookings_expire_office", 300, True),
    "lapse": ("appointments.tasks.applications_lapse_due",
              "appointments.tasks.applications_lapse_office", 1800, True),
    "remind": ("appointments.tasks.bookings_remind_due",
               "appointments.tasks.bookings_remind_office", 300, True),
    "dispatch": ("deliveries.tasks.deliveries_dispatch_due",
                 "deliveries.tasks.deliveries_dispatch", 300, True),
    "idle": ("queues.tasks.counter_alerts_due", "queues.tasks.counter_alerts_office", 60,
             True),
}


def worker_main(argv: list[str]):
    """The benchmark's worker: appointments_expiry's (a statement counter on every
    connection of its processes, a line per task), the follow-ups routed away."""
    expiry_worker_main(argv, routes={name: {"queue": os.environ[DEAD_QUEUE_ENV]}
                                     for name in FOLLOW_UPS})


class LiveDay:
    """The live day's due work, as generated, and how to put it back after a run."""

    def __init__(self):
        from registry import demo_national
        from registry.appointments.models import Booking, BookingStatus, Slot
        from registry.deliveries.models import Delivery, DeliveryStatus
        from registry.models import Application, ApplicationStatus, Office, Sequence

        marker = Sequence.objects.filter(scope=demo_national.NATIONAL_SCOPE).first()
        self.day = date.fromordinal(marker.value)
        reference = Office.objects.filter(timezone=demo_national.WIB).first()
        self.moment = demo_national.live_moment(reference, self.day)
        self.offices = Office.objects.count()
        self.slot_top = Slot.objects.order_by("-id").values_list("id", flat=True).first()
        self.due_bookings = list(Booking.objects.filter(
            status=BookingStatus.BOOKED, expires_at__lte=self.moment)
            .values_list("id", "application_id"))
        self.lapsing = list(Application.objects.filter(
            status=ApplicationStatus.OPEN, rebook_until__lt=self.day)
            .values_list("id", flat=True))
        ahead = Booking.objects.filter(status=BookingStatus.BOOKED, day__gte=self.day)
        self.reminders = len(ahead)
        self.not_reminded_before = list(ahead.filter(reminded_day_before_at__isnull=True)
                                        .values_list("id", flat=True))
        self.not_reminded_morning = list(ahead.filter(reminded_morning_at__isnull=True)
                                         .values_list("id", flat=True))
        # The deliveries the dispatch may change (it also carries over those not
        # attempted on an earlier day), as they are.
        self.deliveries = list(Delivery.objects.filter(
            status__in=[DeliveryStatus.WAITING, DeliveryStatus.ASSIGNED]).only(
            "id", "status", "courier", "scheduled_for", "route_position"))
        self.waiting = sum(d.status == DeliveryStatus.WAITING for d in self.deliveries)
        self.tops = self._tops()

    @staticmethod
    def _tops() -> dict:
        from django.apps import apps

        labels = ["registry.Notification", "registry.NotificationDelivery",
                  "registry.CaseEvent", "queues.CounterAlert", "deliveries.DispatchRun",
                  "registry.AuditEntry"]
        return {label: apps.get_model(label).objects.order_by("-id")
                .values_list("id", flat=True).first() or 0 for label in labels}

    def reset(self):
        """Put the due work back: delete what the runs wrote, restore what they changed."""
        from django.apps import apps
        from django.db import transaction

        from registry.appointments.models import Booking, BookingStatus, Slot
        from registry.deliveries.models import Delivery
        from registry.models import Application, ApplicationStatus

        with transaction.atomic():
            for label, top in self.tops.items():
                apps.get_model(label).objects.filter(id__gt=top).delete()
            Slot.objects.filter(id__gt=self.slot_top).delete()
            Booking.objects.filter(id__in=[b for b, _a in self.due_bookings]).update(
                status=BookingStatus.BOOKED, expired_at=None, sweep_token="")
            Application.objects.filter(id__in=[a for _b, a in self.due_bookings]).update(
                rebook_until=None, status=ApplicationStatus.OPEN, closed_at=None)
            Application.objects.filter(id__in=self.lapsing).update(
                status=ApplicationStatus.OPEN, closed_at=None)
            Booking.objects.filter(id__in=self.not_reminded_before).update(
                reminded_day_before_at=None)
            Booking.objects.filter(id__in=self.not_reminded_morning).update(
                reminded_morning_at=None)
            Delivery.objects.bulk_update(self.deliveries, ["status", "courier",
                                                           "scheduled_for", "route_position"],
                                         batch_size=1000)
        vacuum()


# The tables the runs change: analysed after each reset, as autovacuum would soon.
VACUUMED = ["appointments_booking", "appointments_slot", "registry_application",
            "deliveries_delivery", "registry_notification", "registry_notificationdelivery",
            "registry_caseevent", "queues_counteralert", "deliveries_dispatchrun"]


def vacuum(tables=None):
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if tables == "all":
            cursor.execute("VACUUM ANALYZE")
            return
        for table in VACUUMED:
            cursor.execute(f"VACUUM ANALYZE {table}")


def wait_for_run(worker, offset: int, beat: str, office_task: str) -> list[dict]:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        lines = task_lines(worker.log()[offset:])
        failed = [line for line in lines if line["state"] != "SUCCESS"]
        if failed:
            raise RuntimeError(f"A task failed: {failed[0]}\n{worker.log()[offset:][-5000:]}")
        beats = [line for line in lines if line["name"] == beat]
        offices = [line for line in lines if line["name"] == office_task]
        if beats and len(offices) >= int(beats[0]["result"]):
            return lines
        time.sleep(0.05)
    raise TimeoutError(f"{beat} did not finish in {RUN_TIMEOUT} s")


def measure(worker, live: LiveDay, name: str, runs: int) -> list[dict]:
    import queues.tasks  # noqa: F401
    import registry.appointments.tasks
    import registry.deliveries.tasks  # noqa: F401  (the beat tasks, registered)
    from config.celery import app

    beat, office_task, _period, takes_moment = TASKS[name]
    results = []
    for _run in range(runs):
        live.reset()
        load = os.getloadavg()[0]
        offset = len(worker.log())
        started = time.time()
        app.tasks[beat].apply_async(kwargs={"now": live.moment.isoformat()}
                                    if takes_moment else {})
        lines = wait_for_run(worker, offset, beat, office_task)
        offices = [line for line in lines if line["name"] == office_task]
        [beat_line] = [line for line in lines if line["name"] == beat]
        end = max((line["started"] + line["wall"] for line in offices),
                  default=beat_line["started"] + beat_line["wall"])
        results.append({
            "seconds": end - started, "statements": sum(line["count"] for line in lines),
            "kinds": sum((line["kinds"] for line in lines), Tally()),
            "tasks": len(offices), "beat": beat_line["wall"],
            "work": sum(int(line["result"]) for line in offices
                        if line["result"] != "-"),
            "processes": len({line["pid"] for line in offices}), "load": load})
        r = results[-1]
        print(f"    {name}: {r['seconds']:.2f} s, {r['statements']} statements, beat task "
              f"{r['beat']:.2f} s, {r['tasks']} office tasks on {r['processes']} processes, "
              f"{r['work']} done, load average {load:.2f}", flush=True)
    return results


@contextmanager
def _database(keep: bool, name: str | None):
    from django.db import connection

    if name:
        connection.settings_dict["NAME"] = name
        connection.close()
        yield name
        return
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_national"
    made = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield made
    finally:
        if keep:
            print(f"Kept the database {made} (--database {made} to run on it again).")
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)


class _Printer:
    def write(self, text: str) -> None:
        print(text, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offices", type=int, default=514)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", action="store_true", help="keep the database at the end")
    where.add_argument("--database", help="run on this database, kept before; generate "
                                          "nothing")
    args = parser.parse_args()

    from tests.worker import real_worker

    dead_queue = f"eopen-bench-dead-{uuid.uuid4().hex[:10]}"
    summary = {}
    with _database(args.keep, args.database) as database, \
            tempfile.TemporaryDirectory() as folder:
        if not args.database:
            from registry.demo_national import national_seed

            started = time.perf_counter()
            result = national_seed(count=args.offices, stdout=_Printer())
            print(f"{len(result['offices'])} offices generated in "
                  f"{time.perf_counter() - started:.0f} s: history "
                  f"{sum(result['history'].values()):,} rows, live day "
                  f"{sum(result['live'].values()):,} rows")
        vacuum("all")
        live = LiveDay()
        print(f"database {database}; {live.offices} offices; live day {live.day}, beat "
              f"tasks at {live.moment.isoformat()}; broker "
              f"{'Redis' if os.environ.get('REDIS_URL') else 'filesystem'}; "
              f"{common.machine()}", flush=True)
        print(f"due: {len(live.due_bookings)} bookings to expire, {len(live.lapsing)} cases "
              f"to lapse, {live.reminders} bookings ahead to remind, {live.waiting} "
              f"deliveries waiting", flush=True)
        entry = [sys.executable, "-m", "tests.benchmarks.national_periodic"]
        try:
            for concurrency in args.concurrency:
                (Path(folder) / f"c{concurrency}").mkdir()
                with real_worker(Path(folder) / f"c{concurrency}", concurrency=concurrency,
                                 entry=entry, extra_env={DEAD_QUEUE_ENV: dead_queue,
                                                         "PYTHONUNBUFFERED": "1"}) as worker:
                    print(f"worker of {concurrency} process(es)", flush=True)
                    for name in args.tasks:
                        summary[name, concurrency] = measure(worker, live, name, args.runs)
        finally:
            if os.environ.get("REDIS_URL"):
                import redis

                redis.Redis.from_url(os.environ["REDIS_URL"]).delete(dead_queue)
            live.reset()
        print(f"\n{live.offices} offices, median of {args.runs} runs (min-max), from "
              f"queuing the beat task to the last office task done:")
        for name in args.tasks:
            period = TASKS[name][2]
            for concurrency in args.concurrency:
                runs = summary[name, concurrency]
                seconds = sorted(r["seconds"] for r in runs)
                med = statistics.median(seconds)
                statements = sorted({r["statements"] for r in runs})
                print(f"  {name:<8} {concurrency} process(es): {med:7.2f} s "
                      f"({seconds[0]:.2f}-{seconds[-1]:.2f}), "
                      f"{'/'.join(map(str, statements))} statements, {runs[0]['tasks']} "
                      f"office tasks, {runs[0]['work']} done; {100 * med / period:.1f}% of "
                      f"its period ({period // 60} min); load average "
                      f"{'/'.join(format(r['load'], '.1f') for r in runs)}")
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker_main(sys.argv[1:])
    else:
        main()
