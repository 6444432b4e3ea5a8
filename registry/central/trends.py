"""The central link's trends (registry.trends): outage minutes, cards waiting for print
and the blank-card stock, per office over a period, in the office's calendar.

Queries: five (the outages, print jobs created, print jobs closed, the stock rows, the
stock movements), whatever the offices, their time zones and the days.
"""

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Case, F, OuterRef, Q, Subquery, Sum, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.calendar import office_day_bounds, office_zone
from registry.central.models import (
    AttemptOutcome,
    CardStock,
    CardStockMovement,
    CentralJob,
    CentralJobAttempt,
    CentralJobKind,
    CentralJobStatus,
    CentralOutage,
)
from registry.models import Office
from registry.trends import Chart, Kind, Period, Series, levels, minutes, totals_by_day

SECTION = _("Central link")


def outage_seconds_by_day(*, offices: list[Office], period: Period
                          ) -> dict[int, dict[date, float]]:
    """Seconds of central-link outage per office and local day: each outage clipped to
    each day it spans; one still open counts up to now. One query."""
    if not offices:
        return {}
    now = timezone.now()
    offices_by_id = {office.id: office for office in offices}
    bounds = {office.id: period.bounds(office) for office in offices}
    first = min(start for start, _end in bounds.values())
    last = max(end for _start, end in bounds.values())
    outages = (CentralOutage.objects.filter(office__in=offices, started_at__lt=last)
               .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=first))
               .values_list("office_id", "started_at", "ended_at"))
    zones = {office.id: office_zone(office) for office in offices}
    seconds: dict[int, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    for office_id, started_at, ended_at in outages:
        ended_at = ended_at or now
        # Only the days it spans, from its first local day to its last.
        day = max(started_at.astimezone(zones[office_id]).date(), period.start)
        last = min(ended_at.astimezone(zones[office_id]).date(), period.end)
        while day <= last:
            day_start, day_end = office_day_bounds(offices_by_id[office_id], day)
            overlap = (min(ended_at, day_end) - max(started_at, day_start)).total_seconds()
            if overlap > 0:
                seconds[office_id][day] += overlap
            day += timedelta(days=1)
    return seconds


def print_jobs_waiting_changes(*, offices: list[Office], period: Period
                               ) -> dict[int, dict[date, int]]:
    """The change per office and local day of the print jobs waiting (a card to print):
    +1 on the day a print job is created, -1 on the day it closes, that is the day it is
    done or, for a job the central server refused and nobody sent again, the day of that
    refusal (a refused job waits on staff, not in the queue: it is not in
    CENTRAL_JOB_OPEN_STATUSES). The day before the period holds the jobs waiting when it
    starts (registry.trends.levels). Two queries."""
    prints = CentralJob.objects.filter(kind=CentralJobKind.CARD_PRINT)
    refused_at = Subquery(CentralJobAttempt.objects.filter(
        job=OuterRef("pk"), number=OuterRef("attempts"), outcome=AttemptOutcome.REJECTED,
    ).values("finished_at")[:1])
    closed = prints.annotate(closed_at=Case(
        When(status=CentralJobStatus.REJECTED, then=refused_at), default=F("done_at")))
    changes: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for (office_id, day), totals in totals_by_day(prints, offices, period, "created_at",
                                                  before=True).items():
        changes[office_id][day] += totals["n"]
    for (office_id, day), totals in totals_by_day(closed, offices, period, "closed_at",
                                                  before=True).items():
        changes[office_id][day] -= totals["n"]
    return changes


def card_stock_changes(*, offices: list[Office], period: Period
                       ) -> dict[int, dict[date, int]]:
    """The change of the blank-card stock per office and local day, the day before the
    period holding the stock it starts with: the stock now less every movement since the
    period's start. An office with no stock row has none. Two queries."""
    on_hand = dict(CardStock.objects.filter(office__in=offices)
                   .values_list("office_id", "on_hand"))
    movements = totals_by_day(CardStockMovement.objects.all(), offices, period, "at",
                              after=True, change=Sum("change"))
    changes: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    before = period.start - timedelta(days=1)
    for office in offices:
        changes[office.id][before] = on_hand.get(office.id, 0)
    for (office_id, day), totals in movements.items():
        changes[office_id][before] -= totals["change"]
        if day <= period.end:
            changes[office_id][day] += totals["change"]
    return changes


def charts(*, offices: list[Office], period: Period) -> dict[int, list[Chart]]:
    """The central link's charts of each office (registry.extensions.TRENDS):
    - outage_minutes: minutes the link was down in each bucket;
    - cards_waiting: print jobs waiting at the end of each bucket (or now, for the
      bucket under way): created by then and neither done nor refused by then;
    - card_stock: blank cards in stock at the end of each bucket (or now)."""
    labels = period.labels()
    outages = outage_seconds_by_day(offices=offices, period=period)
    waiting = print_jobs_waiting_changes(offices=offices, period=period)
    stock = card_stock_changes(offices=offices, period=period)
    out = {}
    for office in offices:
        seconds = period.bucketed(outages.get(office.id, {}))
        out[office.id] = [
            Chart(key="outage_minutes", section=str(SECTION),
                  title=str(_("Central-link outage")), labels=labels, kind=Kind.BARS,
                  unit=str(_("minutes")),
                  series=[Series(str(_("Minutes down")), [minutes(s) for s in seconds])],
                  note=str(_("An outage still going counts up to now."))),
            Chart(key="cards_waiting", section=str(SECTION),
                  title=str(_("Cards waiting for print")), labels=labels, kind=Kind.LINES,
                  unit=str(_("cards")),
                  series=[Series(str(_("Print jobs waiting")),
                                 levels(period, waiting.get(office.id, {})))],
                  note=str(_("At the end of each period: print jobs created and neither "
                             "printed nor refused by the central server."))),
            Chart(key="card_stock", section=str(SECTION),
                  title=str(_("Blank-card stock")), labels=labels, kind=Kind.LINES,
                  unit=str(_("cards")),
                  series=[Series(str(_("Blank cards")), levels(period, stock[office.id]))],
                  note=str(_("At the end of each period."))),
        ]
    return out
