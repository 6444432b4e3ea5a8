"""The records of processing (registry.processing, registry.admin_processing): every
model holding personal data declares it, the page lists each declaration with the
retention figures of settings.RETENTION, its export, and who may see it."""

import csv
import io
import re

import pytest
from django.conf import settings
from django.urls import reverse

from registry.models import Role, TurnAway
from registry.processing import (
    PersonalData,
    personal_data_fields,
    processing_records,
    undeclared_models,
)
from tests.factories import UserFactory

PAGE = reverse("admin:processing")

DECLARED = {
    "registry.resident", "registry.application", "registry.caseevent", "registry.turnaway",
    "registry.nikdisclosure", "registry.notification", "registry.notificationdelivery",
    "registry.otpchallenge", "registry.activationcode", "registry.exportrecord",
    "registry.breachnotice", "registry.accesslog", "registry.accesslogresident",
    "registry.correctionrequest",
    "appointments.booking", "appointments.bookingdocument", "appointments.smsoffer",
    "appointments.smsinbound",
    "central.centraljob", "central.card",
    "deliveries.handover", "deliveries.delivery", "deliveries.deliveryattempt",
    "queues.ticket",
    "complaints.complaint", "complaints.attachment", "complaints.chronology",
    "complaints.complaintresponse", "complaints.surveyanswer",
}


def test_every_model_with_personal_data_declares_it():
    assert undeclared_models() == []


def test_a_model_without_its_declaration_is_caught(monkeypatch):
    monkeypatch.delattr(TurnAway, "personal_data")
    assert undeclared_models() == ["registry.turnaway"]


def test_personal_data_is_found_by_links_files_and_names():
    from registry.appointments.models import BookingDocument
    from registry.deliveries.models import Handover
    from registry.models import Lane, NotificationDelivery, Office, Resident

    assert personal_data_fields(Resident) == [
        "nik", "name", "birth_date", "sex", "phone", "email", "address", "kelurahan",
        "kecamatan", "latitude", "longitude"]
    assert personal_data_fields(TurnAway) == ["resident", "application"]
    assert personal_data_fields(BookingDocument) == ["file"]
    assert personal_data_fields(NotificationDelivery) == ["address"]
    assert personal_data_fields(Handover) == ["application", "proxy_name", "proxy_nik",
                                              "collected_by_name", "collected_by_nik"]
    # An office's address and a lane's name are not a person's.
    assert personal_data_fields(Office) == []
    assert personal_data_fields(Lane) == []


def test_declarations_are_complete_and_consistent():
    records = processing_records()
    assert {record.label for record in records} == DECLARED
    for record in records:
        declaration = record.declaration
        assert isinstance(declaration, PersonalData)
        assert declaration.data
        assert declaration.purpose
        assert declaration.legal_basis
        assert set(declaration.roles) <= set(Role.values), record.label
        assert declaration.retention is None or declaration.retention in settings.RETENTION
        # An explicit field list may add fields, never leave out one found mechanically.
        assert set(personal_data_fields(record.model)) <= set(record.fields), record.label
        for name in record.fields:
            record.model._meta.get_field(name)


def record_section(html: str, label: str) -> str:
    match = re.search(rf'<div class="module processing-record" id="record-{re.escape(label)}">'
                      r"(.*?)</div>", html, re.S)
    assert match, label
    return match.group(1)


def retention_cell(html: str, label: str) -> str:
    return re.search(r'<td class="retention">(.*?)</td>', record_section(html, label),
                     re.S).group(1)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_page_lists_every_declared_model_with_its_record(client, superuser, office_a):
    client.force_login(superuser)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(re.findall(r'class="module processing-record"', html)) == len(DECLARED)
    for label in DECLARED:
        record_section(html, label)
    resident = record_section(html, "registry.resident")
    assert "UU 23/2006 jo. UU 24/2013" in resident
    assert "Disimpan sesuai ketentuan hukum administrasi kependudukan" in resident
    assert "Petugas informasi (front desk)" in resident
    # The fields by their names, in Indonesian.
    assert "tanggal lahir" in resident
    otp = record_section(html, "registry.otpchallenge")
    assert "hanya superuser" in otp


def test_page_shows_the_retention_days_of_the_settings(client, superuser, office_a, settings):
    client.force_login(superuser)
    html = client.get(PAGE).content.decode()
    assert retention_cell(html, "appointments.bookingdocument") == (
        "90 hari (setelah permohonan selesai)")
    assert retention_cell(html, "deliveries.deliveryattempt") == "365 hari"
    assert retention_cell(html, "registry.otpchallenge") == "30 hari"
    settings.RETENTION = {**settings.RETENTION, "documents": 45, "otp": 7}
    html = client.get(PAGE).content.decode()
    assert retention_cell(html, "appointments.bookingdocument") == (
        "45 hari (setelah permohonan selesai)")
    assert retention_cell(html, "registry.otpchallenge") == "7 hari"


@pytest.mark.parametrize(("role", "status"), [
    (Role.OFFICE_ADMIN, 200), (Role.PROVINCIAL_SUPERVISOR, 200), (Role.SUPERVISOR, 403),
    (Role.FRONT_DESK, 403), (Role.COUNTER_OPERATOR, 403), (Role.PUBLIC_RELATIONS, 403),
])
def test_who_sees_the_records(client, make_staff, office_a, office_b, role, status):
    client.force_login(make_staff(office_b, role))
    assert client.get(PAGE).status_code == status
    assert client.get(reverse("admin:processing_export", args=["csv"])).status_code == status
    index = client.get(reverse("admin:index")).content.decode()
    assert (PAGE in index) is (status == 200)


def test_anonymous_is_sent_to_sign_in(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_export_has_one_row_per_record(client, make_staff, office_a):
    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    response = client.get(reverse("admin:processing_export", args=["csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(DECLARED)
    assert rows[0][0] == "catatan"
    by_title = {row[0]: row for row in rows[1:]}
    assert by_title["kode sekali pakai"][4] == "30 hari"
    xlsx = client.get(reverse("admin:processing_export", args=["xlsx"]))
    assert xlsx.status_code == 200
    assert client.get(reverse("admin:processing_export", args=["pdf"])).status_code == 404


def test_every_role_that_may_view_a_model_is_in_its_record():
    """A role granted `<app>.view_<model>` in a roles table must be listed (the record
    may list more: couriers see their deliveries on the courier page, not in admin)."""
    from registry import extensions

    tables = extensions.registered(extensions.ROLES)
    for record in processing_records():
        perm = f"{record.model._meta.app_label}.view_{record.model._meta.model_name}"
        granted = {str(role) for table in tables for role, perms in table.items()
                   if perm in perms}
        assert granted <= {str(role) for role in record.declaration.roles}, record.label
