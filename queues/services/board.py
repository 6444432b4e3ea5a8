"""The display board's cache (dropped when a step commits) and each ticket's history
(TicketEvent), which every step writes.
"""

import logging
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from queues.models import (
    Counter,
    Ticket,
    TicketEvent,
)
from registry.errors import Conflict
from registry.models import Lane, Office
from registry.services.cases import case_event_record

logger = logging.getLogger(__name__)


BOARD_CACHE_KEY = "queues:board:{code}:{language}"


def board_cache_keys(office: Office) -> list[str]:
    from django.conf import settings

    return [BOARD_CACHE_KEY.format(code=office.code, language=code)
            for code, _name in settings.LANGUAGES]


def board_changed(office: Office) -> None:
    """The board's cached answer is dropped when the change commits."""
    keys = board_cache_keys(office)
    transaction.on_commit(lambda: cache.delete_many(keys))


def board_changed_office(*, office_id: int) -> None:
    """board_changed for an office named by id: the central link's outage notice,
    which the board shows, started, changed or ended (registry.central's
    OUTAGE_CHANGED)."""
    board_changed(Office.objects.only("code").get(pk=office_id))


def actor_of(by):
    return by if getattr(by, "pk", None) else None


def _event_params(ticket: Ticket, event: TicketEvent) -> dict:
    params = {"code": ticket.code, "lane": event.lane.letter, "lane_name": event.lane.name}
    if event.counter_id:
        params["counter"] = event.counter.name
    if event.reason:
        params["reason"] = event.reason
    if event.outcome:
        params["outcome"] = event.outcome
    if event.to_lane_id:
        params["to_lane"] = event.to_lane.letter
        params["to_lane_name"] = event.to_lane.name
    return params


def ticket_timeline_record(ticket: Ticket, event: TicketEvent, extra: dict | None = None) -> None:
    if ticket.application_id is None:
        return
    case_event_record(
        application=ticket.application, kind=f"queue.{event.kind}",
        params={**_event_params(ticket, event), **(extra or {})}, actor=event.actor,
        at=event.at, note=event.note)


def ticket_event_record(ticket: Ticket, kind: str, *, at: datetime, lane: Lane | None = None,
            counter: Counter | None = None, by=None, timeline_extra: dict | None = None,
            **fields) -> TicketEvent:
    if lane is None and Ticket.lane.is_cached(ticket):
        lane = ticket.lane
    # Without the lane at hand (call next's claim returns the row alone) its id does.
    event = TicketEvent.objects.create(
        office_id=ticket.office_id, ticket=ticket, day=ticket.day, at=at, kind=kind,
        **({"lane": lane} if lane is not None else {"lane_id": ticket.lane_id}),
        counter=counter, actor=actor_of(by), **fields)
    ticket_timeline_record(ticket, event, timeline_extra)
    return event


def seconds_between(later: datetime, earlier: datetime | None) -> int | None:
    if earlier is None:
        return None
    return max(0, int((later - earlier).total_seconds()))


def ticket_transition(ticket: Ticket, from_statuses, **changes) -> None:
    """A conditional UPDATE: the last defence should a lock ever be missing."""
    updated = Ticket.objects.filter(pk=ticket.pk, status__in=from_statuses).update(**changes)
    if updated != 1:
        raise Conflict(_("Ticket %(code)s was changed at the same moment; look again.")
                       % {"code": ticket.code}, "ticket_changed")
    for field, value in changes.items():
        setattr(ticket, field, value)
