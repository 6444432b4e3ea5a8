"""registry.background: a task queued on commit is queued only once the transaction
commits, never after a rollback; a broker that cannot be reached leaves the work for
the sweep, logged with ids only. (The sweeps' one task per office, which replaced the
thread pool that lived here, is tested in tests/appointments/test_sweep_tasks.py and,
on a real worker, in tests/appointments/test_concurrency.py.)"""

import logging

import pytest
from django.db import transaction

from registry import background
from registry.tasks import otp_send


@pytest.fixture
def published(mocker):
    return mocker.patch.object(otp_send, "apply_async")


@pytest.mark.django_db
def test_a_task_queued_on_commit_is_queued_when_the_transaction_commits(
        published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            background.enqueue_on_commit(otp_send, 7, "123456")
        assert not published.called
    published.assert_called_once_with(args=(7, "123456"), kwargs={}, retry=False)


@pytest.mark.django_db
def test_a_task_queued_on_commit_is_dropped_with_a_rollback(
        published, django_capture_on_commit_callbacks):
    def queue_then_fail():
        with transaction.atomic():
            background.enqueue_on_commit(otp_send, 7, "123456")
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, \
            pytest.raises(RuntimeError):
        queue_then_fail()
    assert callbacks == []
    assert not published.called


def test_a_broker_that_cannot_be_reached_leaves_the_work_and_logs_ids_only(
        published, caplog):
    published.side_effect = ConnectionError("broker down")
    with caplog.at_level(logging.WARNING, logger="registry.background"):
        assert background.enqueue_now(otp_send, 7, "123456") is False
    [record] = caplog.records
    assert record.getMessage() == (
        "Broker unavailable, registry.tasks.otp_send(7, '***') left for the sweep")
    assert "123456" not in caplog.text
    published.side_effect = None
    assert background.enqueue_now(otp_send, 7, "123456") is True
