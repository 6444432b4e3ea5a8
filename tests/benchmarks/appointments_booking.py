"""Booking over HTTP on gunicorn + PostgreSQL: 200 residents asking for the last 10
places of a slot at the same instant, then the throughput of booking and of the slot
list next to a trivial JSON view served by the same server.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_apptbench \\
    REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python -m tests.benchmarks.appointments_booking [--workers 4]
        [--race 200] [--places 10] [--rounds 5] [--seconds 8] [--runs 3] [--clients 16]

It creates and migrates its own database (<name>_booking, dropped at the end) with
Kota Bekasi (3275) and its catalogue, the residents and their tokens
(registry.api.auth.tokens_for_resident), and starts gunicorn (`--workers` sync
workers, DJANGO_DEBUG off, ALLOWED_HOSTS set; tasks go to Redis when REDIS_URL is set,
on a queue of their own that is deleted at the end).

0. In-process (appointments_booking_inprocess, `--inprocess-runs` runs of
   `--inprocess-bookings` bookings, 0 to leave out): the SQL statements of one booking
   (BEGIN and COMMIT included) and the milliseconds from request to response through
   Django's test client, no network, before the server starts.
1. The race, `--rounds` times on a new slot each time: a slot with `--places` places
   left (two more already booked); `--race` residents, each on a connection opened
   beforehand, send POST /api/v1/bookings/ together. Exactly `--places` answers must be
   201 and every other one 409 `slot_full`, and the slot must be full and not over.
2. Throughput: `--clients` concurrent clients in two processes, each request on a new
   connection, for `--seconds` per measure, `--runs` times in turn: GET /healthz (the
   trivial JSON view, config.urls.healthz), GET /api/v1/offices/3275/slots/ for a week,
   and POST /api/v1/bookings/ with a new resident each time over slots with room (lane
   C takes 200 per slot here, so bookings do not meet 409s). Requests per second and
   p95 latency (medians over the runs) and the ratios to the trivial view.
"""

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter as Tally
from datetime import timedelta
from pathlib import Path

# The tokens made here must be valid for the server started below: one key for both.
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
# And the residents' NIKs and phones written here must be readable by it (the server
# runs without the test settings' derived keys).
os.environ.setdefault("EOPEN_FIELD_KEYS", f"bench:{base64.b64encode(os.urandom(32)).decode()}")
os.environ.setdefault("EOPEN_LOOKUP_KEY", base64.b64encode(os.urandom(32)).decode())
# Bookings made in this process (the in-process measure) publish their tasks as the
# server does: to Redis when there is one (the test settings appointments_common sets
# would use an in-memory broker), on a queue of their own deleted at the end.
if os.environ.get("REDIS_URL"):
    os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])
IN_PROCESS_QUEUE = f"apptbench-ip-{uuid.uuid4().hex[:8]}"
os.environ.setdefault("CELERY_QUEUE", IN_PROCESS_QUEUE)

from tests.benchmarks import appointments_common as common  # noqa: E402,I001  (sets Django up)
from registry.appointments.services.bookings import booking_create  # noqa: E402
from registry.appointments.services.slots import (  # noqa: E402
    bookable_range,
    lane_schedule_for,
    slots_ensure,
)

ROOT = Path(__file__).resolve().parents[2]
OFFICE = "3275"
SERVICE = "KTP_TTD_FOTO"
DOCUMENTS = [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]
TRIVIAL = "/healthz"
BOOKINGS = "/api/v1/bookings/"
LANE_CAPACITY = 200


# --- Server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database: str, port: int, workers: int, queue: str, log_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update({
        "DATABASE_URL": common.database_url(database), "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0", "CELERY_QUEUE": queue,
        "CELERY_BROKER_URL": os.environ.get("REDIS_URL") or "memory://",
    })
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers",
         str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--backlog", "2048"], cwd=ROOT, env=env, stdout=log_path.open("w"),
        stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if request(port, "GET", TRIVIAL)[0] == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def request(port: int, method: str, path: str, body=None, token=None, connection=None):
    """(status, code from a JSON error body or None, seconds)."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept-Language": "id", "Connection": "close"}
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    code = None
    if response.status >= 400:
        try:
            code = json.loads(data).get("code")
        except ValueError:
            code = "not-json"
    return response.status, code, elapsed


# --- Data ---------------------------------------------------------------------------


def build(residents_needed: int):
    from registry.api.auth import tokens_for_resident
    from registry.appointments.models import LaneSchedule, Slot
    from registry.models import Service
    from registry.services.staff import roles_sync

    roles_sync()
    [office] = common.offices_create(1)
    service = Service.objects.select_related("lane").get(office=office, code=SERVICE)
    schedule = lane_schedule_for(service.lane)
    LaneSchedule.objects.filter(pk=schedule.pk).update(capacity=LANE_CAPACITY)
    first, last = bookable_range(office=office)
    slots_ensure(office=office, start=first, end=last)
    slots = list(Slot.objects.filter(office=office, lane=service.lane)
                 .order_by("starts_at").values_list("pk", flat=True))
    residents = common.residents_create(office, residents_needed)
    tokens = [tokens_for_resident(r)["access"] for r in residents]
    return office, service, slots, residents, tokens


def race_slot(office, service, slot_id, places, residents):
    """Make `slot_id` a slot with `places` places left, two already booked."""
    from registry.appointments.models import Slot

    Slot.objects.filter(pk=slot_id).update(capacity=places + 2)
    slot = Slot.objects.get(pk=slot_id)
    for resident in residents:
        booking_create(office=office, resident=resident, service=service, slot=slot,
                       documents=DOCUMENTS)


# --- 1. The race --------------------------------------------------------------------


def race(port: int, slot_id: int, tokens: list[str]):
    barrier = threading.Barrier(len(tokens))
    answers = [None] * len(tokens)
    body = {"office": OFFICE, "service": SERVICE, "slot": slot_id, "documents": DOCUMENTS}

    def resident(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()  # opened beforehand: only the request is sent at the barrier
        barrier.wait()
        try:
            answers[index] = request(port, "POST", BOOKINGS, body, tokens[index], conn)
        except OSError as exc:
            answers[index] = (0, type(exc).__name__, 0.0)

    threads = [threading.Thread(target=resident, args=(i,)) for i in range(len(tokens))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, time.perf_counter() - started


# --- 2. Throughput ------------------------------------------------------------------


def _client_process(port, kind, path, seconds, jobs, offset, queue):
    """One thread per job; a job is a list of (token, slot) for bookings, used in turn,
    or None for a GET. Answers (offset, latencies, outcomes, used per job)."""
    stop_at = time.perf_counter() + seconds
    latencies, outcomes = [], Tally()
    used = [0] * len(jobs)
    lock = threading.Lock()

    def loop(index, job):
        mine_lat, mine_out = [], Tally()
        while time.perf_counter() < stop_at:
            try:
                if kind == "book":
                    if used[index] >= len(job):
                        break
                    token, slot = job[used[index]]
                    used[index] += 1
                    body = {"office": OFFICE, "service": SERVICE, "slot": slot,
                            "documents": DOCUMENTS}
                    status, code, elapsed = request(port, "POST", BOOKINGS, body, token)
                else:
                    status, code, elapsed = request(port, "GET", path)
            except OSError as exc:
                status, code, elapsed = 0, type(exc).__name__, 0.0
            mine_out[(status, code)] += 1
            mine_lat.append(elapsed)
        with lock:
            latencies.extend(mine_lat)
            outcomes.update(mine_out)

    threads = [threading.Thread(target=loop, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((offset, latencies, outcomes, used))


def measure(port, kind, path, seconds, clients, chunks=None):
    """(requests/s answered as expected, p95 ms, outcomes) from `clients` clients in two
    processes. For bookings, `chunks` has one list of (token, slot) per client, each
    used once; the used ones are removed."""
    expected = (201, None) if kind == "book" else (200, None)
    jobs = chunks if kind == "book" else [None] * clients
    split = clients // 2
    queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=_client_process,
                                         args=(port, kind, path, seconds, part, offset,
                                               queue))
                 for part, offset in ((jobs[:split], 0), (jobs[split:], split))]
    started = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get() for _p in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    latencies, outcomes = [], Tally()
    for offset, part_latencies, part_outcomes, used in results:
        latencies += part_latencies
        outcomes.update(part_outcomes)
        if kind == "book":
            for i, count in enumerate(used):
                del chunks[offset + i][:count]
    if kind == "book" and not all(chunks):
        print("  (a booking client ran out of residents: give more with --pool)")
    return (outcomes[expected] / elapsed,
            common.percentile([x * 1000 for x in latencies], 95), outcomes)


# --- Main ---------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--race", type=int, default=200)
    parser.add_argument("--places", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pool", type=int, default=8000,
                        help="residents for the booking throughput, one booking each")
    parser.add_argument("--inprocess-bookings", type=int, default=100,
                        help="bookings per in-process run (0: no in-process measure)")
    parser.add_argument("--inprocess-runs", type=int, default=5)
    args = parser.parse_args()
    # Function-local: the in-process measure imports this module for its data.
    from django.db import connection

    from tests.benchmarks import appointments_booking_inprocess as in_process

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the figure is for PostgreSQL.")

    from django.db.models import Count, F, Q

    from registry.appointments.models import Booking, Slot

    queue_name = f"apptbench-{uuid.uuid4().hex[:8]}"
    with common.bench_database("booking") as database:
        started = time.perf_counter()
        in_process_needed = (in_process.needed(args.inprocess_bookings, args.inprocess_runs,
                                               warmup=20) if args.inprocess_bookings else 0)
        needed = args.rounds * (args.race + 2) + args.pool + in_process_needed
        office, service, slots, residents, tokens = build(needed)
        print(f"database {database}: office {OFFICE}, {len(slots)} slots of lane "
              f"{service.lane.letter}, {len(residents)} residents with tokens, built in "
              f"{time.perf_counter() - started:.0f} s")
        # 0. In-process: the statements and milliseconds of one booking, no network.
        in_process_figures = None
        if args.inprocess_bookings:
            print("in-process: POST /api/v1/bookings/ through Django's test client")
            in_process_tokens = tokens[len(tokens) - in_process_needed:]
            tokens = tokens[:len(tokens) - in_process_needed]
            try:
                in_process_figures = in_process.measure_in_process(
                    in_process_tokens, slots[:-args.rounds], bookings=args.inprocess_bookings,
                    runs=args.inprocess_runs, warmup=20, show_sql=False)
            finally:
                if os.environ.get("REDIS_URL"):
                    import redis

                    redis.Redis.from_url(os.environ["REDIS_URL"]).delete(IN_PROCESS_QUEUE)
        port = free_port()
        # The server's log (a warning line per 409) goes to a file; errors are shown.
        log_path = Path(tempfile.mkstemp(prefix="apptbench-gunicorn-", suffix=".log")[1])
        server = start_gunicorn(database, port, args.workers, queue_name, log_path)
        print(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; tasks to "
              f"{'Redis' if os.environ.get('REDIS_URL') else 'an in-memory broker'}")
        try:
            # 1. The race, each round on its own slot at the end of the window.
            print(f"race: {args.race} residents POST {BOOKINGS} at once for a slot with "
                  f"{args.places} places left")
            race_times, race_p95, failures = [], [], 0
            for round_ in range(args.rounds):
                slot_id = slots[-1 - round_]
                base = round_ * (args.race + 2)
                race_slot(office, service, slot_id, args.places, residents[base:base + 2])
                answers, wall = race(port, slot_id,
                                     tokens[base + 2:base + 2 + args.race])
                tally = Tally((status, code) for status, code, _s in answers)
                slot = Slot.objects.get(pk=slot_id)
                held = Booking.objects.filter(slot_id=slot_id, status="booked").count()
                good = (tally == {(201, None): args.places,
                                  (409, "slot_full"): args.race - args.places}
                        and slot.booked == slot.capacity == held)
                failures += not good
                latencies = [s * 1000 for _st, _c, s in answers]
                race_times.append(wall)
                race_p95.append(common.percentile(latencies, 95))
                print(f"  round {round_ + 1}: {dict(tally)}; slot {slot.booked}/"
                      f"{slot.capacity} booked, {held} bookings; all answered in "
                      f"{wall:.2f} s (p95 {race_p95[-1]:.0f} ms) -> "
                      f"{'OK' if good else 'WRONG'}")
            # 2. Throughput.
            from registry.appointments.services.slots import bookable_range

            first, _last = bookable_range(office=office)
            slots_path = (f"/api/v1/offices/{OFFICE}/slots/?service={SERVICE}"
                          f"&date_from={first}&date_to={first + timedelta(days=6)}")
            paths = {"trivial": TRIVIAL, "slots": slots_path, "book": BOOKINGS}
            free = slots[:-args.rounds]
            pool_start = args.rounds * (args.race + 2)
            pool = [(token, free[n % len(free)]) for n, token in
                    enumerate(tokens[pool_start:])]
            per_client = len(pool) // args.clients
            chunks = [pool[i * per_client:(i + 1) * per_client] for i in range(args.clients)]
            print(f"throughput: {args.clients} clients, {args.seconds:g} s per measure, "
                  f"{args.runs} runs; slots: GET {slots_path}")
            for kind in ("trivial", "slots"):  # warm every worker and connection
                measure(port, kind, paths[kind], 1.0, args.clients)
            rates = {kind: [] for kind in paths}
            p95s = {kind: [] for kind in paths}
            others = Tally()
            for run in range(args.runs):
                for kind, path in paths.items():
                    rate, p95, outcomes = measure(port, kind, path, args.seconds,
                                                  args.clients, chunks)
                    rates[kind].append(rate)
                    p95s[kind].append(p95)
                    expected = (201, None) if kind == "book" else (200, None)
                    others.update({(kind, *k): v for k, v in outcomes.items()
                                   if k != expected})
                print(f"  run {run + 1}: " + ", ".join(
                    f"{kind} {rates[kind][-1]:.0f}/s (p95 {p95s[kind][-1]:.0f} ms)"
                    for kind in paths))
        finally:
            server.terminate()
            server.wait(timeout=30)
            log = log_path.read_text(errors="replace").splitlines()
            errors = [line for line in log if " ERROR " in line or "Traceback" in line]
            print(f"server log: {len(errors)} error lines" + "".join(
                f"\n  {line}" for line in errors[:20]))
            if errors:  # the first error in full
                first = log.index(errors[0])
                print("\n".join(f"  | {line}" for line in log[first:first + 60]))
            log_path.unlink()
            if os.environ.get("REDIS_URL"):
                import redis

                redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue_name)
        over = (Slot.objects.annotate(held=Count("bookings", filter=Q(bookings__status="booked")))
                .exclude(booked=F("held")).count())
        med = {kind: common.median(values) for kind, values in rates.items()}
        med_p95 = {kind: common.median(values) for kind, values in p95s.items()}
        print()
        if in_process_figures:
            print(in_process.summary(in_process_figures, args.inprocess_runs,
                                     args.inprocess_bookings))
        print(f"race: {args.rounds - failures}/{args.rounds} rounds exactly {args.places} x "
              f"201 and {args.race - args.places} x 409 slot_full; median time to answer "
              f"all {args.race}: {common.median(race_times):.2f} s, p95 latency "
              f"{common.median(race_p95):.0f} ms")
        for kind in paths:
            ratio = "" if kind == "trivial" else f", ratio {med[kind] / med['trivial']:.2f}"
            print(f"{kind:8s} {med[kind]:7.1f} req/s, p95 {med_p95[kind]:6.0f} ms{ratio}")
        print(f"answers other than expected during the throughput runs: {dict(others) or 0}; "
              f"slots whose counter disagrees with their bookings: {over}")
        print(f"machine: {common.machine()}; gunicorn {args.workers} sync workers")


if __name__ == "__main__":
    main()
