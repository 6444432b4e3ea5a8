"""Celery tasks of the queues: thin wrappers that call a service. Each is safe to run
twice."""

from celery import shared_task

from queues.services import closing

# Batches per run: a busy deployment's evening fits easily; the next beat takes the rest.
MAX_BATCHES = 50


@shared_task(name="queues.tasks.tickets_close_due")
def tickets_close_due() -> int:
    """The end-of-day sweep: close the tickets whose day is over, batch by batch."""
    closed = 0
    for _batch in range(MAX_BATCHES):
        count = closing.tickets_close_due()
        closed += count
        if count < closing.SWEEP_BATCH:
            break
    return closed
