"""How long the morning dispatch takes for 10,000 cards waiting for home delivery.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_central \\
        .venv/bin/python -m tests.benchmarks.deliveries_dispatch [--cards 10000]
        [--couriers 100] [--per-courier 100] [--runs 5] [--notify]

It creates its own test database (test_<name>, dropped at the end), an office with the
couriers and the waiting deliveries (rows written in bulk: printed cards of residents
spread over 12 kecamatan, 60 kelurahan, nine in ten with coordinates), then times
`deliveries_dispatch` (assignment, routes, timeline entries, in one transaction) `--runs`
times, putting the deliveries back to waiting between runs, and reports the median.
With --notify it also times telling every resident (`deliveries_notify_scheduled`
until none is left), once.
"""

import argparse
import os
import platform
import random
import statistics
import time
import uuid
from datetime import date
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PYTEST_VERSION", "benchmark")  # test settings: memory broker
django.setup()

from django.db import connection  # noqa: E402

from registry.services.offices import catalogue_seed, office_create  # noqa: E402
from registry.services.staff import roles_sync  # noqa: E402

MONDAY = date(2022, 7, 4)
KECAMATAN = ["Bantargebang", "Bekasi Barat", "Bekasi Selatan", "Bekasi Timur", "Bekasi Utara",
             "Jatiasih", "Jatisampurna", "Medan Satria", "Mustikajaya", "Pondokgede",
             "Pondokmelati", "Rawalumbu"]


def build(cards: int, couriers: int, per_courier: int):
    from django.contrib.auth import get_user_model

    from registry.central.models import Card, CentralJob
    from registry.deliveries.models import Delivery, DeliverySettings, Handover
    from registry.models import Application, Resident, Role, Service, StaffMembership

    rng = random.Random(3275)
    roles_sync()
    office = office_create(code="3275", name="Disdukcapil Kota Bekasi")
    office.latitude, office.longitude = Decimal("-6.235000"), Decimal("107.006000")
    office.save()
    catalogue_seed(office=office)
    DeliverySettings.objects.create(office=office, max_per_courier=per_courier)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"kurir{n:03d}") for n in range(couriers))
    StaffMembership.objects.bulk_create(
        StaffMembership(user=u, office=office, role=Role.COURIER) for u in users)
    service = Service.objects.get(office=office, code="KTP_TTD_FOTO")
    residents = Resident.objects.bulk_create(
        Resident(nik=f"3275{n:012d}", name=f"Warga {n}", birth_date=date(1990, 1, 1),
                 domicile_office=office, address=f"Jl. Contoh No. {n}")
        for n in range(cards))
    applications = Application.objects.bulk_create(
        Application(office=office, number=f"3275-2022-{n:05d}", resident=r, service=service,
                    channel="app", status="ready")
        for n, r in enumerate(residents))
    jobs = CentralJob.objects.bulk_create(
        CentralJob(office=office, application=a, kind="card_print", key=uuid.uuid4(),
                   status="done") for a in applications)
    cards_rows = Card.objects.bulk_create(
        Card(office=office, application=a, print_job=j, receipt_code=f"{n:04d}-{n:04d}"[-9:])
        for n, (a, j) in enumerate(zip(applications, jobs, strict=True)))
    handovers = Handover.objects.bulk_create(
        Handover(office=office, application=a, card=c, method="delivery")
        for a, c in zip(applications, cards_rows, strict=True))
    rows = []
    for application, handover in zip(applications, handovers, strict=True):
        kecamatan = rng.choice(KECAMATAN)
        located = rng.random() < 0.9
        rows.append(Delivery(
            office=office, application=application, handover=handover,
            address=application.resident.address, kecamatan=kecamatan,
            kelurahan=f"{kecamatan} {rng.randint(1, 5)}",
            latitude=Decimal(f"{rng.uniform(-6.37, -6.18):.6f}") if located else None,
            longitude=Decimal(f"{rng.uniform(106.90, 107.05):.6f}") if located else None))
    Delivery.objects.bulk_create(rows, batch_size=2000)
    return office


def reset(office):
    from registry.deliveries.models import Delivery, DispatchRun
    from registry.models import CaseEvent

    Delivery.objects.filter(office=office).update(status="waiting", courier=None,
                                                  scheduled_for=None, route_position=None,
                                                  notified_for=None)
    CaseEvent.objects.filter(office=office, kind="delivery.scheduled").delete()
    DispatchRun.objects.filter(office=office).delete()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--couriers", type=int, default=100)
    parser.add_argument("--per-courier", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--notify", action="store_true")
    args = parser.parse_args()

    from unittest import mock

    from registry.deliveries.models import Delivery
    from registry.deliveries.services.dispatch import (
        deliveries_dispatch,
        deliveries_notify_scheduled,
    )

    old_name = connection.settings_dict["NAME"]
    # A database of its own, so a test run on the same server is not disturbed.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{old_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        office = build(args.cards, args.couriers, args.per_courier)
        print(f"built {args.cards} waiting deliveries in {time.perf_counter() - started:.1f} s")
        timings = []
        # Nothing is published: the notification task is measured on its own below.
        with mock.patch("registry.background.enqueue_now", return_value=True):
            for run in range(args.runs):
                reset(office)
                started = time.perf_counter()
                if os.environ.get("PROFILE") and run == 0:
                    import cProfile
                    import pstats

                    profiler = cProfile.Profile()
                    result = profiler.runcall(deliveries_dispatch, office=office,
                                              day=MONDAY)
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                else:
                    result = deliveries_dispatch(office=office, day=MONDAY)
                timings.append(time.perf_counter() - started)
                assigned = Delivery.objects.filter(status="assigned").count()
                print(f"run {run + 1}: {timings[-1]:.2f} s, {result.assigned} assigned "
                      f"({assigned} in the table), {result.left_waiting} left waiting")
            if args.notify:
                started = time.perf_counter()
                while deliveries_notify_scheduled(office_id=office.id, day=MONDAY):
                    pass
                notify = time.perf_counter() - started
                print(f"telling {args.cards} residents: {notify:.1f} s")
        print(f"median dispatch of {args.cards} cards to {args.couriers} couriers: "
              f"{statistics.median(timings):.2f} s over {args.runs} runs "
              f"(min {min(timings):.2f}, max {max(timings):.2f})")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {connection.vendor} "
              f"{getattr(connection, 'pg_version', '')}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
