"""What each staff role may do with the central link, transmissions and card stock;
joined with the other apps' tables by registry.services.staff.roles_sync."""

from registry.models import Role

VIEW = [
    "central.view_centraloutage",
    "central.view_centraljob",
    "central.view_centraljobattempt",
    "central.view_cardstock",
    "central.view_cardstockmovement",
    "central.view_card",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICE_ADMIN: [*VIEW, "central.add_centraloutage", "central.change_centraloutage",
                        "central.change_cardstock", "central.change_centraljob"],
    Role.FRONT_DESK: ["central.view_centraloutage", "central.view_card",
                      "central.view_cardstock"],
    Role.COUNTER_OPERATOR: ["central.view_centraloutage", "central.view_centraljob",
                            "central.view_card", "central.view_cardstock"],
    Role.SUPERVISOR: [*VIEW, "central.add_centraloutage", "central.change_centraloutage",
                      "central.change_cardstock", "central.change_centraljob"],
    Role.COURIER: [],
    Role.PUBLIC_RELATIONS: VIEW,
    Role.PROVINCIAL_SUPERVISOR: VIEW,
}
