"""Intake from every channel: references, duplicates, linking to the resident and case."""

import pytest
import time_machine

from complaints.models import Complaint, ComplaintDeadline
from complaints.services.chronology import chronology_generate
from complaints.services.handling import attachment_add, complaint_link_case
from complaints.services.intake import complaint_file, source_key
from complaints.services.responses import complaint_acknowledge
from registry.errors import Conflict, DomainError, NotFound
from registry.models import CaseEvent, Notification, Role
from tests.complaints.conftest import wib
from tests.deliveries.conftest import print_card

pytestmark = pytest.mark.django_db


@time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False)
def test_a_logged_post_gets_a_reference_and_the_sp4n_lapor_deadlines(log_complaint, office_a):
    complaint = log_complaint(posted_at=wib(2022, 7, 2, 20, 15))
    assert complaint.reference == "ADU-3275-2022-00001"
    assert log_complaint().reference == "ADU-3275-2022-00002"
    deadlines = {d.kind: d.due_at for d in ComplaintDeadline.objects.filter(
        complaint=complaint)}
    # Received Monday 4 July 09:00: 3, 5 and 10 working days later at 09:00.
    assert deadlines == {"acknowledge": wib(2022, 7, 7, 9, 0),
                         "respond": wib(2022, 7, 11, 9, 0),
                         "resolve": wib(2022, 7, 18, 9, 0)}


@time_machine.travel(wib(2022, 7, 4, 9, 0), tick=False)
def test_references_are_per_office(log_complaint, office_b, humas_b):
    log_complaint()
    other = log_complaint(office=office_b, by=humas_b)
    assert other.reference == "ADU-3216-2022-00001"


def test_the_same_post_logged_twice_is_caught(log_complaint):
    first = log_complaint(link="https://www.instagram.com/p/CfXyZ123/?igshid=abc")
    with pytest.raises(Conflict) as refused:
        log_complaint(link="https://instagram.com/p/CfXyZ123")
    assert refused.value.code == "duplicate_post"
    assert refused.value.extra == {"duplicate_of": first.reference}
    assert Complaint.objects.count() == 1
    # Another channel, or another post, is another complaint.
    log_complaint(channel="facebook", link="https://instagram.com/p/CfXyZ123")
    log_complaint(link="https://instagram.com/p/Other")
    assert Complaint.objects.count() == 3


def test_x_and_twitter_links_are_the_same_post(log_complaint):
    log_complaint(channel="x", link="https://twitter.com/budi/status/155?s=20")
    with pytest.raises(Conflict):
        log_complaint(channel="x", link="https://x.com/budi/status/155")


def test_a_lapor_report_needs_its_tracking_id_and_is_logged_once(log_complaint):
    with pytest.raises(DomainError) as refused:
        log_complaint(channel="lapor", link="")
    assert refused.value.code == "lapor_tracking_id_required"
    log_complaint(channel="lapor", link="", lapor_tracking_id="LAPOR-4451 23")
    with pytest.raises(Conflict):
        log_complaint(channel="lapor", link="", lapor_tracking_id="lapor-445123")


def test_every_channel_can_be_logged(log_complaint):
    for channel in ["instagram", "x", "facebook", "youtube"]:
        log_complaint(channel=channel, link=f"https://example.com/{channel}/1")
    log_complaint(channel="email", link="", handle="budi@example.com")
    log_complaint(channel="whatsapp", link="", handle="+6281234500001")
    log_complaint(channel="in_person", link="", complainant_name="Budi")
    log_complaint(channel="lapor", link="", lapor_tracking_id="7781")
    assert Complaint.objects.count() == 8


def test_a_social_post_needs_its_link(log_complaint):
    with pytest.raises(DomainError) as refused:
        log_complaint(link="")
    assert refused.value.code == "link_required"
    assert Complaint.objects.count() == 0


def test_staff_of_another_office_cannot_log_for_this_one(log_complaint, humas_b, office_a):
    with pytest.raises(NotFound):
        log_complaint(office=office_a, by=humas_b)
    assert Complaint.objects.count() == 0


def test_linking_by_nik_finds_the_resident_and_latest_case(log_complaint, application_a,
                                                           humas_a):
    complaint = log_complaint(link_by="nik", link_value=application_a.resident.nik)
    assert complaint.resident == application_a.resident
    assert complaint.application == application_a
    assert complaint.link_method == "nik"
    assert CaseEvent.objects.filter(application=application_a,
                                    kind="complaint.received").count() == 1
    told = Notification.objects.get(resident=application_a.resident, kind="complaint.received")
    assert complaint.reference in told.title


def test_linking_by_receipt_code_and_case_number(log_complaint, application_a, humas_a):
    print_card(application_a)
    code = application_a.card.receipt_code
    complaint = log_complaint()
    complaint_link_case(complaint=complaint, method="receipt",
                        value=code.lower().replace("-", ""), by=humas_a)
    complaint.refresh_from_db()
    assert complaint.application == application_a
    other = log_complaint(link_by="application", link_value=application_a.number)
    assert other.application == application_a


def test_another_offices_case_is_not_found(log_complaint, application_b):
    with pytest.raises(NotFound):
        log_complaint(link_by="application", link_value=application_b.number)
    with pytest.raises(NotFound):
        log_complaint(link_by="nik", link_value=application_b.resident.nik)
    assert Complaint.objects.count() == 0


def test_a_malformed_nik_is_refused(log_complaint):
    with pytest.raises(DomainError) as refused:
        log_complaint(link_by="nik", link_value="12345")
    assert refused.value.code == "nik_format"


def test_the_assignee_must_handle_complaints_in_this_office(log_complaint, make_staff,
                                                            office_a, humas_b, humas_a2):
    courier = make_staff(office_a, Role.COURIER)
    with pytest.raises(DomainError):
        log_complaint(assignee=courier)
    with pytest.raises(DomainError):
        log_complaint(assignee=humas_b)
    assert log_complaint(assignee=humas_a2).assignee == humas_a2


def test_a_resident_files_about_their_own_case(application_a, application_b, office_a):
    complaint = complaint_file(resident=application_a.resident, office=office_a,
                               text="Kartu belum sampai", category="delivery",
                               application=application_a)
    assert (complaint.channel, complaint.status, complaint.link_method) == (
        "app", "received", "app")
    with pytest.raises(NotFound):
        complaint_file(resident=application_a.resident, office=office_a,
                       text="x", application=application_b)


def test_a_confidential_complaint_is_not_written_on_the_case_timeline(log_complaint,
                                                                      application_a):
    log_complaint(channel="lapor", link="", lapor_tracking_id="1", confidential=True,
                  link_by="application", link_value=application_a.number)
    assert not CaseEvent.objects.filter(application=application_a,
                                        kind__startswith="complaint.").exists()


def test_attachments_are_checked_by_their_content(log_complaint):
    from django.core.files.uploadedfile import SimpleUploadedFile

    complaint = log_complaint()
    fake = SimpleUploadedFile("shot.png", b"<script>alert(1)</script>", "image/png")
    with pytest.raises(DomainError) as refused:
        attachment_add(complaint=complaint, upload=fake)
    assert refused.value.code == "file_type"
    pdf = SimpleUploadedFile("bukti.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n",
                             "application/pdf")
    attachment = attachment_add(complaint=complaint, upload=pdf)
    assert (attachment.content_type, attachment.file.name.endswith(".pdf")) == (
        "application/pdf", True)
    assert complaint.attachments.count() == 1


@pytest.mark.parametrize(("link", "key"), [
    ("https://youtu.be/abc123", "youtube.com/watch?v=abc123"),
    ("https://m.youtube.com/watch?v=abc123&t=42s", "youtube.com/watch?v=abc123"),
    ("https://web.facebook.com/permalink.php?story_fbid=9&id=1&ref=share",
     "facebook.com/permalink.php?id=1&story_fbid=9"),
    ("instagram.com/p/Cf1//", "instagram.com/p/Cf1"),
    ("@Budi.Santoso85", "budi.santoso85"),
])
def test_links_are_compared_without_tracking_noise(link, key):
    assert source_key(channel="youtube", link=link) == key


def test_handling_is_for_this_offices_public_relations_and_supervisors(
        log_complaint, humas_b, supervisor_b, make_staff, office_a):
    complaint = log_complaint()
    front_desk = make_staff(office_a, Role.FRONT_DESK)
    for user in (humas_b, supervisor_b, front_desk):
        with pytest.raises(NotFound):
            complaint_acknowledge(complaint=complaint, text="x", channel="instagram",
                                  by=user)
        with pytest.raises(NotFound):
            chronology_generate(complaint=complaint, by=user)
    assert complaint.responses.count() == 0
    assert complaint.chronologies.count() == 0


def test_a_chronology_needs_the_case(log_complaint, humas_a):
    with pytest.raises(DomainError) as refused:
        chronology_generate(complaint=log_complaint(), by=humas_a)
    assert refused.value.code == "case_not_linked"
