"""The activation code on a paper the desk hands a resident is shown once.

The staff action that makes the paper (a booking, a check-in, the counter's receipt, or
the "print a new activation code" button) issues the code (registry.desk) and keeps it
in the staff member's session under the paper's name; the page of that paper takes it
out as it is shown. Printing the page prints the code; a reload shows the page without
it and says so, with the button that issues a new one (which ends the old one). Only the
code's hash stays in the database, so the code cannot be shown again later.
"""

from datetime import datetime

from registry.desk import PrintedCode

SESSION_KEY = "desk.printed_codes"
# Papers waiting to be shown in one session: a desk works on one at a time.
KEPT = 5


def keep(request, *, paper: str, printed: PrintedCode | None) -> None:
    """Keep `printed` for the next showing of `paper` (nothing when None)."""
    if printed is None:
        return
    waiting = dict(request.session.get(SESSION_KEY) or {})
    waiting.pop(paper, None)
    waiting[paper] = {"code": printed.code, "expires_at": printed.expires_at.isoformat()}
    request.session[SESSION_KEY] = dict(list(waiting.items())[-KEPT:])


def take(request, *, paper: str) -> PrintedCode | None:
    """The code kept for `paper`, taken out of the session: shown this once."""
    waiting = dict(request.session.get(SESSION_KEY) or {})
    kept = waiting.pop(paper, None)
    if kept is None:
        return None
    request.session[SESSION_KEY] = waiting
    return PrintedCode(code=kept["code"], expires_at=datetime.fromisoformat(kept["expires_at"]))
