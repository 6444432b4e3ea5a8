"""What each staff role may do in hand-over and delivery; joined with the others by
roles_sync. Couriers work from /deliveries/ and the field API, not admin."""

from registry.models import Role

VIEW = [
    "deliveries.view_handover",
    "deliveries.view_delivery",
    "deliveries.view_deliveryattempt",
    "deliveries.view_dispatchrun",
    "deliveries.view_courierabsence",
    "deliveries.view_deliverysettings",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICE_ADMIN: [*VIEW, "deliveries.change_deliverysettings",
                        "deliveries.add_courierabsence", "deliveries.change_courierabsence",
                        "deliveries.delete_courierabsence", "deliveries.change_handover"],
    Role.FRONT_DESK: ["deliveries.view_handover", "deliveries.change_handover",
                      "deliveries.view_delivery"],
    Role.COUNTER_OPERATOR: ["deliveries.view_handover", "deliveries.change_handover",
                            "deliveries.view_delivery"],
    Role.SUPERVISOR: [*VIEW, "deliveries.change_handover", "deliveries.change_delivery",
                      "deliveries.add_dispatchrun", "deliveries.add_courierabsence",
                      "deliveries.change_courierabsence", "deliveries.delete_courierabsence",
                      "deliveries.change_deliverysettings"],
    Role.COURIER: [],
    Role.PUBLIC_RELATIONS: VIEW,
    Role.PROVINCIAL_SUPERVISOR: VIEW,
}
