"""Helpers for the central-link tests: what was queued after commit, and running the
queued sends by hand (the real worker is used only in the fault tests)."""

import pytest
from django.db import transaction

from registry.central.models import CentralJob, CentralJobStatus
from registry.central.services.jobs import application_visit_completed, central_job_send


@pytest.fixture
def queued(mocker):
    """Every task queued after commit, as (task name, args); nothing reaches a broker."""
    calls = []
    mocker.patch("registry.background.enqueue_now",
                 side_effect=lambda task, *args, **kwargs: calls.append((task.name, args)))
    return calls


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs the block's after-commit callbacks at its end, as a
    real commit would (the test itself runs inside a transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def serve(committed):
    def serve(application, by=None):
        """The counter finished the visit as served (what queues calls)."""
        with committed(), transaction.atomic():
            application_visit_completed(application=application, by=by)
        return list(CentralJob.objects.filter(application=application).order_by("id"))

    return serve


@pytest.fixture
def send_due(committed):
    def send_due(office, rounds: int = 5) -> int:
        """Send every pending job of the office, as the worker would, until none is left."""
        sent = 0
        for _round in range(rounds):
            ids = list(CentralJob.objects.filter(office=office,
                                                 status=CentralJobStatus.PENDING)
                       .order_by("id").values_list("id", flat=True))
            if not ids:
                break
            for job_id in ids:
                with committed():
                    central_job_send(job_id=job_id)
                sent += 1
        return sent

    return send_due
