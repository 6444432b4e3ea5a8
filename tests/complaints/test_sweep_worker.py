"""The deadline sweep on a real Celery worker: queued twice, as a doubled beat would,
it alerts once."""

import pytest
import time_machine

from complaints.models import StaffAlert
from complaints.services.deadlines import deadlines_sweep
from complaints.tasks import complaint_deadlines_sweep
from tests.complaints.conftest import wib
from tests.worker import real_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_the_sweep_task_alerts_the_supervisor_once(tmp_path, log_complaint, supervisor_a):
    # Received two years ago: every deadline is long past.
    with time_machine.travel(wib(2024, 7, 1, 9, 0), tick=False):
        complaint = log_complaint()
    with real_worker(tmp_path):
        complaint_deadlines_sweep.apply_async()
        complaint_deadlines_sweep.apply_async()
        wait_for(lambda: StaffAlert.objects.filter(kind="overdue").count() == 3,
                 message="the worker did not alert the supervisor")
        # Both runs have finished once a third, queued after them, has.
        complaint_deadlines_sweep.apply_async()
        wait_for(lambda: complaint.deadlines.filter(escalated_at__isnull=True).count() == 0,
                 message="the deadlines were not escalated")
    assert sorted(StaffAlert.objects.values_list("user__username", "kind",
                                                 "deadline__kind")) == [
        ("spv-a", "overdue", "acknowledge"), ("spv-a", "overdue", "resolve"),
        ("spv-a", "overdue", "respond")]
    assert deadlines_sweep() == 0
