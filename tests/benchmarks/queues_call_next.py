"""Latency of "call next" with 10 counters pressing it at the same instant, on
PostgreSQL.

    DATABASE_URL=postgres://eopen:eopen@127.0.0.1:5432/eopen_queues \\
    REDIS_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python -m tests.benchmarks.queues_call_next [--rounds 60] [--http]
        [--processes]

It creates its own test database (dropped at the end) with a Kota Bekasi morning
(tests/benchmarks/queues_common.py) plus five more counters (ten in all, each serving
two or three of lanes A, B and C in its own order) and enough waiting tickets. Each
round, ten threads (one per counter, each with its own database connection) wait at a
barrier and call `ticket_call_next` together; each call is timed; then each counter
marks its ticket a no-show (not timed). It checks no ticket was called twice, and
reports the statements of one call, one counter's calls alone (their median and
Python CPU time), the median, p95 and maximum latency over all
calls, and the Python CPU time per call (the ten threads share one interpreter, so
the last of ten calls waits for the others' Python work: p95 is about ten times it,
plus the database's time).

With --processes the same rounds run again with each counter in a process of its own
(forked, its own connection), as each counter's request is in a server's worker
process: no interpreter is shared, so the figure is the service's and the database's
on the machine's cores, not ten calls queued behind one interpreter's lock.

With --http the same rounds go through the counter page on gunicorn (4 sync workers):
ten signed-in operators POST ".../call-next/" at once; the time is until the answer
(a redirect back to the page) arrives.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter as Tally

from tests.benchmarks import queues_common as common

EXTRA_COUNTERS = [(6, "ABC"), (7, "CAB"), (8, "BCA"), (9, "AB"), (10, "CB")]


def percentile(values, q):
    from queues.selectors import percentile as pct

    return pct(values, q)


def setup(rounds: int):
    from queues.services.counters import counter_create
    from registry.models import Lane, Service

    office, counters, users = common.build_office(waiting=0)
    lanes = {lane.letter: lane for lane in Lane.objects.filter(office=office)}
    counters += [counter_create(office=office, number=n,
                                lanes=[lanes[x] for x in letters])
                 for n, letters in EXTRA_COUNTERS]
    services_by_lane = {s.lane.letter: s for s in Service.objects.filter(
        office=office, code__in=common.SERVICE_OF_LANE.values()).select_related("lane")}
    for n in range(rounds * 10 + 30):
        common.walk_in_any_time(office=office, service=services_by_lane["ABC"[n % 3]])
    return office, counters, users


def run_service_rounds(counters, users, rounds):
    from django.db import connection

    from queues.services.calling import ticket_call_next, ticket_no_show

    latencies, called, errors = [], [], []
    # The process's CPU time at each barrier: a round's calls take the time between its
    # first and second barrier (the threads share one interpreter, so this is the
    # Python work of the ten calls; the database's is in another process).
    marks = []
    barrier = threading.Barrier(len(counters), action=lambda: marks.append(time.process_time()))
    lock = threading.Lock()

    def operator(index):
        counter, user = counters[index], users[index]
        try:
            for _round in range(rounds):
                barrier.wait()
                started = time.perf_counter()
                ticket = ticket_call_next(counter=counter, by=user)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    called.append(ticket.pk if ticket else None)
                barrier.wait()
                if ticket is not None:
                    ticket_no_show(counter=counter, by=user, ticket_id=ticket.pk)
        except threading.BrokenBarrierError:
            pass  # another operator failed; its error is reported
        except Exception as exc:  # reported below, and the others stop
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=operator, args=(i,)) for i in range(len(counters))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"call next failed: {errors!r}")
    cpu = [marks[n + 1] - marks[n] for n in range(0, len(marks) - 1, 2)]
    return latencies, called, sum(cpu) / max(1, len(called))


def _process_operator(counter, user, rounds, barrier, results):
    """One counter in a process of its own (as each counter's request is in a server's
    worker process): `rounds` calls, each timed between the barrier and the answer."""
    from django.db import connection

    from queues.services.calling import ticket_call_next, ticket_no_show

    latencies, called = [], []
    try:
        for _round in range(rounds):
            barrier.wait()
            started = time.perf_counter()
            ticket = ticket_call_next(counter=counter, by=user)
            latencies.append(time.perf_counter() - started)
            called.append(ticket.pk if ticket else None)
            barrier.wait()
            if ticket is not None:
                ticket_no_show(counter=counter, by=user, ticket_id=ticket.pk)
        results.put((latencies, called, None))
    except Exception as exc:  # reported by the parent
        barrier.abort()
        results.put((latencies, called, repr(exc)))
    finally:
        connection.close()


def run_process_rounds(counters, users, rounds):
    """The rounds with each counter in its own process (forked, each with its own
    database connection): no interpreter shared, as on a server."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # the children must not share the parent's connection
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(counters)), context.Queue()
    processes = [context.Process(target=_process_operator,
                                 args=(counter, user, rounds, barrier, results))
                 for counter, user in zip(counters, users, strict=True)]
    for process in processes:
        process.start()
    latencies, called, errors = [], [], []
    for _process in processes:
        times, tickets, error = results.get(timeout=600)
        latencies += times
        called += tickets
        if error:
            errors.append(error)
    for process in processes:
        process.join()
    if errors:
        raise RuntimeError(f"call next failed: {errors!r}")
    return latencies, called


def alone(counter, user, calls):
    """`calls` calls by one counter with nobody else calling: (median ms, Python CPU ms
    per call); the rest of a call's time is the database's and the round trips'."""
    from queues.services.calling import ticket_call_next, ticket_no_show

    times, cpu = [], 0.0
    for _n in range(calls):
        started, started_cpu = time.perf_counter(), time.process_time()
        ticket = ticket_call_next(counter=counter, by=user)
        times.append(time.perf_counter() - started)
        cpu += time.process_time() - started_cpu
        ticket_no_show(counter=counter, by=user, ticket_id=ticket.pk)
    return statistics.median(times) * 1000, cpu / calls * 1000


def statements_per_call(counter, user):
    """The statements of one call next (besides BEGIN and COMMIT), by their first word."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from queues.services.calling import ticket_call_next, ticket_no_show

    with CaptureQueriesContext(connection) as captured:
        ticket = ticket_call_next(counter=counter, by=user)
    ticket_no_show(counter=counter, by=user, ticket_id=ticket.pk)
    return [q["sql"].split()[0] for q in captured.captured_queries
            if q["sql"] not in ("BEGIN", "COMMIT")]


def run_http_rounds(database, counters, users, rounds):
    import re

    import requests
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from tests.benchmarks.queues_board import ROOT, _free_port, server_env, start_gunicorn

    # Pages need their static files collected, as in production.
    static_root = tempfile.mkdtemp(prefix="eopen-static-")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
                   cwd=ROOT, env=server_env(database, STATIC_ROOT=static_root), check=True)
    port = _free_port()
    server = start_gunicorn(database, port, 4, 1, STATIC_ROOT=static_root)
    base = f"http://127.0.0.1:{port}"
    clients = []
    try:
        for counter, user in zip(counters, users, strict=True):
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "registry.auth.OfficeRoleBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            session = requests.Session()
            session.cookies.set("sessionid", store.session_key)
            page = session.get(f"{base}/queues/counters/{counter.pk}/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            clients.append((session, f"{base}/queues/counters/{counter.pk}/", token))
        latencies, failures = [], []
        barrier = threading.Barrier(len(clients))
        lock = threading.Lock()

        def operator(index):
            session, url, token = clients[index]
            for _round in range(rounds):
                barrier.wait()
                started = time.perf_counter()
                answer = session.post(url + "call-next/", data={"csrfmiddlewaretoken": token},
                                      allow_redirects=False)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if answer.status_code != 302:
                        failures.append(answer.status_code)
                barrier.wait()
                page = session.get(url)
                ticket = re.search(r'data-ticket="(\d+)"', page.text)
                if ticket:
                    session.post(url + "no-show/", data={"csrfmiddlewaretoken": token,
                                                         "ticket": ticket.group(1)},
                                 allow_redirects=False)

        threads = [threading.Thread(target=operator, args=(i,)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            print(f"  {len(failures)} calls did not answer 302: {Tally(failures)}")
        return latencies
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(static_root, ignore_errors=True)


def report(label, latencies):
    ms = [x * 1000 for x in latencies]
    print(f"{label}: {len(ms)} calls, median {statistics.median(ms):.1f} ms, "
          f"p95 {percentile(ms, 95):.1f} ms, max {max(ms):.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--processes", action="store_true",
                        help="also each counter in a process of its own")
    args = parser.parse_args()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database: the figure is for PostgreSQL.")
    with common.bench_database("callnext") as database:
        from queues.models import Ticket, TicketEvent

        office, counters, users = setup(
            args.rounds * (1 + int(args.http) + int(args.processes)) + 5)
        # Warm the connections and caches of each thread once.
        run_service_rounds(counters, users, 1)
        statements = statements_per_call(counters[5], users[5])
        alone_ms, alone_cpu = alone(counters[5], users[5], 30)
        latencies, called, cpu = run_service_rounds(counters, users, args.rounds)
        taken = [pk for pk in called if pk is not None]
        calls = Tally(TicketEvent.objects.filter(kind="called").values_list("ticket_id",
                                                                            flat=True))
        assert len(taken) == len(set(taken)), "a ticket was called by two counters"
        assert max(calls.values()) == 1, "a ticket was called twice"
        print(f"10 counters, {args.rounds} rounds; {len(taken)} tickets called, none twice; "
              f"{Ticket.objects.filter(office=office, status='waiting').count()} still waiting")
        print(f"statements per call: {len(statements)} ({' '.join(statements)}), "
              f"besides BEGIN and COMMIT")
        print(f"call next alone (one counter, nobody else calling, 30 calls): median "
              f"{alone_ms:.1f} ms, of it {alone_cpu:.1f} ms this process's CPU")
        report("call next (service, 10 threads at once)", latencies)
        print(f"  Python CPU per call in these rounds: {cpu * 1000:.1f} ms")
        if args.processes:
            latencies, called = run_process_rounds(counters, users, args.rounds)
            taken = [pk for pk in called if pk is not None]
            calls = Tally(TicketEvent.objects.filter(kind="called").values_list(
                "ticket_id", flat=True))
            assert len(taken) == len(set(taken)), "a ticket was called by two counters"
            assert max(calls.values()) == 1, "a ticket was called twice"
            report("call next (service, 10 processes at once)", latencies)
        if args.http:
            report("call next (HTTP POST on gunicorn, 10 at once)",
                   run_http_rounds(database, counters, users, args.rounds))
        print(f"machine: {common.machine()}")


if __name__ == "__main__":
    main()
