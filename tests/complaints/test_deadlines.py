"""Deadlines in working time, standing still while waiting for the complainant, and the
sweep that warns the assignee before and the supervisors after."""

import pytest
import time_machine

from complaints.models import ComplaintDeadline, ComplaintSettings, StaffAlert
from complaints.services.deadlines import complaint_resume, complaint_wait, deadlines_sweep
from complaints.services.responses import (
    complaint_acknowledge,
    complaint_resolve,
    complaint_respond,
)
from complaints.tasks import complaint_alert_email
from tests.complaints.conftest import wib

pytestmark = pytest.mark.django_db


def _due(complaint):
    return {d.kind: d.due_at for d in ComplaintDeadline.objects.filter(
        complaint=complaint, met_at__isnull=True)}


def test_the_offices_own_settings_set_the_deadlines(log_complaint, office_a):
    ComplaintSettings.objects.create(office=office_a, acknowledge_days=1, acknowledge_hours=2,
                                     respond_days=2, resolve_days=4)
    with time_machine.travel(wib(2022, 7, 1, 13, 0), tick=False):
        complaint = log_complaint()
    # Friday 13:00: +1 working day = Monday 13:00, +2 h = 15:00 closes -> Tuesday 08:00.
    assert _due(complaint) == {"acknowledge": wib(2022, 7, 4, 15, 0),
                               "respond": wib(2022, 7, 5, 13, 0),
                               "resolve": wib(2022, 7, 7, 13, 0)}


def test_time_waiting_for_the_complainant_does_not_count(log_complaint, humas_a):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        complaint = log_complaint()
    # Tuesday 5 July 09:00: the office asks for the police report; 2 working days pass.
    with time_machine.travel(wib(2022, 7, 5, 9, 0), tick=False):
        complaint_wait(complaint=complaint, reason="Mohon kirim foto surat "
                       "kehilangan", by=humas_a)
    complaint.refresh_from_db()
    assert complaint.status == "waiting"
    assert set(ComplaintDeadline.objects.filter(complaint=complaint).values_list(
        "paused", flat=True)) == {True}
    with time_machine.travel(wib(2022, 7, 7, 9, 0), tick=False):
        complaint_resume(complaint=complaint, by=humas_a)
    complaint.refresh_from_db()
    assert complaint.status == "received"
    # Every deadline moved by the two working days waited.
    assert _due(complaint) == {"acknowledge": wib(2022, 7, 11, 9, 0),
                               "respond": wib(2022, 7, 13, 9, 0),
                               "resolve": wib(2022, 7, 20, 9, 0)}
    assert complaint.pauses.get().working_minutes == 2 * 7 * 60


def test_the_sweep_warns_the_assignee_then_alerts_the_supervisors_once(
        log_complaint, humas_a, humas_a2, supervisor_a, django_capture_on_commit_callbacks):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        complaint = log_complaint(assignee=humas_a2)
    acknowledge = complaint.deadlines.get(kind="acknowledge")
    # Warned 7 working hours (a working day) before: Wednesday 6 July 09:00.
    assert acknowledge.warn_at == wib(2022, 7, 6, 9, 0)
    assert deadlines_sweep(now=wib(2022, 7, 6, 8, 59)) == 0
    assert deadlines_sweep(now=wib(2022, 7, 6, 9, 0)) == 1
    assert deadlines_sweep(now=wib(2022, 7, 6, 10, 0)) == 0
    warning = StaffAlert.objects.get()
    assert (warning.user, warning.kind) == (humas_a2, "warning")
    assert warning.message == ("ADU-3275-2022-00001: tanggapan pertama jatuh tempo pada "
                               "07-07-2022 09:00 WIB.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert deadlines_sweep(now=wib(2022, 7, 7, 9, 0)) == 1
    overdue = StaffAlert.objects.get(kind="overdue")
    assert overdue.user == supervisor_a
    # The supervisor has an e-mail address: the e-mail is queued after commit.
    assert len(callbacks) == 1
    assert deadlines_sweep(now=wib(2022, 7, 7, 10, 0)) == 0
    assert StaffAlert.objects.count() == 2


def test_the_alert_email_is_sent(log_complaint, supervisor_a, mailoutbox):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        complaint = log_complaint()
    deadlines_sweep(now=wib(2022, 7, 7, 9, 0))
    deadline = complaint.deadlines.get(kind="acknowledge")
    assert complaint_alert_email(deadline.id, supervisor_a.id, "overdue") is True
    assert [m.to for m in mailoutbox] == [["spv-a@example.go.id"]]


def test_a_met_or_paused_deadline_raises_no_alert(log_complaint, humas_a, supervisor_a):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        complaint = log_complaint()
        complaint_acknowledge(complaint=complaint, text="Sedang kami tangani.",
                              channel="instagram", by=humas_a)
        other = log_complaint()
        complaint_wait(complaint=other, reason="Nomor tiket?", by=humas_a)
    assert deadlines_sweep(now=wib(2022, 7, 7, 9, 30)) == 0
    assert StaffAlert.objects.count() == 0


def test_responding_on_time_meets_the_deadlines_and_reports_working_minutes(
        log_complaint, humas_a):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        complaint = log_complaint()
    with time_machine.travel(wib(2022, 7, 4, 11, 30), tick=False):
        complaint_acknowledge(complaint=complaint, text="Kami tangani.",
                              channel="instagram", by=humas_a)
    with time_machine.travel(wib(2022, 7, 6, 10, 0), tick=False):
        complaint_respond(complaint=complaint, text="Kronologi terlampir.",
                          channel="instagram", by=humas_a)
    complaint.refresh_from_db()
    assert complaint.first_response_minutes == 150
    assert complaint.status == "responded"
    met = {d.kind: d.within for d in complaint.deadlines.all()}
    assert met == {"acknowledge": True, "respond": True, "resolve": None, "update": None}
    # The next update is due 5 working days after the response.
    assert complaint.deadlines.get(kind="update").due_at == wib(2022, 7, 13, 10, 0)
    with time_machine.travel(wib(2022, 7, 8, 14, 0), tick=False):
        complaint_resolve(complaint=complaint, text="Selesai.", channel="instagram",
                          by=humas_a)
    complaint.refresh_from_db()
    assert complaint.status == "resolved"
    # Monday 09:00 to Friday 14:00: 6 + 7 + 7 + 7 + 6 hours.
    assert complaint.resolution_minutes == 33 * 60
    assert {d.kind: d.within for d in complaint.deadlines.all()} == {
        "acknowledge": True, "respond": True, "resolve": True, "update": True}


def test_the_admin_index_counts_todays_complaints_and_passed_deadlines(log_complaint,
                                                                       office_a):
    from datetime import date

    from complaints.selectors import dashboard_figures

    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        log_complaint()
        log_complaint()
    with time_machine.travel(wib(2022, 7, 7, 10, 0), tick=False):
        log_complaint()
        figures = dashboard_figures(office=office_a, day=date(2022, 7, 7))
    assert [value for _label, value in figures] == [1, 3, 2]
