"""The select_for_update querysets of the queues, in one place.

Lock order, everywhere: the counter first, then the ticket. A counter's row is locked
(blocking) for every action at it, so one operator's double click is done once; a
ticket claimed by "call next" is locked with SKIP LOCKED, so two counters in the same
instant take two different tickets.
"""

from queues.models import Counter, Ticket


def counter_for_update(counter_id: int) -> Counter:
    """The counter, its row locked until the transaction ends."""
    return (Counter.objects.select_for_update(of=("self",)).select_related("office")
            .get(pk=counter_id))


def tickets_for_update(*, skip_locked: bool = False):
    """Tickets to lock; with `skip_locked` rows another transaction holds are passed
    over (queue claims), otherwise the caller waits for them."""
    return Ticket.objects.select_for_update(of=("self",), skip_locked=skip_locked)
