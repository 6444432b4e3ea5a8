"""Handing work to Celery without ever losing it.

Work is first written as a row that carries its own due time (an outbox row: a
notification delivery, a transmission to the central server). The task is only a
nudge: it is queued after the transaction commits, and if the broker is down at that
moment the row stays due and the periodic sweep queues it again later.
"""

import logging
import threading

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import translation

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


def per_office(work, items: list, *, threads: int | None = None) -> list:
    """`work(item)` for every item (typically one office's share of a sweep, in its own
    transactions), on up to `threads` threads (settings.SWEEP_THREADS), each taking the
    next item when done with one, on its own database connection, closed when the
    thread has no item left. The results in the items' order.

    One after another instead on SQLite (one writer at a time), for a single item, and
    inside a transaction: the caller's uncommitted rows are not visible from another
    connection, and its work must be part of that transaction.

    Every item is tried: a failing one is logged and does not stop the others; the
    first failure is raised once all are done, so the task fails and the next run
    takes what was left. The threads write texts in the caller's active language.
    """
    threads = settings.SWEEP_THREADS if threads is None else threads
    language = translation.get_language()
    outcomes: list = [None] * len(items)

    def attempt(index):
        try:
            outcomes[index] = (work(items[index]), None)
        except Exception as error:  # raised again below, once the rest are done
            logger.exception("Sweep failed for %r; the others go on", items[index])
            outcomes[index] = (None, error)

    if (threads <= 1 or len(items) <= 1 or connection.vendor == "sqlite"
            or connection.in_atomic_block):
        for index in range(len(items)):
            attempt(index)
    else:
        queue = iter(range(len(items)))
        taking = threading.Lock()

        def worker():
            translation.activate(language)  # per thread in Django, like the connection
            try:
                while True:
                    with taking:
                        index = next(queue, None)
                    if index is None:
                        return
                    attempt(index)
            finally:
                connections.close_all()  # this thread's connections only

        pool = [threading.Thread(target=worker, name=f"sweep-{n}")
                for n in range(min(threads, len(items)))]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    for _result, error in outcomes:
        if error is not None:
            raise error
    return [result for result, _error in outcomes]
