"""What the trend tests share: how many queries a trends source runs for some offices
over a period of some days from a first day (at a fixed moment, when given)."""

from contextlib import nullcontext
from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.trends import Granularity, Period


def queries_of(source, offices, first_day, days: int, now=None) -> int:
    period = Period(first_day, first_day + timedelta(days=days - 1), Granularity.DAY)
    clock = time_machine.travel(now, tick=False) if now is not None else nullcontext()
    with clock, CaptureQueriesContext(connection) as run:
        source(offices=offices, period=period)
    return len(run.captured_queries)
