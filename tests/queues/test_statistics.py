"""Figures per day and lane (served, no-shows, waiting and service time median and
p90), and the admin index figures."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from queues import selectors
from queues.services.calling import (
    ticket_call_next,
    ticket_finish,
    ticket_no_show,
    ticket_start,
    ticket_transfer,
)
from queues.services.issuing import ticket_identify
from tests.queues.conftest import lanes_of, walk_in

WIB = ZoneInfo("Asia/Jakarta")


def serve(counter, operator, clock, *, wait, service, outcome="not_served"):
    clock.shift(timedelta(minutes=wait))
    ticket_call_next(counter=counter, by=operator)
    ticket_start(counter=counter, by=operator)
    clock.shift(timedelta(minutes=service))
    ticket_finish(counter=counter, by=operator, outcome=outcome,
                  reason="resident_left" if outcome == "not_served" else "")


def test_statistics_per_day_and_lane(office_a, office_b, counter_factory, operator, operator_b,
                                     resident_a):
    biodata = counter_factory("C", number=1)
    biometric = counter_factory("B", number=2)
    with time_machine.travel(datetime(2022, 7, 1, 8, 0, tzinfo=WIB), tick=False) as clock:
        for _n in range(4):
            walk_in(office_a)
        walk_in(office_a, "B")
        walk_in(office_b)
        serve(biodata, operator, clock, wait=5, service=10)          # C-001: wait 5, 10
        serve(biodata, operator, clock, wait=0, service=20)          # C-002: wait 15, 20
        ticket_call_next(counter=biodata, by=operator)      # C-003: wait 35
        ticket_start(counter=biodata, by=operator)
        ticket_identify(counter=biodata, resident=resident_a, by=operator)
        clock.shift(timedelta(minutes=6))
        ticket_finish(counter=biodata, by=operator, outcome="served")
        ticket_call_next(counter=biodata, by=operator)      # C-004: wait 41
        clock.shift(timedelta(minutes=2))
        ticket_transfer(counter=biodata, to_lane=lanes_of(office_a)["B"], by=operator)
        ticket_call_next(counter=biometric, by=operator)    # C-004 in B: wait 0
        ticket_no_show(counter=biometric, by=operator)
    with time_machine.travel(datetime(2022, 7, 4, 8, 0, tzinfo=WIB), tick=False) as clock:
        walk_in(office_a)
        serve(biodata, operator, clock, wait=3, service=7)
    rows = selectors.lane_day_statistics(office=office_a, date_from=date(2022, 7, 1),
                                         date_to=date(2022, 7, 4))
    got = [(str(r["day"]), r["lane"].letter, r["issued"], r["served"], r["partly_served"],
            r["not_served"], r["referred"], r["no_shows"], r["wait_median"], r["wait_p90"],
            r["service_median"], r["service_p90"]) for r in rows]
    assert got == [
        ("2022-07-01", "B", 1, 0, 0, 0, 0, 1, 0.0, 0.0, None, None),
        # Waits 5, 15, 35, 41 min: median 25, p90 39.2. Services 10, 20, 6 (the
        # transferred ticket was never started): median 10, p90 18.
        ("2022-07-01", "C", 4, 1, 0, 2, 1, 0, 25.0, 39.2, 10.0, 18.0),
        ("2022-07-04", "C", 1, 0, 0, 1, 0, 0, 3.0, 3.0, 7.0, 7.0),
    ]
    assert selectors.lane_day_statistics(office=office_b, date_from=date(2022, 7, 1),
                                         date_to=date(2022, 7, 4))[0]["issued"] == 1
    figures = dict(selectors.dashboard_figures(office=office_a, day=date(2022, 7, 1)))
    assert list(figures.values()) == [5, 1, 1, 15.0]


def test_percentiles_interpolate_between_ranks():
    assert selectors.percentile([], 50) is None
    assert selectors.percentile([7], 90) == 7
    assert selectors.percentile([1, 2, 3, 4], 50) == 2.5
    assert selectors.percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90) == 91
