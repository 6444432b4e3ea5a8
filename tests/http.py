"""A small HTTP client for API tests: real requests to the live server."""

import requests


class HttpClient:
    def __init__(self, base_url: str, token: str | None = None, session=None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.token = token
        self.children: list[HttpClient] = []

    def with_token(self, token: str) -> "HttpClient":
        """A client of its own (its own cookies and connections) sending `token`;
        closed with this one."""
        child = HttpClient(self.base_url, token=token, session=requests.Session())
        self.children.append(child)
        return child

    def _headers(self, headers):
        merged = {"Accept": "application/json"}
        if self.token:
            merged["Authorization"] = f"Bearer {self.token}"
        merged.update(headers or {})
        return merged

    def request(self, method, path, *, headers=None, **kwargs):
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        return self.session.request(method, url, headers=self._headers(headers), timeout=30,
                                    **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def close(self):
        """Closes the connections, so the live server's thread for each kept-alive
        connection ends and closes its database connection (else the test database
        cannot be dropped at the end: "being accessed by other users")."""
        for child in self.children:
            child.close()
        self.session.close()
