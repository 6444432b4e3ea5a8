"""Today's figures on the admin index and the links of the staff start page: one source
per app, registered in its AppConfig.ready() (registry.extensions)."""

from registry import extensions


def figures_for(*, office, day) -> list[tuple[str, object]]:
    rows = []
    for figures in extensions.registered(extensions.FIGURES):
        rows.extend(figures(office=office, day=day))
    return rows


def staff_links_for(*, office, roles) -> list[tuple[str, str]]:
    """Each source takes `office` and the user's `roles` there and returns (label, url)
    pairs."""
    links = []
    for staff_links in extensions.registered(extensions.STAFF_LINKS):
        links.extend(staff_links(office=office, roles=roles))
    return links


def staff_alerts_for(*, office, roles) -> list[tuple[str, str]]:
    """What needs the attention of a user with `roles` at `office` now: (text, url)."""
    alerts = []
    for staff_alerts in extensions.registered(extensions.STAFF_ALERTS):
        alerts.extend(staff_alerts(office=office, roles=roles))
    return alerts
