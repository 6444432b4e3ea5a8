"""Case event kinds of this app (see registry.timeline)."""

EVENT_KINDS: dict = {}
