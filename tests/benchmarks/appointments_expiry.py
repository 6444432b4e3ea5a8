"""How long the expiry sweep takes, and how many SQL statements it sends, for 10,000
and 100,000 bookings whose day is over, across 10 offices.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_apptbench \\
        .venv/bin/python -m tests.benchmarks.appointments_expiry
        [--sizes 10000 100000] [--offices 10] [--runs 3]

It creates its own database (<name>_expiry, dropped at the end; a file under var/ on
SQLite), ten offices in WIB, WITA and WIT, and for each size the due bookings written
in bulk (residents with a phone, half of them on the app, one in five with an e-mail,
one in ten reading English; an open case each; bookings on the last working days, past
their end of day in the office's zone). Then it runs `bookings_expire_due` once
per run, putting the bookings back between runs, and reports the median wall time and
the statements sent on every connection (counted with execute wrappers), by kind,
which must be the same for every size: the sweep is set-based, a fixed number of
statements per office. On PostgreSQL the offices are swept SWEEP_THREADS at a time
(default 2), each on its own connection (registry.background.per_office). Publishing
the delivery tasks is left out (counted, not sent): the broker is not what is
measured.
"""

import argparse
import contextlib
import os
import threading
import time
from collections import Counter as Tally
from datetime import timedelta
from unittest import mock

from registry.appointments.services.slots import slots_ensure
from registry.appointments.services.sweeps import bookings_expire_due
from tests.benchmarks import appointments_common as common


def build(offices, total: int, serial_start: int):
    from django.utils import timezone

    from registry.appointments.models import Booking, BookingStatus, Slot
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
    plus the driver's, without the COMMIT), on every connection: the sweep's offices
    run side by side on connections of their own (registry.background.per_office)."""

    def __init__(self):
        self.kinds = Tally()
        self.seconds = 0.0
        self.lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            with self.lock:
                self.kinds[sql.lstrip().split(None, 1)[0].upper()] += 1
                self.seconds += time.perf_counter() - started

    @contextlib.contextmanager
    def everywhere(self):
        """On this thread's connection and on every connection opened meanwhile."""
        from django.db import connection
        from django.db.backends.signals import connection_created

        def attach(sender, connection, **kwargs):
            # A thread's connection object lives on through close and connect again.
            if self not in connection.execute_wrappers:
                connection.execute_wrappers.append(self)

        connection_created.connect(attach)
        try:
            with connection.execute_wrapper(self):
                yield self
        finally:
            connection_created.disconnect(attach)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def measure(total: int, runs: int):
    from django.utils import timezone

    from registry.appointments.models import Booking
    from registry.models import Notification, NotificationDelivery

    timings, counts = [], []
    for run in range(runs):
        reset()
        counter = StatementCounter()
        with mock.patch("registry.background.enqueue_now", return_value=True) as enqueue, \
                counter.everywhere():
            started = time.perf_counter()
            expired = bookings_expire_due(now=timezone.now())
            elapsed = time.perf_counter() - started
        assert expired == total, (expired, total)
        assert Booking.objects.filter(status="expired").count() == total
        assert Notification.objects.filter(kind="booking.expired").count() == total
        timings.append(elapsed)
        counts.append(counter)
        print(f"  run {run + 1}: {elapsed:.2f} s ({counter.seconds:.2f} s in statements, "
              "summed over connections), "
              f"{counter.total} statements "
              f"({', '.join(f'{k} {v}' for k, v in sorted(counter.kinds.items()))}), "
              f"{NotificationDelivery.objects.count()} deliveries, "
              f"{enqueue.call_count} delivery tasks queued")
    return timings, counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--offices", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from django.db import connection

    from registry.appointments.services.sweeps import EXPIRY_BATCH

    summary = []
    with common.bench_database("expiry") as database:
        from django.conf import settings

        threads = 1 if connection.vendor == "sqlite" else settings.SWEEP_THREADS
        print(f"database {database} ({connection.vendor}); batch {EXPIRY_BATCH or 'none'}; "
              f"offices swept {threads} at a time (SWEEP_THREADS)")
        offices = common.offices_create(args.offices)
        serial = 0
        for total in args.sizes:
            clear()
            started = time.perf_counter()
            serial = build(offices, total, serial)
            print(f"{total} due bookings in {args.offices} offices, built in "
                  f"{time.perf_counter() - started:.0f} s")
            timings, counts = measure(total, args.runs)
            statements = {counter.total for counter in counts}
            summary.append((total, common.median(timings), min(timings), max(timings),
                            statements))
        print()
        for total, med, low, high, statements in summary:
            print(f"expire {total} bookings: median {med:.2f} s over {args.runs} runs "
                  f"(min {low:.2f}, max {high:.2f}), {total / med:.0f} bookings/s; "
                  f"{'/'.join(map(str, sorted(statements)))} statements for "
                  f"{args.offices} offices")
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    if os.environ.get("PROFILE"):
        import cProfile

        cProfile.run("main()", sort="cumulative")
    else:
        main()
