"""Staff follow-up of a complaint (coaching, a warning, training): recorded and read by
supervisors only.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints import lock_objects
from complaints.models import Complaint, FollowUpAction, StaffFollowUp
from complaints.services.handling import complaint_lock
from complaints.services.responses import TEXT_MAX
from registry import tenancy
from registry.errors import DomainError, NotFound
from registry.models import Role, StaffMembership

FOLLOW_UP_ROLES = (Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR)


@transaction.atomic
def follow_up_record(*, complaint: Complaint, action: str, decision: str, by,
                     staff_member=None, staff_description: str = "") -> StaffFollowUp:
    """A supervisor records what is done about the staff involved (coaching, a
    warning, training): who decided what and when. Anyone else is refused as if the
    complaint did not exist for them."""
    if not tenancy.staff_has_role(by, complaint.office_id, *FOLLOW_UP_ROLES):
        raise NotFound(_("Not found."), "not_found")
    complaint = complaint_lock(complaint)
    decision = (decision or "").strip()
    if action not in FollowUpAction.values:
        raise DomainError(_("Choose the action."), "action_invalid")
    if not decision or len(decision) > TEXT_MAX:
        raise DomainError(_("Write the decision."), "decision_required")
    if staff_member is not None and not StaffMembership.objects.filter(
            office_id=complaint.office_id, user=staff_member).exists():
        raise DomainError(_("Choose a staff member of this office."), "staff_invalid")
    if staff_member is None and not staff_description.strip():
        raise DomainError(_("Say which staff member it is about."), "staff_required")
    return StaffFollowUp.objects.create(
        office_id=complaint.office_id, complaint=complaint, staff_member=staff_member,
        staff_description=staff_description.strip()[:200], action=action, decision=decision,
        decided_by=by)


@transaction.atomic
def follow_up_done(*, follow_up: StaffFollowUp, by) -> StaffFollowUp:
    if not tenancy.staff_has_role(by, follow_up.office_id, *FOLLOW_UP_ROLES):
        raise NotFound(_("Not found."), "not_found")
    follow_up = lock_objects.follow_ups_for_update().get(pk=follow_up.pk)
    if follow_up.done_at is None:
        follow_up.done_at = timezone.now()
        follow_up.save(update_fields=["done_at"])
    return follow_up
