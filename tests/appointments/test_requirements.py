from datetime import date

import pytest

from registry.appointments.services.requirements import requirement_check
from registry.errors import DomainError, NotFound
from registry.models import Service
from registry.service_sets import ServiceSet


def check(office, service, visit, documents):
    return requirement_check(office=office, service_set=ServiceSet((service,)),
                             visit_date=visit, documents=documents)


def test_all_present_and_valid_on_the_visit_day(office_a, lost_card, clock):
    # Issued 25 June, valid 14 days: last valid day 8 July.
    docs = [{"requirement": "KK"},
            {"requirement": "SURAT_KEHILANGAN", "issued_on": date(2026, 6, 25)}]
    assert check(office_a, lost_card, date(2026, 7, 8), docs) == []


def test_missing_expired_and_expiring_before_the_visit(office_a, lost_card, clock):
    assert [p["code"] for p in check(office_a, lost_card, date(2026, 7, 1), [])] == \
        ["missing", "missing"]
    expired = check(office_a, lost_card, date(2026, 7, 1), [
        {"requirement": "KK"},
        {"requirement": "SURAT_KEHILANGAN", "issued_on": date(2026, 6, 1)}])
    assert expired == [{
        "requirement": "SURAT_KEHILANGAN", "code": "expired",
        "message": "Surat keterangan kehilangan dari Kepolisian sudah kedaluwarsa pada "
                   "14 Juni 2026. Minta di Polsek atau Polres terdekat dengan membawa KK. "
                   "Surat berlaku 14 hari sejak diterbitkan; bila sudah lewat, minta surat "
                   "baru sebelum datang."}]
    # Valid today (issued 20 June, last day 3 July) but not on 6 July.
    soon = check(office_a, lost_card, date(2026, 7, 6), [
        {"requirement": "KK"},
        {"requirement": "SURAT_KEHILANGAN", "issued_on": date(2026, 6, 20)}])
    assert [(p["requirement"], p["code"]) for p in soon] == \
        [("SURAT_KEHILANGAN", "expires_before_visit")]
    assert soon[0]["message"].startswith(
        "Surat keterangan kehilangan dari Kepolisian berlaku sampai 3 Juli 2026, sebelum "
        "kunjungan Anda pada 6 Juli 2026.")


def test_messages_in_english_on_request(office_a, lost_card, clock):
    from django.utils import translation

    with translation.override("en"):
        problems = check(office_a, lost_card, date(2026, 7, 1), [{"requirement": "KK"}])
    assert problems[0]["message"].startswith(
        "Surat keterangan kehilangan dari Kepolisian is missing.")


def test_a_dated_document_needs_its_date_of_issue(office_a, lost_card, clock):
    problems = check(office_a, lost_card, date(2026, 7, 1),
                     [{"requirement": "KK"}, {"requirement": "SURAT_KEHILANGAN"}])
    assert [p["code"] for p in problems] == ["missing"]


@pytest.mark.parametrize(("documents", "code"), [
    ([{"requirement": "PASPOR"}], "requirement_unknown"),
    ([{"requirement": "KK"}, {"requirement": "KK"}], "requirement_repeated"),
    ([{"requirement": "SURAT_KEHILANGAN", "issued_on": date(2026, 6, 30)}], "issued_on_future"),
])
def test_bad_documents_are_refused(office_a, lost_card, clock, documents, code):
    with pytest.raises(DomainError) as error:
        check(office_a, lost_card, date(2026, 7, 1), documents)
    assert error.value.code == code


def test_visit_in_the_past_and_other_offices_service(office_a, office_b, lost_card, clock):
    with pytest.raises(DomainError) as error:
        check(office_a, lost_card, date(2026, 6, 26), [])
    assert error.value.code == "visit_date_past"
    other = Service.objects.get(office=office_b, code="KTP_HILANG")
    with pytest.raises(NotFound):
        check(office_a, other, date(2026, 7, 1), [])
