"""When the kiosk gives no new walk-in ticket in a lane, and what the resident is told.

A lane takes no walk-in now (checked in this order):
- closed_day: the office is closed today (its week, a national holiday, a closure);
- outside_hours: before the kiosk starts (ISSUING_STARTS_BEFORE_OPENING before the
  office opens), or from closing time on;
- cut_off: from the office's QueueSettings.walk_in_until (office time) on;
- quota_reached: the lane's LaneQuota of walk-in tickets today is used up;
- past_closing: a ticket taken now would be called after closing time, by the waiting
  estimates (queues.selectors.queue_estimates: `new_ticket`) of the queue as it
  stands: the tickets waiting and at the counters, and the bookings still to come.
  The newcomers the estimates foresee at the last hour's pace are left out: a
  resident at the kiosk is not refused for people who may come later (a few priority
  tickets in the first minutes after opening foresee priority newcomers all day, who
  would be called before any walk-in). No estimate (no counter serves the lane)
  refuses nothing.

A refusal says when to come back and, unless that is later today, offers the lane's
next free booking times (booked in the e-Open app or at the front desk). Bookings are
never refused: ticket_check_in does not ask here. Priority walk-ins follow the same
limits as the others.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.db.models import Count
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from queues import selectors
from queues.models import LaneQuota, QueueSettings, TicketEvent, TicketEventKind
from registry.api.fields import office_local_iso
from registry.appointments.selectors import slots_bookable
from registry.calendar import (
    office_hours_on,
    office_local,
    office_next_working_day,
    office_zone,
)
from registry.errors import Conflict
from registry.models import Lane, Office, Service

# The kiosk gives numbers from an hour before the office opens (07:00 for 08:00), so
# the residents queueing at the door are called in the order they came; the counters
# call from opening. The real Kota Bekasi morning (issue 14) starts at 07:00.
ISSUING_STARTS_BEFORE_OPENING = timedelta(hours=1)
# How many of the lane's next free booking times a refusal offers.
FREE_TIMES_OFFERED = 3


class RefusalReason(StrEnum):
    CLOSED_DAY = "closed_day"
    OUTSIDE_HOURS = "outside_hours"
    CUT_OFF = "cut_off"
    QUOTA_REACHED = "quota_reached"
    PAST_CLOSING = "past_closing"


# The reasons that hold for every lane of the office alike.
OFFICE_WIDE = frozenset({RefusalReason.CLOSED_DAY, RefusalReason.OUTSIDE_HOURS,
                         RefusalReason.CUT_OFF})


@dataclass(frozen=True)
class FreeTime:
    starts_at: datetime
    ends_at: datetime
    text: str  # "Senin, 29 Juni 2026 08:00"


@dataclass(frozen=True)
class WalkInRefusal:
    """Why `lane` takes no walk-in now, when to come back, and the times to book, in
    the language active when it was made."""

    lane: Lane
    reason: RefusalReason
    why: str
    come_back: str
    come_back_at: datetime | None
    book: str
    free_times: tuple[FreeTime, ...]

    @property
    def office_wide(self) -> bool:
        return self.reason in OFFICE_WIDE

    @property
    def message(self) -> str:
        return " ".join(part for part in (self.why, self.come_back, self.book) if part)

    def details(self, office: Office) -> dict:
        """What the API answers besides the message and the code."""
        return {
            "reason": str(self.reason), "lane": self.lane.letter,
            "come_back_at": office_local_iso(self.come_back_at, office),
            "free_times": [{"starts_at": office_local_iso(free.starts_at, office),
                            "ends_at": office_local_iso(free.ends_at, office),
                            "text": free.text} for free in self.free_times],
        }

    def error(self, office: Office) -> Conflict:
        return Conflict(self.message, "walk_in_refused", extra=self.details(office))


def _hhmm(moment: datetime, office: Office) -> str:
    return f"{moment.astimezone(office_zone(office)):%H:%M}"


def _next_start(office: Office, today: date) -> datetime | None:
    """When the kiosk starts on the office's next working day; None when it has none."""
    try:
        day = office_next_working_day(office, today)
    except ValueError:
        return None
    hours = office_hours_on(office, day)
    return office_local(office, day, hours.opens) - ISSUING_STARTS_BEFORE_OPENING


def _come_back(office: Office, start: datetime | None, today: date) -> str:
    if start is None:
        return ""
    local = start.astimezone(office_zone(office))
    if local.date() == today:
        return _("Come back at %(time)s.") % {"time": _hhmm(start, office)}
    return _("Come back on %(day)s from %(time)s.") % {
        "day": date_format(local.date(), "l, j F Y"), "time": _hhmm(start, office)}


def _free_times(office: Office, lane_ids: list[int], now: datetime
                ) -> dict[int, tuple[FreeTime, ...]]:
    """The next free booking times of each lane (its slots are shared by its
    services), from the first day residents may book on."""
    service_of_lane = {}
    for service in Service.objects.filter(office=office, lane_id__in=lane_ids,
                                          is_active=True).order_by("lane_id", "id"):
        service_of_lane.setdefault(service.lane_id, service)
    found = {}
    for lane_id, service in service_of_lane.items():
        found[lane_id] = tuple(
            FreeTime(starts_at=slot.starts_at, ends_at=slot.ends_at,
                     text=f"{date_format(slot.date, 'l, j F Y')} {slot.start:%H:%M}")
            for slot in slots_bookable(office=office, service=service,
                                       now=now)[:FREE_TIMES_OFFERED])
    return found


def lane_walk_ins_today(*, office: Office, lane_ids: list[int], day: date) -> dict[int, int]:
    """Walk-in tickets issued today per lane (their lane when issued; bookings' tickets
    are checked in, not issued, and never count)."""
    return dict(TicketEvent.objects.filter(
        office=office, day=day, kind=TicketEventKind.ISSUED, lane_id__in=lane_ids)
        .values("lane_id").annotate(n=Count("id")).values_list("lane_id", "n"))


def _lane_quotas(office: Office, lane_ids: list[int]) -> dict[int, int]:
    return dict(LaneQuota.objects.filter(office=office, lane_id__in=lane_ids)
                .values_list("lane_id", "daily_walk_ins"))


def _waits_as_it_stands(office: Office, now: datetime,
                        state: selectors.QueueState | None) -> dict[int, float | None]:
    """Lane id -> seconds until a ticket taken now would be called, foreseeing the
    bookings still to come but no other newcomers."""
    state = state or selectors.queue_state(office=office, now=now)
    history = selectors.queue_history(office=office, lane_ids=[lane.id for lane in state.lanes],
                                      now=state.now)
    # The joins with a key are tickets already waiting (bookings before their slot).
    joins = {lane_id: [join for join in lane_joins if join.key is not None]
             for lane_id, lane_joins in state.joins.items()}
    for lane_id, booked in selectors.bookings_to_come(
            office=office, day=state.day, now=state.now,
            show_rate=history.show_rate).items():
        joins.setdefault(lane_id, []).extend(booked)
    return selectors.queue_estimates(replace(state, joins=joins)).new_ticket


def walk_in_refusals(*, office: Office, lanes: list[Lane], now: datetime | None = None,
                     state: selectors.QueueState | None = None
                     ) -> dict[int, WalkInRefusal]:
    """Lane id -> why that lane of `office` takes no walk-in ticket now, for the lanes
    refused. `state` is today's queue_state (at `now`) when the caller has it;
    otherwise it is read when the limits before the wait leave a lane open."""
    now = now or timezone.now()
    local = now.astimezone(office_zone(office))
    today = local.date()
    lanes = [lane for lane in lanes if lane.office_id == office.id]
    if not lanes:
        return {}
    hours = office_hours_on(office, today)
    why: dict[int, tuple[RefusalReason, str]] = {}
    come_back_at = None
    if hours is None:
        reason = (RefusalReason.CLOSED_DAY, _("The office is closed today."))
        why = dict.fromkeys((lane.id for lane in lanes), reason)
        come_back_at = _next_start(office, today)
    else:
        starts_at = office_local(office, today, hours.opens) - ISSUING_STARTS_BEFORE_OPENING
        closes_at = office_local(office, today, hours.closes)
        settings = QueueSettings.objects.filter(office=office).first()
        until = settings.walk_in_until if settings is not None else None
        come_back_at = _next_start(office, today)
        if now < starts_at:
            reason = (RefusalReason.OUTSIDE_HOURS,
                      _("The kiosk gives numbers from %(time)s.")
                      % {"time": _hhmm(starts_at, office)})
            why = dict.fromkeys((lane.id for lane in lanes), reason)
            come_back_at = starts_at
        elif now >= closes_at:
            reason = (RefusalReason.OUTSIDE_HOURS, _("The office has closed for today."))
            why = dict.fromkeys((lane.id for lane in lanes), reason)
        elif until is not None and local.time() >= until:
            reason = (RefusalReason.CUT_OFF,
                      _("The kiosk gives no more walk-in numbers today: new numbers are "
                        "given until %(time)s.") % {"time": f"{until:%H:%M}"})
            why = dict.fromkeys((lane.id for lane in lanes), reason)
        else:
            why = _lane_refusals(office, lanes, now=now, today=today, closes_at=closes_at,
                                 state=state)
    if not why:
        return {}
    come_back = _come_back(office, come_back_at, today)
    later_today = come_back_at is not None and come_back_at.astimezone(
        office_zone(office)).date() == today
    free = {} if later_today else _free_times(office, list(why), now)
    refusals = {}
    for lane in lanes:
        if lane.id not in why:
            continue
        reason, text = why[lane.id]
        times = free.get(lane.id, ())
        book = ""
        if not later_today:
            book = (_("Or book a time in the e-Open app or at the front desk; the next "
                      "free times: %(times)s.") % {"times": "; ".join(t.text for t in times)}
                    if times else _("Or book a time in the e-Open app or at the front "
                                    "desk."))
        refusals[lane.id] = WalkInRefusal(
            lane=lane, reason=reason, why=text, come_back=come_back,
            come_back_at=come_back_at, book=book, free_times=times)
    return refusals


def _lane_refusals(office: Office, lanes: list[Lane], *, now: datetime, today: date,
                   closes_at: datetime, state: selectors.QueueState | None
                   ) -> dict[int, tuple[RefusalReason, str]]:
    """The lanes refused by their quota or by the wait, during the kiosk's hours."""
    lane_ids = [lane.id for lane in lanes]
    why = {}
    quotas = _lane_quotas(office, lane_ids)
    issued = lane_walk_ins_today(office=office, lane_ids=list(quotas), day=today) \
        if quotas else {}
    for lane in lanes:
        quota = quotas.get(lane.id)
        if quota is not None and issued.get(lane.id, 0) >= quota:
            why[lane.id] = (RefusalReason.QUOTA_REACHED, _(
                "Lane %(lane)s has given all %(quota)s of today's walk-in numbers.")
                % {"lane": lane.letter, "quota": quota})
    open_lanes = [lane for lane in lanes if lane.id not in why]
    new_ticket = _waits_as_it_stands(office, now, state) if open_lanes else {}
    for lane in open_lanes:
        wait = new_ticket.get(lane.id)
        if wait is not None and now + timedelta(seconds=wait) > closes_at:
            why[lane.id] = (RefusalReason.PAST_CLOSING, _(
                "A number taken now in lane %(lane)s would not be called before closing "
                "time (%(time)s).") % {"lane": lane.letter, "time": _hhmm(closes_at, office)})
    return why


def walk_in_refusal(*, office: Office, lane: Lane, now: datetime | None = None
                    ) -> WalkInRefusal | None:
    """Why `lane` takes no walk-in ticket now, or None when it takes one."""
    return walk_in_refusals(office=office, lanes=[lane], now=now).get(lane.id)


def walk_in_quota_exceeded(*, office: Office, lane: Lane, day: date) -> bool:
    """Are the lane's walk-ins on `day`, counting one just issued in the caller's
    transaction, more than its quota? The caller holds the lane's ticket-number lock
    (registry.Sequence), so two kiosks never pass the quota together."""
    quota = _lane_quotas(office, [lane.id]).get(lane.id)
    return quota is not None and lane_walk_ins_today(
        office=office, lane_ids=[lane.id], day=day).get(lane.id, 0) > quota
