"""The complaint workspace in admin, the report, and the printable statement: who sees
what (confidential complainants, follow-up of staff, other offices)."""

import pytest
import time_machine
from django.urls import reverse

from complaints.models import Complaint
from complaints.services.responses import complaint_resolve, complaint_respond
from registry.models import Role
from tests.complaints.conftest import wib
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def _page(client, user, complaint):
    client.force_login(user)
    return client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))


def test_staff_log_a_post_in_admin_and_a_duplicate_shows_on_the_form(client, humas_a,
                                                                     office_a):
    client.force_login(humas_a)
    url = reverse("admin:complaints_complaint_add")
    data = {"office": office_a.pk, "channel": "instagram",
            "link": "https://www.instagram.com/p/Cf1/", "text": "Antrean diserobot",
            "category": "queue_fairness", "handle": "@warga"}
    answer = client.post(url, data)
    assert answer.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.logged_by == humas_a
    assert complaint.reference.startswith("ADU-3275-")
    again = client.post(url, {**data, "link": "instagram.com/p/Cf1"})
    assert again.status_code == 200
    assert f"Unggahan ini sudah dicatat sebagai {complaint.reference}." in again.content.decode()
    assert Complaint.objects.count() == 1


def test_a_confidential_complainant_is_seen_by_supervisors_and_the_assignee_only(
        client, log_complaint, humas_a, humas_a2, supervisor_a, office_a):
    budi = ResidentFactory(domicile_office=office_a, name="Budi Santoso")
    complaint = log_complaint(channel="lapor", link="", lapor_tracking_id="99",
                              confidential=True, assignee=humas_a2, link_by="nik",
                              link_value=budi.nik, complainant_name="Budi Santoso")
    hidden = "Rahasia: hanya supervisor dan penanggung jawab"
    assert hidden in _page(client, humas_a, complaint).content.decode()
    assert "Budi Santoso" not in _page(client, humas_a, complaint).content.decode()
    for user in (humas_a2, supervisor_a):
        page = _page(client, user, complaint).content.decode()
        assert "Budi Santoso" in page
        assert hidden not in page


def test_follow_up_is_hidden_from_public_relations_officers(client, log_complaint, humas_a,
                                                            supervisor_a, make_staff,
                                                            office_a):
    complaint = log_complaint()
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="op-c")
    client.force_login(supervisor_a)
    url = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    client.post(url, {"op": "follow_up", "staff_member": operator.pk, "action": "coaching",
                      "decision": "Pembinaan tentang urutan lajur"})
    assert complaint.follow_ups.count() == 1
    assert "Pembinaan tentang urutan lajur" in _page(client, supervisor_a,
                                                     complaint).content.decode()
    page = _page(client, humas_a, complaint).content.decode()
    assert "Pembinaan tentang urutan lajur" not in page
    assert 'id="follow-up"' not in page
    # Posting the operation directly is refused as if it did not exist.
    client.force_login(humas_a)
    assert client.post(url, {"op": "follow_up", "staff_description": "x",
                             "action": "warning", "decision": "y"}).status_code == 404
    assert client.get(reverse("admin:complaints_stafffollowup_changelist")).status_code == 403
    assert complaint.follow_ups.count() == 1


def test_another_offices_complaint_answers_404_everywhere(client, log_complaint, humas_b,
                                                          supervisor_b):
    complaint = log_complaint()
    for user in (humas_b, supervisor_b):
        client.force_login(user)
        assert _page(client, user, complaint).status_code == 404
        assert client.post(reverse("admin:complaints_complaint_change", args=[complaint.pk]),
                           {"op": "generate"}).status_code == 404
        assert client.get(reverse("complaints:statement", args=[complaint.pk])
                          ).status_code == 404
        assert client.get(reverse("complaints:statement-pdf", args=[complaint.pk])
                          ).status_code == 404


def test_the_workspace_handles_a_complaint_from_first_response_to_resolution(
        client, log_complaint, humas_a, application_a):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        complaint = log_complaint()
    client.force_login(humas_a)
    url = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    with time_machine.travel(wib(2022, 7, 4, 10, 0), tick=False):
        client.post(url, {"op": "link", "method": "application",
                          "value": application_a.number})
        client.post(url, {"op": "acknowledge", "text": "Kami periksa.", "channel": "instagram"})
        client.post(url, {"op": "generate"})
        client.post(url, {"op": "respond", "text": "Jawaban kami.", "channel": "instagram"})
        client.post(url, {"op": "resolve", "text": "Selesai.", "channel": "instagram"})
    complaint.refresh_from_db()
    assert (complaint.application, complaint.status) == (application_a, "resolved")
    assert list(complaint.responses.values_list("kind", flat=True)) == [
        "acknowledge", "response", "resolution"]
    assert complaint.chronologies.count() == 1
    refused = client.post(url, {"op": "respond", "text": "lagi", "channel": "instagram"},
                          follow=True)
    assert "Pengaduan ini sudah selesai." in refused.content.decode()
    assert complaint.responses.count() == 3


def test_the_report_counts_and_times_for_the_supervisors_office_only(
        client, log_complaint, humas_a, supervisor_a, humas_b, office_b):
    with time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False):
        fast = log_complaint()
        slow = log_complaint(channel="x", link="https://x.com/a/status/1", category="other")
        log_complaint(office=office_b, by=humas_b, channel="facebook",
                      link="https://facebook.com/p/1")
    with time_machine.travel(wib(2022, 7, 4, 10, 0), tick=False):
        complaint_resolve(complaint=fast, text="ok", channel="instagram", by=humas_a)
    with time_machine.travel(wib(2022, 7, 19, 9, 0), tick=False):
        complaint_resolve(complaint=slow, text="ok", channel="x", by=humas_a)
    client.force_login(supervisor_a)
    answer = client.get(reverse("admin:complaints_complaint_report"),
                        {"date_from": "2022-07-01", "date_to": "2022-07-31"})
    assert answer.status_code == 200
    figures = answer.context["figures"]
    assert [o.code for o in figures["offices"]] == ["3275"]
    assert figures["total"] == 2
    assert figures["by_channel"] == [("Instagram", 1), ("X (Twitter)", 1)]
    assert figures["by_status"] == [("Selesai", 2)]
    # 1 working hour and 11 working days (77 hours).
    assert figures["resolution_hours"] == {"median": 39.0, "p90": 77.0, "count": 2}
    assert figures["first_response_hours"] == {"median": 39.0, "p90": 77.0, "count": 2}
    # fast: 3 deadlines on time; slow: acknowledge, respond, resolve all late.
    assert (figures["deadlines_on_time"], figures["deadlines_met"]) == (3, 6)
    assert figures["share_within_deadline"] == 50.0
    assert figures["by_month"] == [("2022-07", 2)]
    html = answer.content.decode()
    assert 'data-chart="chart-complaints-per-month-config"' in html
    assert '<th scope="row">2022-07</th><td class="figure">2</td>' in html


def test_the_statement_prints_as_html_and_pdf_without_personal_data(
        client, log_complaint, humas_a, application_a):
    complaint = log_complaint(link_by="application", link_value=application_a.number)
    complaint_respond(complaint=complaint, by=humas_a, channel="instagram",
                      text=f"Yth. pemohon NIK {application_a.resident.nik}.")
    client.force_login(humas_a)
    page = client.get(reverse("complaints:statement", args=[complaint.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert f"Pernyataan resmi atas pengaduan {complaint.reference}" in text
    assert application_a.resident.nik not in text
    pdf = client.get(reverse("complaints:statement-pdf", args=[complaint.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
