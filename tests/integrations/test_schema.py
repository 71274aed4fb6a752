"""The OpenAPI description is valid, complete and free of generator warnings; the docs page
works offline (its only script is served from the vendored package)."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema

from integrations.api.readonly import READ_ONLY_RESOURCES
from integrations.api.resources import RESOURCES

pytestmark = pytest.mark.django_db


def test_schema_is_valid_and_covers_every_resource(client, capsys):
    GENERATOR_STATS.reset()
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert not capsys.readouterr().err, "the schema generator warned"
    paths = schema["paths"]
    for prefix, viewset, _ in RESOURCES:
        assert {"get", "post"} <= set(paths[f"/api/v1/{prefix}"]), prefix
        assert "post" in paths[f"/api/v1/{prefix}/bulk"], prefix
        if viewset.lookup_field == "external_id":
            assert {"get", "put"} <= set(paths[f"/api/v1/{prefix}/{{external_id}}"]), prefix
    for prefix, _viewset, _ in READ_ONLY_RESOURCES:
        assert set(paths[f"/api/v1/{prefix}"]) == {"get"}, prefix
        (detail,) = [p for p in paths if p.startswith(f"/api/v1/{prefix}/{{")]
        assert set(paths[detail]) == {"get"}, prefix
        listing = {p["name"] for p in paths[f"/api/v1/{prefix}"]["get"]["parameters"]}
        assert {"cursor", "page_size", "updated_since"} <= listing, prefix
    assert {"status", "severity", "account_external_id"} <= {
        p["name"] for p in paths["/api/v1/alerts"]["get"]["parameters"]
    }
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    bulk = paths["/api/v1/accounts/bulk"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    request_component = schema["components"]["schemas"][bulk["$ref"].rsplit("/", 1)[1]]
    assert request_component["properties"]["records"]["type"] == "array"
    listing = {p["name"] for p in paths["/api/v1/accounts"]["get"]["parameters"]}
    assert {"cursor", "page_size", "status", "q", "updated_since"} <= listing
    bulk_params = {p["name"] for p in paths["/api/v1/accounts/bulk"]["post"]["parameters"]}
    assert {"atomic", "Idempotency-Key"} <= bulk_params


def test_docs_page_loads_only_local_assets(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>" not in html  # no inline script (strict CSP)
    sources = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), sources
    for src in sources:
        response = client.get(src)
        assert response.status_code == 200, src
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
