"""The calling policy: which ticket a counter calls next. One policy for every office;
its two numbers (the fairness cap) are office settings (QueueSettings).

1. A counter serves its lanes in its own order (Loket 2: lane B, then lane A). It
   takes from its first lane that has anyone waiting today, and only from a later lane
   when every earlier one is empty.
2. Within a lane, tickets are called by band, then by time:
     band 0  priority: elderly, disability, pregnant, with a baby (chosen at the kiosk),
             by issue time;
     band 1  bookings checked in by the end of their slot, by the slot's start;
     band 2  everyone else (walk-ins, late bookings), first come first served by issue
             time.
   A booking checked in before its slot has begun waits in band 2 as if it had come at
   its slot's start (walk-ins who came earlier go first) and moves to band 1 when the
   slot begins: an early arrival is not served ahead of the hall before its time.
   A ticket transferred from another lane keeps its original issue time, so it does
   not go to the back of the new lane's queue.
3. Fairness cap: a call of band 0 or 1 while a band-2 ticket is waiting in the lane is
   "ahead of turn". When the lane's last `ahead_cap` calls (by any counter) were all
   ahead of turn and the band-2 ticket that has waited longest has waited at least
   `fairness_wait_minutes`, that ticket is called instead, with the reason "waited
   longest". Priority tickets therefore never starve the others.
4. An operator may call a specific waiting ticket of the counter's lanes (or one that
   missed its call earlier today) out of order only with a reason code
   (OUT_OF_ORDER_REASONS), recorded in the ticket's history and shown on the board.

Every call carries its reason (CallReason), shown on the board beside the ticket, the
counter and the lane, so nobody has to guess why a number was called.

The cap is decided from the committed history; two counters of one lane pressing "call
next" in the same instant decide on the same history, so the cap can be exceeded by at
most the number of simultaneous calls. They never get the same ticket: the claim locks
the ticket row and skips rows locked by the other (queues.services.ticket_call_next).
"""

from datetime import datetime

from django.db.models import Case, F, PositiveSmallIntegerField, Q, Value, When

from queues.models import Band, CallReason

# The order in which the fairness cap picks: the in-turn ticket issued first.
FAIRNESS_ORDER = ("order_at", "id")


def effective_band(*, band: int, order_at: datetime, now: datetime) -> int:
    """The band a waiting ticket is called in at `now` (rule 2)."""
    if band == Band.BOOKING_ON_TIME and order_at > now:
        return Band.IN_TURN
    return band


def lane_order(now: datetime) -> list:
    """`order_by` arguments putting a lane's waiting tickets in calling order at `now`."""
    band = Case(When(band=Band.BOOKING_ON_TIME, order_at__gt=now, then=Value(Band.IN_TURN)),
                default=F("band"), output_field=PositiveSmallIntegerField())
    return [band.asc(), F("order_at").asc(), F("id").asc()]


def in_turn_q(now: datetime) -> Q:
    """Waiting tickets called in band 2 at `now`."""
    return Q(band=Band.IN_TURN) | Q(band=Band.BOOKING_ON_TIME, order_at__gt=now)


def band_for(*, priority: str, booking_on_time: bool) -> int:
    if priority:
        return Band.PRIORITY
    if booking_on_time:
        return Band.BOOKING_ON_TIME
    return Band.IN_TURN


def call_reason(*, band: int, transferred: bool, forced_by_fairness: bool) -> str:
    """Why call-next chose this ticket, as the board shows it."""
    if forced_by_fairness:
        return CallReason.FAIRNESS
    if band == Band.PRIORITY:
        return CallReason.PRIORITY
    if band == Band.BOOKING_ON_TIME:
        return CallReason.BOOKING
    if transferred:
        return CallReason.TRANSFERRED
    return CallReason.NEXT


def cap_reached(recent_ahead_flags: list[bool], cap: int) -> bool:
    """`recent_ahead_flags`: the lane's latest calls, newest first."""
    return len(recent_ahead_flags) >= cap and all(recent_ahead_flags[:cap])
