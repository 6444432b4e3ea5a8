"""What each staff role may do in the registry core.

Each app declares its own table like this one in its `roles.py`; `roles_sync`
(registry.services) joins them into one Django group per role. A permission is
granted in an office only to staff holding the role there (registry.auth).
"""

from registry.models import Role

VIEW_CORE = [
    "registry.view_office",
    "registry.view_workinghours",
    "registry.view_closure",
    "registry.view_lane",
    "registry.view_service",
    "registry.view_requirement",
    "registry.view_resident",
    "registry.view_application",
    "registry.view_caseevent",
]

# Sending a resident away at the door is recorded, with the reason (the chronology of a
# later complaint states it): by the front desk, and by those who stand in for it.
TURN_AWAY = ["registry.add_turnaway", "registry.view_turnaway"]

# Exporting the lists staff work from (registry.admin_base.ListExportMixin), and the
# record of who exported what.
EXPORT = ["registry.export_data"]
EXPORT_RECORDS = ["registry.view_exportrecord"]

# The dashboard of trends and the monthly report (registry.admin_trends): those who run
# or oversee an office, and public relations (the satisfaction index is theirs too).
TRENDS = ["registry.view_trends"]

# Who looked at residents' data (registry.services.access_log) and what staff changed in
# settings, accounts and the catalogue (registry.audit): for those who oversee an office.
OVERSIGHT = ["registry.view_accesslog", "registry.view_auditentry"]

# Residents' requests to correct their data (registry.services.corrections): the front
# desk answers them; those who run or oversee the office read them.
CORRECTIONS_ANSWER = ["registry.view_correctionrequest", "registry.change_correctionrequest"]
CORRECTIONS_VIEW = ["registry.view_correctionrequest"]

# The records of processing (registry.admin_processing): those who answer for how an
# office handles personal data, its administrator and the provincial supervisor over it.
PROCESSING = ["registry.view_processing"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICE_ADMIN: [
        *VIEW_CORE,
        "registry.change_office",
        "registry.add_workinghours", "registry.change_workinghours",
        "registry.delete_workinghours",
        "registry.add_closure", "registry.change_closure", "registry.delete_closure",
        "registry.add_lane", "registry.change_lane",
        "registry.add_service", "registry.change_service",
        "registry.add_requirement", "registry.change_requirement",
        "registry.delete_requirement",
        "registry.view_staffmembership", "registry.add_staffmembership",
        "registry.change_staffmembership", "registry.delete_staffmembership",
        "registry.view_nikdisclosure",
        "registry.view_notification",
        *TURN_AWAY,
        *EXPORT, *EXPORT_RECORDS, *TRENDS, *OVERSIGHT, *PROCESSING,
        *CORRECTIONS_VIEW,
    ],
    Role.FRONT_DESK: [
        *VIEW_CORE,
        "registry.add_resident", "registry.change_resident", "registry.view_full_nik",
        "registry.add_application", "registry.change_application",
        "registry.view_notification",
        *TURN_AWAY,
        *CORRECTIONS_ANSWER,
    ],
    Role.COUNTER_OPERATOR: [
        *VIEW_CORE,
        "registry.change_application", "registry.view_full_nik",
    ],
    Role.SUPERVISOR: [
        *VIEW_CORE,
        "registry.add_closure", "registry.change_closure",
        "registry.change_resident", "registry.view_full_nik",
        "registry.change_application",
        "registry.view_staffmembership",
        "registry.view_nikdisclosure",
        "registry.view_notification",
        *TURN_AWAY,
        *EXPORT, *EXPORT_RECORDS, *TRENDS, *OVERSIGHT,
        *CORRECTIONS_VIEW,
    ],
    Role.COURIER: [],
    Role.PUBLIC_RELATIONS: [
        *VIEW_CORE,
        "registry.view_notification",
        "registry.view_turnaway",
        *EXPORT, *TRENDS,
    ],
    Role.PROVINCIAL_SUPERVISOR: [
        *VIEW_CORE,
        "registry.view_staffmembership",
        "registry.view_nikdisclosure",
        *EXPORT, *EXPORT_RECORDS, *TRENDS, *OVERSIGHT, *PROCESSING,
    ],
}

# Roles that work in Django admin. Couriers work from the courier page and the field
# API only.
ADMIN_ROLES = {role for role in Role if role != Role.COURIER}
