"""Reads that may lag a few seconds, sent to a read replica when one is configured.

The office head's dashboard and report, and the lists' exports, read much and write
almost nothing (their access-log and export records). With `DATABASE_REPLICA_URL` set
(config/settings.py) their reads go to the replica, and the primary is left to the
counters, the kiosks and the app. Everything else, every write, and any read inside a
transaction on the primary (which must see its own writes) stays on the primary.

    with replica_reads():
        rows = list(queryset)

Without a replica nothing changes: the router answers "no opinion" and Django uses
the default database.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("eopen_replica_reads", default=False)


@contextmanager
def replica_reads():
    """Reads inside go to the replica, when there is one."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_view(view: Callable) -> Callable:
    """`view` with its reads on the replica."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)
    return wrapped


class ReplicaRouter:
    """Django's database router (DATABASE_ROUTERS) for the replica."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = REPLICA in settings.DATABASES if enabled is None else enabled

    def db_for_read(self, model, **hints):
        if not (self.enabled and _replica_reads.get()):
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None  # a transaction reads what it wrote, on the primary
        return REPLICA

    def db_for_write(self, model, **hints):
        # Explicit: an object read from the replica is saved to the primary, never to
        # the replica it came from.
        return DEFAULT_DB_ALIAS if self.enabled else None

    def allow_relation(self, obj1, obj2, **hints):
        if self.enabled and {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema by replication.
        return False if db == REPLICA else None
