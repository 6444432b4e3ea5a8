"""Permissions per office.

Django's groups give a staff member the union of the permissions of all their roles,
which is what admin menus need. For one object, `has_perm(perm, obj)` grants only
what the user's roles *in that object's office* allow, so a supervisor of office A
who is a counter operator in office B acts as a counter operator in B.
"""

from functools import cache

from django.contrib.auth.backends import ModelBackend

from registry import tenancy


@cache
def _role_permissions() -> dict[str, frozenset[str]]:
    from registry.services.staff import collect_role_permissions

    return {role: frozenset(perms) for role, perms in collect_role_permissions().items()}


def role_allows(role: str, perm: str) -> bool:
    return perm in _role_permissions().get(role, frozenset())


class OfficeRoleBackend(ModelBackend):
    def has_perm(self, user_obj, perm, obj=None):
        if obj is None:
            return super().has_perm(user_obj, perm)
        if not user_obj.is_active:
            return False
        if user_obj.is_superuser:
            return True
        office_id = getattr(obj, "office_id", None)
        if office_id is None:
            # Objects without an office (residents) fall back to the role groups; the
            # querysets that reach them are scoped by the caller.
            return super().has_perm(user_obj, perm)
        return any(role_allows(role, perm) for role in tenancy.staff_roles(user_obj, office_id))


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    """django-axes' answer to a locked-out sign-in: the contract's JSON on the API, a
    page in admin."""
    from django.http import JsonResponse
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    message = _("Too many failed sign-ins. Try again in 30 minutes or ask your office "
                "administrator.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    return render(request, "registry/lockout.html", {"message": message}, status=429)
