"""The select_for_update querysets of the queues, in one place.

Lock order, everywhere: the counter first, then the ticket. A counter's row is locked
(blocking) for every action at it, so one operator's double click is done once; a
ticket claimed by "call next" is locked with SKIP LOCKED, so two counters in the same
instant take two different tickets.
"""

from django.db.models import OuterRef, Subquery

from queues.models import ACTIVE_STATUSES, Counter, Ticket


def counter_for_update(counter_id: int) -> Counter:
    """The counter, its row locked until the transaction ends."""
    return (Counter.objects.select_for_update(of=("self",)).select_related("office")
            .get(pk=counter_id))


def tickets_for_update(*, skip_locked: bool = False):
    """Tickets to lock; with `skip_locked` rows another transaction holds are passed
    over (queue claims), otherwise the caller waits for them."""
    return Ticket.objects.select_for_update(of=("self",), skip_locked=skip_locked)


def counter_for_call(counter_id: int) -> Counter:
    """The counter for "call next", its row locked, in one statement with its office,
    the office's queue settings, and `busy_code`: the code of a ticket the counter
    calls or serves, if any.

    `busy_code` is read with the statement's snapshot, taken before the lock was
    granted, while the counter's own columns are its latest version (PostgreSQL
    re-reads a row it waited for). So when both agree (state and `busy_code`) they
    are the truth; when they disagree, an action at this counter committed while
    this one waited, and the caller looks again (queues.services.calling)."""
    busy = (Ticket.objects.filter(counter=OuterRef("pk"), status__in=ACTIVE_STATUSES)
            .order_by().values("code")[:1])
    return (Counter.objects.select_for_update(of=("self",))
            .select_related("office", "office__queue_settings")
            .annotate(busy_code=Subquery(busy)).get(pk=counter_id))
