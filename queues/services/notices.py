"""What residents are told about their ticket, and what a finished ticket means for
its booking (registry.appointments).
"""

import logging
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queues import policy
from queues.models import (
    Counter,
    QueueSettings,
    Ticket,
    TicketStatus,
)
from queues.services.board import actor_of
from registry.appointments.services.attendance import (
    booking_complete,
    booking_missed,
)
from registry.models import Lane, Office
from registry.services.notifications import notification_send
from registry.services.offices import office_settings_get

logger = logging.getLogger(__name__)


def booking_finished(ticket: Ticket, *, by) -> None:
    """The checked-in booking's visit happened (whatever its outcome): the booking is
    done, so the resident may book this service again if needed."""
    if ticket.booking_id is None:
        return

    booking_complete(booking=ticket.booking, by=actor_of(by))


def booking_no_show(ticket: Ticket, now: datetime) -> None:
    """The checked-in resident's ticket ended as a no-show: the booking expires as a
    missed day does (the resident is told and may re-book)."""
    if ticket.booking_id is None:
        return

    booking_missed(booking=ticket.booking, now=now)


def notify_called(ticket: Ticket, counter: Counter) -> None:
    if ticket.resident_id is None:
        return
    notification_send(
        office=counter.office, resident=ticket.resident, kind="queue.called",
        title=_("Your number %(code)s is called"),
        body=_("Please go to %(counter)s now (lane %(lane)s, %(lane_name)s)."),
        params={"code": ticket.code, "counter": counter.name, "lane": ticket.lane.letter,
                "lane_name": ticket.lane.name},
        application=ticket.application)


def notify_nearly_turn(office: Office, lane_id: int, day,
                        settings: QueueSettings | None = None) -> None:
    """Residents with `notify_ahead` or fewer tickets ahead of them in the lane are told
    once per lane; the dedup key keeps it once even if two calls race."""
    settings = settings or office_settings_get(QueueSettings, office=office)
    head = list(Ticket.objects.filter(office=office, lane_id=lane_id, day=day,
                                      status=TicketStatus.WAITING)
                .order_by(*policy.lane_order(timezone.now()))
                .values_list("id", "resident_id", "ahead_told")[:settings.notify_ahead + 1])
    to_tell = {pk: ahead for ahead, (pk, resident_id, told) in enumerate(head)
               if resident_id is not None and not told}
    if not to_tell:
        return
    lane = Lane.objects.get(pk=lane_id, office=office)
    for ticket in Ticket.objects.filter(pk__in=to_tell).select_related("resident",
                                                                       "application"):
        notification_send(
            office=office, resident=ticket.resident, kind="queue.nearly_turn",
            title=_("Your turn is near: %(code)s"),
            body=_("%(ahead)s ticket(s) ahead of yours in lane %(lane)s (%(lane_name)s). "
                   "Please stay in the hall and watch the board."),
            params={"code": ticket.code, "ahead": to_tell[ticket.pk], "lane": lane.letter,
                    "lane_name": lane.name},
            application=ticket.application,
            dedup_key=f"queue:{ticket.pk}:ahead:{lane.pk}")
    Ticket.objects.filter(pk__in=to_tell).update(ahead_told=True)
