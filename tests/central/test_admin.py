"""Admin of outages, jobs and card stock: staff act through the services, see only
their office, and the outage list says what each outage held up."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from registry.central.models import CardStock, CardStockMovement, CentralJob, CentralOutage
from registry.models import Role
from tests.factories import ApplicationFactory, card_stock_for

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def supervisor(make_staff, office_a, client):
    user = make_staff(office_a, Role.SUPERVISOR)
    client.force_login(user)
    return user


def test_a_supervisor_declares_and_ends_an_outage(supervisor, office_a, client, queued):
    expected = (datetime.now(tz=WIB) + timedelta(hours=3)).replace(second=0, microsecond=0)
    response = client.post(reverse("admin:central_centraloutage_add"), {
        "office": office_a.id, "cause": "Kabel serat optik putus",
        "message": "Perkiraan pulih pukul 13.00.",
        "expected_back_0": expected.strftime("%Y-%m-%d"),
        "expected_back_1": expected.strftime("%H:%M:%S")})
    assert response.status_code == 302
    outage = CentralOutage.objects.get()
    assert (outage.detection, outage.declared_by, outage.cause, outage.expected_back) == (
        "staff", supervisor, "Kabel serat optik putus", expected)
    again = client.post(reverse("admin:central_centraloutage_add"), {
        "office": office_a.id, "cause": "Lagi"}, follow=True)
    assert "sudah tercatat" in again.content.decode()
    assert CentralOutage.objects.count() == 1
    client.post(reverse("admin:central_centraloutage_changelist"), {
        "action": "end_outage", "_selected_action": [outage.id]})
    outage.refresh_from_db()
    assert (outage.ended_by, outage.end_detection) == (supervisor, "staff")


def test_the_outage_list_counts_what_each_outage_held_up(supervisor, office_a, office_b,
                                                          client, serve, queued):
    def at(hour):
        return datetime(2022, 7, 1, hour, tzinfo=WIB)

    with time_machine.travel(at(8), tick=False):
        early = ApplicationFactory(office=office_a)
        serve(early)
        for job in CentralJob.objects.filter(application=early):
            CentralJob.objects.filter(pk=job.pk).update(status="done", done_at=at(8))
    with time_machine.travel(at(10), tick=False):
        for _i in range(2):
            serve(ApplicationFactory(office=office_a))
        serve(ApplicationFactory(office=office_b))
    CentralOutage.objects.create(office=office_a, started_at=at(9), ended_at=at(13),
                                 detection="health_check")
    CentralOutage.objects.create(office=office_b, started_at=at(9), ended_at=at(13),
                                 detection="health_check")
    page = client.get(reverse("admin:central_centraloutage_changelist"))
    rows = list(page.context["cl"].result_list)
    assert [(r.office_id, r.applications_held) for r in rows] == [(office_a.id, 2)]
    assert "4 h 00 min" in page.content.decode()


def test_stock_received_and_corrected_in_admin_release_waiting_prints(
        supervisor, office_a, office_b, client, serve, send_due, queued):
    card_stock_for(office_a, on_hand=0, alert_below=10)
    application = ApplicationFactory(office=office_a)
    serve(application)
    send_due(office_a)
    assert CentralJob.objects.get(kind="card_print").status == "waiting_stock"
    stock = CardStock.objects.get(office=office_a)
    url = reverse("admin:central_cardstock_change", args=[stock.pk])
    response = client.post(url, {"alert_below": 25, "received": 300,
                                 "note": "Surat jalan 17/2022"})
    assert response.status_code == 302
    stock.refresh_from_db()
    assert (stock.on_hand, stock.alert_below) == (300, 25)
    assert CentralJob.objects.get(kind="card_print").status == "pending"
    client.post(url, {"alert_below": 25, "counted": 298, "note": "Dua blangko rusak"})
    assert list(CardStockMovement.objects.order_by("id").values_list(
        "change", "balance", "reason", "by")) == [
        (300, 300, "received", supervisor.id), (-2, 298, "correction", supervisor.id)]
    other = card_stock_for(office_b, on_hand=5)
    assert client.get(reverse("admin:central_cardstock_change",
                              args=[other.pk])).status_code == 404


def test_the_simulator_page_switches_the_link_of_the_staffs_office(supervisor, office_a,
                                                                   office_b, client,
                                                                   central_sim):
    url = reverse("admin:central_centraloutage_simulator")
    assert "3275" in client.get(url).content.decode()
    client.post(url, {"office": office_a.code, "mode": "down"})
    assert central_sim.state(office_a.code)["down"] is True
    assert client.post(url, {"office": office_b.code, "mode": "down"}).status_code == 404
    assert central_sim.state(office_b.code)["down"] is False


def test_a_refused_job_is_sent_again_from_admin(supervisor, office_a, client, serve, queued):
    application = ApplicationFactory(office=office_a)
    jobs = serve(application)
    CentralJob.objects.filter(pk=jobs[0].pk).update(status="rejected")
    client.post(reverse("admin:central_centraljob_changelist"), {
        "action": "send_again", "_selected_action": [jobs[0].pk]})
    assert CentralJob.objects.get(pk=jobs[0].pk).status == "pending"
    assert application.events.filter(kind="central.job_retried", actor=supervisor).exists()


def test_the_simulator_command(central_sim):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("central_simulator", "3275", "--down", stdout=out)
    assert out.getvalue().strip() == "3275: down, 0 ms, failure rate 0.0"
    assert central_sim.state("3275")["down"] is True
    call_command("central_simulator", "3275", "--up", stdout=out)
    assert central_sim.state("3275") == {"down": False, "latency_ms": 0, "failure_rate": 0.0}
