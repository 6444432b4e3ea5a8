"""Case event kinds of complaints (see registry.timeline). They tell the resident, on
their case's timeline, that a complaint about it was received and answered; nothing
internal (findings, follow-up) is written there."""

from django.utils.translation import gettext_lazy as _

EVENT_KINDS = {
    "complaint.received": _("Complaint %(reference)s about this case was received."),
    "complaint.linked": _("Complaint %(reference)s was linked to this case."),
    "complaint.responded": _("The office responded to complaint %(reference)s."),
    "complaint.resolved": _("Complaint %(reference)s was resolved."),
}
