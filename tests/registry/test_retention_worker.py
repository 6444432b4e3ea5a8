"""The retention sweep through a real Celery worker on a real broker, as beat sends it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry import tasks
from registry.models import AccessKind, AccessLog, OtpChallenge, RetentionRun
from tests.factories import UserFactory
from tests.worker import real_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_the_worker_runs_the_sweep_and_a_doubled_beat_removes_nothing(
        office_a, resident_a, tmp_path):
    # The worker runs on the real clock with the defaults of settings.RETENTION.
    now = timezone.now()
    OtpChallenge.objects.create(nik=resident_a.nik, phone=resident_a.phone,
                                      code_hash="x$y", created_at=now - timedelta(days=31),
                                      expires_at=now - timedelta(days=31))
    fresh = OtpChallenge.objects.create(nik=resident_a.nik, phone=resident_a.phone,
                                        code_hash="x$y", created_at=now - timedelta(days=29),
                                        expires_at=now - timedelta(days=29))
    staff = UserFactory(username="worker-viewer")
    AccessLog.objects.create(at=now - timedelta(days=731), user=staff, office=office_a,
                             role="front_desk", kind=AccessKind.RESIDENT, target="x")
    kept = AccessLog.objects.create(at=now - timedelta(days=729), user=staff,
                                    office=office_a, role="front_desk",
                                    kind=AccessKind.RESIDENT, target="y")

    with real_worker(tmp_path):
        tasks.retention_sweep.delay()
        wait_for(lambda: RetentionRun.objects.filter(finished_at__isnull=False).count() == 1,
                 message="the worker did not finish the sweep")
        tasks.retention_sweep.delay()
        wait_for(lambda: RetentionRun.objects.filter(finished_at__isnull=False).count() == 2,
                 message="the worker did not finish the second sweep")

    first, second = RetentionRun.objects.order_by("id")
    assert (first.counts["otp_challenges"], first.counts["access_log"]) == (1, 1)
    assert set(second.counts.values()) == {0}
    assert list(OtpChallenge.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [kept.pk]
