"""This app's part of the national deployment (registry.demo_national).

NATIONAL_SETUP: each new office gets registry.demo_national.counter_count counters
(nine to twelve) serving lanes A, B and C in different orders.

NATIONAL_DAY: the live day's queue as seen at the deployment's moment: WAITING
walk-in tickets waiting in the office's lanes since the last hour, and IDLE_COUNTERS
counters open and calling nobody since IDLE_FOR (past the idle alert's default
minutes), the others closed, so the idle-counter check (counter_alerts_due) raises
an alert at each of them.
"""

from datetime import date, datetime, timedelta

from queues.models import Counter, CounterState, QueueSettings, Ticket, TicketSource
from queues.services.counters import counter_create
from registry.calendar import office_day_bounds, office_hours_on, office_local
from registry.demo_history import office_staff
from registry.demo_national import counter_count
from registry.models import Lane, Office, Role, Service
from registry.services.bulk_sql import instance, objects_insert
from registry.services.offices import office_settings_get
from registry.services.sequences import sequence_take

WAITING = 12
IDLE_COUNTERS = 2
IDLE_FOR = timedelta(minutes=25)


def setup(*, offices: list[Office]) -> None:
    """The NATIONAL_SETUP part: the office's counters."""
    for office in offices:
        lanes = list(Lane.objects.filter(office=office).order_by("letter"))
        if not lanes or Counter.objects.filter(office=office).exists():
            continue
        for k in range(counter_count(office)):
            shift = k % len(lanes)
            counter_create(office=office, number=k + 1, lanes=lanes[shift:] + lanes[:shift])


def day(*, office: Office, day: date, moment: datetime, rng) -> dict[str, int]:
    """The NATIONAL_DAY part (module docstring)."""
    settings = office_settings_get(QueueSettings, office=office)
    services = list(Service.objects.filter(office=office, is_active=True, lane__isnull=False)
                    .select_related("lane").order_by("code"))
    if not services:
        return {}
    hours = office_hours_on(office, day)
    closes = office_local(office, day, hours.closes) if hours else moment
    sweep_due = min(closes + timedelta(minutes=settings.end_of_day_grace_minutes),
                    office_day_bounds(office, day)[1])
    chosen = [rng.choice(services) for _n in range(WAITING)]
    issued = sorted(moment - timedelta(minutes=rng.uniform(2, 60)) for _n in chosen)
    by_lane: dict[int, list] = {}
    for service in chosen:
        by_lane.setdefault(service.lane_id, []).append(service)
    rows = []
    for services_of_lane in by_lane.values():
        lane = services_of_lane[0].lane
        first = sequence_take(office=office, scope=f"ticket:{lane.letter}:{day.isoformat()}",
                              count=len(services_of_lane))
        for k, service in enumerate(services_of_lane):
            at = issued[len(rows)]
            rows.append(instance(
                Ticket, office=office, day=day, code=f"{lane.letter}-{first + k:03d}",
                number=first + k, lane=lane, service=service, source=TicketSource.WALK_IN,
                order_at=at, issued_at=at, queued_at=at, sweep_due_at=sweep_due))
    objects_insert(rows)
    operators = office_staff(office, Role.COUNTER_OPERATOR)
    counters = list(Counter.objects.filter(office=office).order_by("number"))
    for k, counter in enumerate(counters[:IDLE_COUNTERS]):
        Counter.objects.filter(pk=counter.pk).update(
            state=CounterState.IDLE, state_since=moment - IDLE_FOR,
            operator=operators[k] if k < len(operators) else None)
    return {"queues.Ticket": len(rows)}
