"""Several nodes on one PostgreSQL and one Redis, for a simulated hour: two web servers
(gunicorn), two Celery workers and two beats, the beat schedule compressed sixty times
(EOPEN_BEAT_TIME_SCALE), so the hour passes in a minute. Residents race for the same
slots through both web servers; half-way the beat that sends is killed with SIGKILL.

It proves: each periodic task is sent once per tick of its schedule, by one beat at a
time, and the other beat takes over within the lock's timeout and one loop; every task
sent runs once; every message is sent to the gateway once; no slot takes more than its
places. The tasks themselves run on the real clock: every periodic task is a sweep of
rows that carry their own due time, so what the compressed hour changes is how often
they run, which is what two beats could double.

Needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL, as in CI): the lock, the
schedule and the broker are Redis, and SQLite would serialise the web servers' writes.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter as Tally
from collections import defaultdict
from contextlib import suppress
from datetime import timedelta
from itertools import pairwise

import pytest
import redis
import requests
from django.conf import settings
from django.utils import timezone

from registry.api.auth import tokens_for_resident
from registry.appointments.models import Booking, Slot
from registry.appointments.services.slots import slots_ensure
from registry.models import DeliveryStatus, NotificationChannel, NotificationDelivery, Service
from tests.factories import ResidentFactory
from tests.nodes.node import RECORD_KEY_ENV, CountingGateway
from tests.worker import _database_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker,
              pytest.mark.django_db(transaction=True)]

SCALE = 60
HOUR = 3600 / SCALE  # seconds of wall time
LOCK_SECONDS = 5
LOOP_SECONDS = 1
# A takeover after SIGKILL: the lock expires, then the waiting beat's next try, then
# its first tick; the slack is for a loaded machine.
TAKEOVER_BOUND = LOCK_SECONDS + LOOP_SECONDS + 3
# Two sends of one task closer than this part of its period would be one tick sent
# twice; a beat's own lateness only ever makes them further apart.
SAME_TICK = 0.8
GATEWAY = "tests.nodes.node.CountingGateway"
WAVES = 4
PLACES = 5
RACERS = 14  # per wave, half through each web server
STARTUP_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Node:
    def __init__(self, name: str, args: list[str], env: dict, log_dir):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.process = subprocess.Popen(  # our own interpreter and arguments
            args, env=env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True, cwd=settings.BASE_DIR)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout: float = 20):
        """SIGTERM to the main process (a worker stops its pool itself), then whatever
        is left in its group is killed."""
        if self.process.returncode is not None:
            return
        with suppress(ProcessLookupError):
            os.kill(self.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path, settings):
    """Two gunicorn servers, two workers and two beats on the test database, a queue of
    the test's own and beat keys of its own; everything stopped and removed after."""
    redis_url = os.environ["REDIS_URL"]
    client = redis.Redis.from_url(redis_url)
    run = uuid.uuid4().hex[:10]
    queue, record_key, beat_prefix = f"eopen-nodes-{run}", f"eopen-nodes-{run}:record", \
        f"eopen-nodes-{run}:beat"
    gateway_dir = tmp_path / "gateway"
    settings.NOTIFY_SIMULATOR_DIR = str(gateway_dir)
    env = {**os.environ, **_database_env(), "CELERY_BROKER_URL": redis_url,
           "CELERY_QUEUE": queue, "NOTIFY_SIMULATOR_DIR": str(gateway_dir),
           "NOTIFY_WHATSAPP_BACKEND": GATEWAY, "NOTIFY_SMS_BACKEND": GATEWAY,
           "NOTIFY_EMAIL_BACKEND": GATEWAY, "MEDIA_ROOT": str(tmp_path / "media"),
           "CENTRAL_SIMULATOR_DIR": str(tmp_path / "central"),
           "EOPEN_BEAT_TIME_SCALE": str(SCALE), "EOPEN_BEAT_LOCK_SECONDS": str(LOCK_SECONDS),
           "EOPEN_BEAT_LOOP_SECONDS": str(LOOP_SECONDS), "EOPEN_BEAT_KEY_PREFIX": beat_prefix,
           RECORD_KEY_ENV: record_key, "PYTHONUNBUFFERED": "1"}
    node = [sys.executable, "-m", "tests.nodes.node"]
    ports = [_free_port(), _free_port()]
    nodes = {}
    try:
        for n, port in enumerate(ports, start=1):
            nodes[f"web{n}"] = Node(f"web{n}", [
                sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2",
                "--bind", f"127.0.0.1:{port}", "--access-logfile", "-"], env, tmp_path)
            nodes[f"worker{n}"] = Node(f"worker{n}", [
                *node, "worker", "--loglevel=INFO", "--concurrency=2", "-Q", queue,
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"{queue}-{n}@%h"], env, tmp_path)
            nodes[f"beat{n}"] = Node(f"beat{n}", [
                *node, "beat", "--loglevel=INFO", "-s", str(tmp_path / f"beat{n}-schedule")],
                env, tmp_path)
        urls = [f"http://127.0.0.1:{port}" for port in ports]

        def ready():
            for node_ in nodes.values():
                assert node_.running(), f"{node_.name} exited:\n{node_.log()}"
            up = []
            for url in urls:
                with suppress(requests.RequestException):
                    up.append(requests.get(f"{url}/healthz", timeout=2).status_code == 200)
            return (len(up) == 2 and all(up)
                    and all(" ready." in nodes[f"worker{n}"].log() for n in (1, 2))
                    and any("Acquired lock" in nodes[f"beat{n}"].log() for n in (1, 2)))

        wait_for(ready, timeout=STARTUP_TIMEOUT, interval=0.5,
                 message="The nodes did not start:\n" + "\n".join(
                     f"--- {n.name}\n{n.log()[-2000:]}" for n in nodes.values()))
        yield Cluster(nodes, urls, client, record_key, gateway_dir)
    finally:
        for node_ in nodes.values():
            node_.stop()
        client.delete(queue, record_key)
        for key in client.scan_iter(match=f"{beat_prefix}*"):
            client.delete(key)


class Cluster:
    def __init__(self, nodes, urls, client, record_key, gateway_dir):
        self.nodes, self.urls, self.client = nodes, urls, client
        self.record_key, self.gateway_dir = record_key, gateway_dir

    def records(self, kind: str) -> list[dict]:
        lines = (json.loads(raw) for raw in self.client.lrange(self.record_key, 0, -1))
        return [line for line in lines if line["kind"] == kind]

    def holder(self) -> Node:
        """The beat that holds the lock: the only one that has said it took it."""
        [beat] = [self.nodes[name] for name in ("beat1", "beat2")
                  if "Acquired lock" in self.nodes[name].log()]
        return beat


def _periods() -> dict[str, float]:
    """Each interval task's period in wall seconds under SCALE (the daily crontab entry
    keeps the wall clock, and is not among them)."""
    return {entry["task"]: entry["schedule"].total_seconds() / SCALE
            for entry in settings.CELERY_BEAT_SCHEDULE.values()
            if isinstance(entry["schedule"], timedelta)}


def _race(urls: list[str], residents_tokens: list[str], slot: Slot) -> list[tuple[int, str]]:
    """Each resident books `slot` at once, alternately through each web server;
    -> (status, code or "") per resident, in order."""
    today = timezone.localdate().isoformat()
    body = {"office": slot.office.code, "service": "KTP_HILANG", "slot": slot.pk,
            "documents": [{"requirement": "KK"},
                          {"requirement": "SURAT_KEHILANGAN", "issued_on": today}]}
    barrier = threading.Barrier(len(residents_tokens))
    answers: list[tuple[int, str]] = [(0, "")] * len(residents_tokens)

    def book(index):
        with requests.Session() as session:
            barrier.wait()
            response = session.post(
                f"{urls[index % 2]}/api/v1/bookings/", json=body, timeout=60,
                headers={"Authorization": f"Bearer {residents_tokens[index]}",
                         "Accept-Language": "en"})
            answers[index] = (response.status_code, response.json().get("code", ""))

    threads = [threading.Thread(target=book, args=(i,)) for i in range(len(residents_tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.fixture
def contested_slots(office_a):
    """WAVES slots of lane C, two days ahead or more by the real clock (the web servers
    run on it), PLACES places each."""
    service = Service.objects.select_related("lane").get(office=office_a, code="KTP_HILANG")
    today = timezone.localdate()
    slots_ensure(office=office_a, start=today, end=today + timedelta(days=10))
    slots = list(Slot.objects.filter(lane=service.lane,
                                     starts_at__gte=timezone.now() + timedelta(days=2))
                 .select_related("office").order_by("starts_at")[:WAVES])
    assert len(slots) == WAVES
    Slot.objects.filter(pk__in=[slot.pk for slot in slots]).update(capacity=PLACES)
    return slots


@pytest.fixture
def racers(office_a):
    """RACERS residents' access tokens for each wave, made before the nodes start."""
    return [[tokens_for_resident(ResidentFactory(domicile_office=office_a))["access"]
             for _r in range(RACERS)] for _w in range(WAVES)]


def test_two_of_each_node_for_a_simulated_hour_do_no_work_twice(
        office_a, office_b, contested_slots, racers, cluster, tmp_path):
    begun = time.time()
    first, second = cluster.holder(), None
    answers, killed_at = [], None
    for wave in range(WAVES):
        # The waves at 12, 24, 36 and 48 simulated minutes; the kill at 30.
        at = begun + HOUR * (wave + 1) / (WAVES + 1)
        if killed_at is None and at > begun + HOUR / 2:
            time.sleep(max(0.0, begun + HOUR / 2 - time.time()))
            first.stop(signal.SIGKILL)
            killed_at = time.time()
            second = cluster.nodes["beat2" if first.name == "beat1" else "beat1"]
        time.sleep(max(0.0, at - time.time()))
        answers.append(_race(cluster.urls, racers[wave], contested_slots[wave]))
    time.sleep(max(0.0, begun + HOUR - time.time()))
    second.stop()
    ended = time.time()

    sent = cluster.records("sent")
    sent_ids = {line["id"] for line in sent}
    wait_for(lambda: sent_ids <= {line["id"] for line in cluster.records("ran")},
             timeout=60, message="The workers did not run every task beat sent")
    wait_for(lambda: not NotificationDelivery.objects.filter(
             status=DeliveryStatus.PENDING).exists(),
             timeout=60, message="Some messages were never sent")
    ran = cluster.records("ran")
    start = min(line["at"] for line in sent)

    # One beat at a time sent: the first until it was killed, then the other only,
    # which took the lock within the bound.
    assert {line["pid"] for line in sent if line["at"] < killed_at} == {first.pid}
    after = sorted(line["at"] for line in sent if line["at"] >= killed_at)
    assert {line["pid"] for line in sent if line["at"] >= killed_at} == {second.pid}
    assert after[0] - killed_at < TAKEOVER_BOUND, after[0] - killed_at
    assert second.log().count("Acquired lock") == 1

    # Each interval task once per tick: never two sends within one period, and the
    # hour covered but for the takeover.
    periods = _periods()
    times = defaultdict(list)
    for line in sent:
        times[line["task"]].append(line["at"])
    assert set(times) >= set(periods), set(periods) - set(times)
    for task, period in periods.items():
        moments = sorted(times[task])
        gaps = [later - earlier for earlier, later in pairwise(moments)]
        assert all(gap > SAME_TICK * period for gap in gaps), (task, period, gaps)
        ticks = (ended - start) / period
        if period <= HOUR / 10:
            expected = (ended - start - TAKEOVER_BOUND) / period
            assert 0.6 * expected <= len(moments) <= ticks + 1, (task, len(moments), ticks)
        else:  # hourly and half-hourly: at the start, and once a period after
            assert 1 <= len(moments) <= ticks + 1, (task, len(moments), ticks)
    # The daily entry (crontab) is sent at most once, and only if its hour fell in the run.
    assert len(times["registry.tasks.retention_sweep"]) <= 1

    # Every task a beat sent ran once, on either worker; no task ran twice.
    assert Tally(line["id"] for line in ran).most_common(1)[0][1] == 1
    assert sent_ids <= {line["id"] for line in ran}
    assert len({line["pid"] for line in ran}) >= 2  # both workers' processes took tasks

    # No slot took more than its places, whichever server each resident used.
    for wave, slot in enumerate(contested_slots):
        assert Tally(status for status, _code in answers[wave]) == {201: PLACES,
                                                                    409: RACERS - PLACES}
        assert {code for status, code in answers[wave] if status == 409} == {"slot_full"}
        slot.refresh_from_db()
        assert slot.booked == PLACES
        assert Booking.objects.filter(slot=slot).count() == PLACES
    assert Booking.objects.count() == WAVES * PLACES

    # Every message to a gateway was sent once: one call per delivery, none repeated.
    deliveries = NotificationDelivery.objects.exclude(channel=NotificationChannel.PUSH)
    assert deliveries.count() >= WAVES * PLACES  # at least each booking's confirmation
    assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    calls = Tally(call["reference"] for call in CountingGateway.calls(tmp_path / "gateway"))
    assert calls == {f"n{pk}": 1 for pk in deliveries.values_list("pk", flat=True)}
