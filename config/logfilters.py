"""Logging filters used by settings.LOGGING."""

import logging
import re
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


# A NIK is 16 digits; a phone number is +62/62/0 then 8 to 13 digits (with the usual
# separators). Neither is ever part of a longer run of digits in a log line we write.
NIK_IN_TEXT = re.compile(r"(?<!\d)(\d{6})\d{6}(\d{4})(?!\d)")
PHONE_IN_TEXT = re.compile(r"(?<![\d+])(\+62|62|0)(8\d{2})[\d -]{5,11}(\d{3})(?!\d)")


def mask_personal(text: str) -> str:
    """NIKs and phone numbers in `text`, masked as the admin masks them."""
    text = NIK_IN_TEXT.sub(r"\1******\2", text)
    return PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}*****{m.group(3)}", text)


class MaskPersonalData(logging.Filter):
    """Masks NIKs and phone numbers in every record a handler writes (UU PDP 27/2022:
    the logs are one more place they would leak from). The message is formatted here,
    with its arguments, and the exception text too, so a number passed as an argument
    or inside an error is masked as well."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the formatter to report
            return True
        record.msg, record.args = mask_personal(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal(record.exc_text)
        return True
