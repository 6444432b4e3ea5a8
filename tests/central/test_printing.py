"""Central work from a served visit to a printed card: jobs created with the visit,
sent in order, the card printed from stock, the resident told with the receipt code."""

import re

import pytest

from registry import extensions
from registry.central.models import Card, CardStock, CardStockMovement, CentralJob, CentralJobStatus
from registry.central.services.jobs import CARD_PLANNED, central_job_retry, central_job_send
from registry.central.services.stock import (
    card_stock_alert,
    card_stock_alerts_due,
    card_stock_receive,
)
from registry.deliveries.models import Handover
from registry.errors import DomainError
from registry.models import ApplicationStatus, Notification
from tests.factories import card_stock_for

pytestmark = pytest.mark.django_db


def kinds(application):
    return list(application.events.order_by("at", "id").values_list("kind", flat=True))


def test_a_served_visit_creates_its_central_work_in_the_same_transaction(application_a, queued,
                                                                          serve):
    jobs = serve(application_a)

    assert [(j.kind, j.status, j.after_id) for j in jobs] == [
        ("data_change", "pending", None), ("card_print", "blocked", jobs[0].id)]
    assert len({j.key for j in jobs}) == 2
    card = Card.objects.get(application=application_a)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", card.receipt_code)
    assert card.print_job_id == jobs[1].id
    assert Handover.objects.get(application=application_a).method == "pickup"
    application_a.refresh_from_db()
    assert application_a.status == ApplicationStatus.IN_PROGRESS
    # ... and the resident is invited to the satisfaction survey (complaints, on the
    # VISIT_COMPLETED hook).
    assert kinds(application_a) == ["application.opened", "application.status",
                                    "central.job_queued", "central.job_queued",
                                    "notification.sent"]
    # Only the first step is queued; the print waits for it. (The survey invitation
    # goes out on its own.)
    assert [q for q in queued if q[0].startswith("central.")] == [
        ("central.tasks.central_job_send", (jobs[0].id,))]


def test_a_visit_completed_twice_creates_the_work_once(application_a, queued, serve):
    first = serve(application_a)
    again = serve(application_a)
    assert [j.id for j in again] == [j.id for j in first]
    assert CentralJob.objects.count() == 2
    assert Card.objects.count() == 1


def test_a_failure_inside_the_visit_leaves_no_job(application_a, queued, mocker, serve):
    # The hand-over the deliveries app opens when a print is queued fails.
    mocker.patch.dict(extensions._registered,
                      {CARD_PLANNED: [mocker.Mock(side_effect=RuntimeError)]})
    with pytest.raises(RuntimeError):
        serve(application_a)
    application_a.refresh_from_db()
    assert application_a.status == ApplicationStatus.OPEN
    assert CentralJob.objects.count() == 0
    assert Card.objects.count() == 0


def test_the_card_is_printed_after_the_data_change_and_the_resident_is_told(
        application_a, queued, central_sim, serve, committed):
    card_stock_for(application_a.office, on_hand=20, alert_below=5)
    jobs = serve(application_a)

    with committed():
        central_job_send(job_id=jobs[0].id)
    assert CentralJob.objects.get(pk=jobs[1].id).status == CentralJobStatus.PENDING
    assert queued[-1] == ("central.tasks.central_job_send", (jobs[1].id,))
    with committed():
        central_job_send(job_id=jobs[1].id)

    done = list(CentralJob.objects.order_by("id"))
    assert [(j.status, j.attempts) for j in done] == [("done", 1), ("done", 1)]
    assert [r["job_id"] for r in central_sim.received()] == [str(j.key) for j in done]
    card = Card.objects.get(application=application_a)
    assert card.printed_at is not None
    assert CardStock.objects.get(office=application_a.office).on_hand == 19
    movement = CardStockMovement.objects.get()
    assert (movement.change, movement.balance, movement.reason) == (-1, 19, "printed")
    application_a.refresh_from_db()
    assert application_a.status == ApplicationStatus.READY
    assert [k for k in kinds(application_a) if k.startswith(("central", "card"))] == [
        "central.job_queued", "central.job_queued", "central.job_accepted", "card.printed"]
    told = Notification.objects.get(kind="card.ready")
    assert told.resident == application_a.resident
    assert card.receipt_code in told.body
    assert told.body == (
        f"KTP-el Anda untuk permohonan {application_a.number} sudah dicetak. Ambil di "
        f"Disdukcapil Kota Bekasi dengan kode tanda terima {card.receipt_code}, utus anggota "
        "keluarga sebagai kuasa, atau pilih antar ke rumah di aplikasi.")


def test_a_print_with_no_blank_card_waits_and_goes_when_stock_arrives(application_a, queued,
                                                                     serve, send_due,
                                                                     committed):
    serve(application_a)
    send_due(application_a.office)
    job = CentralJob.objects.get(kind="card_print")
    assert job.status == CentralJobStatus.WAITING_STOCK
    assert job.attempts == 0  # nothing was sent to the central server
    assert kinds(application_a).count("card.waiting_stock") == 1
    message = application_a.events.get(kind="card.waiting_stock").message
    assert message == ("Kartu menunggu dicetak: blangko KTP-el kantor habis. Kartu dicetak "
                       "begitu blangko baru datang.")

    queued.clear()
    with committed():
        card_stock_receive(office=application_a.office, quantity=5)
    assert queued == [("central.tasks.central_job_send", (job.id,))]
    central_job_send(job_id=job.id)
    job.refresh_from_db()
    assert job.status == CentralJobStatus.DONE
    assert CardStock.objects.get(office=application_a.office).on_hand == 4


def test_stock_received_releases_only_as_many_prints_as_cards(office_a, resident_a, queued,
                                                             serve, send_due):
    from tests.factories import ApplicationFactory

    applications = [ApplicationFactory(office=office_a, resident=resident_a)
                    for _i in range(3)]
    for application in applications:
        serve(application)
    send_due(office_a)
    assert CentralJob.objects.filter(status="waiting_stock").count() == 3
    card_stock_receive(office=office_a, quantity=2)
    assert CentralJob.objects.filter(status="pending", kind="card_print").count() == 2
    assert CentralJob.objects.filter(status="waiting_stock").count() == 1


def test_low_stock_alerts_the_supervisors_once(application_a, queued, make_staff, mailoutbox,
                                               serve, send_due):
    from registry.models import Role

    supervisor = make_staff(application_a.office, Role.SUPERVISOR, email="spv@example.org")
    card_stock_for(application_a.office, on_hand=3, alert_below=3)
    serve(application_a)
    send_due(application_a.office)
    assert ("central.tasks.card_stock_alert", (application_a.office_id,)) in queued
    assert card_stock_alert(office_id=application_a.office_id) is True
    assert card_stock_alert(office_id=application_a.office_id) is False
    assert card_stock_alerts_due() == 0
    assert [m.to for m in mailoutbox] == [[supervisor.email]]
    assert "2" in mailoutbox[0].body
    card_stock_receive(office=application_a.office, quantity=50)
    assert CardStock.objects.get(office=application_a.office).low_alert_sent_at is None


def test_stock_refuses_bad_quantities_and_changes_nothing(office_a):
    card_stock_for(office_a, on_hand=7)
    for quantity in (0, -3, 100_001):
        with pytest.raises(DomainError) as error:
            card_stock_receive(office=office_a, quantity=quantity)
        assert error.value.code == "quantity_invalid"
    assert CardStock.objects.get(office=office_a).on_hand == 7
    assert CardStockMovement.objects.count() == 0


def test_a_refused_job_waits_for_staff_and_is_sent_again_as_the_same_job(
        application_a, queued, mocker, make_staff, serve):
    from registry.central.client import Rejected
    from registry.models import Role

    jobs = serve(application_a)
    refuse = mocker.patch("registry.central.simulator.SimulatedCentralClient.submit",
                          side_effect=Rejected("HTTP 422: NIK tidak ditemukan"))
    central_job_send(job_id=jobs[0].id)
    job = CentralJob.objects.get(pk=jobs[0].id)
    assert (job.status, job.last_error) == ("rejected", "HTTP 422: NIK tidak ditemukan")
    assert "central.job_rejected" in kinds(application_a)
    mocker.stop(refuse)
    supervisor = make_staff(application_a.office, Role.SUPERVISOR)
    central_job_retry(job=job, by=supervisor)
    central_job_send(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 2)
