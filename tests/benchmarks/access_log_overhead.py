"""What the access log costs the hot pages: the admin's resident list and the counter
page, each with the log written and with it switched off, in milliseconds.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_bench \\
        .venv/bin/python -m tests.benchmarks.access_log_overhead [--residents 5000]
        [--runs 40]

It creates its own test database (dropped at the end): one office with its catalogue,
counters and a morning queue (tests/benchmarks/queues_common.py), `--residents`
residents domiciled there, and a resident at counter 1. Then, through Django's test
client as the signed-in staff member (the front desk for the list of 100 residents,
the operator for the counter page), it requests each page `--runs` times in each mode,
the modes interleaved request by request so both see the same machine load. "Off"
replaces record_access where the pages call it with a function that does nothing.
Reports each page's median milliseconds in both modes, the overhead in per cent, the
queries per page, and the machine.
"""

import argparse
import statistics
import time
from contextlib import ExitStack
from datetime import date, timedelta
from unittest import mock

from tests.benchmarks import queues_common as common
from tests.benchmarks._machine import machine

# Where the pages call record_access (each module imported the name).
CALL_SITES = ["registry.admin_access.record_access", "queues.views.record_access"]


def setup(residents: int):
    from django.contrib.auth import get_user_model

    from queues.models import Ticket
    from registry.models import Resident, Role
    from registry.services.staff import staff_membership_grant
    from tests.factories import make_nik

    office, counters, operators = common.build_office(waiting=60)
    born = date(1970, 1, 1)
    people = Resident.objects.bulk_create(
        [Resident(nik=make_nik(born=born + timedelta(days=n % 9000), serial=n % 9999 + 1),
                  name=f"Penduduk {n:05d}", birth_date=born + timedelta(days=n % 9000),
                  phone=f"+62812{n:08d}", domicile_office=office)
         for n in range(residents)], batch_size=1000)
    desk = get_user_model().objects.create_user("bench.desk", password="bench-pass")
    staff_membership_grant(user=desk, office=office, role=Role.FRONT_DESK)
    current = Ticket.objects.filter(counter=counters[0]).order_by("-id").first()
    Ticket.objects.filter(pk=current.pk).update(resident=people[0])
    return desk, operators[0], counters[0]


def measure(client, url: str, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = {"on": [], "off": []}
    queries = {}
    noop = mock.MagicMock(return_value=None)
    for mode in ("on", "off"):  # warm-up, one each
        with ExitStack() as stack:
            if mode == "off":
                for target in CALL_SITES:
                    stack.enter_context(mock.patch(target, noop))
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code,
                                                 response.get("Location"))
    for _run in range(runs):
        for mode in ("on", "off"):
            with ExitStack() as stack:
                if mode == "off":
                    for target in CALL_SITES:
                        stack.enter_context(mock.patch(target, noop))
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = client.get(url)
                    times[mode].append(time.perf_counter() - began)
                assert response.status_code == 200, response.status_code
                queries[mode] = len(captured)
    on, off = statistics.median(times["on"]), statistics.median(times["off"])
    return {"on_ms": on * 1000, "off_ms": off * 1000, "overhead": (on - off) / off * 100,
            "queries_on": queries["on"], "queries_off": queries["off"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from registry.models import AccessLog

    setup_test_environment()
    with common.bench_database("accesslog"):
        desk, operator, counter = setup(args.residents)
        print(machine())
        pages = [
            ("admin resident list (100 per page)", desk,
             reverse("admin:registry_resident_changelist")),
            ("counter page", operator, reverse("queues:counter", args=[counter.pk])),
        ]
        for label, user, url in pages:
            client = Client()
            client.force_login(user)
            before = AccessLog.objects.count()
            result = measure(client, url, args.runs)
            written = AccessLog.objects.count() - before
            print(f"{label}: {result['on_ms']:.1f} ms with the log, {result['off_ms']:.1f} ms "
                  f"without: {result['overhead']:+.1f} % (queries {result['queries_on']} vs "
                  f"{result['queries_off']}; {written} log rows written)")


if __name__ == "__main__":
    main()
