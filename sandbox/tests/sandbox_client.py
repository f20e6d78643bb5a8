"""HTTP client used by the sandbox tests: reads pages the way a connector would, independently of
the server code."""
from __future__ import annotations

from urllib.parse import urljoin

import requests

from personio_sandbox.testing import Sandbox


class Client:
    def __init__(self, sb: Sandbox, client_id: str | None = None, client_secret: str | None = None):
        self.sb = sb
        self.url = sb.url
        self.cid = client_id or sb.client_id
        self.secret = client_secret or sb.client_secret
        self.s = requests.Session()
        self._v1 = self._v2 = None

    def v1_token(self) -> str:
        if self._v1 is None:
            r = self.s.post(self.url + "/v1/auth", json={"client_id": self.cid, "client_secret": self.secret})
            assert r.status_code == 200, r.text
            self._v1 = r.json()["data"]["token"]
        return self._v1

    def v2_token(self) -> str:
        if self._v2 is None:
            r = self.s.post(self.url + "/v2/auth/token", data={"grant_type": "client_credentials",
                                                               "client_id": self.cid, "client_secret": self.secret})
            assert r.status_code == 200, r.text
            self._v2 = r.json()["access_token"]
        return self._v2

    def get(self, path: str, params=None, token: str | None = None) -> requests.Response:
        if token is None:
            token = self.v1_token() if path.startswith("/v1") else self.v2_token()
        url = path if path.startswith("http") else urljoin(self.url + "/", path.lstrip("/")) if not path.startswith("/") else self.url + path
        return self.s.get(url, params=params, headers={"Authorization": "Bearer " + token}, timeout=60)

    # ---- full paginated reads, as a connector does them
    def read_v1_offset(self, path: str, limit: int = 100, **params) -> list:
        out, offset = [], 0
        while True:
            body = self.get(path, dict(params, limit=limit, offset=offset)).json()
            out.extend(body["data"])
            offset += limit
            if offset >= body["metadata"]["total_elements"]:
                return out

    def read_v1_pages(self, path: str, limit: int = 50, first_page: int = 1, **params) -> list:
        out, page = [], first_page
        while True:
            body = self.get(path, dict(params, limit=limit, offset=page)).json()
            out.extend(body["data"])
            if body["metadata"]["current_page"] >= body["metadata"]["total_pages"]:
                return out
            page += 1

    def read_v2(self, path: str, params=None, max_pages: int = 10000) -> list:
        out = []
        r = self.get(path, params)
        for _ in range(max_pages):
            assert r.status_code == 200, r.text
            body = r.json()
            out.extend(body["_data"])
            nxt = body["_meta"]["links"].get("next")
            if not nxt:
                return out
            r = self.get(nxt["href"] if nxt["href"].startswith("http") else self.url + nxt["href"])
        raise AssertionError("pagination did not end")
