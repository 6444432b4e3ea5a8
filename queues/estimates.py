"""Waiting estimates: how long until a ticket is called.

Plain functions of plain data, so the simulation benchmark
(tests/benchmarks/queues_estimates.py) can measure them:

- `lane_cycle_seconds`: how long a counter is taken by one ticket of a lane, from its
  first call to its end (served, transferred or no-show), from the times observed today
  and on recent days, shrunk towards the catalogue's estimate of the lane's services so
  the first tickets of the day get a sane figure. Today's observations weigh double.
- `booking_show_rate`: the share of the office's recent bookings whose resident checked
  in by the end of the slot, shrunk towards a prior.
- `lane_cycle_variation`: how much those times spread (their coefficient of
  variation), shrunk towards a prior.
- `arrival_rates` and `arrival_joins`: the tickets expected to join a lane later today
  until the kiosk stops giving walk-in tickets (closing time, or the office's cut-off):
  at the pace the office's recent days had at each time of day, scaled by how busy
  today has been so far compared with them; with no recent days, at the pace of the
  last hour.
- `usual_pauses` and `pauses_to_come`: the pauses a counter takes most days at about
  the same time (a lunch break in turn), learned from its recent days; one not taken
  yet today is foreseen, so a morning estimate already knows that fewer counters will
  work for a while after noon.
- `pause_back_in`: when a paused counter takes tickets again: once its pause reason's
  allowed minutes run out (a counter on a 45-minute break since 12:00 is back at
  12:45), shortly when it is overdue, not today when that is after closing time.
- `simulate`: replays the calling policy forward with those times. Each open counter
  becomes free when its current ticket is expected to end, a paused one when it is
  back; closed counters are not expected back today. A free counter takes its usual
  pause if one is due, or the next ticket of its first lane with anyone to call: those
  called before walk-ins (priority, bookings in their slot), then the bookings and
  priority tickets that have joined by then, then the walk-ins in turn, then the
  walk-ins who have joined by then. A booking expected later counts for its chance to
  come. A ticket's estimate is the time its counter is expected to call it; the
  counters serving several lanes stay busy with their first lanes' newcomers, as they
  do.
- `wait_spread`, `wait_range` and `range_shown`: how sure an estimate is. The time
  until the tickets ahead are done adds up their service times, shared by the lane's
  counters, so its spread grows with the square root of the wait, the lane's cycle and
  the spread of its service times, and shrinks with more counters; what the replay
  cannot know (priority tickets and bookings arriving, counters helping other lanes
  sooner or later, pauses not usual) adds a share of the wait, and the next minutes'
  surprises a floor. The range is calibrated on the simulated busy days of the
  benchmark so that about 80 % of the waits end inside it; one wider than
  `RANGE_SHOWN_FROM` minutes is shown to the resident instead of a single figure.

Pauses an office does not usually take, and counters opening later, are not foreseen;
the benchmark reports the error this leaves.
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


# Before a lane has its own history: service times spread about this much (a
# coefficient of variation), worth this many observations.
VARIATION_PRIOR = 0.5
VARIATION_PRIOR_WEIGHT = 10.0


def lane_cycle_variation(*, prior_seconds: float, values: Iterable[float]) -> float:
    """The coefficient of variation (standard deviation / mean) of a lane's observed
    counter times, clipped as `lane_cycle_seconds` clips them, shrunk towards
    VARIATION_PRIOR."""
    prior = prior_seconds if prior_seconds > 0 else DEFAULT_CYCLE
    high = prior * MAX_CYCLE_FACTOR
    clipped = [min(max(float(value), MIN_CYCLE), high) for value in values]
    if len(clipped) < 2:
        return VARIATION_PRIOR
    mean = sum(clipped) / len(clipped)
    variance = sum((value - mean) ** 2 for value in clipped) / (len(clipped) - 1)
    observed = math.sqrt(variance) / mean
    return ((VARIATION_PRIOR * VARIATION_PRIOR_WEIGHT + observed * len(clipped))
            / (VARIATION_PRIOR_WEIGHT + len(clipped)))


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
    """A counter expected to take tickets: its lanes in order, the ticket it has now
    (lane and the seconds since that ticket was first called), if any, and the seconds
    from now until it takes tickets (`back_in`: 0 when open, the rest of its allowed
    pause when paused)."""

    lane_ids: tuple[int, ...]
    busy_lane_id: int | None = None
    busy_elapsed: float = 0.0
    back_in: float = 0.0
    # The pauses it is expected to take, in time order: (seconds from now it is due,
    # seconds it lasts). It takes one when it is next free from then on.
    pauses: tuple[tuple[float, float], ...] = ()


# A counter paused longer than its reason allows is expected back about this soon.
OVERDUE_BACK_IN = 120.0


def pause_back_in(*, paused_for: float, allowed_seconds: float,
                  until_closing: float | None = None) -> float | None:
    """Seconds from now until a counter paused `paused_for` seconds ago for a reason
    allowing `allowed_seconds` takes tickets again; None when that is not before
    closing time (`until_closing` seconds from now)."""
    back_in = allowed_seconds - paused_for
    if back_in <= 0:
        back_in = OVERDUE_BACK_IN
    if until_closing is not None and back_in >= until_closing:
        return None
    return back_in


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


def arrival_joins(*, rate_per_hour: float = 0.0, until: float, ahead: bool,
                  rates: list[tuple[float, float]] | None = None,
                  limit: int = 200) -> list[Join]:
    """Expected newcomers from now until `until` seconds from now: at an even pace of
    `rate_per_hour`, or at the pace of each part of `rates`, (ends, rate per hour)
    pairs in time order (a part runs from the end of the one before, or now, to its
    `ends` seconds from now). The n-th newcomer is due when n are expected by then."""
    if rates is None:
        rates = [(until, rate_per_hour)]
    joins, expected, start = [], 0.0, 0.0
    for ends, rate in rates:
        ends = min(ends, until)
        if ends <= start:
            continue
        if rate > 0:
            step = 3600 / rate
            # Newcomers due in this part: the next whole count after `expected`.
            while len(joins) < limit:
                due = start + (len(joins) + 1 - expected) * step
                if due > ends + 1e-9:
                    break
                joins.append(Join(due=due, ahead=ahead))
            expected += (ends - start) / step
        start = ends
    return joins


# A counter's pause is usual when on at least USUAL_PAUSE_SHARE of its recent days it
# paused within this of the same time of day; a pause taken today within it is that
# day's.
USUAL_PAUSE_WINDOW = 45 * 60.0
USUAL_PAUSE_SHARE = 0.5


def usual_pauses(*, pauses: list[tuple[object, float, float]], days: int
                 ) -> list[tuple[float, float]]:
    """The pauses a counter takes most days: (start, end) in seconds from midnight,
    the medians of the recent days' pauses near that time, from its pauses of the
    recent days (day, start, end) and the number of those days it was open."""
    if days <= 0:
        return []
    usual: list[tuple[float, float]] = []
    for _day, start, _end in sorted(pauses, key=lambda p: p[1]):
        if any(abs(start - other) <= USUAL_PAUSE_WINDOW for other, _e in usual):
            continue
        near = [p for p in pauses if abs(p[1] - start) <= USUAL_PAUSE_WINDOW]
        if len({p[0] for p in near}) < USUAL_PAUSE_SHARE * days:
            continue
        begins = _median([p[1] for p in near])
        usual.append((begins, begins + _median([p[2] - p[1] for p in near])))
    return usual


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def pauses_to_come(*, usual: list[tuple[float, float]], taken_today: list[float],
                   now: float) -> tuple[tuple[float, float], ...]:
    """The usual pauses (seconds from midnight) a counter has not taken today
    (`taken_today`: when today's pauses began) and whose usual end is still to come, as
    CounterState.pauses at `now` (seconds from midnight)."""
    return tuple((max(start - now, 0.0), end - start) for start, end in usual
                 if end > now and not any(abs(taken - start) <= USUAL_PAUSE_WINDOW
                                          for taken in taken_today))


# Recent days' arrivals are counted in parts of the day this long.
ARRIVAL_BUCKET_SECONDS = 30 * 60
# How much today's pace so far (against the recent days' at the same hours) scales
# the recent days' pace to come: it is shrunk towards 1 by this many tickets.
ARRIVAL_SCALE_PRIOR = 20.0


def arrival_rates(*, profile: dict[int, float], elapsed: float, seen_today: float,
                  seen_before: float) -> list[tuple[float, float]]:
    """The pace of newcomers to come, as `arrival_joins` takes it, from the recent
    days' average count per part of the day (`profile`: part number, counted from the
    office's opening, -> tickets), `elapsed` seconds since opening, and the tickets
    seen today so far against those the recent days had by then (`seen_before`)."""
    scale = ((seen_today + ARRIVAL_SCALE_PRIOR) / (seen_before + ARRIVAL_SCALE_PRIOR))
    rates = []
    for part in sorted(profile):
        start, ends = part * ARRIVAL_BUCKET_SECONDS, (part + 1) * ARRIVAL_BUCKET_SECONDS
        if ends <= elapsed:
            continue
        rate = profile[part] * scale * 3600 / ARRIVAL_BUCKET_SECONDS
        if start > elapsed and (not rates or rates[-1][0] < start - elapsed):
            rates.append((start - elapsed, 0.0))  # a part of the day with nobody
        rates.append((ends - elapsed, rate))
    return rates


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
        free_at = counter.back_in
        if counter.busy_lane_id is not None:
            free_at = max(free_at, remaining_seconds(
                cycle.get(counter.busy_lane_id, DEFAULT_CYCLE), counter.busy_elapsed))
        heap.append((free_at, index))
    heapq.heapify(heap)
    next_pause = [0] * len(counters)
    while heap and left and (until is None or until not in answer):
        free_at, index = heapq.heappop(heap)
        pauses = counters[index].pauses
        if next_pause[index] < len(pauses) and pauses[next_pause[index]][0] <= free_at:
            # Its usual pause is due: it takes it now that it is free.
            heapq.heappush(heap, (free_at + pauses[next_pause[index]][1], index))
            next_pause[index] += 1
            continue
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


# The range's calibration, on the simulated busy days of the benchmark
# (tests/benchmarks/queues_estimates.py --dump): the share of the wait the replay
# cannot foresee, a floor for the next minutes' surprises (the ticket at the counter
# running long, a booking arriving), and how many spreads the range reaches below and
# above the estimate. Waits run longer more often than shorter (a long service, a pause,
# bookings arriving), so the range reaches further above.
MODEL_SHARE = 0.2
SPREAD_FLOOR = 4 * 60.0
RANGE_BELOW = 1.2
RANGE_ABOVE = 1.8
# A resident is shown the range, not the single figure, when it is wider than this
# many minutes. With SPREAD_FLOOR every range is about ten minutes wide at least, so the
# first few in line keep seeing one figure ("about 4 minutes").
RANGE_SHOWN_FROM = 15


def wait_spread(*, wait: float, cycle: float, counters: int, variation: float) -> float:
    """The standard deviation of a wait estimated at `wait` seconds, in seconds: the
    service times of the tickets ahead (about wait / cycle x counters of them, each
    spreading by `variation` x cycle, shared by `counters`), MODEL_SHARE of the wait
    for what the replay cannot know (module docstring), and SPREAD_FLOOR."""
    counters = max(counters, 1)
    wait = max(wait, 0.0)
    service = variation ** 2 * cycle * wait / counters
    return math.sqrt(service + (MODEL_SHARE * wait) ** 2 + SPREAD_FLOOR ** 2)


def wait_range(*, wait: float, spread: float) -> tuple[float, float]:
    """The range (low, high) in seconds in which the wait is expected to end, about
    80 % of the time."""
    return max(0.0, wait - RANGE_BELOW * spread), wait + RANGE_ABOVE * spread


def range_minutes(low: float, high: float) -> tuple[int, int]:
    """A range in whole minutes: the low end rounded down, the high end up."""
    return max(0, math.floor(low / 60 + 1e-9)), to_minutes(high)


def range_shown(low: float, high: float) -> tuple[int, int] | None:
    """The range in whole minutes when it is wider than RANGE_SHOWN_FROM minutes,
    otherwise None: the single figure says enough."""
    low_minutes, high_minutes = range_minutes(low, high)
    if high_minutes - low_minutes <= RANGE_SHOWN_FROM:
        return None
    return low_minutes, high_minutes


def to_minutes(seconds: float | None) -> int | None:
    """Whole minutes, rounded up: "about 3 minutes" should not turn out to be 3:40."""
    if seconds is None:
        return None
    return max(0, math.ceil(seconds / 60 - 1e-9))
