"""The link's health, its outages and what residents are told; retries that never lose
or duplicate work."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from registry.central.models import (
    AttemptOutcome,
    CentralJob,
    CentralJobAttempt,
    CentralJobStatus,
    CentralLink,
    CentralOutage,
)
from registry.central.selectors import office_link_state
from registry.central.services.jobs import central_job_send, central_jobs_resend_due
from registry.central.services.link import (
    central_link_check,
    central_link_check_all,
    central_outage_declare,
    central_outage_end,
    central_outage_notify,
    central_outage_update,
)
from registry.errors import Conflict, DomainError
from registry.models import Notification, Role
from tests.factories import ApplicationFactory, OfficeFactory, card_stock_for

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


def at(hour, minute=0, second=0):
    return datetime(2022, 7, 1, hour, minute, second, tzinfo=WIB)


def test_two_failed_checks_open_an_outage_from_the_first_and_a_good_one_ends_it(
        office_a, office_b, central_sim, queued, committed):
    central_sim.configure(office_a.code, down=True)
    with time_machine.travel(at(9, 0), tick=False):
        assert central_link_check(office_id=office_a.id) is False
    assert CentralOutage.objects.count() == 0  # one failure is not an outage
    with time_machine.travel(at(9, 1), tick=False), committed():
        central_link_check(office_id=office_a.id)
        central_link_check(office_id=office_b.id)
    outage = CentralOutage.objects.get()
    assert (outage.office, outage.started_at, outage.ended_at, outage.detection) == (
        office_a, at(9, 0), None, "health_check")
    assert outage.cause == "simulated link is down"
    assert outage.expected_back == at(11, 0)  # no history: two hours
    assert ("central.tasks.central_outage_notify", (outage.id,)) in queued

    central_sim.configure(office_a.code, down=False)
    with time_machine.travel(at(13, 0), tick=False), committed():
        assert central_link_check(office_id=office_a.id) is True
    outage.refresh_from_db()
    assert (outage.ended_at, outage.end_detection) == (at(13, 0), "health_check")
    link = CentralLink.objects.get(office=office_a)
    assert (link.consecutive_failures, link.failing_since, link.last_ok_at) == (
        0, None, at(13, 0))
    # The next outage's estimate comes from this one's four hours.
    with time_machine.travel(at(14, 0), tick=False):
        central_sim.configure(office_a.code, down=True)
        central_link_check(office_id=office_a.id)
        central_link_check(office_id=office_a.id)
    assert CentralOutage.objects.get(ended_at__isnull=True).expected_back == at(18, 0)


def test_the_office_shows_the_notice_while_the_link_is_down(office_a, office_b, http):
    assert office_link_state(office=office_a) == {"link_status": "up",
                                                            "notice": None}
    outage = CentralOutage.objects.create(
        office=office_a, started_at=at(9, 0), detection="health_check",
        expected_back=at(13, 0))
    body = http.get(f"/api/v1/offices/{office_a.code}/").json()
    assert body["link_status"] == "down"
    assert body["notice"] == {
        "since": "2022-07-01T09:00:00+07:00", "expected_back": "2022-07-01T13:00:00+07:00",
        "message": ("Jaringan ke server pusat Kementerian sedang terputus. Pencetakan kartu "
                    "dan perubahan data menunggu dan dikirim otomatis begitu jaringan pulih; "
                    "tidak ada yang hilang.")}
    english = http.get(f"/api/v1/offices/{office_a.code}/",
                       headers={"Accept-Language": "en"}).json()
    assert english["notice"]["message"].startswith("The link to the ministry's central")
    other = http.get(f"/api/v1/offices/{office_b.code}/").json()
    assert (other["link_status"], other["notice"]) == ("up", None)
    outage.message = "Pemeliharaan server pusat oleh Kemendagri."
    outage.save()
    assert http.get(f"/api/v1/offices/{office_a.code}/").json()["notice"]["message"] == (
        "Pemeliharaan server pusat oleh Kemendagri.")


def test_jobs_wait_with_backoff_while_down_and_go_at_once_when_the_link_is_back(
        office_a, central_sim, queued, serve, committed):
    card_stock_for(office_a)
    application = ApplicationFactory(office=office_a)
    central_sim.configure(office_a.code, down=True)
    with time_machine.travel(at(9, 30), tick=False):
        jobs = serve(application)
        with committed():
            central_job_send(job_id=jobs[0].id)
    job = CentralJob.objects.get(pk=jobs[0].id)
    assert (job.status, job.attempts, job.next_attempt_at) == (
        "pending", 1, at(9, 30, 30))
    with time_machine.travel(at(9, 31), tick=False), committed():
        central_job_send(job_id=job.id)
    job.refresh_from_db()
    assert (job.attempts, job.next_attempt_at) == (2, at(9, 32))
    outage = CentralOutage.objects.get()  # two failed sends are an outage too
    assert (outage.started_at, outage.detection) == (at(9, 30), "send_failure")
    waiting = application.events.filter(kind="central.job_waiting")
    assert waiting.count() == 2  # once for the first failure, once for the outage
    assert waiting.last().params["since"] == "01-07-2022 09:30 WIB"
    assert list(CentralJobAttempt.objects.values_list("number", "outcome")) == [
        (1, "link_down"), (2, "link_down")]

    queued.clear()
    central_sim.configure(office_a.code, down=False)
    with time_machine.travel(at(13, 0), tick=False), committed():
        central_link_check(office_id=office_a.id)
    assert queued == [("central.tasks.central_job_send", (job.id,))]
    assert CentralJob.objects.get(pk=job.id).next_attempt_at == at(13, 0)
    with time_machine.travel(at(13, 0, 5), tick=False), committed():
        central_job_send(job_id=job.id)
        central_job_send(job_id=jobs[1].id)
    assert list(CentralJob.objects.values_list("status", flat=True)) == ["done", "done"]
    assert [r["times"] for r in central_sim.received()] == [1, 1]


def test_residents_waiting_on_central_work_are_told_once_with_their_choices(
        office_a, office_b, central_sim, queued, serve, committed):
    waiting = ApplicationFactory(office=office_a)
    # An office that hands a lost card's replacement to the holder in person only.
    office_a.services.filter(code="KTP_HILANG").update(holder_in_person=True)
    in_person = ApplicationFactory(office=office_a,
                                   service=office_a.services.get(code="KTP_HILANG"))
    elsewhere = ApplicationFactory(office=office_b)
    for application in (waiting, in_person, elsewhere):
        serve(application)
    with time_machine.travel(at(9, 0), tick=False), committed():
        outage = central_outage_declare(
            office=office_a, cause="Pemeliharaan jaringan", expected_back=at(13, 0))
    assert central_outage_notify(outage_id=outage.id) == 2
    assert central_outage_notify(outage_id=outage.id) == 0  # told once
    told = {n.application_id: n.body for n in Notification.objects.filter(
        kind="central.outage")}
    assert set(told) == {waiting.id, in_person.id}
    assert "antar ke rumah" in told[waiting.id]
    assert "antar ke rumah" not in told[in_person.id]
    assert "13:00 WIB" in told[waiting.id]
    assert CentralOutage.objects.get().residents_told == 2

    # A resident served during the outage is told at once, with the same notice.
    late = ApplicationFactory(office=office_a)
    with time_machine.travel(at(10, 0), tick=False):
        serve(late)
    assert Notification.objects.filter(kind="central.outage", application=late).count() == 1
    assert late.events.filter(kind="central.job_waiting").count() == 1


def test_staff_declare_update_and_end_an_outage(office_a, central_sim, queued, make_staff,
                                                committed):
    supervisor = make_staff(office_a, Role.SUPERVISOR)
    with time_machine.travel(at(9, 0), tick=False):
        with pytest.raises(DomainError) as past:
            central_outage_declare(office=office_a, cause="Kabel putus",
                                   expected_back=at(8, 0), by=supervisor)
        assert past.value.code == "expected_back_past"
        with pytest.raises(DomainError) as no_cause:
            central_outage_declare(office=office_a, cause=" ", by=supervisor)
        assert no_cause.value.code == "cause_required"
        assert CentralOutage.objects.count() == 0
        outage = central_outage_declare(
            office=office_a, cause="Kabel putus", message="Jaringan putus karena galian.",
            expected_back=at(12, 0), by=supervisor)
        with pytest.raises(Conflict):
            central_outage_declare(office=office_a, cause="lagi", by=supervisor)
        central_outage_update(outage=outage, message="Perkiraan pulih pukul 13.00.",
                              expected_back=at(13, 0), by=supervisor)
    # A declared outage is not ended by a check that happens to answer.
    with time_machine.travel(at(10, 0), tick=False):
        central_link_check(office_id=office_a.id)
    assert CentralOutage.objects.get().ended_at is None
    assert office_link_state(office=office_a)["notice"]["message"] == (
        "Perkiraan pulih pukul 13.00.")
    with time_machine.travel(at(12, 45), tick=False), committed():
        central_outage_end(outage=outage, by=supervisor)
    outage.refresh_from_db()
    assert (outage.ended_at, outage.ended_by, outage.declared_by) == (
        at(12, 45), supervisor, supervisor)
    with pytest.raises(Conflict):
        central_outage_end(outage=outage, by=supervisor)


def test_an_estimate_that_passed_moves_on_while_the_link_stays_down(office_a, central_sim):
    central_sim.configure(office_a.code, down=True)
    with time_machine.travel(at(9, 0), tick=False):
        central_link_check(office_id=office_a.id)
        central_link_check(office_id=office_a.id)
    with time_machine.travel(at(11, 20), tick=False):
        central_link_check(office_id=office_a.id)
    assert CentralOutage.objects.get().expected_back == at(12, 30)


def test_a_sender_that_died_mid_send_is_taken_over_and_the_job_done_once(
        application_a, central_sim, queued, serve, committed, mocker):
    jobs = serve(application_a)
    # The worker dies after the central server did the job, before recording it.
    crash = mocker.patch("registry.central.services.jobs._record_accepted",
                         side_effect=SystemExit)
    with time_machine.travel(at(9, 0), tick=False), pytest.raises(SystemExit):
        central_job_send(job_id=jobs[0].id)
    mocker.stop(crash)
    job = CentralJob.objects.get(pk=jobs[0].id)
    assert (job.status, job.attempts) == ("sending", 1)
    with time_machine.travel(at(9, 0, 30), tick=False), committed():
        assert central_jobs_resend_due() == 0  # the lease still holds
    queued.clear()
    with time_machine.travel(at(9, 2), tick=False), committed():
        assert central_jobs_resend_due() == 1
        assert central_jobs_resend_due() == 0  # a doubled beat queues nothing more
    assert queued == [("central.tasks.central_job_send", (job.id,))]
    with time_machine.travel(at(9, 2, 1), tick=False), committed():
        central_job_send(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 2)
    assert list(job.sends.values_list("number", "outcome")) == [
        (1, AttemptOutcome.ABANDONED), (2, AttemptOutcome.ACCEPTED)]
    assert central_sim.received()[0]["times"] == 2  # arrived twice, done once
    assert application_a.events.filter(kind="central.job_accepted").count() == 1


def test_the_sweep_queues_due_jobs_in_bounded_batches(office_a, queued, serve, committed):
    application = ApplicationFactory(office=office_a)
    jobs = serve(application)
    queued.clear()
    CentralJob.objects.filter(pk=jobs[0].id).update(next_attempt_at=at(8, 0))
    with time_machine.travel(at(9, 0), tick=False), committed():
        assert central_jobs_resend_due() == 1
    assert queued == [("central.tasks.central_job_send", (jobs[0].id,))]
    # Queued for a lease: not queued again by the next beat.
    with time_machine.travel(at(9, 1), tick=False), committed():
        assert central_jobs_resend_due() == 0
    assert CentralJob.objects.get(pk=jobs[1].id).status == CentralJobStatus.BLOCKED


def test_the_beat_checks_every_active_office(office_a, office_b, mocker):
    office_c = OfficeFactory(code="3171")
    office_b.is_active = False
    office_b.save()
    # One Celery group of a task per active office (registry.background.fan_out).
    fanned = []
    mocker.patch("registry.central.services.link.fan_out",
                 side_effect=lambda task, ids, *args: fanned.append((task.name, ids, args))
                 or len(ids))
    assert central_link_check_all() == 2
    assert fanned == [("central.tasks.central_link_check", [office_a.id, office_c.id], ())]


def test_the_outage_notice_gives_an_action_without_the_app(office_a, central_sim, serve,
                                                           committed):
    """A feature phone is told to reply ANTAR; without a phone, the desk is named."""
    office_a.whatsapp = "08111222333"
    office_a.save()
    sms = ApplicationFactory(office=office_a, resident__phone_type="feature_phone")
    paper = ApplicationFactory(office=office_a, resident__phone_type="none")
    for application in (sms, paper):
        serve(application)
    with time_machine.travel(at(9, 0), tick=False), committed():
        outage = central_outage_declare(
            office=office_a, cause="Pemeliharaan jaringan", expected_back=at(13, 0))
    central_outage_notify(outage_id=outage.id)
    told = {n.application_id: n.body for n in Notification.objects.filter(
        kind="central.outage")}
    assert told[sms.id].endswith("atau meminta kartu diantar ke rumah: balas SMS ini "
                                 "dengan ANTAR.")
    assert told[paper.id].endswith("sampaikan ke loket depan atau hubungi 08111222333.")
    assert "aplikasi" not in told[sms.id] + told[paper.id]
