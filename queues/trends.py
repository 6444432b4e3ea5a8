"""The queues' trends (registry.trends): the queue and the counters over a period, per
office, in buckets of the office's calendar.

One trip ("one_trip"): the share of residents whose visit succeeded the first time,
the goal of DESIGN.md ("one visit, known in advance to succeed, or none at all").
Trips are counted in days, as the case's history shows them: a trip is a day the
resident came to the office for a case, with a ticket (the kiosk, or a booking's
check-in) or sent away at the door by the front desk (registry TurnAway).

- A case's first trip is the first of those days over the case's whole history (not
  only the period): its first ticket's day, or the day of its first turn-away when
  that was earlier. The case counts in the bucket of that day.
- The first trip succeeded when a ticket of the case that day ended served
  (Outcome.SERVED). Partly served, not served, a no-show, an outcome not recorded, or
  only being sent away at the door: it failed. A same-day return counts as one trip
  (served after being sent away in the morning: succeeded).
- A turn-away that no case took (registry.services.turn_aways links a case opened
  later for the service) is a failed first trip of its own, once per resident and
  day.
- A ticket never identified (a walk-in who left before the counter saw their
  documents) belongs to no case and is not counted: nobody knows whose trip it was.
- Today's figure settles when the day's tickets end.
Series: the share (%), first trips, succeeded, and sent away at the door (first trips
that ended at the door without a ticket that day); first trips at a counter are the
difference.

Tickets ("tickets"): the tickets issued on each day (`Ticket.day`, the office's day),
walk-in (the kiosk) or booked (a booking's check-in), each split into those that ended
as no-shows (not there when called, or still waiting at the end of the day) and the
others: the stacked bar is every ticket issued.

Waiting and service times ("waits_by_lane" per lane over the whole period, "waits"
per bucket over all lanes): as queues.selectors.lane_day_statistics counts them (its
visit_time): the wait of each first call in a lane since the ticket entered the lane's
queue, the service time of each lane visit's end (finished or transferred) since it
started; median and 90th percentile (queues.selectors.percentile), in minutes, by the
ticket's day.

Idle with people waiting ("idle_waiting"): the minutes the office's counters stood
open and idle while a ticket waited in one of the lanes they serve, summed over the
counters, as in the counter figures (queues.counter_figures).

Each chart takes a fixed number of queries whatever the number of offices, time zones
or days (tests/queues/test_trends.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from queues.counter_figures import idle_waiting_seconds
from queues.models import Outcome, Ticket, TicketEvent, TicketSource, TicketStatus
from queues.selectors import SERVICE_KINDS, WAIT_KINDS, percentile, visit_time
from registry import trends
from registry.models import Lane, Office, TurnAway
from registry.trends import minutes

QUEUE = _("Queue")
COUNTERS = _("Counters")
MINUTES = _("minutes")


# --- One trip ------------------------------------------------------------------------


def one_trip_days(*, offices: list[Office], period: trends.Period
                  ) -> dict[int, dict[str, dict[date, int]]]:
    """{office id: {"trips" | "succeeded" | "sent_away": {day: count}}}, the first trips
    of the module docstring by day. Two queries: the first trips with a ticket, and
    those that ended at the door."""
    out = {office.id: {"trips": defaultdict(int), "succeeded": defaultdict(int),
                       "sent_away": defaultdict(int)} for office in offices}
    # A day is the case's first trip when the case has no ticket and no turn-away on an
    # earlier day (anti-joins, over the case's whole history).
    ticket_before = Ticket.objects.filter(application=OuterRef("application"))
    turn_away_before = (TurnAway.objects.filter(application=OuterRef("application"))
                        .annotate(local=trends.local_day(offices, "at")))
    with_ticket = (
        Ticket.objects.filter(office__in=offices, application__isnull=False,
                              day__gte=period.start, day__lte=period.end)
        .filter(~Exists(ticket_before.filter(day__lt=OuterRef("day"))),
                ~Exists(turn_away_before.filter(local__lt=OuterRef("day"))))
        .values("office_id", "day")
        .annotate(trips=Count("application", distinct=True),
                  succeeded=Count("application", distinct=True,
                                  filter=Q(outcome=Outcome.SERVED)))
        .values_list("office_id", "day", "trips", "succeeded").order_by())
    for office_id, day, trips, succeeded in with_ticket:
        out[office_id]["trips"][day] += trips
        out[office_id]["succeeded"][day] += succeeded
    # Sent away without a ticket that day, on the case's first trip (or no case's).
    at_the_door = (
        TurnAway.objects.filter(trends.period_filter(offices, period, "at"))
        .annotate(local=trends.local_day(offices, "at"))
        .filter(Q(application__isnull=True)
                | (~Exists(ticket_before.filter(day__lte=OuterRef("local")))
                   & ~Exists(turn_away_before.filter(local__lt=OuterRef("local")))))
        .values("office_id", "local")
        .annotate(cases=Count("application", distinct=True),
                  strays=Count("resident", distinct=True, filter=Q(application__isnull=True)))
        .values_list("office_id", "local", "cases", "strays").order_by())
    for office_id, day, cases, strays in at_the_door:
        out[office_id]["trips"][day] += cases + strays
        out[office_id]["sent_away"][day] += cases + strays
    return out


def one_trip_charts(*, offices: list[Office], period: trends.Period
                    ) -> dict[int, list[trends.Chart]]:
    days = one_trip_days(offices=offices, period=period)
    charts = {}
    for office in offices:
        counts = {key: period.bucketed(per_day) for key, per_day in days[office.id].items()}
        charts[office.id] = [trends.Chart(
            key="one_trip", section=QUEUE, title=_("Residents served on their first trip"),
            labels=period.labels(), kind=trends.Kind.LINES, unit="%",
            note=_("A case's first trip is the first day the resident came for it: with "
                   "a ticket, or sent away at the door. It succeeded when a ticket of the "
                   "case ended served that day; otherwise (partly served, not served, a "
                   "no-show, or only sent away at the door) it failed. A turn-away no case "
                   "took counts as a failed first trip, once per resident and day. Tickets "
                   "never identified at a counter are not counted."),
            series=[trends.Series(_("one trip (%)"), [
                        trends.share(ok, total)
                        for ok, total in zip(counts["succeeded"], counts["trips"], strict=True)]),
                    # The counts are the table's, off the drawing (not percentages).
                    trends.Series(_("first trips"), counts["trips"], plotted=False),
                    trends.Series(_("succeeded"), counts["succeeded"], plotted=False),
                    trends.Series(_("sent away at the door"), counts["sent_away"],
                                  plotted=False)])]
    return charts


# --- Tickets -------------------------------------------------------------------------


def tickets_charts(*, offices: list[Office], period: trends.Period
                   ) -> dict[int, list[trends.Chart]]:
    """Tickets issued, walk-in or booked, no-shows apart. One query."""
    counts = trends.nested(trends.count_by_day(Ticket.objects.all(), offices, period, "day",
                                               "source", "status"))
    charts = {}
    for office in offices:
        parts: dict[tuple[str, bool], dict[date, int]] = defaultdict(lambda: defaultdict(int))
        for (source, status), per_day in counts.get(office.id, {}).items():
            for day, count in per_day.items():
                parts[source, status == TicketStatus.NO_SHOW][day] += count
        charts[office.id] = [trends.Chart(
            key="tickets", section=QUEUE, title=_("Walk-in and booked tickets"),
            labels=period.labels(), kind=trends.Kind.STACKED, unit=_("tickets"),
            note=_("Tickets issued on the day: walk-in from the kiosk, or booked at a "
                   "booking's check-in. Those that ended as no-shows (not there when "
                   "called, or still waiting at the end of the day) are counted apart: "
                   "the bar is every ticket issued."),
            series=[trends.Series(name, period.bucketed(parts[source, no_show]))
                    for name, source, no_show in (
                        (_("walk-in"), TicketSource.WALK_IN, False),
                        (_("walk-in no-shows"), TicketSource.WALK_IN, True),
                        (_("booked"), TicketSource.BOOKING, False),
                        (_("booked no-shows"), TicketSource.BOOKING, True))])]
    return charts


# --- Waiting and service times -------------------------------------------------------


def wait_charts(*, offices: list[Office], period: trends.Period
                ) -> dict[int, list[trends.Chart]]:
    """The median and p90 wait per bucket over all lanes ("waits"), and the waiting and
    service times per lane over the period ("waits_by_lane"). Two queries: the lanes,
    and the times."""
    waits: dict[tuple[int, date], list[int]] = defaultdict(list)
    by_lane: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for office_id, lane_id, day, kind, wait, service in (TicketEvent.objects.filter(
            office__in=offices, day__gte=period.start, day__lte=period.end,
            kind__in=[*WAIT_KINDS, *SERVICE_KINDS])
            .values_list("office_id", "lane_id", "day", "kind", "wait_seconds",
                         "service_seconds")):
        wait, service = visit_time(kind, wait, service)
        if wait is not None:
            waits[office_id, period.bucket_of(day)].append(wait)
            by_lane[lane_id][0].append(wait)
        if service is not None:
            by_lane[lane_id][1].append(service)
    lanes: dict[int, list[Lane]] = defaultdict(list)
    for lane in Lane.objects.filter(office__in=offices).order_by("letter", "id"):
        if lane.is_active or lane.id in by_lane:
            lanes[lane.office_id].append(lane)
    charts = {}
    for office in offices:
        pooled = [waits.get((office.id, first), []) for first in period.buckets()]
        figures = [(lane, *by_lane.get(lane.id, ([], []))) for lane in lanes[office.id]]
        charts[office.id] = [
            trends.Chart(
                key="waits", section=QUEUE, title=_("Waiting time"), labels=period.labels(),
                kind=trends.Kind.LINES, unit=MINUTES,
                note=_("From taking a ticket (or a transfer to another lane) to the first "
                       "call in the lane, all lanes together, by the ticket's day."),
                series=[trends.Series(_("median"), [minutes(percentile(v, 50))
                                                    for v in pooled]),
                        trends.Series(_("90th percentile"), [minutes(percentile(v, 90))
                                                             for v in pooled])]),
            trends.Chart(
                key="waits_by_lane", section=QUEUE,
                title=_("Waiting and service time per lane"),
                labels=[str(lane) for lane, _w, _s in figures], label_title=_("lane"),
                kind=trends.Kind.BARS, unit=MINUTES,
                note=_("Over the whole period. Waiting: from taking a ticket (or a "
                       "transfer to the lane) to the first call in the lane. Service: "
                       "from the start of service to its end at the counter (finished, "
                       "or transferred to another lane)."),
                series=[trends.Series(name, [minutes(percentile(times[which], q))
                                             for _lane, *times in figures])
                        for name, which, q in ((_("wait, median"), 0, 50),
                                               (_("wait, 90th percentile"), 0, 90),
                                               (_("service, median"), 1, 50),
                                               (_("service, 90th percentile"), 1, 90))]),
        ]
    return charts


# --- Counters ------------------------------------------------------------------------


def idle_waiting_charts(*, offices: list[Office], period: trends.Period
                        ) -> dict[int, list[trends.Chart]]:
    """Counter minutes idle with people waiting per bucket. Four queries
    (queues.counter_figures.idle_waiting_seconds)."""
    seconds = idle_waiting_seconds(offices=offices, date_from=period.start,
                                   date_to=period.end)
    per_office: dict[int, dict[date, float]] = defaultdict(dict)
    for (office_id, day), value in seconds.items():
        per_office[office_id][day] = value
    return {office.id: [trends.Chart(
        key="idle_waiting", section=COUNTERS, title=_("Counters idle while people wait"),
        labels=period.labels(), kind=trends.Kind.BARS, unit=MINUTES,
        note=_("Minutes a counter stood open and idle while someone waited in one of the "
               "lanes it serves, summed over the office's counters."),
        series=[trends.Series(_("idle with people waiting"), [
            minutes(value) for value in period.bucketed(per_office[office.id])])])]
        for office in offices}


SOURCES = (one_trip_charts, tickets_charts, wait_charts, idle_waiting_charts)


def charts(*, offices: list[Office], period: trends.Period) -> dict[int, list[trends.Chart]]:
    """The app's source for registry.trends (extensions.TRENDS)."""
    out: dict[int, list[trends.Chart]] = {office.id: [] for office in offices}
    for source in SOURCES:
        for office_id, office_charts in source(offices=offices, period=period).items():
            out[office_id].extend(office_charts)
    return out
