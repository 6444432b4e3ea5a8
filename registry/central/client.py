"""The one interface every central-server client has.

    client.health(office_code=...)        -> None, or raises LinkDown
    client.submit(CentralRequest(...))    -> CentralAnswer, or raises LinkDown / Rejected

`settings.CENTRAL_CLIENT` picks the implementation: the HTTP client in production,
the simulator in development, demos and tests. A request carries the job's id; the
central server deduplicates by it, so a request sent twice is done once.
"""

from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class CentralRequest:
    job_id: str
    kind: str
    office_code: str
    application_number: str
    payload: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CentralAnswer:
    reference: str
    # The central server had done this job already (an earlier send whose answer
    # was lost): done once, answered again.
    duplicate: bool = False


class LinkDown(Exception):
    """The central server could not be reached or did not answer in time: try later."""


class Rejected(Exception):
    """The central server refused the request itself: sending it again will not help."""


class CentralClient:
    def health(self, *, office_code: str) -> None:
        raise NotImplementedError

    def submit(self, request: CentralRequest) -> CentralAnswer:
        raise NotImplementedError


@cache
def _client_for(path: str) -> CentralClient:
    return import_string(path)()


def get_client() -> CentralClient:
    return _client_for(settings.CENTRAL_CLIENT)
