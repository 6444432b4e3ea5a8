"""The central server over HTTPS: JSON, HTTP Basic credentials, bounded timeouts.

    GET  {CENTRAL_BASE_URL}/health   X-Office-Code           -> 2xx when up
    POST {CENTRAL_BASE_URL}/jobs     Idempotency-Key: <job>  -> 2xx {"reference"}, or
                                                                409 {"reference"}: done before

Timeouts, refused connections, 429 and 5xx mean the link is down (try later); any
other 4xx is a refusal of the request itself.
"""

import base64
import json
import urllib.error
import urllib.request
from dataclasses import asdict

from django.conf import settings

from registry.central.client import CentralAnswer, CentralClient, CentralRequest, LinkDown, Rejected


class HttpCentralClient(CentralClient):
    def __init__(self, base_url: str | None = None, client_id: str | None = None,
                 secret: str | None = None, timeout: float | None = None):
        self.base_url = (base_url or settings.CENTRAL_BASE_URL).rstrip("/")
        self.client_id = client_id if client_id is not None else settings.CENTRAL_CLIENT_ID
        self.secret = secret if secret is not None else settings.CENTRAL_CLIENT_SECRET
        self.timeout = timeout or settings.CENTRAL_TIMEOUT

    def _headers(self, office_code: str) -> dict:
        token = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/json",
                "Content-Type": "application/json", "X-Office-Code": office_code}

    def _call(self, method: str, path: str, headers: dict, body: dict | None = None):
        if not self.base_url.startswith(("https://", "http://")):
            raise LinkDown("CENTRAL_BASE_URL is not set")
        request = urllib.request.Request(  # noqa: S310 - the URL comes from settings
            f"{self.base_url}{path}", method=method, headers=headers,
            data=json.dumps(body).encode() if body is not None else None,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, _json(response.read())
        except urllib.error.HTTPError as exc:
            status, data = exc.code, _json(exc.read())
            if status == 409 and data.get("reference"):
                return status, data
            if status == 429 or status >= 500:
                raise LinkDown(f"HTTP {status}") from exc
            raise Rejected(f"HTTP {status}: {str(data.get('detail', ''))[:200]}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise LinkDown(str(getattr(exc, "reason", exc))[:200]) from exc

    def health(self, *, office_code: str) -> None:
        self._call("GET", "/health", self._headers(office_code))

    def submit(self, request: CentralRequest) -> CentralAnswer:
        headers = {**self._headers(request.office_code), "Idempotency-Key": request.job_id}
        status, data = self._call("POST", "/jobs", headers, asdict(request))
        reference = str(data.get("reference", ""))[:120]
        if not reference:
            raise LinkDown(f"HTTP {status} without a reference")
        return CentralAnswer(reference=reference, duplicate=status == 409)


def _json(raw: bytes) -> dict:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
