from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from registry.errors import Conflict, DomainError, NotFound
from registry.models import (
    Application,
    ApplicationStatus,
    Channel,
    NikDisclosure,
    Resident,
    Role,
    Service,
)
from registry.services.cases import application_open, application_set_status, case_event_record
from registry.services.residents import (
    resident_nik_disclose,
    resident_nik_verify,
    resident_register,
)
from registry.services.sequences import sequence_next
from registry.services.staff import staff_membership_grant
from tests.factories import ResidentFactory, make_nik


def test_sequences_count_per_office_and_scope(office_a, office_b):
    assert [sequence_next(office=office_a, scope="x") for _ in range(3)] == [1, 2, 3]
    assert sequence_next(office=office_b, scope="x") == 1
    assert sequence_next(office=office_a, scope="y") == 1


def test_opening_a_case_numbers_it_and_writes_the_timeline(office_a, resident_a):
    service = Service.objects.get(office=office_a, code="KTP_TTD_FOTO")
    application = application_open(
        office=office_a, resident=resident_a, service=service, channel=Channel.APP)
    year = application.created_at.year
    assert application.number == f"3275-{year}-00001"
    assert application.status == ApplicationStatus.OPEN
    event = application.events.get()
    assert event.kind == "application.opened"
    assert event.office_id == office_a.id
    assert event.by_resident is True
    with translation.override("en"):
        assert event.message == (
            f"Case 3275-{year}-00001 opened for Perubahan tanda tangan atau foto KTP-el "
            "(Mobile app)."
        )
    with translation.override("id"):
        assert event.message == (
            f"Berkas 3275-{year}-00001 dibuka untuk Perubahan tanda tangan atau foto KTP-el "
            "(Aplikasi)."
        )


def test_a_service_of_another_office_cannot_open_a_case(office_a, office_b, resident_a):
    foreign = Service.objects.get(office=office_b, code="KTP_BARU")
    with pytest.raises(NotFound):
        application_open(office=office_a, resident=resident_a, service=foreign,
                         channel=Channel.APP)
    assert not Application.objects.exists()


def test_status_changes_are_on_the_timeline(application_a):
    application_set_status(application=application_a,
                           status=ApplicationStatus.IN_PROGRESS)
    application_set_status(application=application_a,
                           status=ApplicationStatus.COMPLETED)
    kinds = list(application_a.events.values_list("kind", "params"))
    assert kinds[1:] == [
        ("application.status", {"old": "open", "new": "in_progress"}),
        ("application.status", {"old": "in_progress", "new": "completed"}),
    ]
    application_a.refresh_from_db()
    assert application_a.closed_at is not None


def test_unknown_event_kinds_are_a_programming_error(application_a):
    with pytest.raises(ValueError, match="Unknown case event kind"):
        case_event_record(application=application_a, kind="made.up")
    assert application_a.events.count() == 1


def test_registering_flags_a_nik_whose_date_disagrees(office_a):
    nik = make_nik(born=date(1990, 10, 15))
    resident = resident_register(nik=nik, name="Agus", birth_date=date(1990, 10, 16))
    assert resident.nik_needs_review is True
    assert resident.sex == "M"
    assert resident.domicile_office == office_a  # from the NIK's region code


def test_registering_derives_sex_and_accepts_matching_dates(office_a):
    nik = make_nik(born=date(1988, 7, 5), female=True)
    resident = resident_register(nik=nik, name="Siti", birth_date=date(1988, 7, 5),
                                 phone="0812-3450-0002")
    assert (resident.sex, resident.nik_needs_review) == ("F", False)
    assert resident.phone == "+6281234500002"


def test_a_sex_that_disagrees_with_the_nik_is_flagged(office_a):
    nik = make_nik(born=date(1988, 7, 5), female=True)
    resident = resident_register(nik=nik, name="X", birth_date=date(1988, 7, 5),
                                 sex="M")
    assert resident.nik_needs_review is True


@pytest.mark.parametrize(("nik", "code"), [("123", "nik_format"),
                                           ("2075011203850001", "nik_province")])
def test_registering_refuses_malformed_niks(db, nik, code):
    with pytest.raises(DomainError) as error:
        resident_register(nik=nik, name="X", birth_date=date(1985, 3, 12))
    assert error.value.code == code
    assert not Resident.objects.exists()


def test_a_nik_is_registered_once(resident_a):
    with pytest.raises(Conflict):
        resident_register(nik=resident_a.nik, name="Copy", birth_date=date(1985, 3, 12))
    assert Resident.objects.count() == 1


def test_verifying_a_nik_clears_the_flag(make_staff, office_a):
    supervisor = make_staff(office_a, Role.SUPERVISOR)
    resident = ResidentFactory(domicile_office=office_a, birth_date=date(1990, 1, 1),
                               nik=make_nik(born=date(1991, 1, 1)))
    resident.nik_needs_review = True
    resident.save()
    resident_nik_verify(resident=resident, by=supervisor)
    resident.refresh_from_db()
    assert (resident.nik_needs_review, resident.nik_reviewed_by) == (False, supervisor)


def test_roles_are_groups_with_their_permissions(roles):
    assert set(Group.objects.values_list("name", flat=True)) == {
        str(role.label) for role in Role}
    front_desk = roles[Role.FRONT_DESK]
    codenames = set(front_desk.permissions.values_list("codename", flat=True))
    assert {"add_resident", "view_full_nik", "add_application"} <= codenames
    assert "change_office" not in codenames


def test_membership_gives_groups_and_admin_access(make_staff, office_a, office_b):
    user = make_staff(office_a, Role.FRONT_DESK)
    assert user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == [str(Role.FRONT_DESK.label)]
    courier = make_staff(office_b, Role.COURIER)
    assert not courier.is_staff  # couriers work from their phone page, not admin


def test_object_permissions_follow_the_role_in_that_office(make_staff, office_a, office_b,
                                                            application_a, application_b):
    user = make_staff(office_a, Role.SUPERVISOR, username="mixed")
    staff_membership_grant(user=user, office=office_b, role=Role.PUBLIC_RELATIONS)
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("registry.change_application", application_a)
    # Public relations in office B may look, not change, whatever they may do in A.
    assert user.has_perm("registry.view_application", application_b)
    assert not user.has_perm("registry.change_application", application_b)


def test_full_nik_disclosure_is_recorded_and_needs_a_reason(make_staff, office_a, resident_a):
    desk = make_staff(office_a, Role.FRONT_DESK)
    with pytest.raises(DomainError):
        resident_nik_disclose(resident=resident_a, office=office_a, user=desk,
                              reason=" ")
    nik = resident_nik_disclose(resident=resident_a, office=office_a, user=desk,
                                reason="Verifikasi di loket")
    assert nik == resident_a.nik
    record = NikDisclosure.objects.get()
    assert (record.user, record.resident, record.reason) == (desk, resident_a,
                                                             "Verifikasi di loket")


def test_roles_without_the_permission_cannot_see_a_full_nik(make_staff, office_a, office_b,
                                                             resident_a):
    humas = make_staff(office_a, Role.PUBLIC_RELATIONS)
    other_desk = make_staff(office_b, Role.FRONT_DESK)
    for user in (humas, other_desk):
        with pytest.raises(NotFound):
            resident_nik_disclose(resident=resident_a, office=office_a, user=user,
                                  reason="ingin tahu")
    assert not NikDisclosure.objects.exists()
