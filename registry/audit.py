"""The audit of staff changes: settings, staff accounts, memberships, the catalogue and
closures, each change with its values before and after.

django-auditlog does the recording (its signal receivers write a registry.AuditEntry
per create, change and delete, with the staff member and address from its middleware):
it keeps one table for every model, with the changed fields' values, which is what a
supervisor reads. django-simple-history would add a history table per model and
Django's own LogEntry keeps only the names of the changed fields. Each app names its
audited models in its AppConfig.ready() with `audit()`.
"""

from auditlog.registry import auditlog
from django.contrib.auth import get_user_model

# Never in an audit entry: the password hash (its change is still recorded, masked) and
# the sign-in time, which changes at every sign-in and is not a change by staff.
USER_EXCLUDED = ["last_login"]
USER_MASKED = ["password"]


def audit(*models, **options) -> None:
    """Record every change to `models` (once, whoever calls)."""
    for model in models:
        if not auditlog.contains(model):
            auditlog.register(model, **options)


def audit_core() -> None:
    from registry.models import (
        Closure,
        Lane,
        Office,
        Requirement,
        Service,
        ServiceCombination,
        StaffMembership,
        WorkingHours,
    )

    audit(Office, WorkingHours, Closure, StaffMembership, Lane, Service, Requirement,
          ServiceCombination)
    audit(get_user_model(), exclude_fields=USER_EXCLUDED, mask_fields=USER_MASKED)
