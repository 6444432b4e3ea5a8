"""What each staff role may do in this app; joined with the others by roles_sync."""

ROLE_PERMISSIONS: dict[str, list[str]] = {}
