"""Notifications through a real Celery worker on a real broker."""

import pytest
from django.db import transaction

from registry.models import DeliveryStatus, NotificationDelivery
from registry.notify.backends import SimulatedGateway
from registry.services.notification_sending import notifications_resend_pending
from registry.services.notifications import notification_send
from tests.worker import real_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

SIM = "registry.notify.backends.SimulatedGateway"


@pytest.fixture
def simulated(settings):
    settings.NOTIFICATION_BACKENDS = {"push": SIM, "whatsapp": SIM, "sms": SIM, "email": SIM}
    return {"NOTIFY_WHATSAPP_BACKEND": SIM, "NOTIFY_SMS_BACKEND": SIM,
            "NOTIFY_EMAIL_BACKEND": SIM}


def test_the_worker_sends_a_notification_once_after_commit(application_a, simulated,
                                                           tmp_path):
    with real_worker(tmp_path, extra_env=simulated):
        with transaction.atomic():
            notification = notification_send(
                office=application_a.office, resident=application_a.resident, kind="test",
                title="Judul", body="Kartu Anda sudah dicetak.", application=application_a)
        delivery = notification.deliveries.get(channel="whatsapp")
        wait_for(lambda: NotificationDelivery.objects.get(pk=delivery.pk).status
                 == DeliveryStatus.SENT, message="the worker did not send it")
    sent = SimulatedGateway.sent("whatsapp")
    assert [(m["address"], m["body"]) for m in sent] == [
        (application_a.resident.phone, "Kartu Anda sudah dicetak.")]


def test_a_failed_send_is_retried_by_the_sweep_and_sent_once(application_a, simulated,
                                                             tmp_path):
    SimulatedGateway.set_failure("whatsapp", "temporary")
    with real_worker(tmp_path, extra_env=simulated):
        notification = notification_send(
            office=application_a.office, resident=application_a.resident, kind="test",
            title="Judul", body="Coba lagi", application=application_a)
        delivery = notification.deliveries.get(channel="whatsapp")
        wait_for(lambda: NotificationDelivery.objects.get(pk=delivery.pk).attempts == 1,
                 message="the first attempt did not happen")
        SimulatedGateway.set_failure("whatsapp", None)
        # The retry is due: make it due now and run the sweep as beat would.
        NotificationDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=delivery.next_attempt_at.replace(year=2000))
        notifications_resend_pending()
        notifications_resend_pending()  # a doubled beat changes nothing
        wait_for(lambda: NotificationDelivery.objects.get(pk=delivery.pk).status
                 == DeliveryStatus.SENT, message="the retry was not sent")
    assert len(SimulatedGateway.sent("whatsapp")) == 1
    assert NotificationDelivery.objects.get(pk=delivery.pk).attempts == 2
