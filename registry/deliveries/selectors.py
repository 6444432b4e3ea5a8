"""Reads of this app that are more than a filter, always given the office."""


def dashboard_figures(*, office, day) -> list[tuple[str, object]]:
    """Today's figures of this app for the admin index: (label, value) pairs."""
    return []
