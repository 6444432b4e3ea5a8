"""Reads of the queues, always given the office: the state of today's queue, waiting
estimates, the display board, a resident's tickets, and the statistics."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Avg, Count
from django.utils import timezone
from django.utils.translation import gettext as _

from queues import estimates, policy
from queues.models import (
    ACTIVE_STATUSES,
    CALL_KINDS,
    OUT_OF_ORDER_REASONS,
    CallReason,
    CounterLane,
    CounterState,
    Outcome,
    Priority,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from registry.api.fields import office_local_iso
from registry.calendar import office_day_bounds, office_today
from registry.models import Lane, Office, Resident, Service

RECENT_CALLS = 8
NEXT_NUMBERS = 5
# The observed service times change slowly: read them at most once a minute per office.
CYCLE_CACHE_SECONDS = 60
# Observations read for the estimates, newest first: a busy lane's last weeks.
CYCLE_OBSERVATIONS = 1500


# --- Today's queue -----------------------------------------------------------------


@dataclass
class QueueState:
    """Today's queue of an office, read in a handful of queries."""

    office: Office
    day: date
    now: datetime
    lanes: list[Lane]
    # lane id -> waiting tickets in calling order: (id, code)
    waiting: dict[int, list[tuple[int, str]]]
    # tickets called or being served now
    active: list[dict]
    # active counters: id -> {"name", "number", "state", "open", "lane_ids"}
    counters: dict[int, dict]
    cycle: dict[int, float] = field(default_factory=dict)


def queue_state(*, office: Office, now: datetime | None = None) -> QueueState:
    """Four queries: lanes, today's open tickets, counters with their lanes, and the
    observed service times (cached a minute)."""
    now = now or timezone.now()
    day = office_today(office)
    lanes = list(Lane.objects.filter(office=office, is_active=True).order_by("letter"))
    waiting: dict[int, list[tuple[int, str]]] = {lane.id: [] for lane in lanes}
    active = []
    for (pk, lane_id, code, status, counter_id, called_at, first_called_at, reason, priority,
         from_lane) in (Ticket.objects.filter(
            office=office, day=day, status__in=[TicketStatus.WAITING, *ACTIVE_STATUSES])
            .order_by("lane_id", *policy.lane_order(now))
            .values_list("id", "lane_id", "code", "status", "counter_id", "called_at",
                         "first_called_at", "call_reason", "priority",
                         "transferred_from__letter")):
        if status == TicketStatus.WAITING:
            waiting.setdefault(lane_id, []).append((pk, code))
        else:
            active.append({"id": pk, "code": code, "lane_id": lane_id, "counter_id": counter_id,
                           "status": status, "called_at": called_at,
                           "first_called_at": first_called_at, "call_reason": reason,
                           "priority": priority, "transferred_from__letter": from_lane})
    active.sort(key=lambda row: (row["called_at"], row["id"]))
    start_of_day = office_day_bounds(office, day)[0]
    counters: dict[int, dict] = {}
    for counter_id, lane_id, name, number, state, since in (
            CounterLane.objects.filter(office=office, counter__is_active=True)
            .order_by("counter_id", "position")
            .values_list("counter_id", "lane_id", "counter__name", "counter__number",
                         "counter__state", "counter__state_since")):
        counter = counters.setdefault(counter_id, {
            "name": name, "number": number, "state": state,
            "open": state == CounterState.OPEN and since >= start_of_day, "lane_ids": []})
        counter["lane_ids"].append(lane_id)
    return QueueState(office=office, day=day, now=now, lanes=lanes, waiting=waiting,
                      active=active, counters=counters,
                      cycle=lane_cycles(office=office, lane_ids=[lane.id for lane in lanes]))


def _cycle_cache_key(office_id: int) -> str:
    return f"queues:cycle:{office_id}"


def lane_cycles(*, office: Office, lane_ids: list[int], now: datetime | None = None,
                use_cache: bool = True) -> dict[int, float]:
    """Expected counter seconds per ticket of each lane (queues.estimates), from the
    times observed today and in the office's recent days."""
    key = _cycle_cache_key(office.id)
    if use_cache:
        cached = cache.get(key)
        if cached is not None and set(lane_ids) <= set(cached):
            return cached
    now = now or timezone.now()
    settings = QueueSettings.objects.filter(office=office).first() or QueueSettings()
    today = office_today(office)
    since = today - timedelta(days=settings.estimate_history_days)
    priors = dict(Service.objects.filter(office=office, is_active=True)
                  .values("lane_id").annotate(m=Avg("estimated_minutes"))
                  .values_list("lane_id", "m"))
    today_obs, earlier_obs = defaultdict(list), defaultdict(list)
    for lane_id, day, seconds in (TicketEvent.objects.filter(
            office=office, day__gte=since, day__lte=today, busy_seconds__isnull=False,
            at__lte=now)
            .order_by("-at").values_list("lane_id", "day", "busy_seconds")[:CYCLE_OBSERVATIONS]):
        (today_obs if day == today else earlier_obs)[lane_id].append(seconds)
    cycles = {
        lane_id: estimates.lane_cycle_seconds(
            prior_seconds=float(priors.get(lane_id) or 0) * 60, today=today_obs[lane_id],
            earlier=earlier_obs[lane_id])
        for lane_id in set(lane_ids) | set(priors)
    }
    if use_cache:
        cache.set(key, cycles, CYCLE_CACHE_SECONDS)
    return cycles


@dataclass
class Estimates:
    # ticket id -> seconds until called
    tickets: dict[int, float]
    # lane id -> seconds until a ticket taken now would be called (None: no counter)
    new_ticket: dict[int, float | None]
    # lane id -> counters open serving it
    counters_open: dict[int, int]


def queue_estimates(state: QueueState) -> Estimates:
    """Replay the calling policy over today's queue (queues.estimates.simulate). Open
    counters are those opened today; before any counter opens, every counter in use
    is assumed to open."""
    open_ids = [pk for pk, c in state.counters.items() if c["open"]]
    serving_ids = open_ids or list(state.counters)
    busy = {row["counter_id"]: row for row in state.active}
    counters = []
    for pk in serving_ids:
        row = busy.get(pk)
        counters.append(estimates.CounterState(
            lane_ids=tuple(state.counters[pk]["lane_ids"]),
            busy_lane_id=row["lane_id"] if row else None,
            busy_elapsed=(state.now - (row["first_called_at"] or row["called_at"])
                          ).total_seconds() if row else 0.0))
    queues = {lane_id: [pk for pk, _code in tickets]
              for lane_id, tickets in state.waiting.items()}
    tickets = estimates.simulate(counters=counters, queues=queues, cycle=state.cycle)
    new_ticket = {}
    for lane in state.lanes:
        phantom = ("new", lane.id)
        with_new = {**queues, lane.id: [*queues.get(lane.id, []), phantom]}
        new_ticket[lane.id] = estimates.simulate(counters=counters, queues=with_new,
                                                 cycle=state.cycle).get(phantom)
    counters_open = {lane.id: sum(1 for pk in open_ids
                                  if lane.id in state.counters[pk]["lane_ids"])
                     for lane in state.lanes}
    return Estimates(tickets=tickets, new_ticket=new_ticket, counters_open=counters_open)


def ticket_position(state: QueueState, ticket: Ticket) -> int | None:
    """1 for the next ticket of its lane; 0 once called; None when finished."""
    if ticket.status in ACTIVE_STATUSES:
        return 0
    if ticket.status != TicketStatus.WAITING:
        return None
    for index, (pk, _code) in enumerate(state.waiting.get(ticket.lane_id, []), start=1):
        if pk == ticket.pk:
            return index
    return None


# --- The display board -------------------------------------------------------------


def call_reason_text(reason: str, *, priority: str = "", from_lane: str = "") -> str:
    """Why a ticket was called, as the board says it."""
    label = str(dict(CallReason.choices).get(reason, reason))
    if reason in OUT_OF_ORDER_REASONS:
        return _("Out of order: %(reason)s") % {"reason": label}
    if reason == CallReason.PRIORITY and priority:
        return _("Priority: %(category)s") % {
            "category": str(dict(Priority.choices).get(priority, priority))}
    if reason == CallReason.TRANSFERRED and from_lane:
        return _("Transferred from lane %(lane)s") % {"lane": from_lane}
    return label


def call_line(*, ticket: str, counter: str, lane_name: str) -> str:
    """The board's line for a call: "B-014 ke Loket 2 - Cek biometrik"."""
    return _("%(ticket)s to %(counter)s - %(lane_name)s") % {
        "ticket": ticket, "counter": counter, "lane_name": lane_name}


def board(*, office: Office, now: datetime | None = None) -> dict:
    """Everything the display board shows, in the active language: per lane the
    tickets called now (with counter and why), the next numbers, how many wait and the
    estimated wait for a ticket taken now; the recent calls, each saying its lane; and
    the central-link notice."""
    from registry.selectors import office_link_state

    state = queue_state(office=office, now=now)
    estimate = queue_estimates(state)
    lanes_by_id = {lane.id: lane for lane in state.lanes}
    serving = defaultdict(list)
    for row in state.active:
        counter = state.counters.get(row["counter_id"], {})
        serving[row["lane_id"]].append({
            "ticket": row["code"], "counter": counter.get("name", ""),
            "counter_number": counter.get("number"), "status": row["status"],
            "called_at": office_local_iso(row["called_at"], office),
            "reason": row["call_reason"],
            "reason_text": call_reason_text(row["call_reason"], priority=row["priority"],
                                            from_lane=row["transferred_from__letter"] or ""),
        })
    lanes = []
    for lane in state.lanes:
        waiting = state.waiting.get(lane.id, [])
        lanes.append({
            "lane": lane.letter, "name": lane.name,
            "now_serving": serving.get(lane.id, []),
            "next": [code for _pk, code in waiting[:NEXT_NUMBERS]],
            "waiting": len(waiting),
            "estimated_wait_minutes": estimates.to_minutes(estimate.new_ticket.get(lane.id)),
            "counters_open": estimate.counters_open.get(lane.id, 0),
        })
    recent = []
    for (code, priority, from_lane, counter, lane_id, at, reason) in (
            TicketEvent.objects.filter(office=office, day=state.day, kind__in=CALL_KINDS)
            .order_by("-at", "-id")
            .values_list("ticket__code", "ticket__priority", "ticket__transferred_from__letter",
                         "counter__name", "lane_id", "at", "reason")[:RECENT_CALLS]):
        if lane_id not in lanes_by_id:  # a lane taken out of use since the call
            lanes_by_id[lane_id] = Lane.objects.get(pk=lane_id)
        lane = lanes_by_id[lane_id]
        counter = counter or ""
        recent.append({
            "ticket": code, "counter": counter, "lane": lane.letter,
            "lane_name": lane.name, "called_at": office_local_iso(at, office),
            "reason": reason,
            "reason_text": call_reason_text(reason, priority=priority,
                                            from_lane=from_lane or ""),
            "out_of_order": reason in OUT_OF_ORDER_REASONS,
            "text": call_line(ticket=code, counter=counter, lane_name=lane.name),
        })
    return {
        "office": {"code": office.code, "name": office.name},
        "date": state.day.isoformat(),
        "generated_at": office_local_iso(state.now, office),
        **office_link_state(office=office),
        "lanes": lanes,
        "recent_calls": recent,
    }


# --- A resident's tickets ----------------------------------------------------------


def tickets_for_resident_today(*, resident: Resident) -> list[dict]:
    """The resident's tickets of today (each office's today), with their position in
    their lane and the estimated wait."""
    utc_today = timezone.now().date()
    tickets = list(Ticket.objects.filter(resident=resident, day__gte=utc_today - timedelta(1),
                                         day__lte=utc_today + timedelta(1))
                   .select_related("office", "lane", "service", "counter")
                   .order_by("issued_at", "id"))
    tickets = [t for t in tickets if t.day == office_today(t.office)]
    states: dict[int, tuple[QueueState, Estimates]] = {}
    rows = []
    for ticket in tickets:
        if ticket.office_id not in states:
            state = queue_state(office=ticket.office)
            states[ticket.office_id] = (state, queue_estimates(state))
        state, estimate = states[ticket.office_id]
        wait = None
        if ticket.status == TicketStatus.WAITING:
            wait = estimates.to_minutes(estimate.tickets.get(ticket.pk))
        elif ticket.status in ACTIVE_STATUSES:
            wait = 0
        rows.append({"ticket": ticket, "position": ticket_position(state, ticket),
                     "estimated_wait_minutes": wait})
    return rows


# --- Bookings at the front desk -----------------------------------------------------


def bookings_today(*, office: Office) -> list:
    """Today's bookings of the office by slot, each with its ticket if checked in here
    (`booking.ticket`, or None); one query."""
    from registry.appointments.models import Booking

    bookings = list(Booking.objects.filter(office=office, day=office_today(office))
                    .select_related("slot", "service__lane", "resident", "ticket")
                    .order_by("slot__starts_at", "code"))
    for booking in bookings:
        try:
            booking.queue_ticket = booking.ticket
        except Ticket.DoesNotExist:
            booking.queue_ticket = None
    return bookings


# --- Statistics --------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100), linearly interpolated between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def lane_day_statistics(*, office: Office, date_from: date, date_to: date) -> list[dict]:
    """Per day and lane: tickets issued, served, partly served, not served, referred
    to another lane, no-shows, and the waiting time (issue or transfer to first call)
    and service time (start to end) in minutes, median and 90th percentile. Three
    queries whatever the range."""
    lanes = {lane.id: lane for lane in Lane.objects.filter(office=office)}
    rows: dict[tuple, dict] = {}

    def row(day, lane_id):
        key = (day, lane_id)
        if key not in rows:
            rows[key] = {"day": day, "lane": lanes.get(lane_id), "issued": 0, "served": 0,
                         "partly_served": 0, "not_served": 0, "referred": 0, "no_shows": 0,
                         "waits": [], "services": []}
        return rows[key]

    for day, lane_id, kind, outcome, wait, service in (TicketEvent.objects.filter(
            office=office, day__gte=date_from, day__lte=date_to,
            kind__in=[TicketEventKind.ISSUED, TicketEventKind.CHECKED_IN, TicketEventKind.CALLED,
                      TicketEventKind.FINISHED, TicketEventKind.TRANSFERRED])
            .values_list("day", "lane_id", "kind", "outcome", "wait_seconds",
                         "service_seconds")):
        entry = row(day, lane_id)
        if kind in (TicketEventKind.ISSUED, TicketEventKind.CHECKED_IN):
            entry["issued"] += 1
        elif kind == TicketEventKind.CALLED:
            if wait is not None:
                entry["waits"].append(wait)
        else:
            if kind == TicketEventKind.TRANSFERRED:
                entry["referred"] += 1
            elif outcome in (Outcome.SERVED, Outcome.PARTLY_SERVED, Outcome.NOT_SERVED):
                entry[outcome] += 1
            if service is not None:
                entry["services"].append(service)
    for day, lane_id, count in (Ticket.objects.filter(
            office=office, day__gte=date_from, day__lte=date_to, status=TicketStatus.NO_SHOW)
            .values("day", "lane_id").annotate(n=Count("id")).values_list("day", "lane_id", "n")):
        row(day, lane_id)["no_shows"] = count
    result = []
    for _key, entry in sorted(rows.items(), key=lambda item: (
            item[0][0], item[1]["lane"].letter if item[1]["lane"] else "")):
        waits, services = entry.pop("waits"), entry.pop("services")
        entry.update({
            "wait_median": _minutes(percentile(waits, 50)),
            "wait_p90": _minutes(percentile(waits, 90)),
            "service_median": _minutes(percentile(services, 50)),
            "service_p90": _minutes(percentile(services, 90)),
        })
        result.append(entry)
    return result


def dashboard_figures(*, office, day) -> list[tuple[str, object]]:
    """Today's figures of this app for the admin index: (label, value) pairs."""
    tickets = Ticket.objects.filter(office=office, day=day)
    counts = dict(tickets.values("status").annotate(n=Count("id")).values_list("status", "n"))
    waits = list(TicketEvent.objects.filter(office=office, day=day, kind=TicketEventKind.CALLED,
                                            wait_seconds__isnull=False)
                 .values_list("wait_seconds", flat=True))
    median = _minutes(percentile(waits, 50))
    return [
        (_("Queue tickets today"), sum(counts.values())),
        (_("Waiting now"), counts.get(TicketStatus.WAITING, 0)),
        (_("Served today"), tickets.filter(
            outcome__in=[Outcome.SERVED, Outcome.PARTLY_SERVED]).count()),
        (_("Median wait today (minutes)"), "-" if median is None else median),
    ]
