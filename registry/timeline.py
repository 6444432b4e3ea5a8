"""How case events read. Each app lists its event kinds in its own `events.py` as
`EVENT_KINDS = {kind: message}` and registers them (registry.extensions), where a
message is a lazy translatable string formatted with the event's params, or a callable
taking the params. Messages are
rendered when read, in the reader's language."""

import logging
from functools import cache

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from registry import extensions

logger = logging.getLogger(__name__)


@cache
def event_kinds() -> dict[str, object]:
    kinds: dict[str, object] = {}
    for declared in extensions.registered(extensions.EVENT_KINDS):
        for kind, message in declared.items():
            if kind in kinds:
                raise ValueError(f"Case event kind {kind!r} is declared twice")
            kinds[kind] = message
    return kinds


def is_known_kind(kind: str) -> bool:
    return kind in event_kinds()


def render_message(kind: str, params: dict) -> str:
    message = event_kinds().get(kind)
    if message is None:
        return kind
    if not isinstance(message, str | Promise):
        return str(message(params))
    try:
        return str(message) % params
    except (KeyError, TypeError, ValueError):
        # A stored event must always be readable, even if its params predate a
        # change of the message; log it so the message can be fixed.
        # The names of the params only: their values are residents' names and addresses.
        logger.warning("Case event %s cannot be formatted with %s", kind, sorted(params))
        return str(message)


def render_event(event) -> str:
    text = render_message(event.kind, event.params or {})
    if event.note:
        return _("%(message)s Note: %(note)s") % {"message": text, "note": event.note}
    return text
