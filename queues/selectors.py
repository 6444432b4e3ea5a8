"""Reads of the queues, always given the office: the state of today's queue, waiting
estimates, the display board, a resident's tickets, and the statistics."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from queues import estimates, policy, speech
from queues.models import (
    ACTIVE_STATUSES,
    CALL_KINDS,
    OPEN_STATES,
    OUT_OF_ORDER_REASONS,
    Band,
    CallReason,
    CounterEvent,
    CounterLane,
    CounterState,
    Outcome,
    Priority,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketSource,
    TicketStatus,
)
from registry.api.fields import office_local_iso
from registry.appointments.models import Booking, BookingStatus
from registry.breaches import in_period
from registry.calendar import office_day_bounds, office_hours_on, office_local, office_today
from registry.central.selectors import office_link_state
from registry.models import Application, BreachDataKind, Lane, Office, Resident, Service

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
    # active counters: id -> {"name", "number", "state", "open", "lane_ids",
    # "paused_since", "allowed_minutes"} ("paused_since": since when a counter paused
    # today is paused, None for the others; "allowed_minutes": its pause reason's)
    counters: dict[int, dict]
    cycle: dict[int, float] = field(default_factory=dict)
    # lane id -> coefficient of variation of its counter times
    variation: dict[int, float] = field(default_factory=dict)
    # lane id -> how many waiting tickets, at the head, are called before walk-ins
    ahead: dict[int, int] = field(default_factory=dict)
    # lane id -> the tickets joining later (queues.estimates.Join): bookings waiting for
    # their slot, bookings still to come, walk-ins still to come
    joins: dict[int, list] = field(default_factory=dict)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    # counter id -> the usual pauses it has not taken today (queues.estimates.CounterState)
    pauses: dict[int, tuple] = field(default_factory=dict)


def queue_state(*, office: Office, now: datetime | None = None) -> QueueState:
    """Six queries, seven when counters have usual pauses: lanes, today's open
    tickets, counters with their lanes (and the allowed minutes of a paused counter's
    reason), today's pauses (to know which usual ones were taken), today's bookings
    still to come, today's walk-ins so far, and the office's history (the observed
    service times, booking show rate, recent days' arrivals and the counters' usual
    pauses, cached a minute)."""
    now = now or timezone.now()
    day = office_today(office)
    lanes = list(Lane.objects.filter(office=office, is_active=True).order_by("letter"))
    waiting: dict[int, list[tuple[int, str]]] = {lane.id: [] for lane in lanes}
    ahead: dict[int, int] = defaultdict(int)
    joins: dict[int, list] = defaultdict(list)
    active = []
    for (pk, lane_id, code, status, band, order_at, counter_id, called_at, first_called_at,
         reason, priority, from_lane) in (Ticket.objects.filter(
            office=office, day=day, status__in=[TicketStatus.WAITING, *ACTIVE_STATUSES])
            .order_by("lane_id", *policy.lane_order(now))
            .values_list("id", "lane_id", "code", "status", "band", "order_at", "counter_id",
                         "called_at", "first_called_at", "call_reason", "priority",
                         "transferred_from__letter")):
        if status == TicketStatus.WAITING:
            waiting.setdefault(lane_id, []).append((pk, code))
            if policy.effective_band(band=band, order_at=order_at, now=now) != Band.IN_TURN:
                ahead[lane_id] += 1
            elif band == Band.BOOKING_ON_TIME:  # checked in before the slot's start
                joins[lane_id].append(estimates.Join(
                    due=(order_at - now).total_seconds(), ahead=True, key=pk))
        else:
            active.append({"id": pk, "code": code, "lane_id": lane_id, "counter_id": counter_id,
                           "status": status, "called_at": called_at,
                           "first_called_at": first_called_at, "call_reason": reason,
                           "priority": priority, "transferred_from__letter": from_lane})
    active.sort(key=lambda row: (row["called_at"], row["id"]))
    start_of_day = office_day_bounds(office, day)[0]
    counters: dict[int, dict] = {}
    for counter_id, lane_id, name, number, state, since, allowed in (
            CounterLane.objects.filter(office=office, counter__is_active=True)
            .order_by("counter_id", "position")
            .values_list("counter_id", "lane_id", "counter__name", "counter__number",
                         "counter__state", "counter__state_since",
                         "counter__pause_reason__allowed_minutes")):
        today = since >= start_of_day
        counter = counters.setdefault(counter_id, {
            "name": name, "number": number, "state": state,
            "open": state in OPEN_STATES and today, "lane_ids": [],
            "paused_since": since if state == CounterState.PAUSED and today else None,
            "allowed_minutes": allowed or 0})
        counter["lane_ids"].append(lane_id)
    history = queue_history(office=office, lane_ids=[lane.id for lane in lanes], now=now)
    pauses = {}
    if history.pauses:
        taken: dict[int, list[float]] = defaultdict(list)
        for counter_id, at in (CounterEvent.objects.filter(
                office=office, day=day, state=CounterState.PAUSED, at__lte=now)
                .values_list("counter_id", "at")):
            taken[counter_id].append((at - start_of_day).total_seconds())
        pauses = {counter_id: estimates.pauses_to_come(
                      usual=usual, taken_today=taken[counter_id],
                      now=(now - start_of_day).total_seconds())
                  for counter_id, usual in history.pauses.items()}
    for lane_id, booked in bookings_to_come(office=office, day=day, now=now,
                                            show_rate=history.show_rate).items():
        joins[lane_id] += booked
    for lane_id, newcomers in arrivals_to_come(office=office, day=day, now=now,
                                               history=history).items():
        joins[lane_id] += newcomers
    return QueueState(office=office, day=day, now=now, lanes=lanes, waiting=waiting,
                      active=active, counters=counters, cycle=history.cycle,
                      variation=history.variation, ahead=dict(ahead), joins=dict(joins),
                      opens_at=history.opens_at, closes_at=history.closes_at,
                      pauses=pauses)


def bookings_to_come(*, office: Office, day: date, now: datetime,
                     show_rate: float) -> dict[int, list]:
    """Today's bookings not checked in yet whose slot has not ended, per lane, as
    joins from their slot's start with the chance to be checked in within the slot (a
    slot under way counts for the share of it still to run)."""
    expected: dict[int, list] = defaultdict(list)
    for lane_id, starts_at, ends_at in (Booking.objects.filter(
            office=office, day=day, status=BookingStatus.BOOKED, slot__ends_at__gt=now)
            .values_list("service__lane_id", "slot__starts_at", "slot__ends_at")):
        start = (starts_at - now).total_seconds()
        chance = show_rate
        if start < 0:
            chance *= (ends_at - now) / (ends_at - starts_at)
        expected[lane_id].append(estimates.Join(due=max(start, 0.0), ahead=True,
                                                weight=chance))
    return dict(expected)


# With no recent days to learn from, the pace of newcomers is read from the last hour
# (or since opening, at least this).
ARRIVALS_WINDOW = timedelta(hours=1)
ARRIVALS_MIN_WINDOW = timedelta(minutes=15)


def arrivals_to_come(*, office: Office, day: date, now: datetime, history) -> dict[int, list]:
    """Walk-ins expected per lane from now until the kiosk stops giving walk-in
    tickets (the office's cut-off time, or closing time): at the pace of the recent
    days at each time of day, scaled by today's pace so far against theirs
    (queues.estimates.arrival_rates); with no recent days, at the pace of the last
    hour. Those with a priority are called before the walk-ins in turn."""
    ends_at = history.walk_ins_end_at
    if ends_at is None or now >= ends_at:
        return {}
    midnight = office_day_bounds(office, day)[0]
    since = now - ARRIVALS_WINDOW
    if history.opens_at is not None:
        since = max(since, history.opens_at)
    since = min(since, now - ARRIVALS_MIN_WINDOW)
    today_total = 0
    counts: dict[tuple[int, bool], int] = defaultdict(int)
    for lane_id, priority, issued_at in (Ticket.objects.filter(
            office=office, day=day, source=TicketSource.WALK_IN, issued_at__lte=now)
            .values_list("lane_id", "priority", "issued_at")):
        today_total += 1
        if issued_at > since:
            counts[lane_id, bool(priority)] += 1
    until = (ends_at - now).total_seconds()
    joins: dict[int, list] = defaultdict(list)
    if history.arrivals:
        elapsed = (now - midnight).total_seconds()
        seen_before = sum(
            count * min(max((elapsed - part * estimates.ARRIVAL_BUCKET_SECONDS)
                            / estimates.ARRIVAL_BUCKET_SECONDS, 0.0), 1.0)
            for profile in history.arrivals.values() for part, count in profile.items())
        for (lane_id, with_priority), profile in history.arrivals.items():
            rates = estimates.arrival_rates(profile=profile, elapsed=elapsed,
                                            seen_today=today_total, seen_before=seen_before)
            joins[lane_id] += estimates.arrival_joins(rates=rates, until=until,
                                                      ahead=with_priority)
    else:
        hours = (now - since).total_seconds() / 3600
        for (lane_id, with_priority), count in counts.items():
            joins[lane_id] += estimates.arrival_joins(rate_per_hour=count / hours,
                                                      until=until, ahead=with_priority)
    for lane_joins in joins.values():
        lane_joins.sort(key=lambda join: join.due)
    return dict(joins)


def _cycle_cache_key(office_id: int) -> str:
    # v2: History gained fields; a History cached by the code before has none of them.
    return f"queues:cycle:v2:{office_id}"


def lane_cycles(*, office: Office, lane_ids: list[int], now: datetime | None = None,
                use_cache: bool = True) -> dict[int, float]:
    """Expected counter seconds per ticket of each lane (queues.estimates), from the
    times observed today and in the office's recent days."""
    return queue_history(office=office, lane_ids=lane_ids, now=now, use_cache=use_cache).cycle


@dataclass
class History:
    """What the estimates learn from the office's recent days (queue_history)."""

    cycle: dict[int, float]
    show_rate: float
    opens_at: datetime | None
    closes_at: datetime | None
    # lane id -> coefficient of variation of its counter times
    variation: dict[int, float] = field(default_factory=dict)
    # (lane id, with a priority) -> {part of the day (ARRIVAL_BUCKET_SECONDS from
    # midnight): walk-ins issued then on an average recent day}
    arrivals: dict[tuple[int, bool], dict[int, float]] = field(default_factory=dict)
    # when the kiosk stops giving walk-in tickets today (cut-off or closing time)
    walk_ins_end_at: datetime | None = None
    # counter id -> the pauses it usually takes: (start, end) seconds from midnight
    pauses: dict[int, list[tuple[float, float]]] = field(default_factory=dict)


def queue_history(*, office: Office, lane_ids: list[int], now: datetime | None = None,
                  use_cache: bool = True) -> History:
    """The counter seconds per ticket of each lane and their spread, the share of
    recent bookings checked in within their slot, the walk-ins of the recent days by
    time of day, the counters' usual pauses, and today's opening hours and walk-in
    cut-off. Cached a minute."""
    now = now or timezone.now()
    today = office_today(office)
    key = f"{_cycle_cache_key(office.id)}:{today.isoformat()}"
    if use_cache:
        cached = cache.get(key)
        if cached is not None and set(lane_ids) <= set(cached.cycle):
            return cached
    settings = QueueSettings.objects.filter(office=office).first() or QueueSettings()
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
    cycles, variation = {}, {}
    for lane_id in set(lane_ids) | set(priors):
        prior = float(priors.get(lane_id) or 0) * 60
        cycles[lane_id] = estimates.lane_cycle_seconds(
            prior_seconds=prior, today=today_obs[lane_id], earlier=earlier_obs[lane_id])
        variation[lane_id] = estimates.lane_cycle_variation(
            prior_seconds=prior, values=today_obs[lane_id] + earlier_obs[lane_id])
    # The bookings of the recent days that were used or missed (not cancelled).
    shown = Booking.objects.filter(
        office=office, day__gte=since, day__lt=today,
        status__in=[BookingStatus.DONE, BookingStatus.CHECKED_IN, BookingStatus.EXPIRED],
    ).aggregate(total=Count("id"),
                on_time=Count("id", filter=Q(checked_in_at__lte=F("slot__ends_at"))))
    hours = office_hours_on(office, today)
    closes_at = office_local(office, today, hours.closes) if hours else None
    walk_ins_end_at = closes_at
    if closes_at is not None and settings.walk_in_until is not None:
        walk_ins_end_at = min(closes_at, office_local(office, today, settings.walk_in_until))
    history = History(
        cycle=cycles, variation=variation,
        show_rate=estimates.booking_show_rate(on_time=shown["on_time"], total=shown["total"]),
        opens_at=office_local(office, today, hours.opens) if hours else None,
        closes_at=closes_at, walk_ins_end_at=walk_ins_end_at,
        arrivals=_recent_arrivals(office=office, since=since, today=today),
        pauses=_usual_pauses(office=office, since=since, today=today))
    if use_cache:
        cache.set(key, history, CYCLE_CACHE_SECONDS)
    return history


def _usual_pauses(*, office: Office, since: date, today: date
                  ) -> dict[int, list[tuple[float, float]]]:
    """Per counter, the pauses it took on most of the recent days it was open
    (queues.estimates.usual_pauses). Two queries: the days each counter was open, and
    the changes into and out of a pause."""
    days_open: dict[int, int] = defaultdict(int)
    for counter_id, _day in (CounterEvent.objects.filter(
            office=office, day__gte=since, day__lt=today)
            .order_by().values_list("counter_id", "day").distinct()):
        days_open[counter_id] += 1
    pauses: dict[int, list] = defaultdict(list)
    started: dict[int, tuple] = {}
    midnights: dict[date, datetime] = {}
    for counter_id, day, at, state in (CounterEvent.objects.filter(
            Q(state=CounterState.PAUSED) | Q(previous=CounterState.PAUSED),
            office=office, day__gte=since, day__lt=today)
            .order_by("counter_id", "at", "id").values_list("counter_id", "day", "at", "state")):
        if day not in midnights:
            midnights[day] = office_day_bounds(office, day)[0]
        seconds = (at - midnights[day]).total_seconds()
        if state == CounterState.PAUSED:
            started[counter_id] = (day, seconds)
        elif counter_id in started and started[counter_id][0] == day:
            pauses[counter_id].append((day, started.pop(counter_id)[1], seconds))
    usual = {counter_id: estimates.usual_pauses(pauses=found, days=days_open[counter_id])
             for counter_id, found in pauses.items()}
    return {counter_id: found for counter_id, found in usual.items() if found}


def _recent_arrivals(*, office: Office, since: date, today: date
                     ) -> dict[tuple[int, bool], dict[int, float]]:
    """The walk-ins of the recent days, per lane and priority, by part of the day:
    the average over the days that had any."""
    counts: dict[tuple[int, bool], dict[int, float]] = defaultdict(lambda: defaultdict(float))
    days, midnights = set(), {}
    for lane_id, priority, day, issued_at in (Ticket.objects.filter(
            office=office, day__gte=since, day__lt=today, source=TicketSource.WALK_IN)
            .values_list("lane_id", "priority", "day", "issued_at")):
        if day not in midnights:
            midnights[day] = office_day_bounds(office, day)[0]
        days.add(day)
        part = int((issued_at - midnights[day]).total_seconds()
                   // estimates.ARRIVAL_BUCKET_SECONDS)
        counts[lane_id, bool(priority)][part] += 1
    return {key: {part: count / len(days) for part, count in parts.items()}
            for key, parts in counts.items()}


@dataclass
class Estimates:
    # ticket id -> seconds until called
    tickets: dict[int, float]
    # lane id -> seconds until a ticket taken now would be called (None: no counter)
    new_ticket: dict[int, float | None]
    # lane id -> counters open serving it
    counters_open: dict[int, int]
    # ticket id -> (low, high) seconds in which it is expected to be called (about 80 %
    # of the time; queues.estimates.wait_range)
    ranges: dict[int, tuple[float, float]] = field(default_factory=dict)


def queue_estimates(state: QueueState) -> Estimates:
    """Replay the calling policy over today's queue (queues.estimates.simulate). The
    counters replayed are those opened today, and those paused today, from when their
    pause reason's allowed minutes run out (unless that is after closing time); before
    any counter opens, every counter in use is assumed to open, at the office's opening
    time at the earliest. Each estimate has its range (queues.estimates.wait_range),
    from the counters serving its lane."""
    open_ids = [pk for pk, c in state.counters.items() if c["open"]]
    paused_ids = [pk for pk, c in state.counters.items() if c["paused_since"] is not None]
    until_closing = ((state.closes_at - state.now).total_seconds()
                     if state.closes_at is not None else None)
    busy = {row["counter_id"]: row for row in state.active}
    # Before any counter opens (a booking checked in at 07:45), they open at opening time.
    opens_in = 0.0
    if not open_ids + paused_ids and state.opens_at is not None:
        opens_in = max((state.opens_at - state.now).total_seconds(), 0.0)
    counters = []
    for pk in (open_ids + paused_ids) or list(state.counters):
        back_in = opens_in
        if pk in paused_ids:
            counter = state.counters[pk]
            back_in = estimates.pause_back_in(
                paused_for=(state.now - counter["paused_since"]).total_seconds(),
                allowed_seconds=counter["allowed_minutes"] * 60.0,
                until_closing=until_closing)
            if back_in is None:  # not back before closing time
                continue
        row = busy.get(pk)
        counters.append(estimates.CounterState(
            lane_ids=tuple(state.counters[pk]["lane_ids"]),
            busy_lane_id=row["lane_id"] if row else None,
            busy_elapsed=(state.now - (row["first_called_at"] or row["called_at"])
                          ).total_seconds() if row else 0.0,
            back_in=back_in, pauses=state.pauses.get(pk, ())))
    # Bookings checked in before their slot are among the joins, not in turn.
    later = {join.key for joins in state.joins.values() for join in joins if join.key}
    queues = {lane_id: [pk for pk, _code in tickets if pk not in later]
              for lane_id, tickets in state.waiting.items()}
    tickets = estimates.simulate(counters=counters, queues=queues, cycle=state.cycle,
                                 ahead=state.ahead, joins=state.joins)
    serving = {lane.id: sum(1 for c in counters if lane.id in c.lane_ids)
               for lane in state.lanes}
    lane_of = {pk: lane_id for lane_id, rows in state.waiting.items() for pk, _code in rows}

    def range_of(lane_id, wait):
        return estimates.wait_range(wait=wait, spread=estimates.wait_spread(
            wait=wait, cycle=state.cycle.get(lane_id, estimates.DEFAULT_CYCLE),
            counters=serving.get(lane_id, 0),
            variation=state.variation.get(lane_id, estimates.VARIATION_PRIOR)))

    ranges = {pk: range_of(lane_of.get(pk), wait) for pk, wait in tickets.items()}
    new_ticket = {}
    for lane in state.lanes:
        phantom = ("new", lane.id)
        with_new = {**queues, lane.id: [*queues.get(lane.id, []), phantom]}
        new_ticket[lane.id] = estimates.simulate(
            counters=counters, queues=with_new, cycle=state.cycle, ahead=state.ahead,
            joins=state.joins, until=phantom).get(phantom)
    counters_open = {lane.id: sum(1 for pk in open_ids
                                  if lane.id in state.counters[pk]["lane_ids"])
                     for lane in state.lanes}
    return Estimates(tickets=tickets, new_ticket=new_ticket, counters_open=counters_open,
                     ranges=ranges)


def wait_range_shown(estimate: Estimates, ticket_id: int) -> dict[str, int] | None:
    """The ticket's range as a resident sees it, {"low", "high"} in whole minutes, when
    it is wide enough to be shown instead of the single figure; otherwise None."""
    found = estimate.ranges.get(ticket_id)
    shown = estimates.range_shown(*found) if found else None
    return {"low": shown[0], "high": shown[1]} if shown else None


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
    estimated wait for a ticket taken now; the recent calls, each saying its lane and
    with the Indonesian sentence the board says aloud (queues.speech); and the
    central-link notice."""
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
    for (event_id, code, priority, from_lane, counter, number, lane_id, at, reason) in (
            TicketEvent.objects.filter(office=office, day=state.day, kind__in=CALL_KINDS)
            .order_by("-at", "-id")
            .values_list("id", "ticket__code", "ticket__priority",
                         "ticket__transferred_from__letter", "counter__name",
                         "counter__number", "lane_id", "at", "reason")[:RECENT_CALLS]):
        if lane_id not in lanes_by_id:  # a lane taken out of use since the call
            lanes_by_id[lane_id] = Lane.objects.get(pk=lane_id)
        lane = lanes_by_id[lane_id]
        counter = counter or ""
        recent.append({
            # The call's event: a recall is an event of its own, so a new id, and the
            # board announces it again.
            "id": event_id,
            "ticket": code, "counter": counter, "counter_number": number,
            "lane": lane.letter,
            "lane_name": lane.name, "called_at": office_local_iso(at, office),
            "reason": reason,
            "reason_text": call_reason_text(reason, priority=priority,
                                            from_lane=from_lane or ""),
            "out_of_order": reason in OUT_OF_ORDER_REASONS,
            "text": call_line(ticket=code, counter=counter, lane_name=lane.name),
            "speech": speech.call_speech(ticket=code, counter_number=number),
            "speech_clips": speech.call_clips(ticket=code, counter_number=number),
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
    their lane, the estimated wait and, when it is wide (queues.estimates.range_shown),
    the range of minutes the wait is expected to end in: {"low", "high"}, else None."""
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
        wait, wide = None, None
        if ticket.status == TicketStatus.WAITING:
            wait = estimates.to_minutes(estimate.tickets.get(ticket.pk))
            wide = wait_range_shown(estimate, ticket.pk)
        elif ticket.status in ACTIVE_STATUSES:
            wait = 0
        rows.append({"ticket": ticket, "position": ticket_position(state, ticket),
                     "estimated_wait_minutes": wait, "estimated_wait_range": wide})
    return rows


# --- Bookings at the front desk -----------------------------------------------------


def bookings_today(*, office: Office) -> list:
    """Today's bookings of the office by slot, each with its ticket if checked in here
    (`booking.ticket`, or None); one query."""
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


def minutes_of(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


# The ticket events that carry a lane visit's times (each recorded where it ends): the
# first call in the lane, with the wait since the ticket entered the lane's queue (its
# issue, check-in or transfer), and the end of the visit, finished or transferred to
# another lane, with the service time from its start.
WAIT_KINDS = (TicketEventKind.CALLED,)
SERVICE_KINDS = (TicketEventKind.FINISHED, TicketEventKind.TRANSFERRED)


def visit_time(kind: str, wait_seconds: int | None, service_seconds: int | None
               ) -> tuple[int | None, int | None]:
    """A ticket event's (wait, service) seconds as the statistics count them: the wait
    of a lane visit's first call, the service of its end; None where it carries
    neither."""
    return (wait_seconds if kind in WAIT_KINDS else None,
            service_seconds if kind in SERVICE_KINDS else None)


def time_figures(waits: list[float], services: list[float]) -> dict[str, float | None]:
    """The waiting and service times' median and 90th percentile, in minutes."""
    return {"wait_median": minutes_of(percentile(waits, 50)),
            "wait_p90": minutes_of(percentile(waits, 90)),
            "service_median": minutes_of(percentile(services, 50)),
            "service_p90": minutes_of(percentile(services, 90))}


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
            kind__in=[TicketEventKind.ISSUED, TicketEventKind.CHECKED_IN, *WAIT_KINDS,
                      *SERVICE_KINDS])
            .values_list("day", "lane_id", "kind", "outcome", "wait_seconds",
                         "service_seconds")):
        entry = row(day, lane_id)
        wait, service = visit_time(kind, wait, service)
        if wait is not None:
            entry["waits"].append(wait)
        if service is not None:
            entry["services"].append(service)
        if kind in (TicketEventKind.ISSUED, TicketEventKind.CHECKED_IN):
            entry["issued"] += 1
        elif kind == TicketEventKind.TRANSFERRED:
            entry["referred"] += 1
        elif kind == TicketEventKind.FINISHED and outcome in (
                Outcome.SERVED, Outcome.PARTLY_SERVED, Outcome.NOT_SERVED):
            entry[outcome] += 1
    for day, lane_id, count in (Ticket.objects.filter(
            office=office, day__gte=date_from, day__lte=date_to, status=TicketStatus.NO_SHOW)
            .values("day", "lane_id").annotate(n=Count("id")).values_list("day", "lane_id", "n")):
        row(day, lane_id)["no_shows"] = count
    result = []
    for _key, entry in sorted(rows.items(), key=lambda item: (
            item[0][0], item[1]["lane"].letter if item[1]["lane"] else "")):
        entry.update(time_figures(entry.pop("waits"), entry.pop("services")))
        result.append(entry)
    return result


def dashboard_figures(*, office, day) -> list[tuple[str, object]]:
    """Today's figures of this app for the admin index: (label, value) pairs."""
    tickets = Ticket.objects.filter(office=office, day=day)
    counts = dict(tickets.values("status").annotate(n=Count("id")).values_list("status", "n"))
    waits = list(TicketEvent.objects.filter(office=office, day=day, kind=TicketEventKind.CALLED,
                                            wait_seconds__isnull=False)
                 .values_list("wait_seconds", flat=True))
    median = minutes_of(percentile(waits, 50))
    return [
        (_("Queue tickets today"), sum(counts.values())),
        (_("Waiting now"), counts.get(TicketStatus.WAITING, 0)),
        (_("Served today"), tickets.filter(
            outcome__in=[Outcome.SERVED, Outcome.PARTLY_SERVED]).count()),
        (_("Median wait today (minutes)"), "-" if median is None else median),
    ]


def tickets_of_applications(application_ids) -> QuerySet[Ticket]:
    """The tickets of the given applications (a subquery of ids): what a central-link
    outage held up at the counter (registry.central.selectors.OUTAGE_HOLDUPS)."""
    return Ticket.objects.filter(application_id__in=application_ids)


# --- A case's tickets (read by complaints) -----------------------------------------


def application_by_ticket_code(*, office: Office, code: str, day: date | None = None
                               ) -> Application | None:
    """A ticket code repeats every day (C-001): the case of the office's ticket with
    this code of `day` (the office's day), or of the latest such ticket; None when
    none has a case."""
    tickets = Ticket.objects.filter(office=office, code__iexact=code.strip(),
                                    application__isnull=False)
    if day is not None:
        tickets = tickets.filter(day=day)
    found = tickets.select_related("application").order_by("-issued_at", "-id").first()
    return getattr(found, "application", None)


def tickets_of_application(*, application: Application) -> QuerySet[Ticket]:
    """The case's tickets with their lane, in the order they were issued."""
    return (Ticket.objects.filter(application=application)
            .select_related("lane").order_by("issued_at", "id"))


def calls_of_day(*, office: Office, day: date) -> QuerySet[TicketEvent]:
    """Every call (and recall) of a ticket to a counter in the office on `day`, in
    time order, with the ticket and its holder, the lane and the counter."""
    return (TicketEvent.objects.filter(office=office, day=day, kind__in=CALL_KINDS)
            .select_related("ticket", "ticket__resident", "lane", "counter")
            .order_by("at", "id"))


# --- Served visits (read by complaints' satisfaction survey) -------------------------


def tickets_served() -> QuerySet[Ticket]:
    """Tickets finished as served: the visits that completed a case's service."""
    return Ticket.objects.filter(status=TicketStatus.DONE, outcome=Outcome.SERVED,
                                 application__isnull=False)


def application_last_served_ticket(*, application: Application) -> Ticket | None:
    """The case's last ticket finished as served, with its lane, service and counter;
    None when the case was never served at a counter."""
    return (tickets_served().filter(application=application)
            .select_related("lane", "service", "counter")
            .order_by("-finished_at", "-id").first())


def breach_data(*, kinds: set[str], start, end) -> list[QuerySet]:
    """BREACH_DATA (registry.breaches): queue tickets of a known resident issued in the
    period (cases)."""
    if BreachDataKind.CASES not in kinds:
        return []
    return [Ticket.objects.filter(in_period("issued_at", start, end), resident__isnull=False)
            .values("resident_id")]
