"""Waiting estimates: how long until a ticket is called.

Plain functions of plain data, so the simulation benchmark
(tests/benchmarks/queues_estimates.py) can measure them:

- `lane_cycle_seconds`: how long a counter is taken by one ticket of a lane, from its
  first call to its end (served, transferred or no-show), from the times observed today
  and on recent days, shrunk towards the catalogue's estimate of the lane's services so
  the first tickets of the day get a sane figure. Today's observations weigh double.
- `booking_show_rate`: the share of the office's recent bookings whose resident checked
  in by the end of the slot, shrunk towards a prior.
- `arrival_joins`: the tickets expected to join a lane later today, at the pace of the
  last hour's arrivals, until closing time.
- `simulate`: replays the calling policy forward with those times. Each open counter
  becomes free when its current ticket is expected to end, then takes the next ticket
  of its first lane with anyone to call: those called before walk-ins (priority,
  bookings in their slot), then the bookings and priority tickets that have joined by
  then, then the walk-ins in turn, then the walk-ins who have joined by then. A
  booking expected later counts for its chance to come. A ticket's estimate is the time
  its counter is expected to call it; the counters serving several lanes stay busy with
  their first lanes' newcomers, as they do.

Counters pausing or opening later are not foreseen; the benchmark reports the error
this leaves.
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


# Before an office has its own history: most residents who book come in their slot.
SHOW_RATE_PRIOR = 0.85
SHOW_RATE_PRIOR_WEIGHT = 20.0


def booking_show_rate(*, on_time: int, total: int) -> float:
    """The chance a booking of today still to come is checked in by its slot's end,
    from `on_time` of `total` recent bookings."""
    return ((SHOW_RATE_PRIOR * SHOW_RATE_PRIOR_WEIGHT + on_time)
            / (SHOW_RATE_PRIOR_WEIGHT + total))


@dataclass(frozen=True)
class CounterState:
    """An open counter: its lanes in order, and the ticket it has now (lane and the
    seconds since that ticket was first called), if any."""

    lane_ids: tuple[int, ...]
    busy_lane_id: int | None = None
    busy_elapsed: float = 0.0


def remaining_seconds(cycle: float, elapsed: float) -> float:
    return max(cycle - elapsed, cycle * RESIDUAL_SHARE)


@dataclass(frozen=True)
class Join:
    """A ticket joining a lane `due` seconds from now: a waiting ticket whose turn
    comes then (`key`), or one expected (`key` None) with the chance `weight` that it
    comes. `ahead`: it is called before the walk-ins in turn (a booking from its slot's
    start, a priority ticket), otherwise after them (a walk-in)."""

    due: float
    ahead: bool
    weight: float = 1.0
    key: object = None


def arrival_joins(*, rate_per_hour: float, until: float, ahead: bool,
                  limit: int = 200) -> list[Join]:
    """Expected newcomers at an even pace from now until `until` seconds from now."""
    if rate_per_hour <= 0 or until <= 0:
        return []
    step = 3600 / rate_per_hour
    return [Join(due=step * n, ahead=ahead)
            for n in range(1, min(int(until / step), limit) + 1)]


def simulate(*, counters: list[CounterState], queues: dict[int, list[object]],
             cycle: dict[int, float], ahead: dict[int, int] | None = None,
             joins: dict[int, list[Join]] | None = None, until: object = None
             ) -> dict[object, float]:
    """Seconds from now until each waiting ticket is called.

    `queues` maps a lane to its waiting tickets (any hashable key) in the policy's
    order; `ahead` to how many of them, at the head, are called before walk-ins;
    `joins` to the tickets joining later (module docstring). Tickets of a lane no
    counter serves are left out of the answer. With `until`, the replay stops once that
    ticket is called.
    """
    ahead, joins = ahead or {}, joins or {}
    answer: dict[object, float] = {}
    lanes_of_queues = set(queues) | set(joins)
    # Per lane, in the order they are called: [0] waiting tickets, [1] bookings waiting
    # for their slot, [2] expected bookings and priority tickets, [3] walk-ins to come.
    lines = {lane: (list(queues.get(lane, ())),
                    sorted((j for j in joins.get(lane, ()) if j.ahead and j.key is not None),
                           key=lambda j: j.due),
                    sorted((j for j in joins.get(lane, ()) if j.ahead and j.key is None),
                           key=lambda j: j.due),
                    sorted((j for j in joins.get(lane, ()) if not j.ahead),
                           key=lambda j: j.due))
             for lane in lanes_of_queues}
    heads = {lane: [0, 0, 0, 0] for lane in lanes_of_queues}
    left = sum(len(line[0]) + len(line[1]) for line in lines.values())

    def peek(lane, which):
        line = lines[lane][which]
        return line[heads[lane][which]] if heads[lane][which] < len(line) else None

    def take(lane, which, free_at) -> tuple[float, bool]:
        item = peek(lane, which)
        heads[lane][which] += 1
        if which == 0:
            answer[item] = free_at
            return 1.0, True
        if item.key is not None:
            answer[item.key] = free_at
            return 1.0, True
        return item.weight, False

    def pick(lane, free_at) -> tuple[float, bool] | None:
        if lane not in lines:
            return None
        waiting, keyed, expected, walk_in = (peek(lane, n) for n in range(4))
        if waiting is not None and heads[lane][0] < ahead.get(lane, 0):
            return take(lane, 0, free_at)
        due = [(j.due, n) for n, j in ((1, keyed), (2, expected))
               if j is not None and j.due <= free_at]
        if due:
            return take(lane, min(due)[1], free_at)
        if waiting is not None:
            return take(lane, 0, free_at)
        if keyed is not None:
            # A booking waiting for its slot is the last one in turn: called now.
            return take(lane, 1, free_at)
        if walk_in is not None and walk_in.due <= free_at:
            return take(lane, 3, free_at)
        return None

    heap = []
    for index, counter in enumerate(counters):
        if not any(lane in lines and (lines[lane][0] or lines[lane][1])
                   for lane in counter.lane_ids):
            continue
        free_at = 0.0
        if counter.busy_lane_id is not None:
            free_at = remaining_seconds(cycle.get(counter.busy_lane_id, DEFAULT_CYCLE),
                                        counter.busy_elapsed)
        heap.append((free_at, index))
    heapq.heapify(heap)
    while heap and left and (until is None or until not in answer):
        free_at, index = heapq.heappop(heap)
        lane_ids = counters[index].lane_ids
        for lane in lane_ids:
            picked = pick(lane, free_at)
            if picked is not None:
                weight, answered = picked
                left -= answered
                heapq.heappush(heap, (free_at + weight * cycle.get(lane, DEFAULT_CYCLE),
                                      index))
                break
        else:
            # Nothing to call now: the counter waits for the next newcomer of its lanes.
            later = [j.due for lane in lane_ids if lane in lines
                     for j in (peek(lane, 2), peek(lane, 3)) if j is not None]
            if later:
                heapq.heappush(heap, (min(later), index))
    return answer


def to_minutes(seconds: float | None) -> int | None:
    """Whole minutes, rounded up: "about 3 minutes" should not turn out to be 3:40."""
    if seconds is None:
        return None
    return max(0, math.ceil(seconds / 60 - 1e-9))
