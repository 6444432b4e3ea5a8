"""Staff: roles as permission groups, memberships per office, and their tokens.
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from registry import extensions, tenancy
from registry.errors import NotFound
from registry.models import (
    Office,
    Role,
    StaffMembership,
    StaffTokenState,
)
from registry.roles import ADMIN_ROLES

logger = logging.getLogger(__name__)


def collect_role_permissions() -> dict[str, list[str]]:
    """The permissions of each role, joined from every app's roles.py (registered in
    its AppConfig.ready(), see registry.extensions)."""
    joined: dict[str, list[str]] = {role: [] for role in Role}
    for role_permissions in extensions.registered(extensions.ROLES):
        for role, perms in role_permissions.items():
            joined[role].extend(perms)
    return joined


@transaction.atomic
def roles_sync() -> dict[str, Group]:
    """Create or update one group per role with exactly its permissions.

    Raises if a listed permission does not exist, so a typo in a roles.py is caught
    by the first test that sets up roles rather than silently granting nothing.
    """
    groups = {}
    for role, perms in collect_role_permissions().items():
        wanted = set(perms)
        found = list(
            Permission.objects.filter(
                Q(*[Q(content_type__app_label=p.split(".")[0], codename=p.split(".")[1])
                    for p in wanted], _connector=Q.OR)
            ).select_related("content_type")
        ) if wanted else []
        missing = wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        if missing:
            raise ValueError(f"Role {role}: unknown permissions {sorted(missing)}")
        group, _created = Group.objects.get_or_create(name=str(Role(role).label))
        group.permissions.set(found)
        groups[role] = group
    return groups


def _sync_user_groups(user) -> None:
    roles = set(StaffMembership.objects.filter(user=user).values_list("role", flat=True))
    names = [str(Role(role).label) for role in roles]
    user.groups.set(Group.objects.filter(name__in=names))
    user.is_staff = user.is_superuser or bool(roles & {str(r) for r in ADMIN_ROLES})
    user.save(update_fields=["is_staff"])
    tenancy.forget_memberships(user)


@transaction.atomic
def staff_membership_grant(*, user, office: Office, role: str, by=None) -> StaffMembership:
    """Give `user` a role in `office`; their groups and admin access follow.

    With `by`, the grant is theirs: refused unless they may grant the role there and
    manage the account (registry.tenancy.staff_manageable_by)."""
    if by is not None and (role not in tenancy.staff_grantable_roles(by, office)
                           or not tenancy.staff_may_manage(by, user)):
        raise NotFound(_("Not found."), "not_found")
    membership, _created = StaffMembership.objects.get_or_create(
        user=user, office=office, role=role
    )
    _sync_user_groups(user)
    return membership


@transaction.atomic
def staff_user_create(*, username: str, password: str | None, office: Office, role: str,
                      by, first_name: str = "", last_name: str = "", email: str = ""):
    """A new staff account with its first role, made by `by`. It is never without an
    office: an account with none is managed by superusers only, so an office
    administrator's new account starts in one of their offices. No password
    (`None`) makes an account that cannot sign in with one."""
    if role not in tenancy.staff_grantable_roles(by, office):
        raise NotFound(_("Not found."), "not_found")
    user = get_user_model()(username=username, first_name=first_name, last_name=last_name,
                            email=email)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    StaffMembership.objects.create(user=user, office=office, role=role)
    _sync_user_groups(user)
    return user


@transaction.atomic
def staff_membership_revoke(*, membership: StaffMembership) -> None:
    """Remove a role; the user's API tokens end with it (the field team's phones)."""
    user = membership.user
    membership.delete()
    _sync_user_groups(user)
    staff_tokens_revoke(user=user)


@transaction.atomic
def staff_tokens_revoke(*, user) -> None:
    """End every API token of a staff user: their tokens carry the generation this
    raises (registry.api.auth). Password changes and deactivation need no call."""
    StaffTokenState.objects.get_or_create(user=user)
    StaffTokenState.objects.filter(user=user).update(generation=F("generation") + 1)
