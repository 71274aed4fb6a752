"""API test helpers: workspace keys and a `requests` session against a live server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import requests

from tenancy.context import use_workspace
from tenancy.models import ApiKey


@dataclass
class Keys:
    a: str
    a_read: str
    b: str


@pytest.fixture
def keys(two_workspaces) -> Keys:
    tw = two_workspaces
    with use_workspace(tw.a):
        _, a = ApiKey.issue("A sync", ["read", "write"])
        _, a_read = ApiKey.issue("A reader", ["read"])
    with use_workspace(tw.b):
        _, b = ApiKey.issue("B sync", ["read", "write"])
    return Keys(a=a, a_read=a_read, b=b)


class Api:
    """A partner's HTTP client: `api.put("accounts/x", json={...})` → requests.Response."""

    def __init__(self, base: str, key: str, workspace=None):
        self.workspace = workspace
        self.base = base.rstrip("/") + "/api/v1/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)


@pytest.fixture
def api_a(live_server, keys, two_workspaces) -> Api:
    return Api(live_server.url, keys.a, two_workspaces.a)


@pytest.fixture
def api_b(live_server, keys, two_workspaces) -> Api:
    return Api(live_server.url, keys.b, two_workspaces.b)
