"""Celery tasks of this app: thin wrappers that load by id and call a service."""
