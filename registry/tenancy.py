"""Which offices a staff member works in, and with which roles.

Scoping fails closed: a user with no membership sees no office, and every helper
here answers "nothing" rather than "everything" when in doubt. Only superusers see
every office.
"""

from django.db.models import QuerySet
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


def office_scoped(queryset: QuerySet, user, field: str = "office") -> QuerySet:
    """Limit a queryset of office-owned rows to the user's offices."""
    return queryset.filter(**{f"{field}__in": staff_office_ids(user)})


def get_for_office_or_404(queryset: QuerySet, *, office_ids, **lookup):
    """One row by `lookup` that belongs to one of `office_ids`; the same 404 for
    "does not exist" and "belongs to another office"."""
    obj = queryset.filter(office_id__in=office_ids, **lookup).first()
    if obj is None:
        raise Http404(_("Not found."))
    return obj


SUPERVISING_ROLES = (Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR, Role.OFFICE_ADMIN)
