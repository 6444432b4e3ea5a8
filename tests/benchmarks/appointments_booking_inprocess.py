"""One booking in-process on PostgreSQL: the SQL statements and the milliseconds of
POST /api/v1/bookings/ from the request to the response, with no network (Django's
test client calls the WSGI handler directly).

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_apptbench \\
    REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python -m tests.benchmarks.appointments_booking_inprocess
        [--bookings 200] [--runs 5] [--profile 0]

It creates and migrates its own database (<name>_booking_ip, dropped at the end) with
Kota Bekasi (3275), its catalogue and residents with tokens, as appointments_booking
does. Tasks are published to Redis when REDIS_URL is set (a queue of its own, deleted
at the end), as the server would; the cache is Redis too.

1. Statements: one booking under CaptureQueriesContext, every statement counted,
   BEGIN and COMMIT included (Django lists them; a SAVEPOINT would be too). Printed
   with the statements.
2. Time: `--runs` runs of `--bookings` bookings, each by a new resident into a slot
   with room, after a warm-up; the median and p95 milliseconds per booking of each
   run, and the median over the runs. Every answer must be 201. Beside the wall time,
   the CPU time of this process (Python, Django, the driver; not PostgreSQL's): on a
   busy machine the wall time grows with the others' load, the CPU time much less.
3. With `--profile N`: cProfile over N more bookings, the top functions by cumulative
   time per booking.

The rate under gunicorn, as a ratio to GET /healthz, is appointments_booking's.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

# appointments_booking sets the broker (Redis when there is one) and the queue up first.
from tests.benchmarks import appointments_booking as booking_bench
from tests.benchmarks import appointments_common as common

QUEUE = booking_bench.IN_PROCESS_QUEUE

BOOKINGS = booking_bench.BOOKINGS


def _client():
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="id")


def _book(client, token: str, slot: int):
    return client.post(BOOKINGS, data={
        "office": booking_bench.OFFICE, "service": booking_bench.SERVICE, "slot": slot,
        "documents": booking_bench.DOCUMENTS}, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}")


def statements_of_one(client, token: str, slot: int) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = _book(client, token, slot)
    if response.status_code != 201:
        sys.exit(f"booking answered {response.status_code}: {response.content[:300]!r}")
    return [query["sql"] for query in captured.captured_queries]


def measure_in_process(tokens, slots, *, bookings: int, runs: int, warmup: int,
                       profile: int = 0, show_sql: bool = True) -> dict:
    """Book in-process with the residents of `tokens` (one booking each, in turn) over
    `slots`: the statements of one booking and the times of `runs` runs of `bookings`.
    Prints as it goes; answers the figures."""
    client = _client()
    pool = iter(enumerate(tokens))

    def next_booking():
        n, token = next(pool)
        return token, slots[n % len(slots)]

    for _i in range(warmup):
        response = _book(client, *next_booking())
        assert response.status_code == 201, response.content[:300]
    sql = statements_of_one(client, *next_booking())
    print(f"statements per booking: {len(sql)} (BEGIN and COMMIT included)")
    if show_sql:
        for n, text in enumerate(sql, 1):
            print(f"  {n:2d}. {text[:150]}")
    medians, p95s, cpus = [], [], []
    for run in range(runs):
        times, cpu = [], []
        for _i in range(bookings):
            token, slot = next_booking()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = _book(client, token, slot)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            if response.status_code != 201:
                sys.exit(f"booking answered {response.status_code}: "
                         f"{response.content[:300]!r}")
        medians.append(common.median(times))
        p95s.append(common.percentile(times, 95))
        cpus.append(common.median(cpu))
        print(f"  run {run + 1}: {bookings} bookings, median {medians[-1]:.2f} ms, p95 "
              f"{p95s[-1]:.2f} ms, this process's CPU {cpus[-1]:.2f} ms")
    if profile:
        profiler = cProfile.Profile(time.process_time)  # CPU time, not the waits
        for _i in range(profile):
            token, slot = next_booking()
            profiler.enable()
            _book(client, token, slot)
            profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
            int(os.environ.get("PROFILE_LINES", 60)))
        print(f"cProfile over {profile} bookings (seconds in total; divide by {profile} "
              f"for one booking):")
        print(out.getvalue())
    return {"statements": len(sql), "ms": common.median(medians),
            "p95": common.median(p95s), "cpu": common.median(cpus)}


def summary(figures: dict, runs: int, bookings: int) -> str:
    return (f"booking in-process: {figures['statements']} statements, median "
            f"{figures['ms']:.2f} ms per booking (p95 {figures['p95']:.2f} ms; of it this "
            f"process's CPU {figures['cpu']:.2f} ms), medians of {runs} runs of {bookings}")


def needed(bookings: int, runs: int, warmup: int, profile: int = 0) -> int:
    return warmup + 1 + runs * bookings + profile


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", type=int, default=0,
                        help="bookings to profile with cProfile after the timed runs")
    args = parser.parse_args()

    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the figure is for PostgreSQL.")

    with common.bench_database("booking_ip") as database:
        _office, service, slots, residents, tokens = booking_bench.build(
            needed(args.bookings, args.runs, args.warmup, args.profile))
        print(f"database {database}: office {booking_bench.OFFICE}, {len(slots)} slots of "
              f"lane {service.lane.letter}, {len(residents)} residents with tokens")
        try:
            figures = measure_in_process(tokens, slots, bookings=args.bookings,
                                         runs=args.runs, warmup=args.warmup,
                                         profile=args.profile)
        finally:
            if os.environ.get("REDIS_URL"):
                import redis

                redis.Redis.from_url(os.environ["REDIS_URL"]).delete(QUEUE)
        print()
        print(summary(figures, args.runs, args.bookings))
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    main()
