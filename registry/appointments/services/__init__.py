"""Every write of the appointments app, one module per subject: slots, requirements,
bookings, attendance, booking_documents, closures, sweeps, sms_offers (free times
offered by SMS to residents without the app) and sms_replies (their replies, from the
gateway's webhook), and notices, the texts they share. One function per operation, one
transaction."""

import logging
from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)


def each_office(work: Callable[..., int], items: Iterable) -> int:
    """`work(item)` for each item (one office's share of a sweep, in its own
    transactions), one after another in this process; the sum of what they return.

    Every item is tried: a failing one is logged and does not stop the others; the
    first failure is raised once all are done. This is the sweeps' path when called
    directly (tests, benchmarks, a shell); the beat runs each office as a Celery task of
    its own instead (registry.appointments.tasks)."""
    total, failure = 0, None
    for item in items:
        try:
            total += work(item)
        except Exception as error:  # raised again below, once the rest are done
            logger.exception("Sweep failed for %r; the others go on", item)
            failure = failure or error
    if failure is not None:
        raise failure
    return total
