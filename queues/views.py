"""Staff pages of this app."""


def staff_links(*, office, roles) -> list[tuple[str, str]]:
    """(label, url) pairs for the staff start page, for this user's roles in `office`."""
    return []
