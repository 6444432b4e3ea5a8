"""Helpers of the sign-in tests: the SMS gateway simulator, Celery tasks run as they are
queued (the code is sent by a task after commit), the last code a phone received."""

import re
from datetime import timedelta

import pytest

from config.celery import app
from registry.notify.backends import SimulatedGateway

SIM = "registry.notify.backends.SimulatedGateway"


@pytest.fixture
def sms_gateway(settings):
    """SMS through the simulator; one code a minute is not what these tests are about."""
    settings.NOTIFICATION_BACKENDS = {**settings.NOTIFICATION_BACKENDS, "sms": SIM}
    settings.OTP_RESEND_INTERVAL = timedelta(seconds=0)


@pytest.fixture
def tasks_at_once():
    """Tasks queued after commit run there and then, in the live server's thread, as a
    worker would run them moments later."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def sms_to(phone: str) -> list[dict]:
    return [message for message in SimulatedGateway.sent("sms") if message["address"] == phone]


def last_code(phone: str | None = None) -> str:
    sent = sms_to(phone) if phone else SimulatedGateway.sent("sms")
    codes = [re.search(r"\b(\d{6})\b", message["body"]) for message in sent]
    return [code.group(1) for code in codes if code][-1]
