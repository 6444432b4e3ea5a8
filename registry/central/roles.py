"""What each staff role may do with the central link, transmissions and card stock;
joined with the other apps' tables by registry.services.roles_sync."""

from registry.models import Role

VIEW = [
    "registry.view_centraloutage",
    "registry.view_centraljob",
    "registry.view_centraljobattempt",
    "registry.view_cardstock",
    "registry.view_cardstockmovement",
    "registry.view_card",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICE_ADMIN: [*VIEW, "registry.add_centraloutage", "registry.change_centraloutage",
                        "registry.change_cardstock", "registry.change_centraljob"],
    Role.FRONT_DESK: ["registry.view_centraloutage", "registry.view_card",
                      "registry.view_cardstock"],
    Role.COUNTER_OPERATOR: ["registry.view_centraloutage", "registry.view_centraljob",
                            "registry.view_card", "registry.view_cardstock"],
    Role.SUPERVISOR: [*VIEW, "registry.add_centraloutage", "registry.change_centraloutage",
                      "registry.change_cardstock", "registry.change_centraljob"],
    Role.COURIER: [],
    Role.PUBLIC_RELATIONS: VIEW,
    Role.PROVINCIAL_SUPERVISOR: VIEW,
}
