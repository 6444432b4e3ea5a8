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

from queues.models import Band, CallReason, Ticket


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


def _in_turn_sql(alias: str) -> str:
    """in_turn_q(now) in SQL, for the ticket row `alias`."""
    return (f"({alias}.band = {Band.IN_TURN} OR ({alias}.band = {Band.BOOKING_ON_TIME} "
            f"AND {alias}.order_at > %(now)s))")


def _band_sql(alias: str) -> str:
    """effective_band() in SQL, for the ticket row `alias`."""
    return (f"(CASE WHEN {alias}.band = {Band.BOOKING_ON_TIME} AND {alias}.order_at > %(now)s "
            f"THEN {Band.IN_TURN} ELSE {alias}.band END)")


def call_next_sql(*, lock_clause: str) -> str:
    """Rules 1 to 3 for "call next" as one statement that claims the counter's next
    ticket and marks it called: `UPDATE ... FROM (SELECT ... LIMIT 1 <lock_clause>)
    ... RETURNING` the ticket's columns, `ahead` (the call passes over a ticket
    waiting in turn) and `anyone_to_tell` (a resident waiting in the lane may be due a
    "nearly your turn" message; queues.services.notices.notify_nearly_turn). The
    same SQL runs on SQLite and PostgreSQL; PostgreSQL adds
    `FOR UPDATE OF t SKIP LOCKED` as `lock_clause`, so the conditions on the claimed
    row (waiting, today, this office) are re-checked on its latest version and two
    counters in the same instant take two different tickets.

    How it follows the rules: the counter's lanes are joined in its order (rule 1);
    within a lane the tickets sort by effective band, order time and id (rule 2). A
    lane whose last `cap` calls were all ahead of turn (`capped`) sorts its in-turn
    tickets that waited past the fair limit first (rule 3): that is the ticket the
    cap calls, and when no ticket out of turn is waiting it is also the lane order's
    first, so only the reason differs ("waited longest" only when it passed over
    one). Parameters: counter, office, operator, day, now, fair_before, cap and the
    status and kind names (queues.services.calling)."""
    in_turn_t, in_turn_o = _in_turn_sql("t"), _in_turn_sql("o")
    band_u = _band_sql("queues_ticket")
    columns = ", ".join(f"queues_ticket.{field.column}"
                        for field in Ticket._meta.concrete_fields)
    same_lane = ("o.office_id = %(office)s AND o.lane_id = queues_ticket.lane_id "
                 "AND o.day = %(day)s AND o.status = %(waiting)s")
    # Only this module's constants and the lock clause are interpolated; every value
    # is a parameter.
    return f"""
WITH lanes AS (
    SELECT lane_id, position FROM queues_counterlane WHERE counter_id = %(counter)s
), recent AS (
    SELECT e.lane_id AS lane_id, e.ahead_of_turn AS ahead,
           ROW_NUMBER() OVER (PARTITION BY e.lane_id ORDER BY e.at DESC, e.id DESC) AS n
    FROM queues_ticketevent e
    WHERE e.office_id = %(office)s AND e.day = %(day)s AND e.kind = %(called_kind)s
      AND e.lane_id IN (SELECT lane_id FROM lanes)
), capped AS (
    SELECT lane_id FROM recent WHERE n <= %(cap)s GROUP BY lane_id
    HAVING SUM(CASE WHEN ahead THEN 1 ELSE 0 END) >= %(cap)s
), picked AS (
    SELECT t.id AS picked_id,
           CASE WHEN t.lane_id IN (SELECT lane_id FROM capped) AND {in_turn_t}
                     AND t.order_at <= %(fair_before)s THEN 0 ELSE 1 END AS fair_rank
    FROM queues_ticket t JOIN lanes l ON l.lane_id = t.lane_id
    WHERE t.office_id = %(office)s AND t.day = %(day)s AND t.status = %(waiting)s
    ORDER BY l.position, fair_rank, {_band_sql("t")}, t.order_at, t.id
    LIMIT 1 {lock_clause}
)
UPDATE queues_ticket SET
    status = %(called)s, counter_id = %(counter)s, operator_id = %(operator)s,
    called_at = %(now)s,
    call_reason = CASE
        WHEN picked.fair_rank = 0 AND EXISTS (
            SELECT 1 FROM queues_ticket o WHERE {same_lane} AND NOT {in_turn_o})
            THEN '{CallReason.FAIRNESS}'
        WHEN {band_u} = {Band.PRIORITY} THEN '{CallReason.PRIORITY}'
        WHEN {band_u} = {Band.BOOKING_ON_TIME} THEN '{CallReason.BOOKING}'
        WHEN queues_ticket.transferred_from_id IS NOT NULL THEN '{CallReason.TRANSFERRED}'
        ELSE '{CallReason.NEXT}' END,
    call_count = call_count + 1,
    first_called_at = CASE WHEN call_count = 0 THEN %(now)s ELSE first_called_at END
FROM picked
WHERE queues_ticket.id = picked.picked_id AND queues_ticket.status = %(waiting)s
RETURNING {columns},
    CASE WHEN {band_u} <> {Band.IN_TURN} AND EXISTS (
        SELECT 1 FROM queues_ticket o WHERE {same_lane} AND {in_turn_o}
        AND o.id <> queues_ticket.id) THEN 1 ELSE 0 END AS ahead,
    CASE WHEN EXISTS (
        SELECT 1 FROM queues_ticket o WHERE {same_lane} AND o.resident_id IS NOT NULL
        AND NOT o.ahead_told AND o.id <> queues_ticket.id) THEN 1 ELSE 0 END AS anyone_to_tell
"""  # noqa: S608
