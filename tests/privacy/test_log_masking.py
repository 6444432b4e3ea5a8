"""NIKs and phone numbers never reach a log in full (config.logfilters.MaskPersonalData
on the console handler of settings.LOGGING)."""

import logging

from django.conf import settings

from config.logfilters import MaskPersonalData, mask_personal


def test_niks_and_phones_are_masked_in_text():
    assert mask_personal("resident 3275015705900001 signed in") == (
        "resident 327501******0001 signed in")
    assert mask_personal("sent to +6281234500001 and 081234500002") == (
        "sent to +62812*****001 and 0812*****002")
    # Longer digit runs (a hash, an id) and short numbers are left alone.
    assert mask_personal("ref 12345678901234567890 ticket 42") == (
        "ref 12345678901234567890 ticket 42")


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("registry", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_arguments_and_exceptions():
    record = _record("OTP for %s to %s", "3275015705900001", "+6281234500001")
    try:
        raise ValueError("no resident 3275015705900001")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert MaskPersonalData().filter(record) is True
    text = logging.Formatter("%(message)s").format(record)
    assert "3275015705900001" not in text
    assert "+6281234500001" not in text
    assert "327501******0001" in text
    assert "+62812*****001" in text


def test_the_console_handler_masks(capsys):
    assert "mask_personal" in settings.LOGGING["handlers"]["console"]["filters"]
    handler = logging.StreamHandler()
    handler.addFilter(MaskPersonalData())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.masking")
    logger.addHandler(handler)
    try:
        logger.warning("resident %s", "3275015705900001")
    finally:
        logger.removeHandler(handler)
    assert "327501******0001" in capsys.readouterr().err
