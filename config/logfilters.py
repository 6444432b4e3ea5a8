"""Logging filters used by settings.LOGGING."""

import logging
import threading
import time


class AtMostEvery(logging.Filter):
    """Lets one record through every `seconds`, per process, and drops the rest.

    django-redis logs every cache error it ignores, with its traceback: with Redis down
    that is a few records on each request that reads the slot list or the board. One a
    minute says as much."""

    def __init__(self, seconds: float = 60) -> None:
        super().__init__()
        self.seconds = seconds
        self.last = None
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            if self.last is not None and now - self.last < self.seconds:
                return False
            self.last = now
            return True
