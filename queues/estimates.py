"""Waiting estimates: how long until a ticket is called.

Two parts, both plain functions of plain data so the simulation benchmark
(tests/benchmarks/queues_estimates.py) can measure them:

- `lane_cycle_seconds`: how long a counter is taken by one ticket of a lane, from its
  first call to its end (served, transferred or no-show), from the times observed today
  and on recent days, shrunk towards the catalogue's estimate of the lane's services so
  the first tickets of the day get a sane figure. Today's observations weigh double.
- `simulate`: replays the calling policy forward with those times: each open counter
  becomes free when its current ticket is expected to end, then takes the next ticket
  of its first non-empty lane, and so on. A ticket's estimate is the time its counter
  is expected to call it. Counters serving several lanes are handled as they work.

Arrivals after now (a priority ticket, an on-time booking) are not foreseen; the
benchmark reports the error this leaves.
"""

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

# Pseudo-observations of the catalogue's estimate: a few real ones outweigh it.
PRIOR_WEIGHT = 3.0
TODAY_WEIGHT = 2.0
EARLIER_WEIGHT = 1.0
# Observations are clipped to this range: a ticket left open over lunch or closed in a
# second by mistake says nothing about the next one.
MIN_CYCLE = 30.0
MAX_CYCLE_FACTOR = 4.0
# A ticket served longer than expected is expected to need this share of the mean more.
RESIDUAL_SHARE = 0.3
DEFAULT_CYCLE = 10 * 60.0


def lane_cycle_seconds(*, prior_seconds: float, today: Iterable[float],
                       earlier: Iterable[float]) -> float:
    """The expected counter time of one ticket of a lane, in seconds."""
    prior = prior_seconds if prior_seconds > 0 else DEFAULT_CYCLE
    high = prior * MAX_CYCLE_FACTOR
    total, weight = prior * PRIOR_WEIGHT, PRIOR_WEIGHT
    for values, w in ((today, TODAY_WEIGHT), (earlier, EARLIER_WEIGHT)):
        for value in values:
            total += min(max(float(value), MIN_CYCLE), high) * w
            weight += w
    return total / weight


@dataclass(frozen=True)
class CounterState:
    """An open counter: its lanes in order, and the ticket it has now (lane and the
    seconds since that ticket was first called), if any."""

    lane_ids: tuple[int, ...]
    busy_lane_id: int | None = None
    busy_elapsed: float = 0.0


def remaining_seconds(cycle: float, elapsed: float) -> float:
    return max(cycle - elapsed, cycle * RESIDUAL_SHARE)


def simulate(*, counters: list[CounterState], queues: dict[int, list[object]],
             cycle: dict[int, float]) -> dict[object, float]:
    """Seconds from now until each waiting ticket is called.

    `queues` maps a lane to its waiting tickets (any hashable key) in the policy's
    order. Tickets of a lane no counter serves are left out of the answer.
    """
    pending = {lane: list(tickets) for lane, tickets in queues.items() if tickets}
    heads = dict.fromkeys(pending, 0)
    answer: dict[object, float] = {}
    heap = []
    for index, counter in enumerate(counters):
        if not any(lane in pending for lane in counter.lane_ids):
            continue
        free_at = 0.0
        if counter.busy_lane_id is not None:
            free_at = remaining_seconds(cycle.get(counter.busy_lane_id, DEFAULT_CYCLE),
                                        counter.busy_elapsed)
        heap.append((free_at, index))
    heapq.heapify(heap)
    while heap:
        free_at, index = heapq.heappop(heap)
        for lane in counters[index].lane_ids:
            tickets = pending.get(lane)
            if tickets is not None and heads[lane] < len(tickets):
                answer[tickets[heads[lane]]] = free_at
                heads[lane] += 1
                heapq.heappush(heap, (free_at + cycle.get(lane, DEFAULT_CYCLE), index))
                break
    return answer


def to_minutes(seconds: float | None) -> int | None:
    """Whole minutes, rounded up: "about 3 minutes" should not turn out to be 3:40."""
    if seconds is None:
        return None
    return max(0, math.ceil(seconds / 60 - 1e-9))
