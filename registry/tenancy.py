"""Which offices a staff member works in, and with which roles.

Scoping fails closed: a user with no membership sees no office, and every helper
here answers "nothing" rather than "everything" when in doubt. Only superusers see
every office.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from registry.models import Office, Role, StaffMembership

_CACHE_ATTR = "_eopen_memberships"
_ALL_CACHE_ATTR = "_eopen_all_offices"


def _memberships(user) -> list[tuple[int, str]]:
    """(office_id, role) pairs of the user, cached on the user object per request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = list(StaffMembership.objects.filter(user=user).values_list("office_id", "role"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_memberships(user) -> None:
    for attr in (_CACHE_ATTR, _ALL_CACHE_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def staff_office_ids(user) -> set[int]:
    """Ids of the offices the user may see. Superusers see all."""
    if getattr(user, "is_superuser", False) and user.is_active:
        cached = getattr(user, _ALL_CACHE_ATTR, None)
        if cached is None:
            cached = set(Office.objects.values_list("id", flat=True))
            setattr(user, _ALL_CACHE_ATTR, cached)
        return cached
    return {office_id for office_id, _role in _memberships(user)}


def staff_offices(user) -> QuerySet[Office]:
    return Office.objects.filter(id__in=staff_office_ids(user))


def staff_roles(user, office: Office | int) -> set[str]:
    """The user's roles in one office (empty for an office they do not work in)."""
    office_id = office if isinstance(office, int) else office.id
    return {role for oid, role in _memberships(user) if oid == office_id}


def staff_has_role(user, office: Office | int, *roles: str) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return bool(staff_roles(user, office) & set(roles))


def staff_offices_with_role(user, *roles: str) -> set[int]:
    if getattr(user, "is_superuser", False) and user.is_active:
        return staff_office_ids(user)
    wanted = set(roles)
    return {oid for oid, role in _memberships(user) if role in wanted}


def staff_primary_office(user) -> Office | None:
    """The office a staff page opens on: the user's first office by code."""
    return staff_offices(user).order_by("code").first()


def get_for_office_or_404(queryset: QuerySet, *, office_ids, **lookup):
    """One row by `lookup` that belongs to one of `office_ids`; the same 404 for
    "does not exist" and "belongs to another office"."""
    obj = queryset.filter(office_id__in=office_ids, **lookup).first()
    if obj is None:
        raise Http404(_("Not found."))
    return obj


SUPERVISING_ROLES = (Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR, Role.OFFICE_ADMIN)


# --- Who manages whose account ---------------------------------------------

# Roles an office administrator may grant in an office they administer. A provincial
# supervisor reads several offices, so only a superuser makes one.
ROLES_OFFICE_ADMINS_GRANT = frozenset(Role) - {Role.PROVINCIAL_SUPERVISOR}


def staff_administered_office_ids(user) -> set[int]:
    """Offices whose staff accounts the user manages. Superusers manage all."""
    return staff_offices_with_role(user, Role.OFFICE_ADMIN)


def staff_manageable_by(user) -> QuerySet:
    """The accounts `user` may see, create and change: every account for a superuser;
    for an office administrator, the accounts whose every membership is in an office
    they administer. An account also working elsewhere, a provincial supervisor, a
    superuser, and an account with no membership at all (whoever claimed it would
    claim whatever it is later given) belong to superusers only, so that no office
    administrator can take over a login that reaches another office."""
    user_model = get_user_model()
    if getattr(user, "is_superuser", False) and user.is_active:
        return user_model.objects.all()
    offices = staff_administered_office_ids(user)
    if not offices:
        return user_model.objects.none()
    memberships = StaffMembership.objects.filter(user=OuterRef("pk"))
    return user_model.objects.filter(
        Exists(memberships.filter(office_id__in=offices)), is_superuser=False,
    ).exclude(Exists(memberships.filter(
        ~Q(office_id__in=offices) | Q(role=Role.PROVINCIAL_SUPERVISOR))))


def staff_may_manage(user, account) -> bool:
    return staff_manageable_by(user).filter(pk=account.pk).exists()


def staff_grantable_roles(user, office: Office | int) -> frozenset[str]:
    """The roles `user` may grant in `office`: all for a superuser, those of
    ROLES_OFFICE_ADMINS_GRANT for its office administrator, none for anyone else."""
    office_id = office if isinstance(office, int) else office.id
    if getattr(user, "is_superuser", False) and user.is_active:
        return frozenset(Role)
    if office_id in staff_administered_office_ids(user):
        return ROLES_OFFICE_ADMINS_GRANT
    return frozenset()


class InOffice:
    """Stands for "a row of this office" in `user.has_perm(perm, obj)`, which checks the
    user's roles in `obj.office_id` (registry.auth)."""

    def __init__(self, office_id: int):
        self.office_id = office_id


def offices_with_perm(user, perm: str) -> list[Office]:
    """The offices where the user's roles grant `perm`, by code."""
    ids = [oid for oid in staff_office_ids(user) if user.has_perm(perm, InOffice(oid))]
    return list(Office.objects.filter(id__in=ids).order_by("code"))


def office_for_request(request, perm: str) -> tuple[Office, list[Office]]:
    """The office a staff page works on (?office=CODE, or the form's office, among those
    where the user has `perm`, else the first) and those offices. PermissionDenied when
    there is none."""
    offices = offices_with_perm(request.user, perm)
    if not offices:
        raise PermissionDenied
    code = request.POST.get("office") or request.GET.get("office")
    return next((o for o in offices if o.code == code), offices[0]), offices
