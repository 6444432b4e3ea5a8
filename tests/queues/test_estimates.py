"""Waiting estimates: the counter time per ticket from observed times, and the replay
of the calling policy over the queue."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from queues import estimates, selectors
from queues.estimates import (
    CounterState,
    Join,
    arrival_joins,
    lane_cycle_seconds,
    simulate,
    to_minutes,
)
from queues.services.calling import ticket_call_next, ticket_finish, ticket_start
from tests.queues.conftest import lanes_of, walk_in

WIB = ZoneInfo("Asia/Jakarta")
FRIDAY = datetime(2022, 7, 1, 8, 0, tzinfo=WIB)


def test_with_nothing_observed_the_catalogue_estimate_is_used():
    assert lane_cycle_seconds(prior_seconds=900, today=[], earlier=[]) == 900
    assert lane_cycle_seconds(prior_seconds=0, today=[], earlier=[]) == estimates.DEFAULT_CYCLE


def test_observations_outweigh_the_catalogue_and_today_weighs_double():
    # (3 * 900 + 2 * (300 + 300) + 1 * 600) / (3 + 4 + 1) = 562.5
    assert lane_cycle_seconds(prior_seconds=900, today=[300, 300], earlier=[600]) == 562.5


def test_outliers_are_clipped():
    # 10 s counts as 30 s; 5 hours as 4 x 600 s.
    assert lane_cycle_seconds(prior_seconds=600, today=[10], earlier=[18000]) == (
        (3 * 600 + 2 * 30 + 2400) / 6)


def test_one_counter_one_lane_calls_one_after_another():
    waits = simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a", "b", "c"]},
                     cycle={1: 600})
    assert waits == {"a": 0, "b": 600, "c": 1200}
    assert simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a", "b", "c"]},
                    cycle={1: 600}, until="b") == {"a": 0, "b": 600}


def test_a_busy_counter_finishes_its_ticket_first():
    waits = simulate(counters=[CounterState(lane_ids=(1,), busy_lane_id=1, busy_elapsed=200)],
                     queues={1: ["a", "b"]}, cycle={1: 600})
    assert waits == {"a": 400, "b": 1000}
    # A ticket served longer than expected still takes a share of the mean.
    late = simulate(counters=[CounterState(lane_ids=(1,), busy_lane_id=1, busy_elapsed=900)],
                    queues={1: ["a"]}, cycle={1: 600})
    assert late == {"a": 180}


def test_counters_take_their_first_lane_first():
    counters = [CounterState(lane_ids=(1,)), CounterState(lane_ids=(2, 1))]
    waits = simulate(counters=counters, queues={1: ["a1", "a2", "a3"], 2: ["b1"]},
                     cycle={1: 600, 2: 300})
    # Counter 2 serves b1 first (0-300), then helps lane 1 from 300 on.
    assert waits == {"a1": 0, "b1": 0, "a2": 300, "a3": 600}


def test_tickets_of_a_lane_nobody_serves_have_no_estimate():
    waits = simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a"], 2: ["b"]},
                     cycle={1: 600, 2: 600})
    assert waits == {"a": 0}
    assert to_minutes(None) is None
    assert [to_minutes(s) for s in (0, 1, 60, 61, 599.9)] == [0, 1, 1, 2, 10]


def test_a_booking_to_come_is_called_before_the_walk_ins_from_its_slot():
    # One counter, 600 s a ticket; a booking expected in 900 s, certain to come.
    waits = simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a", "b", "c"]},
                     cycle={1: 600}, joins={1: [Join(due=900, ahead=True)]})
    # a 0-600, b 600-1200; at 1200 the booking (due since 900) goes first: c at 1800.
    assert waits == {"a": 0, "b": 600, "c": 1800}
    # Half likely to come: it takes half a cycle.
    half = simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a", "b", "c"]},
                    cycle={1: 600}, joins={1: [Join(due=900, ahead=True, weight=0.5)]})
    assert half == {"a": 0, "b": 600, "c": 1500}


def test_tickets_ahead_go_before_a_booking_due_and_it_before_walk_ins():
    waits = simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["p", "a"]},
                     cycle={1: 600}, ahead={1: 1}, joins={1: [Join(due=0, ahead=True)]})
    assert waits == {"p": 0, "a": 1200}


def test_a_booking_waiting_for_its_slot_is_called_in_turn_if_the_hall_is_empty():
    joins = {1: [Join(due=3000, ahead=True, key="early")]}
    waits = simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a", "b"]},
                     cycle={1: 600}, joins=joins)
    assert waits == {"a": 0, "b": 600, "early": 1200}
    # Its slot starts before the walk-ins' turn: it goes first from then on.
    joins = {1: [Join(due=300, ahead=True, key="early")]}
    waits = simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a", "b"]},
                     cycle={1: 600}, joins=joins)
    assert waits == {"a": 0, "early": 600, "b": 1200}


def test_newcomers_keep_a_counter_on_its_first_lane():
    # Counter 2 serves lane 2 first, then lane 1. Lane 2's newcomers every 300 s keep
    # it busy, so lane 1 waits for counter 1 alone.
    counters = [CounterState(lane_ids=(1,)), CounterState(lane_ids=(2, 1))]
    queues = {1: ["a1", "a2", "a3"], 2: ["b1"]}
    assert simulate(counters=counters, queues=queues, cycle={1: 600, 2: 300}) == {
        "a1": 0, "b1": 0, "a2": 300, "a3": 600}
    newcomers = {2: arrival_joins(rate_per_hour=12, until=3600, ahead=False)}
    assert [j.due for j in newcomers[2]] == [300 * n for n in range(1, 13)]
    assert simulate(counters=counters, queues=queues, cycle={1: 600, 2: 300},
                    joins=newcomers) == {"a1": 0, "b1": 0, "a2": 600, "a3": 1200}
    # Priority newcomers of a lane go before its waiting walk-ins.
    priority = {1: arrival_joins(rate_per_hour=6, until=900, ahead=True)}  # one, at 600 s
    assert simulate(counters=[CounterState(lane_ids=(1,))], queues={1: ["a", "b"]},
                    cycle={1: 600}, joins=priority) == {"a": 0, "b": 1200}


def test_the_show_rate_learns_from_the_office_bookings():
    assert estimates.booking_show_rate(on_time=0, total=0) == 0.85
    assert estimates.booking_show_rate(on_time=60, total=80) == (0.85 * 20 + 60) / 100


@pytest.fixture
def clock():
    with time_machine.travel(FRIDAY, tick=False) as traveller:
        yield traveller


def test_the_office_estimates_learn_from_todays_service_times(office_a, counter_factory,
                                                              operator, clock):
    counter = counter_factory("C")
    lane_c = lanes_of(office_a)["C"]
    # KTP_TTD_FOTO and the other lane C services: the catalogue's mean.
    prior = selectors.lane_cycles(office=office_a, lane_ids=[lane_c.id], use_cache=False)
    for _n in range(3):
        walk_in(office_a)
    for _n in range(2):
        ticket_call_next(counter=counter, by=operator)
        ticket_start(counter=counter, by=operator)
        clock.shift(timedelta(minutes=4))
        ticket_finish(counter=counter, by=operator, outcome="not_served",
                      reason="resident_left")
    learned = selectors.lane_cycles(office=office_a, lane_ids=[lane_c.id], use_cache=False)
    assert learned[lane_c.id] == (3 * prior[lane_c.id] + 2 * 240 * 2) / 7
    state = selectors.queue_state(office=office_a)
    state.cycle = learned
    estimate = selectors.queue_estimates(state)
    third = state.waiting[lane_c.id][0][0]
    assert estimate.tickets == {third: 0}
    assert estimate.new_ticket[lane_c.id] == learned[lane_c.id]
    assert estimate.counters_open[lane_c.id] == 1


def test_before_any_counter_opens_all_counters_are_assumed(office_a, counter_factory, clock):
    counter_factory("C")
    counter_factory("C")
    lane_c = lanes_of(office_a)["C"]
    for _n in range(3):
        walk_in(office_a)
    state = selectors.queue_state(office=office_a)
    estimate = selectors.queue_estimates(state)
    cycle = state.cycle[lane_c.id]
    assert sorted(estimate.tickets.values()) == [0, 0, cycle]
    assert estimate.counters_open[lane_c.id] == 0
