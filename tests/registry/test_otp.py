"""registry.otp: activation codes, sign-in codes and phone binding, as services."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from registry import otp
from registry.errors import NotFound
from registry.models import ActivationCode, Role
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_a(make_staff, office_a):
    return make_staff(office_a, Role.FRONT_DESK)


def test_an_activation_code_is_shown_once_and_stored_hashed(office_a, desk_a):
    resident = ResidentFactory(domicile_office=office_a, phone="")
    code = otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    assert re.fullmatch(r"[ACDEFGHJKLMNPQRTUVWXY34679]{4}-[ACDEFGHJKLMNPQRTUVWXY34679]{4}",
                        code)
    row = ActivationCode.objects.get()
    assert (row.office, row.resident, row.created_by, row.used_at, row.attempts) == (
        office_a, resident, desk_a, None, 0)
    assert row.expires_at - row.created_at == timedelta(days=30)
    salt, digest = row.code_hash.split("$")
    assert (len(salt), len(digest)) == (16, 64)
    assert code.replace("-", "") not in row.code_hash
    assert otp.code_hash_matches(row.code_hash, code.replace("-", ""))


def test_a_new_activation_code_spends_the_older_ones(office_a, desk_a):
    resident = ResidentFactory(domicile_office=office_a, phone="")
    other = ResidentFactory(domicile_office=office_a, phone="")
    otp.activation_code_issue(office=office_a, resident=other, by=desk_a)
    otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    otp.activation_code_issue(office=office_a, resident=resident, by=desk_a)
    now = timezone.now()
    live = ActivationCode.objects.filter(expires_at__gt=now)
    assert sorted(live.values_list("resident_id", flat=True)) == sorted([other.id, resident.id])
    assert ActivationCode.objects.filter(resident=resident).count() == 2


def test_staff_of_another_office_cannot_issue_activation_codes(office_a, office_b, make_staff):
    resident = ResidentFactory(domicile_office=office_a, phone="")
    desk_b = make_staff(office_b, Role.FRONT_DESK)
    with pytest.raises(NotFound):
        otp.activation_code_issue(office=office_a, resident=resident, by=desk_b)
    assert not ActivationCode.objects.exists()
