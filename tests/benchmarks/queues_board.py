"""Throughput of the display board endpoint on gunicorn + PostgreSQL, as a ratio to a
trivial JSON view (/healthz) served by the same server.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_queues \\
    REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python -m tests.benchmarks.queues_board [--seconds 8] [--runs 3]
        [--workers 4] [--clients 16] [--writes 1]

It creates its own test database (dropped at the end) with a Kota Bekasi morning
(tests/benchmarks/queues_common.py: 5 counters, 60 waiting tickets, a week of service
times), starts gunicorn (`--workers` sync workers), and loads it from `--clients`
concurrent clients in two processes, each request on a new connection, alternating
/healthz and /api/v1/offices/3275/board/ for `--seconds` per measure, `--runs` times.
Meanwhile `--writes` queue changes per second (call next, no-show, a new walk-in) go
through the services, so the board's cache is dropped as in a busy office (with Redis
the cache is shared by the workers; without it each worker caches for itself). Then
the same with the board's cache turned off (QUEUES_BOARD_CACHE_SECONDS=0), to show what
one computation of the board costs. Reports requests per second (medians) and the
median of the runs' ratios.
"""

import argparse
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.benchmarks import queues_common as common

ROOT = Path(__file__).resolve().parents[2]
BOARD = "/api/v1/offices/3275/board/"
TRIVIAL = "/healthz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, timeout: float = 30) -> bool:
    """GET `path` on a new connection: answered 200 (and, but for /healthz, a board)."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: id\r\n"
               "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    response = b"".join(chunks)
    return response.startswith(b"HTTP/1.1 200") and (path == TRIVIAL or b'"lanes"' in response)


def _client_process(port, paths, seconds, threads, queue):
    stop_at = time.perf_counter() + seconds
    latencies, failures = [[] for _t in range(threads)], [0] * threads

    def loop(index):
        order = list(paths)
        random.Random(index).shuffle(order)
        n = 0
        while time.perf_counter() < stop_at:
            path = order[n % len(order)]
            n += 1
            started = time.perf_counter()
            try:
                ok = _get(port, path)
            except OSError:
                ok = False
            if ok:
                latencies[index].append(time.perf_counter() - started)
            else:
                failures[index] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(([x for per in latencies for x in per], sum(failures)))


def measure_paths(port: int, paths: list[str], seconds: float, clients: int) -> tuple[float, float]:
    """(requests per second answered 200, p95 latency in ms) over `seconds`, each
    client going round `paths` in its own shuffled order."""
    from queues.selectors import percentile

    queue = multiprocessing.Queue()
    per_process = [clients // 2, clients - clients // 2]
    processes = [multiprocessing.Process(target=_client_process,
                                         args=(port, paths, seconds, n, queue))
                 for n in per_process]
    started = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get() for _p in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    latencies = [x for result in results for x in result[0]]
    failed = sum(r[1] for r in results)
    if failed:
        print(f"  {failed} failed requests")
    return len(latencies) / elapsed, percentile([x * 1000 for x in latencies], 95)


def measure(port: int, path: str, seconds: float, clients: int) -> float:
    """Requests per second answered 200 (with the board's body) over `seconds`."""
    return measure_paths(port, [path], seconds, clients)[0]


def server_env(database: str, **extra) -> dict:
    """The environment of a production-like server on the benchmark's database."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update({
        "DATABASE_URL": common.database_url(database), "DJANGO_DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
        "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1,localhost", **extra,
    })
    return env


def start_gunicorn(database: str, port: int, workers: int, cache_seconds: int,
                   **extra_env):
    env = server_env(database, QUEUES_BOARD_CACHE_SECONDS=str(cache_seconds), **extra_env)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--workers",
         str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if _get(port, TRIVIAL):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


class Writer(threading.Thread):
    """Queue changes at `rate` per second, through the services."""

    def __init__(self, rate: float, office, counters, users):
        super().__init__(daemon=True)
        self.rate, self.office, self.counters, self.users = rate, office, counters, users
        self.stop = threading.Event()
        self.done = 0

    def run(self):
        from django.db import connection

        from queues.services.calling import ticket_call_next, ticket_no_show
        from registry.models import Service

        service = Service.objects.get(office=self.office, code="KTP_TTD_FOTO")
        step = 0
        while not self.stop.wait(1 / self.rate if self.rate else 3600):
            counter = self.counters[4]
            user = self.users[4]
            action = step % 3
            if action == 0:
                common.walk_in_any_time(office=self.office, service=service)
            elif action == 1:
                ticket_call_next(counter=counter, by=user)
            else:
                ticket_no_show(counter=counter, by=user)
            step += 1
            self.done += 1
        connection.close()


def run_server(database, args, cache_seconds, office, counters, users, paths):
    port = _free_port()
    server = start_gunicorn(database, port, args.workers, cache_seconds)
    writer = Writer(args.writes, office, counters, users)
    try:
        for path in paths:  # warm up every worker and connection
            measure(port, path, 1.0, args.clients)
        writer.start()
        rates = {path: [] for path in paths}
        for run in range(args.runs):
            for path in paths:
                rates[path].append(measure(port, path, args.seconds, args.clients))
            print(f"  run {run + 1}: " + ", ".join(
                f"{path} {rates[path][-1]:.0f}/s" for path in paths))
    finally:
        writer.stop.set()
        server.terminate()
        server.wait(timeout=30)
    print(f"  ({writer.done} queue changes during the measures)")
    medians = {path: statistics.median(values) for path, values in rates.items()}
    # Each run measures both paths one after the other: the ratio is taken per run.
    medians["ratio"] = statistics.median(
        board / trivial for board, trivial in zip(rates[BOARD], rates[TRIVIAL], strict=True))
    return medians


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--writes", type=float, default=1.0)
    args = parser.parse_args()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the figure is for PostgreSQL.")
    with common.bench_database("board") as database:
        office, counters, users = common.build_office()
        print(f"gunicorn {args.workers} workers, {args.clients} clients, "
              f"{args.seconds:.0f} s x {args.runs} runs, {args.writes:g} queue changes/s, "
              f"cache: {'Redis' if os.environ.get('REDIS_URL') else 'per worker (locmem)'}")
        print("board cached (1 s, dropped on every change):")
        cached = run_server(database, args, 1, office, counters, users, [TRIVIAL, BOARD])
        print("board not cached:")
        uncached = run_server(database, args, 0, office, counters, users, [TRIVIAL, BOARD])
        print(f"trivial JSON view: {cached[TRIVIAL]:.0f}/s; board: {cached[BOARD]:.0f}/s; "
              f"ratio {cached['ratio']:.2f} (median of the runs' ratios)")
        print(f"without the board cache: trivial {uncached[TRIVIAL]:.0f}/s; board "
              f"{uncached[BOARD]:.0f}/s; ratio {uncached['ratio']:.2f}")
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    main()
