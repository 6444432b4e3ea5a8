"""What each staff role may do in complaints; joined with the others by roles_sync.

Public-relations officers handle complaints; supervisors also decide the follow-up of
staff (`view_stafffollowup` is theirs alone) and see who filed a confidential
complaint. Office administrators set the office's deadlines and templates.

The satisfaction survey's answers (never with who answered) and its IKM report are
for supervisors, public-relations officers and office administrators, not for
counter staff, whose work the answers rate."""

from registry.models import Role

HANDLE = [
    "complaints.view_complaint", "complaints.add_complaint", "complaints.change_complaint",
    "complaints.view_complaintdeadline", "complaints.view_chronology",
    "complaints.change_chronology", "complaints.view_chronologyedit",
    "complaints.view_finding", "complaints.add_finding",
    "complaints.view_complaintresponse", "complaints.add_complaintresponse",
    "complaints.view_responsetemplate", "complaints.view_attachment",
    "complaints.add_attachment", "complaints.view_staffalert",
    "complaints.change_staffalert", "complaints.view_complaintsettings",
    "complaints.view_surveyanswer",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICE_ADMIN: ["complaints.view_complaint", "complaints.view_complaintsettings",
                        "complaints.view_surveyanswer",
                        "complaints.change_complaintsettings",
                        "complaints.view_responsetemplate", "complaints.add_responsetemplate",
                        "complaints.change_responsetemplate"],
    Role.FRONT_DESK: ["complaints.view_complaint", "complaints.add_complaint"],
    Role.COUNTER_OPERATOR: [],
    Role.SUPERVISOR: [*HANDLE, "complaints.view_complainant",
                      "complaints.view_stafffollowup", "complaints.add_stafffollowup",
                      "complaints.change_stafffollowup",
                      "complaints.add_responsetemplate", "complaints.change_responsetemplate",
                      "complaints.change_complaintsettings"],
    Role.COURIER: [],
    Role.PUBLIC_RELATIONS: HANDLE,
    Role.PROVINCIAL_SUPERVISOR: ["complaints.view_complaint", "complaints.view_complainant",
                                 "complaints.view_stafffollowup", "complaints.view_finding",
                                 "complaints.view_chronology",
                                 "complaints.view_complaintresponse",
                                 "complaints.view_complaintdeadline",
                                 "complaints.view_surveyanswer"],
}
