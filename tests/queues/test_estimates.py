"""Waiting estimates: the counter time per ticket from observed times, the replay of
the calling policy over the queue (with paused counters coming back, usual pauses and
the walk-ins to come until the cut-off), and the range around each estimate."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from queues import estimates, selectors
from queues.estimates import (
    CounterState,
    Join,
    arrival_joins,
    arrival_rates,
    lane_cycle_seconds,
    lane_cycle_variation,
    pause_back_in,
    pauses_to_come,
    range_minutes,
    range_shown,
    simulate,
    to_minutes,
    usual_pauses,
    wait_range,
    wait_spread,
)
from queues.models import PauseReason, QueueSettings
from queues.services.calling import ticket_call_next, ticket_finish, ticket_start
from queues.services.counters import (
    counter_close,
    counter_open,
    counter_pause,
    pause_reasons_ensure,
)
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


def test_before_opening_time_the_counters_are_expected_from_then(office_a, counter_factory,
                                                                 clock):
    counter_factory("C")
    clock.move_to(datetime(2022, 7, 1, 7, 45, tzinfo=WIB))
    first, second = walk_in(office_a), walk_in(office_a)
    state = selectors.queue_state(office=office_a)
    estimate = selectors.queue_estimates(state)
    cycle = state.cycle[lanes_of(office_a)["C"].id]
    # The office opens at 08:00, in 15 minutes.
    assert estimate.tickets == {first.pk: 900, second.pk: 900 + cycle}


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


# --- Paused and closed counters --------------------------------------------------


def test_a_paused_counter_is_back_when_its_allowed_minutes_run_out():
    # Paused 10 minutes ago for a reason allowing 45: back in 35.
    assert pause_back_in(paused_for=600, allowed_seconds=2700) == 2100
    # Overdue: expected back shortly, not in the past.
    assert pause_back_in(paused_for=3000, allowed_seconds=2700) == estimates.OVERDUE_BACK_IN
    # Back only after closing time: not expected today.
    assert pause_back_in(paused_for=600, allowed_seconds=2700, until_closing=1800) is None
    assert pause_back_in(paused_for=600, allowed_seconds=2700, until_closing=2400) == 2100


def test_a_counter_coming_back_takes_tickets_from_then():
    counters = [CounterState(lane_ids=(1,)), CounterState(lane_ids=(1,), back_in=900)]
    waits = simulate(counters=counters, queues={1: ["a", "b", "c", "d", "e"]},
                     cycle={1: 600})
    assert waits == {"a": 0, "b": 600, "c": 900, "d": 1200, "e": 1500}
    # Without it, the open counter alone.
    alone = simulate(counters=counters[:1], queues={1: ["a", "b", "c"]}, cycle={1: 600})
    assert alone == {"a": 0, "b": 600, "c": 1200}


def test_a_counter_takes_its_usual_pause_when_next_free():
    # Due in 300 s, 1800 s long: it finishes a (0-600), pauses 600-2400, then calls c.
    counters = [CounterState(lane_ids=(1,), pauses=((300, 1800),))]
    waits = simulate(counters=counters, queues={1: ["a", "b", "c"]}, cycle={1: 600})
    assert waits == {"a": 0, "b": 2400, "c": 3000}


def test_usual_pauses_are_those_of_most_days():
    noon = 12 * 3600
    pauses = [("mon", noon + 120, noon + 2700), ("tue", noon - 300, noon + 2400),
              ("wed", noon + 600, noon + 3300), ("thu", 9 * 3600, 9 * 3600 + 600)]
    # Four days open: the lunch pause (three days) is usual, the 09:00 one (one day) not.
    assert usual_pauses(pauses=pauses, days=4) == [(noon + 120, noon + 120 + 2700)]
    assert usual_pauses(pauses=pauses, days=8) == []
    assert usual_pauses(pauses=[], days=0) == []
    usual = [(noon, noon + 2700)]
    # At 09:00 it is 3 hours away; taken today already, or over, it is not expected.
    assert pauses_to_come(usual=usual, taken_today=[], now=9 * 3600) == ((3 * 3600, 2700),)
    assert pauses_to_come(usual=usual, taken_today=[noon - 900], now=noon) == ()
    assert pauses_to_come(usual=usual, taken_today=[], now=noon + 2700) == ()
    # Past its usual start and not taken yet: due now.
    assert pauses_to_come(usual=usual, taken_today=[9 * 3600], now=noon + 600) == (
        (0.0, 2700),)


# --- Walk-ins to come, until the kiosk stops ------------------------------------------


def test_newcomers_follow_the_pace_of_each_part_of_the_day():
    # 12 an hour for 30 minutes, then 4 an hour: due every 300 s, then every 900 s.
    joins = arrival_joins(rates=[(1800, 12), (3600, 4)], until=7200, ahead=False)
    assert [j.due for j in joins] == [300, 600, 900, 1200, 1500, 1800, 2700, 3600]
    # The kiosk stops at 2000 s: nobody after.
    cut = arrival_joins(rates=[(1800, 12), (3600, 4)], until=2000, ahead=False)
    assert [j.due for j in cut] == [300, 600, 900, 1200, 1500, 1800]


def test_the_recent_days_pace_is_scaled_by_today():
    half_hour = estimates.ARRIVAL_BUCKET_SECONDS
    profile = {16: 10.0, 17: 6.0, 19: 2.0}  # 08:00, 08:30 and 09:30
    # At 08:15 (16.5 parts), as busy as the recent days: the rest of 08:00-08:30 at 20
    # an hour, then 12, nobody 09:00-09:30, then 4.
    rates = arrival_rates(profile=profile, elapsed=16.5 * half_hour, seen_today=5,
                          seen_before=5)
    assert rates == [(900, 20.0), (2700, 12.0), (4500, 0.0), (6300, 4.0)]
    # Twice as busy as they were (shrunk towards theirs by ARRIVAL_SCALE_PRIOR).
    busy = arrival_rates(profile=profile, elapsed=16.5 * half_hour, seen_today=30,
                         seen_before=10)
    assert busy[0] == (900, 20.0 * (30 + 20) / (10 + 20))


# --- The range --------------------------------------------------------------------------


def test_the_range_widens_with_the_wait_and_narrows_with_more_counters():
    def width(wait, counters=1, variation=0.5):
        low, high = wait_range(wait=wait, spread=wait_spread(
            wait=wait, cycle=600, counters=counters, variation=variation))
        return high - low

    assert width(600) < width(1800) < width(3600)
    assert width(3600, counters=3) < width(3600, counters=1)
    assert width(3600, variation=0.2) < width(3600, variation=0.6)
    # The range reaches further above than below, and never below zero.
    low, high = wait_range(wait=1800, spread=300)
    assert (low, high) == (1800 - estimates.RANGE_BELOW * 300, 1800 + estimates.RANGE_ABOVE * 300)
    assert wait_range(wait=60, spread=300)[0] == 0


def test_a_range_is_shown_only_when_wide():
    assert range_minutes(610, 1790) == (10, 30)
    assert range_shown(610, 1790) == (10, 30)
    assert range_shown(600, 600 + estimates.RANGE_SHOWN_FROM * 60) is None
    assert range_shown(0, 59) is None


def test_the_spread_of_service_times_is_learned():
    assert lane_cycle_variation(prior_seconds=600, values=[]) == estimates.VARIATION_PRIOR
    # Ten identical times: halfway from the prior to none.
    assert lane_cycle_variation(prior_seconds=600, values=[500] * 10) == 0.25


# --- From the database ---------------------------------------------------------------


def test_a_counter_on_break_is_expected_back_after_its_reasons_minutes(
        office_a, counter_factory, operator, clock):
    counter = counter_factory("C")
    counter_factory("B")  # another lane's, never opened today: not expected
    counter_open(counter=counter, by=operator)
    pause_reasons_ensure(office_a)
    PauseReason.objects.filter(office=office_a, code="break").update(allowed_minutes=45)
    clock.move_to(datetime(2022, 7, 1, 12, 0, tzinfo=WIB))
    counter_pause(counter=counter, by=operator, reason="break")
    clock.move_to(datetime(2022, 7, 1, 12, 10, tzinfo=WIB))
    first, second = walk_in(office_a), walk_in(office_a)
    state = selectors.queue_state(office=office_a)
    estimate = selectors.queue_estimates(state)
    cycle = state.cycle[lanes_of(office_a)["C"].id]
    # Back at 12:45, 35 minutes from now.
    assert estimate.tickets == {first.pk: 2100, second.pk: 2100 + cycle}
    assert estimate.counters_open[lanes_of(office_a)["C"].id] == 0


def test_a_pause_ending_after_closing_time_and_a_closed_counter_take_nobody(
        office_a, counter_factory, operator, clock):
    counter = counter_factory("C")
    other = counter_factory("C")
    for each in (counter, other):
        counter_open(counter=each, by=operator)
    counter_close(counter=other, by=operator)
    # 14:30, on a 45-minute break: back at 15:15, after closing (15:00).
    pause_reasons_ensure(office_a)
    PauseReason.objects.filter(office=office_a, code="break").update(allowed_minutes=45)
    clock.move_to(datetime(2022, 7, 1, 14, 30, tzinfo=WIB))
    counter_pause(counter=counter, by=operator, reason="break")
    ticket = walk_in(office_a)
    estimate = selectors.queue_estimates(selectors.queue_state(office=office_a))
    assert ticket.pk not in estimate.tickets


def test_walk_ins_are_expected_until_the_cut_off(office_a, counter_factory, clock):
    counter_factory("C")
    lane_c = lanes_of(office_a)["C"]
    clock.move_to(datetime(2022, 7, 1, 8, 15, tzinfo=WIB))
    for _n in range(3):
        walk_in(office_a)
    day = FRIDAY.date()

    def newcomers():
        history = selectors.queue_history(office=office_a, lane_ids=[lane_c.id],
                                          use_cache=False)
        return selectors.arrivals_to_come(office=office_a, day=day,
                                          now=datetime(2022, 7, 1, 8, 15, tzinfo=WIB),
                                          history=history)[lane_c.id]

    # No recent days: 3 in the first 15 minutes, 12 an hour, until closing at 15:00.
    until_closing = newcomers()
    assert len(until_closing) == 81
    assert until_closing[-1].due == 81 * 300
    QueueSettings.objects.update_or_create(office=office_a,
                                           defaults={"walk_in_until": time(8, 45)})
    assert [j.due for j in newcomers()] == [300, 600, 900, 1200, 1500, 1800]


def test_the_counters_usual_pauses_are_learned_from_recent_days(
        office_a, counter_factory, operator, clock):
    counter = counter_factory("C")
    for day in (29, 30):  # Wednesday and Thursday: lunch 12:00-12:45
        clock.move_to(datetime(2022, 6, day, 8, 0, tzinfo=WIB))
        counter_open(counter=counter, by=operator)
        clock.move_to(datetime(2022, 6, day, 12, 0, tzinfo=WIB))
        counter_pause(counter=counter, by=operator, reason="break")
        clock.move_to(datetime(2022, 6, day, 12, 45, tzinfo=WIB))
        counter_open(counter=counter, by=operator)
    clock.move_to(datetime(2022, 7, 1, 9, 0, tzinfo=WIB))
    counter_open(counter=counter, by=operator)
    history = selectors.queue_history(office=office_a, lane_ids=[], use_cache=False)
    assert history.pauses == {counter.pk: [(12 * 3600, 12 * 3600 + 2700)]}
    state = selectors.queue_state(office=office_a)
    assert state.pauses == {counter.pk: ((3 * 3600, 2700),)}


def test_tickets_further_back_have_wider_ranges(office_a, counter_factory, operator, clock):
    counter_factory("C")
    tickets = [walk_in(office_a) for _n in range(4)]
    estimate = selectors.queue_estimates(selectors.queue_state(office=office_a))
    widths = [estimate.ranges[t.pk][1] - estimate.ranges[t.pk][0] for t in tickets]
    assert widths == sorted(widths)
    assert widths[0] < widths[-1]
    assert selectors.wait_range_shown(estimate, tickets[0].pk) is None
    shown = selectors.wait_range_shown(estimate, tickets[-1].pk)
    assert shown == dict(zip(("low", "high"), range_shown(*estimate.ranges[tickets[-1].pk]),
                             strict=True))
    assert shown["low"] < to_minutes(estimate.tickets[tickets[-1].pk]) < shown["high"]
