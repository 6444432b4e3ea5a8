"""The counter floor's figures (selectors, read-only): per day, counter and operator,
what was served, how long service took, how long the counter stood idle while people
waited in its lanes, how long it was paused and why, and which tickets were called
out of order and why; and the open idle-counter alerts a supervisor must see.

Read from the histories only: the counter's (CounterEvent: each state from its event
to the next) and the tickets' (TicketEvent). A ticket waits in a lane from its issue,
check-in or transfer into the lane until its first call there (or the end of the
day). "Idle with people waiting" is the time a counter was open and idle while a
ticket waited in one of the lanes it serves now. An operator's figures are those of
the counter's states while they worked at it and of the tickets they called and
finished.
"""

from bisect import bisect_left
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import FloatField, Func, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from queues.models import (
    OUT_OF_ORDER_REASONS,
    CallReason,
    Counter,
    CounterAlert,
    CounterAlertKind,
    CounterEvent,
    CounterLane,
    CounterState,
    Outcome,
    TicketEvent,
    TicketEventKind,
)
from queues.selectors import minutes_of, percentile
from registry.calendar import office_day_bounds, office_zone
from registry.models import Office, Role

# Instants as seconds since 1970 (floats): a year of a busy office's histories is read
# in hundreds of thousands of rows, and a float loads many times faster than an aware
# datetime.
Interval = tuple[float, float]


class Epoch(Func):
    """An instant as seconds since 1970, a float."""

    output_field = FloatField()
    template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS double precision)"

    @property
    def convert_value(self):
        # Both databases give a float already: no converter called on every row.
        return self._convert_value_noop

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps instants as UTC text; julianday reads it (1970-01-01 is day
        # 2440587.5).
        return self.as_sql(compiler, connection,
                           template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
                           **extra)


class State(NamedTuple):
    """A counter's state from `at` (seconds since 1970) on, as its CounterEvent says;
    `operator` and `pause_reason` are the names, read only for the counter figures."""

    counter_id: int
    office_id: int
    day: date
    at: float
    state: str
    operator_id: int | None
    pause_reason_id: int | None
    operator: str = ""
    pause_reason: str | None = None


def _states(events, *, names: bool) -> list[State]:
    """The CounterEvents of `events` as States, in time order: one query."""
    fields = ["counter_id", "office_id", "day", "at_seconds", "state", "operator_id",
              "pause_reason_id"]
    if names:
        fields += ["operator__username", "operator__first_name", "operator__last_name",
                   "pause_reason__name"]
    rows = events.annotate(at_seconds=Epoch("at")).order_by("at", "id").values_list(*fields)
    if not names:
        return [State(*row) for row in rows]
    return [State(*row[:7], operator=_user_name(*row[7:10]), pause_reason=row[10])
            for row in rows]


def _user_name(username: str | None, first_name: str, last_name: str) -> str:
    """A staff user's name as _name() gives it, from the columns."""
    if username is None:
        return ""
    return f"{first_name} {last_name}".strip() or username  # as User.get_full_name()


def merge(intervals: list[Interval]) -> list[Interval]:
    """The union of `intervals`, sorted, as disjoint intervals."""
    merged: list[list[float]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def overlap_seconds(interval: Interval, union: list[Interval]) -> float:
    """Seconds of `interval` covered by `union` (disjoint, sorted)."""
    start, end = interval
    index = max(bisect_left(union, (start, start)) - 1, 0)
    total = 0.0
    for low, high in union[index:]:
        if low >= end:
            break
        total += max(min(end, high) - max(start, low), 0.0)
    return total


def _state_intervals(office: Office, day: date, states: list[State],
                     before: State | None, now: float) -> list[tuple[float, float, State]]:
    """(start, end, state) for each state the counter was in on `day`, the state
    carried in from before the day starting at its first instant."""
    start_of_day, end_of_day = (moment.timestamp() for moment in office_day_bounds(office, day))
    end_of_day = min(end_of_day, now)
    timeline = ([(start_of_day, before)] if before is not None
                and before.state != CounterState.CLOSED else [])
    timeline += [(state.at, state) for state in states]
    spans = []
    for n, (start, state) in enumerate(timeline):
        end = timeline[n + 1][0] if n + 1 < len(timeline) else end_of_day
        if end > start:
            spans.append((start, end, state))
    return spans


def _waiting_by_lane(offices: dict[int, Office], date_from: date, date_to: date,
                     now: float) -> dict[tuple[date, int], list[Interval]]:
    """Per day and lane of `offices` (by id), the merged intervals during which a ticket
    waited there. One query."""
    starts: dict[tuple[int, int], float] = {}
    spans: dict[tuple[date, int], list[Interval]] = defaultdict(list)
    rows = (TicketEvent.objects.filter(
        office__in=list(offices), day__gte=date_from, day__lte=date_to,
        kind__in=[TicketEventKind.ISSUED, TicketEventKind.CHECKED_IN,
                  TicketEventKind.TRANSFERRED, TicketEventKind.CALLED,
                  TicketEventKind.NO_SHOW])
        .annotate(at_seconds=Epoch("at")).order_by("at", "id")
        .values_list("office_id", "ticket_id", "day", "kind", "lane_id", "to_lane_id",
                     "at_seconds"))
    days: dict[int, tuple[int, date]] = {}
    for office_id, ticket_id, day, kind, lane_id, to_lane_id, at in rows:
        days[ticket_id] = (office_id, day)
        if kind in (TicketEventKind.ISSUED, TicketEventKind.CHECKED_IN):
            starts[ticket_id, lane_id] = at
        elif kind == TicketEventKind.TRANSFERRED:
            starts[ticket_id, to_lane_id] = at
        elif (ticket_id, lane_id) in starts:  # the first call there, or the day's end
            spans[day, lane_id].append((starts.pop((ticket_id, lane_id)), at))
    for (ticket_id, lane_id), start in starts.items():
        office_id, day = days[ticket_id]
        spans[day, lane_id].append(
            (start, min(office_day_bounds(offices[office_id], day)[1].timestamp(), now)))
    return {key: merge(value) for key, value in spans.items()}


def _counter_lanes(offices: list[Office]) -> tuple[dict[int, list[int]], dict[int, str]]:
    """The lanes each counter of `offices` serves now, and the counters' names. One
    query."""
    counter_lanes: dict[int, list[int]] = defaultdict(list)
    names: dict[int, str] = {}
    for cid, lane_id, name in CounterLane.objects.filter(office__in=offices).values_list(
            "counter_id", "lane_id", "counter__name"):
        counter_lanes[cid].append(lane_id)
        names[cid] = name
    return counter_lanes, names


def _counter_states(offices: list[Office], counter_lanes: dict[int, list[int]],
                    date_from: date, date_to: date, now: datetime,
                    wanted: tuple[str, ...] | None = None, counter_id: int | None = None,
                    names: bool = False):
    """For each day from `date_from` to `date_to` and each counter of `offices` open at
    some time of it: (day, counter id, start, end, state, waiting) for each state (of
    the `wanted` ones, or all) the counter was in that day, in seconds since 1970;
    `waiting` is the merged intervals during which a ticket waited in one of the lanes
    the counter serves now. Three queries whatever the offices and days."""
    by_id = {office.id: office for office in offices}
    now_seconds = now.timestamp()
    waiting = _waiting_by_lane(by_id, date_from, date_to, now_seconds)
    events = CounterEvent.objects.filter(office__in=offices, day__gte=date_from,
                                         day__lte=date_to)
    if counter_id is not None:
        events = events.filter(counter_id=counter_id)
    by_counter_day: dict[tuple[int, date], list[State]] = defaultdict(list)
    counters_of_day: dict[date, set[int]] = defaultdict(set)
    for state in _states(events, names=names):
        by_counter_day[state.counter_id, state.day].append(state)
        counters_of_day[state.day].add(state.counter_id)
    carried = _states_before(offices, date_from, counter_id, names=names)
    day = date_from
    while day <= date_to:
        cids = counters_of_day.get(day, set()) | {
            cid for cid, state in carried.items() if state.state != CounterState.CLOSED}
        for cid in sorted(cids):
            day_states = by_counter_day.get((cid, day), [])
            office = by_id[(day_states[0] if day_states else carried[cid]).office_id]
            union = merge([span for lane_id in counter_lanes.get(cid, [])
                           for span in waiting.get((day, lane_id), [])])
            for start, end, state in _state_intervals(office, day, day_states,
                                                      carried.get(cid), now_seconds):
                if wanted is None or state.state in wanted:
                    yield day, cid, start, end, state, union
            if day_states:
                carried[cid] = day_states[-1]
        day += timedelta(days=1)


def idle_waiting_seconds(*, offices: list[Office], date_from: date, date_to: date,
                         now: datetime | None = None) -> dict[tuple[int, date], float]:
    """{(office id, day): seconds}: how long the office's counters stood open and idle
    while a ticket waited in one of their lanes (summed over the counters), as in the
    counter figures. Four queries whatever the offices and days."""
    now = now or timezone.now()
    counter_lanes, _names = _counter_lanes(offices)
    seconds: dict[tuple[int, date], float] = defaultdict(float)
    for day, _cid, start, end, state, union in _counter_states(
            offices, counter_lanes, date_from, date_to, now, (CounterState.IDLE,)):
        seconds[state.office_id, day] += overlap_seconds((start, end), union)
    return dict(seconds)


def counter_figures(*, office: Office, date_from: date, date_to: date,
                    counter_id: int | None = None, operator_id: int | None = None,
                    now: datetime | None = None) -> list[dict]:
    """Rows per day, counter and operator (see the module docstring), minutes to one
    decimal. A handful of queries whatever the range."""
    now = now or timezone.now()
    counter_lanes, names = _counter_lanes([office])
    rows: dict[tuple, dict] = {}

    def row(day, cid, operator, operator_name):
        key = (day, cid, operator)
        if key not in rows:
            rows[key] = {"day": day, "counter_id": cid, "counter": names.get(cid, "-"),
                         "operator_id": operator, "operator": operator_name or "-",
                         "served": 0, "partly_served": 0, "not_served": 0, "no_shows": 0,
                         "services": [], "idle_seconds": 0.0, "idle_waiting_seconds": 0.0,
                         "paused": defaultdict(float), "out_of_order": defaultdict(int),
                         "alerts": 0}
        return rows[key]

    for day, cid, start, end, state, union in _counter_states(
            [office], counter_lanes, date_from, date_to, now, counter_id=counter_id,
            names=True):
        if operator_id is not None and state.operator_id != operator_id:
            continue
        entry = row(day, cid, state.operator_id, state.operator)
        if state.state == CounterState.IDLE:
            entry["idle_seconds"] += end - start
            entry["idle_waiting_seconds"] += overlap_seconds((start, end), union)
        elif state.state == CounterState.PAUSED:
            entry["paused"][state.pause_reason or _("Other")] += end - start
    _ticket_figures(office, date_from, date_to, counter_id, operator_id, row)
    alerts = CounterAlert.objects.filter(office=office, day__gte=date_from, day__lte=date_to)
    if counter_id is not None:
        alerts = alerts.filter(counter_id=counter_id)
    if operator_id is not None:
        alerts = alerts.filter(operator_id=operator_id)
    for alert in alerts.select_related("operator"):
        row(alert.day, alert.counter_id, alert.operator_id, _name(alert.operator))["alerts"] += 1
    return [_finish(entry) for _key, entry in sorted(
        rows.items(), key=lambda item: (item[0][0], item[1]["counter"], item[1]["operator"]))]


def _states_before(offices: list[Office], day: date, counter_id: int | None,
                   names: bool) -> dict[int, State]:
    """Each counter's last state before `day`: the state it started the day in. One
    query (the ids in a subquery, so none are fetched first)."""
    counters = Counter.objects.filter(office__in=offices)
    if counter_id is not None:
        counters = counters.filter(pk=counter_id)
    # Read backwards from the latest first instant of `day` at the offices (the index
    # on counter and time), not through every event of the counter since.
    latest_start = max(office_day_bounds(office, day)[0] for office in offices)
    last = (CounterEvent.objects.filter(counter=OuterRef("pk"), at__lt=latest_start,
                                        day__lt=day)
            .order_by("-at", "-id").values("pk")[:1])
    return {state.counter_id: state for state in _states(CounterEvent.objects.filter(
        pk__in=counters.annotate(last=Subquery(last)).values("last")), names=names)}


def _ticket_figures(office, date_from, date_to, counter_id, operator_id, row) -> None:
    events = TicketEvent.objects.filter(
        office=office, day__gte=date_from, day__lte=date_to, counter__isnull=False,
        kind__in=[TicketEventKind.FINISHED, TicketEventKind.NO_SHOW, TicketEventKind.CALLED])
    if counter_id is not None:
        events = events.filter(counter_id=counter_id)
    if operator_id is not None:
        events = events.filter(actor_id=operator_id)
    labels = dict(CallReason.choices)
    for event in events.select_related("actor", "counter").order_by("at", "id"):
        entry = row(event.day, event.counter_id, event.actor_id, _name(event.actor))
        if event.kind == TicketEventKind.FINISHED:
            if event.outcome in (Outcome.SERVED, Outcome.PARTLY_SERVED, Outcome.NOT_SERVED):
                entry[event.outcome] += 1
            if event.service_seconds is not None:
                entry["services"].append(event.service_seconds)
        elif event.kind == TicketEventKind.NO_SHOW:
            entry["no_shows"] += 1
        elif event.reason in OUT_OF_ORDER_REASONS:
            entry["out_of_order"][str(labels.get(event.reason, event.reason))] += 1


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _finish(entry: dict) -> dict:
    services = entry.pop("services")
    entry.update({
        "service_median": minutes_of(percentile(services, 50)),
        "service_p90": minutes_of(percentile(services, 90)),
        "idle_minutes": minutes_of(entry.pop("idle_seconds")),
        "idle_waiting_minutes": minutes_of(entry.pop("idle_waiting_seconds")),
        "paused": {reason: minutes_of(seconds) for reason, seconds
                   in sorted(entry["paused"].items())},
        "paused_minutes": minutes_of(sum(entry["paused"].values())),
        "out_of_order": dict(sorted(entry["out_of_order"].items())),
        "out_of_order_calls": sum(entry["out_of_order"].values()),
    })
    return entry


# --- Alerts for the staff start page and the admin index ----------------------------

ALERT_READERS = {Role.SUPERVISOR, Role.OFFICE_ADMIN}


def open_alerts(*, office: Office):
    return (CounterAlert.objects.filter(office=office, closed_at__isnull=True)
            .select_related("counter__office", "operator", "pause_reason")
            .order_by("raised_at", "id"))


def staff_alerts(*, office: Office, roles) -> list[tuple[str, str]]:
    """The office's open idle-counter alerts, for its supervisors and administrators."""
    if not set(roles) & ALERT_READERS:
        return []
    return [(alert_text(alert), reverse("admin:queues_counteralert_change", args=[alert.pk]))
            for alert in open_alerts(office=office)]


def alert_text(alert: CounterAlert) -> str:
    """The alert as a supervisor reads it, in the active language."""
    operator = alert.operator
    params = {"counter": alert.counter.name, "operator": _name(operator) or "-",
              "waiting": alert.waiting,
              "since": f"{alert.since.astimezone(office_zone(alert.counter.office)):%H:%M}"}
    if alert.kind == CounterAlertKind.PAUSED_LONG:
        params["reason"] = alert.pause_reason.name if alert.pause_reason else "-"
        return _("%(counter)s (%(operator)s) has been paused (%(reason)s) past its allowed "
                 "minutes since %(since)s while %(waiting)s people wait in its lanes.") % params
    return _("%(counter)s (%(operator)s) has called nobody since %(since)s while "
             "%(waiting)s people wait in its lanes.") % params
