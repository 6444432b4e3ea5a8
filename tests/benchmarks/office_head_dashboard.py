"""The office head's dashboard on a year of data for 10 offices: seconds per page.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_bench \\
        .venv/bin/python -m tests.benchmarks.office_head_dashboard [--offices 10]
        [--days 365] [--runs 5]

It creates its own test database (dropped at the end), generates `--days` days of
history for `--offices` offices (tests/benchmarks/history_data.py: bookings, tickets,
counter events, outages, cards, deliveries, complaints, survey answers), then requests
the dashboard page (/admin/dashboard/) as a signed-in superuser through Django's test
client, `--runs` times each (after one warm-up request), for:
- one office, the last 30 days per day (the page's default);
- one office, the whole year per month;
- the 10 offices side by side, the last 30 days per day;
- the 10 offices side by side, the whole year per month.
Reports the median seconds per page and its queries, and the machine.
"""

import argparse
import statistics
import time
from datetime import timedelta

from tests.benchmarks import queues_common as common
from tests.benchmarks._machine import machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offices", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from registry.calendar import office_today
    from tests.benchmarks import history_data

    setup_test_environment()
    with common.bench_database("dashboard"):
        started = time.perf_counter()
        offices = history_data.generate(offices=args.offices, days=args.days, seed=1,
                                        timeline=False)
        print(f"{args.offices} offices x {args.days} days generated in "
              f"{time.perf_counter() - started:.0f} s")
        end = office_today(offices[0]) - timedelta(days=1)  # the history ends yesterday
        admin = get_user_model().objects.create_superuser("bench", "", "bench-pass")
        client = Client()
        client.force_login(admin)
        codes = [office.code for office in offices]
        month_start = end - timedelta(days=args.days - 1)
        cases = [
            ("1 office, 30 days per day", {"office": codes[0], "granularity": "day",
                                           "start": end - timedelta(days=29), "end": end}),
            ("1 office, the year per month", {"office": codes[0], "granularity": "month",
                                              "start": month_start, "end": end}),
            (f"{len(codes)} offices, 30 days per day",
             {"office": codes, "granularity": "day", "start": end - timedelta(days=29),
              "end": end}),
            (f"{len(codes)} offices, the year per month",
             {"office": codes, "granularity": "month", "start": month_start, "end": end}),
        ]
        print(machine())
        for label, params in cases:
            params = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                      for k, v in params.items()}
            response = client.get("/admin/dashboard/", params)  # warm-up
            assert response.status_code == 200, response.status_code
            assert response.context["rows"], "no charts"
            times, queries = [], 0
            for _run in range(args.runs):
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = client.get("/admin/dashboard/", params)
                    times.append(time.perf_counter() - began)
                queries = len(captured)
            charts = sum(len(row["cells"]) for row in response.context["rows"])
            print(f"{label}: median {statistics.median(times):.3f} s per page "
                  f"(min {min(times):.3f}, max {max(times):.3f}; {args.runs} runs), "
                  f"{charts} charts, {queries} queries")


if __name__ == "__main__":
    main()
