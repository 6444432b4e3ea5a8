"""What the queue benchmarks share: a database of their own, and a Kota Bekasi morning
(five counters over lanes A, B and C, a week of observed service times, today's
waiting tickets, calls under way). Not a benchmark itself."""

import os
import random
import secrets
from contextlib import contextmanager
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PYTEST_VERSION", "benchmark")  # test settings: memory broker
# One key for this process and the gunicorn it starts: sessions made here sign in there.
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
django.setup()

from django.db import connection  # noqa: E402

COUNTERS = [(1, "AC"), (2, "BA"), (3, "BC"), (4, "CB"), (5, "CA")]
SERVICE_OF_LANE = {"A": "KK_UBAH", "B": "KTP_BARU", "C": "KTP_TTD_FOTO"}


@contextmanager
def bench_database(suffix: str):
    """A test database of its own (test_<name>_<suffix>; on SQLite, in memory),
    dropped at the end."""
    old_name = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_{old_name}_{suffix}"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def database_url(name: str) -> str:
    db = connection.settings_dict
    user, password = db.get("USER") or "", db.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{name}"


def walk_in_any_time(**kwargs):
    """ticket_issue_walk_in without the kiosk's limits (queues.services.walk_in_limits):
    the benchmarks build queues longer than a day would take, at whatever hour they are
    run; what they measure is the queue, not the kiosk's refusals."""
    from queues.services.issuing import ticket_issue_walk_in

    return ticket_issue_walk_in(limits=False, **kwargs)


def build_office(*, waiting: int = 60, history_days: int = 7, per_day: int = 150,
                 seed: int = 3275):
    """The office, its counters and operators, a week of finished tickets (for the
    estimates) and this morning's queue. Returns (office, counters, operators)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from queues.models import Ticket, TicketEvent
    from queues.services.calling import ticket_call_next, ticket_start
    from queues.services.counters import counter_create
    from registry.calendar import office_today
    from registry.models import Lane, Role, Service, StaffMembership
    from registry.services.offices import catalogue_seed, office_create
    from registry.services.staff import roles_sync

    rng = random.Random(seed)
    roles_sync()
    office = office_create(code="3275", name="Disdukcapil Kota Bekasi")
    catalogue_seed(office=office)
    lanes = {lane.letter: lane for lane in Lane.objects.filter(office=office)}
    counters = [counter_create(office=office, number=n,
                               lanes=[lanes[x] for x in letters])
                for n, letters in COUNTERS]
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"loket{n}") for n in range(1, 11))
    StaffMembership.objects.bulk_create(
        StaffMembership(user=u, office=office, role=Role.COUNTER_OPERATOR) for u in users)
    service_of = {letter: Service.objects.get(office=office, code=code)
                  for letter, code in SERVICE_OF_LANE.items()}
    today = office_today(office)
    now = timezone.now()
    tickets = []
    for days_ago in range(1, history_days + 1):
        day = today - timedelta(days=days_ago)
        for n in range(per_day):
            letter = rng.choice("ABC")
            at = now - timedelta(days=days_ago, minutes=per_day - n)
            tickets.append(Ticket(
                office=office, day=day, code=f"{letter}-{n + 1:03d}", number=n + 1,
                lane=lanes[letter], service=service_of[letter], source="walk_in",
                order_at=at, issued_at=at, queued_at=at, status="done", outcome="served",
                sweep_due_at=at, closed_at=at))
    tickets = Ticket.objects.bulk_create(tickets, batch_size=1000)
    TicketEvent.objects.bulk_create(
        (TicketEvent(office=office, ticket=t, day=t.day, at=t.issued_at, kind="finished",
                     lane_id=t.lane_id, outcome="served",
                     service_seconds=int(rng.lognormvariate(6.4, 0.4)),
                     busy_seconds=int(rng.lognormvariate(6.5, 0.4))) for t in tickets),
        batch_size=1000)
    for _n in range(waiting):
        letter = rng.choice("ABC")
        walk_in_any_time(office=office, service=service_of[letter],
                         priority="elderly" if rng.random() < 0.1 else "")
    called = [ticket_call_next(counter=counter, by=user)
              for counter, user in zip(counters[:4], users, strict=False)]
    if called[0] is not None:
        ticket_start(counter=counters[0], by=users[0])
    return office, counters, users


from tests.benchmarks._machine import machine  # noqa: E402,F401
