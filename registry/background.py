"""Handing work to Celery without ever losing it.

Work is first written as a row that carries its own due time (an outbox row: a
notification delivery, a transmission to the central server). The task is only a
nudge: it is queued after the transaction commits, and if the broker is down at that
moment the row stays due and the periodic sweep queues it again later.

Sweeps over many offices queue one task per office (registry.appointments.tasks): the
offices run side by side up to the workers' concurrency, each on its worker's own
database connection.
"""

import logging

from celery import group
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_now(task, *args, **kwargs) -> bool:
    """Queue `task` at once; False (and logged) when the broker cannot be reached."""
    try:
        # Without publish retries: a request must not hang on a broker that is down,
        # and the sweep will queue the work again.
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception:  # the broker's errors vary with the transport
        # Ids only: a task's other arguments can be secrets (a sign-in code on its way).
        logger.warning("Broker unavailable, %s%r left for the sweep", task.name,
                       tuple(a if isinstance(a, int) else "***" for a in args), exc_info=True)
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` when the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue_now(task, *args, **kwargs))


def fan_out(task, office_ids: list[int], *args) -> int:
    """Queue `task(office_id, *args)` for each office, as one Celery group; how many.
    Each office runs on whatever worker takes it, and one office's failure does not
    stop the others."""
    if office_ids:
        group(task.s(office_id, *args) for office_id in office_ids).apply_async(
            add_to_parent=False)
    return len(office_ids)
