"""Demo data of this app, run by `manage.py load_demo` after the registry's. Safe to
run again: it creates only what is missing."""


def seed(*, offices: dict, stdout=None) -> None:
    """`offices` maps the demo prefixes ("kota", "kab") to their Office."""
