"""Trends: the office head's figures over a period, per office, in buckets of a day, a
week or a month of the office's calendar (its time zone). The dashboard, the monthly
report and their exports all read them from here.

Each app registers a source on registry.extensions.TRENDS: a selector
`(*, offices, period) -> {office_id: [Chart, ...]}` that computes its charts for all the
given offices in a bounded number of queries (grouped by office and day, whatever the
number of offices or days). The core never names an app; it collects the charts in the
order of INSTALLED_APPS.

A chart is data, not a picture: labels (the buckets, or categories such as the lanes)
and one or more series of values over them. registry.charts draws it (SVG on the page,
a drawing in the PDF), and its table is what the page shows under the chart and what
the export gives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db import models
from django.db.models import Case, Count, DateField, Value, When
from django.db.models.functions import TruncDate
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from registry import extensions
from registry.calendar import office_day_bounds, office_zone
from registry.models import Office

# The longest period a page or an export covers (a year and a day, for a leap year).
MAX_DAYS = 366
DEFAULT_DAYS = 30


class Granularity(models.TextChoices):
    DAY = "day", _("day")
    WEEK = "week", _("week")
    MONTH = "month", _("month")


class Kind:
    """How a chart is drawn: bars side by side per label, stacked bars, or lines."""

    BARS = "bars"
    STACKED = "stacked"
    LINES = "lines"


@dataclass(frozen=True)
class Period:
    """The days `start`..`end` (both included) in buckets of `granularity`. Weeks start
    on Monday and months on the 1st; the first and last buckets are clipped to the
    period."""

    start: date
    end: date
    granularity: str = Granularity.DAY

    def bucket_of(self, day: date) -> date:
        if self.granularity == Granularity.MONTH:
            first = day.replace(day=1)
        elif self.granularity == Granularity.WEEK:
            first = day - timedelta(days=day.weekday())
        else:
            first = day
        return max(first, self.start)

    def buckets(self) -> list[date]:
        """The first day of each bucket, in order."""
        return list(self._firsts)

    @cached_property
    def _firsts(self) -> tuple[date, ...]:
        firsts, day = [], self.start
        while day <= self.end:
            first = self.bucket_of(day)
            if not firsts or firsts[-1] != first:
                firsts.append(first)
            day += timedelta(days=1)
        return tuple(firsts)

    @cached_property
    def _index(self) -> dict[date, int]:
        return {first: i for i, first in enumerate(self._firsts)}

    def bucket_last_days(self) -> list[date]:
        """The last day of each bucket (clipped to the period)."""
        firsts = self.buckets()
        return [nxt - timedelta(days=1) for nxt in firsts[1:]] + [self.end]

    def labels(self) -> list[str]:
        """The buckets as people read them: 8 Jul, week of 6 Jul, Jul 2026."""
        if self.granularity == Granularity.MONTH:
            return [date_format(first, "M Y") for first in self.buckets()]
        return [date_format(first, "j M") for first in self.buckets()]

    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, office: Office) -> tuple[datetime, datetime]:
        """The first instant of the period and of the day after it, at the office."""
        return office_day_bounds(office, self.start)[0], office_day_bounds(office, self.end)[1]

    def day_bounds(self, office: Office) -> list[tuple[date, datetime, datetime]]:
        """Each day of the period with its first instant and the next day's, at the
        office (for figures made of intervals, such as outage minutes)."""
        out, day = [], self.start
        while day <= self.end:
            out.append((day, *office_day_bounds(office, day)))
            day += timedelta(days=1)
        return out

    def bucketed(self, per_day: dict[date, float], *, how: str = "sum") -> list:
        """Values per day summed (or, with how="last", the last day's value carried)
        into the buckets."""
        firsts, index = self._firsts, self._index
        out = [0] * len(firsts)
        if how == "last":
            out = [None] * len(firsts)
            for day in sorted(per_day):
                if self.start <= day <= self.end:
                    out[index[self.bucket_of(day)]] = per_day[day]
            return out
        for day, value in per_day.items():
            if self.start <= day <= self.end and value:
                out[index[self.bucket_of(day)]] += value
        return out


@dataclass
class Series:
    """A named row of values; `plotted=False` keeps it in the table (and the export)
    but off the drawing until the reader shows it (counts beside a percentage)."""

    name: str
    values: list
    plotted: bool = True


@dataclass
class Chart:
    """One chart of one office: `labels` along the axis and `series` of values over
    them (None where there is nothing to measure, such as the median of no tickets)."""

    key: str
    section: str
    title: str
    labels: list[str]
    series: list[Series]
    kind: str = Kind.BARS
    unit: str = ""
    note: str = ""
    label_title: str = field(default_factory=lambda: str(_("period")))
    # The report's last row: the whole month's figures (registry.reports).
    total_row: list | None = None

    def header(self) -> list[str]:
        return [str(self.label_title), *[str(s.name) for s in self.series]]

    def rows(self) -> list[list]:
        """The chart's table: one row per label, one column per series."""
        return [[label, *[s.values[i] for s in self.series]]
                for i, label in enumerate(self.labels)]

    def is_empty(self) -> bool:
        return not any(v for s in self.series for v in s.values)


@dataclass
class Table:
    """A list for the monthly report (the month's outages, its complaints): a section
    it belongs to, a title, a header and rows of text, and what to say when empty."""

    section: str
    title: str
    header: list[str]
    rows: list[list]
    empty: str = ""


def default_period(today: date) -> Period:
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today, Granularity.DAY)


def trends_for(*, offices: list[Office], period: Period) -> dict[int, list[Chart]]:
    """Every app's charts for each office, in the order the apps registered them."""
    charts: dict[int, list[Chart]] = {office.id: [] for office in offices}
    if not offices:
        return charts
    for source in extensions.registered(extensions.TRENDS):
        for office_id, office_charts in source(offices=offices, period=period).items():
            charts[office_id].extend(office_charts)
    return charts


def by_zone(offices: Iterable[Office]) -> dict[str, list[Office]]:
    """The offices grouped by time zone: one grouped query per zone turns instants into
    the offices' own calendar days."""
    zones: dict[str, list[Office]] = defaultdict(list)
    for office in offices:
        zones[office.timezone].append(office)
    return zones


def period_filter(offices: list[Office], period: Period, field_name: str) -> models.Q:
    """Rows of `offices` whose `field_name` instant falls within the period at each
    office's own calendar (the widest bounds; days outside fall out when bucketed)."""
    starts = [period.bounds(o)[0] for o in offices]
    ends = [period.bounds(o)[1] for o in offices]
    return models.Q(**{"office__in": offices, f"{field_name}__gte": min(starts),
                       f"{field_name}__lt": max(ends)})


def local_day(offices: list[Office], field_name: str):
    """The local day of the instant `field_name` at each row's office, as one
    expression whatever the offices' time zones (a CASE over the zones): a grouped
    query over offices in WIB, WITA and WIT together stays one query."""
    zones = list(by_zone(offices).values())
    if len(zones) == 1:
        return TruncDate(field_name, tzinfo=office_zone(zones[0][0]))
    return Case(*[When(office__in=[o.id for o in zone_offices],
                       then=TruncDate(field_name, tzinfo=office_zone(zone_offices[0])))
                  for zone_offices in zones], output_field=DateField())


def count_by_day(queryset, offices: list[Office], period: Period, field_name: str,
                 *group: str) -> dict[tuple, int]:
    """Rows of `queryset` per (office id, local day of `field_name`, *group values): one
    grouped query whatever the offices' time zones. A date field is grouped as it is."""
    counts: dict[tuple, int] = defaultdict(int)
    is_date = isinstance(queryset.model._meta.get_field(field_name), models.DateField) \
        and not isinstance(queryset.model._meta.get_field(field_name), models.DateTimeField)
    if is_date:
        rows = (queryset.filter(office__in=offices, **{f"{field_name}__gte": period.start,
                                                     f"{field_name}__lte": period.end})
                .values("office_id", field_name, *group).annotate(n=Count("id"))
                .order_by())
        for row in rows:
            counts[(row["office_id"], row[field_name], *[row[g] for g in group])] += row["n"]
        return counts
    return counts_by_day(queryset, offices, period, field_name, *group)


def nested(counts: dict[tuple, int]) -> dict[int, dict[tuple, dict[date, int]]]:
    """count_by_day's counts as {office id: {group values: {day: n}}}."""
    out: dict = defaultdict(lambda: defaultdict(dict))
    for key, n in counts.items():
        out[key[0]][tuple(key[2:])][key[1]] = n
    return out


def share(part: float, whole: float) -> float | None:
    """`part` of `whole` in percent, one decimal; None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def totals_by_day(queryset, offices: list[Office], period: Period, moment: str, *group: str,
                  before: bool = False, after: bool = False,
                  **totals) -> dict[tuple, dict[str, int]]:
    """The `totals` (aggregates by name; a count "n" when none is given) of the rows of
    `queryset` per (office id, local day of the `moment` instant, *group values), in one
    grouped query whatever the offices' time zones (local_day). `moment` may be an
    annotation of the queryset. For figures that are levels (a stock, a backlog): with
    `before`, the rows before the period (at their office) are added up on the day
    before its start; with `after`, the rows after it on the day after its end."""
    totals = totals or {"n": Count("id")}
    if not offices:
        return {}
    window, outside = models.Q(), []
    for zone_offices in by_zone(offices).values():
        start, end = period.bounds(zone_offices[0])
        in_zone = models.Q(office__in=[o.id for o in zone_offices])
        lower = models.Q() if before else models.Q(**{f"{moment}__gte": start})
        upper = models.Q() if after else models.Q(**{f"{moment}__lt": end})
        window |= in_zone & lower & upper
        if before:
            outside.append(When(in_zone & models.Q(**{f"{moment}__lt": start}),
                                then=Value(period.start - timedelta(days=1))))
        if after:
            outside.append(When(in_zone & models.Q(**{f"{moment}__gte": end}),
                                then=Value(period.end + timedelta(days=1))))
    day = local_day(offices, moment)
    if outside:
        day = Case(*outside, default=day, output_field=DateField())
    rows = (queryset.filter(window, **{f"{moment}__isnull": False})
            .annotate(local_day=day).values("office_id", "local_day", *group)
            .annotate(**totals).order_by())
    return {(row["office_id"], row["local_day"], *[row[g] for g in group]):
            {name: row[name] or 0 for name in totals} for row in rows}


def counts_by_day(queryset, offices: list[Office], period: Period, moment: str,
                  *group: str) -> dict[tuple, int]:
    """count_by_day's counts of an instant `moment` in one query whatever the offices'
    time zones (totals_by_day)."""
    return {key: totals["n"] for key, totals in
            totals_by_day(queryset, offices, period, moment, *group).items()}


def levels(period: Period, per_day: dict[date, float]) -> list:
    """A level (a stock, a backlog) at the end of each bucket, from its changes per day;
    the day before the period's start holds the level it starts from (totals_by_day
    with `before`)."""
    level = per_day.get(period.start - timedelta(days=1), 0)
    daily, day = {}, period.start
    while day <= period.end:
        level += per_day.get(day, 0)
        daily[day] = level
        day += timedelta(days=1)
    return period.bucketed(daily, how="last")
