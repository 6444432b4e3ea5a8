"""How long the central link's, the deliveries' and the complaints' trends take for a
year of 10 offices, per day, week and month.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_4 \\
        .venv/bin/python -m tests.benchmarks.trends_other [--offices 10] [--prints 40]
        [--runs 3]

It creates its own test database (test_<name>_bench, dropped at the end) and 10 offices
in three time zones (7 WIB, 2 WITA, 1 WIT), each with a year (365 days) of rows written
in bulk: `--prints` served cases a day, each with its print job (one in twenty still
waiting), its blank card taken from stock and its hand-over (three in ten delivered
home, one in five of those after a failed attempt; the rest collected at the counter),
a few outages, three complaints a day with three deadlines each (four in five met), and
fifteen survey answers a day. It then times each app's `charts(offices=..., period=...)`
over the whole year for all the offices at once, `--runs` times per granularity, and
reports the median and the queries.
"""

import argparse
import os
import platform
import random
import statistics
import time
import uuid
from datetime import date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PYTEST_VERSION", "benchmark")  # test settings: memory broker
django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from registry.services.offices import catalogue_seed, office_create  # noqa: E402

LAST_DAY = date(2026, 7, 31)
ZONES = ["Asia/Jakarta"] * 7 + ["Asia/Makassar"] * 2 + ["Asia/Jayapura"]


def build_office(n: int, prints: int, rng: random.Random):
    from complaints.models import Complaint, ComplaintDeadline, DeadlineKind, SurveyAnswer
    from registry.central.models import (
        Card,
        CardStock,
        CardStockMovement,
        CentralJob,
        CentralOutage,
    )
    from registry.deliveries.models import Delivery, DeliveryAttempt, Handover
    from registry.models import Application, Resident, Service

    code = f"{3271 + n}"
    office = office_create(code=code, name=f"Disdukcapil {code}",
                           timezone_name=ZONES[n % len(ZONES)])
    catalogue_seed(office=office)
    zone = ZoneInfo(office.timezone)
    service = Service.objects.get(office=office, code="KTP_TTD_FOTO")
    resident = Resident.objects.create(nik=f"{code}01170590{n:04d}", name=f"Warga {code}",
                                       birth_date=date(1990, 5, 17), domicile_office=office)
    from django.contrib.auth import get_user_model

    courier = get_user_model().objects.create(username=f"kurir-{code}")
    days = [LAST_DAY - timedelta(days=d) for d in range(365)]
    applications, moments = [], []
    for day in days:
        for k in range(prints):
            applications.append(Application(
                office=office, number=f"{code}-{day:%Y%m%d}-{k:03d}", resident=resident,
                service=service, channel="app", status="ready"))
            moments.append(datetime.combine(day, clock(8), tzinfo=zone)
                           + timedelta(minutes=8 * k))
    applications = Application.objects.bulk_create(applications, batch_size=2000)
    jobs = []
    for application, created in zip(applications, moments, strict=True):
        waiting = rng.random() < 0.05
        jobs.append(CentralJob(
            office=office, application=application, kind="card_print", key=uuid.uuid4(),
            status="pending" if waiting else "done", created_at=created,
            done_at=None if waiting else created + timedelta(hours=2)))
    jobs = CentralJob.objects.bulk_create(jobs, batch_size=2000)
    done = [job for job in jobs if job.done_at]
    CardStock.objects.create(office=office, on_hand=500)
    CardStockMovement.objects.bulk_create(
        [CardStockMovement(office=office, at=job.done_at, change=-1, balance=0,
                           reason="printed") for job in done], batch_size=2000)
    cards = Card.objects.bulk_create(
        [Card(office=office, application_id=job.application_id, print_job=job,
              receipt_code=f"{i:09d}", printed_at=job.done_at) for i, job in enumerate(done)],
        batch_size=2000)
    handovers, home = [], []
    for card in cards:
        delivered = rng.random() < 0.3
        handovers.append(Handover(
            office=office, application_id=card.application_id, card=card,
            method="delivery" if delivered else "pickup",
            completed_at=card.printed_at + timedelta(days=2),
            collected_by_nik="" if delivered else resident.nik))
        home.append(delivered)
    handovers = Handover.objects.bulk_create(handovers, batch_size=2000)
    deliveries = Delivery.objects.bulk_create(
        [Delivery(office=office, application_id=h.application_id, handover=h,
                  status="delivered", address="Jl. Mawar 1", delivered_at=h.completed_at)
         for h, delivered in zip(handovers, home, strict=True) if delivered], batch_size=2000)
    attempts = []
    for delivery in deliveries:
        number = 1
        if rng.random() < 0.2:
            at = delivery.delivered_at - timedelta(days=1)
            attempts.append(DeliveryAttempt(office=office, delivery=delivery, number=1,
                                            courier=courier, scheduled_for=at.date(), at=at,
                                            outcome="failed", reason="nobody_home"))
            number = 2
        attempts.append(DeliveryAttempt(
            office=office, delivery=delivery, number=number, courier=courier,
            scheduled_for=delivery.delivered_at.date(), at=delivery.delivered_at,
            outcome="delivered"))
    DeliveryAttempt.objects.bulk_create(attempts, batch_size=2000)
    CentralOutage.objects.bulk_create(
        [CentralOutage(office=office, started_at=datetime.combine(day, clock(9), tzinfo=zone),
                       ended_at=datetime.combine(day, clock(13), tzinfo=zone),
                       detection="health_check") for day in days[::30]])
    complaints = Complaint.objects.bulk_create(
        [Complaint(office=office, reference=f"ADU-{i:06d}", channel=rng.choice(
            ["instagram", "whatsapp", "lapor", "app"]), text="Antrean lama.",
            received_at=datetime.combine(day, clock(10 + k), tzinfo=zone))
         for i, (day, k) in enumerate((day, k) for day in days for k in range(3))],
        batch_size=2000)
    deadlines = []
    for complaint in complaints:
        for offset, kind in ((3, DeadlineKind.ACKNOWLEDGE), (5, DeadlineKind.RESPOND),
                             (10, DeadlineKind.RESOLVE)):
            due = complaint.received_at + timedelta(days=offset)
            met = (complaint.received_at + timedelta(days=rng.randint(1, offset + 2))
                   if rng.random() < 0.8 else None)
            deadlines.append(ComplaintDeadline(office=office, complaint=complaint, kind=kind,
                                               due_at=due, warn_at=due, met_at=met))
    ComplaintDeadline.objects.bulk_create(deadlines, batch_size=2000)
    SurveyAnswer.objects.bulk_create(
        [SurveyAnswer(office=office, application=a, resident=resident, answered_at=at,
                      **{f"u{e}": rng.randint(2, 4) for e in range(1, 10)})
         for i, (a, at) in enumerate(zip(applications, moments, strict=True))
         if i % prints < 15], batch_size=2000)
    return office


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--offices", type=int, default=10)
    parser.add_argument("--prints", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", action="store_true", help="print each query's time")
    args = parser.parse_args()

    from complaints import trends as complaints_trends
    from registry.central import trends as central_trends
    from registry.deliveries import trends as deliveries_trends
    from registry.trends import Granularity, Period

    old_name = connection.settings_dict["NAME"]
    # A database of its own, so a test run on the same server is not disturbed.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{old_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        rng = random.Random(3275)
        started = time.perf_counter()
        offices = [build_office(n, args.prints, rng) for n in range(args.offices)]
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"built a year of {args.offices} offices ({args.prints} prints a day each) "
              f"in {time.perf_counter() - started:.1f} s")
        for granularity in Granularity:
            period = Period(LAST_DAY - timedelta(days=364), LAST_DAY, granularity)
            for name, source in (("central", central_trends.charts),
                                 ("deliveries", deliveries_trends.charts),
                                 ("complaints", complaints_trends.charts)):
                timings = []
                for _run in range(args.runs):
                    with CaptureQueriesContext(connection) as queries:
                        started = time.perf_counter()
                        source(offices=offices, period=period)
                        timings.append(time.perf_counter() - started)
                print(f"{granularity.value:>5} {name:<10} median {statistics.median(timings):.2f} s"
                      f" (min {min(timings):.2f}, max {max(timings):.2f}), "
                      f"{len(queries.captured_queries)} queries")
                if args.queries:
                    for query in queries.captured_queries:
                        print(f"      {float(query['time']):.3f} s  {query['sql'][:110]}")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {connection.vendor} "
              f"{getattr(connection, 'pg_version', '')}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
