"""Today's figures on the admin index, one source per app (each a selector taking
`office` and `day`). Listed here rather than discovered, so a reader can follow it."""

from importlib import import_module

FIGURE_SOURCES = [
    "registry.selectors.dashboard_figures",
    "registry.appointments.selectors.dashboard_figures",
    "queues.selectors.dashboard_figures",
    "registry.deliveries.selectors.dashboard_figures",
    "complaints.selectors.dashboard_figures",
]


def figures_for(*, office, day) -> list[tuple[str, object]]:
    rows = []
    for path in FIGURE_SOURCES:
        module_path, name = path.rsplit(".", 1)
        rows.extend(getattr(import_module(module_path), name)(office=office, day=day))
    return rows


# Links on the staff start page, one source per app: a function taking `office` and
# the user's `roles` there and returning (label, url) pairs.
STAFF_LINK_SOURCES = [
    "registry.appointments.views.staff_links",
    "queues.views.staff_links",
    "registry.deliveries.views.staff_links",
    "complaints.views.staff_links",
]


def staff_links_for(*, office, roles) -> list[tuple[str, str]]:
    links = []
    for path in STAFF_LINK_SOURCES:
        module_path, name = path.rsplit(".", 1)
        links.extend(getattr(import_module(module_path), name)(office=office, roles=roles))
    return links
