from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import DeliveryStatus, Notification, NotificationDelivery
from registry.notify.backends import SimulatedGateway
from registry.services.notification_sending import (
    notification_deliver,
    notifications_resend_pending,
)
from registry.services.notifications import notification_send

SIM = "registry.notify.backends.SimulatedGateway"


@pytest.fixture
def gateways(settings):
    settings.NOTIFICATION_BACKENDS = {"push": SIM, "whatsapp": SIM, "sms": SIM, "email": SIM}
    settings.NOTIFY_MAX_ATTEMPTS = 3
    return SimulatedGateway


def _send(application, **extra):
    return notification_send(
        office=application.office, resident=application.resident, kind="test",
        title="Judul %(code)s", body="Isi pesan %(code)s", params={"code": "ABC"},
        application=application, **extra)


def test_a_notification_is_stored_and_queued_after_commit(
        application_a, gateways, django_capture_on_commit_callbacks, mocker):
    resident = application_a.resident
    resident.email = "budi@example.org"
    resident.save()
    one = mocker.patch("registry.tasks.notification_deliver.apply_async")
    queued = mocker.patch("registry.tasks.notifications_deliver_many.apply_async")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = _send(application_a)
    assert queued.call_count == 0  # nothing before the commit
    for callback in callbacks:
        callback()
    assert (notification.title, notification.body) == ("Judul ABC", "Isi pesan ABC")
    channels = list(notification.deliveries.order_by("channel").values_list("channel",
                                                                            "address"))
    assert channels == [("email", "budi@example.org"), ("whatsapp", resident.phone)]
    # One task for both deliveries: one message to the broker.
    assert (one.call_count, queued.call_count) == (0, 1)
    assert sorted(queued.call_args.kwargs["args"][0]) == sorted(
        notification.deliveries.values_list("id", flat=True))
    assert application_a.events.filter(kind="notification.sent").count() == 1


def test_the_same_fact_is_told_once(application_a, gateways):
    assert _send(application_a, dedup_key="expired:1") is not None
    assert _send(application_a, dedup_key="expired:1") is None
    assert Notification.objects.count() == 1
    assert NotificationDelivery.objects.count() == 1


def test_delivery_sends_once_through_the_backend(application_a, gateways):
    notification = _send(application_a)
    delivery = notification.deliveries.get(channel="whatsapp")
    notification_deliver(delivery_id=delivery.id)
    notification_deliver(delivery_id=delivery.id)  # a duplicate task
    sent = gateways.sent("whatsapp")
    assert len(sent) == 1
    assert sent[0]["address"] == application_a.resident.phone
    assert sent[0]["body"] == "Isi pesan ABC"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)


def test_temporary_failures_back_off_then_fall_back_to_sms(application_a, gateways):
    notification = _send(application_a)
    delivery = notification.deliveries.get(channel="whatsapp")
    gateways.set_failure("whatsapp", "temporary")
    before = timezone.now()
    notification_deliver(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.next_attempt_at >= before + timedelta(minutes=1)
    for _ in range(2):
        notification_deliver(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    sms = notification.deliveries.get(channel="sms")
    notification_deliver(delivery_id=sms.id)
    assert [m["address"] for m in gateways.sent("sms")] == [application_a.resident.phone]
    assert gateways.sent("whatsapp") == []


def test_the_sweep_requeues_due_deliveries_once_per_lease(application_a, gateways, mocker,
                                                          django_capture_on_commit_callbacks):
    notification = _send(application_a)
    delivery = notification.deliveries.get()
    queued = mocker.patch("registry.tasks.notification_deliver.apply_async")
    now = timezone.now()
    # Just created: its own task is on the way, the sweep leaves it.
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_resend_pending(now=now) == 0
    later = now + timedelta(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_resend_pending(now=later) == 1
        assert notifications_resend_pending(now=later) == 0  # leased
    assert queued.call_count == 1
    assert queued.call_args.kwargs["args"] == (delivery.id,)


def test_a_broker_that_is_down_loses_nothing(application_a, gateways, mocker,
                                             django_capture_on_commit_callbacks):
    mocker.patch("registry.tasks.notification_deliver.apply_async",
                 side_effect=ConnectionError("broker down"))
    with django_capture_on_commit_callbacks(execute=True):
        notification = _send(application_a)
    delivery = notification.deliveries.get()
    assert delivery.status == DeliveryStatus.PENDING  # the sweep will pick it up
