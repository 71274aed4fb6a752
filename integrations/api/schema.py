"""OpenAPI 3 description (drf-spectacular) and its offline docs page.

The docs page is Redoc, served from the vendored `drf-spectacular-sidecar` package (no CDN), with
no inline script: the page is one custom element and one script file.
"""

from __future__ import annotations

from pathlib import Path

import drf_spectacular_sidecar
from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.static import serve
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.permissions import AllowAny

SIDECAR_STATIC = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar"

DESCRIPTION = """Partner API of the customer success platform. Authenticate with
`Authorization: Bearer <api key>`; the key alone decides the workspace. Writes upsert by the
partner's `external_id`; `POST /<resource>/bulk` takes up to 5,000 records. Errors are RFC 9457
problem details with JSON pointers. See docs/api.md for the full guide."""

SCHEMA_SETTINGS = {
    "TITLE": "Customer success platform API",
    "VERSION": "1.0.0",
    "DESCRIPTION": DESCRIPTION,
    "COMPONENT_SPLIT_REQUEST": True,
    # The generator reads model metadata outside any workspace (it only ever builds `.none()`),
    # so it must not touch the scoped manager, which fails closed there.
    "DEFAULT_QUERY_MANAGER": "all_workspaces",
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.AccountStatus",
        "InvoiceStatusEnum": "accounts.models.InvoiceStatus",
        "TicketStatusEnum": "accounts.models.TicketStatus",
        "RecordOutcomeEnum": ["created", "updated", "unchanged", "error", "not_written"],
    },
}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A workspace API key, `csp_<prefix>_<secret>`, created on the settings page.",
        }


class Outcome(serializers.Serializer):
    pointer = serializers.CharField()
    detail = serializers.CharField()


class Problem(serializers.Serializer):
    """RFC 9457 problem details; a refused atomic batch adds `mode`, `summary` and `results`."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = Outcome(many=True, required=False)


PROBLEM_MEDIA_TYPE = "application/problem+json"
# The problems every request may meet, and those only a write (or a detail URL) may meet.
ANY_REQUEST_PROBLEMS = (400, 401, 403, 405, 429)
WRITE_PROBLEMS = (409, 413, 415, 422)


_bulk_cache: dict[str, type] = {}


def bulk_serializers(record: type[serializers.Serializer], id_field: str | None = None) -> tuple[type, type]:
    name = record.__name__.removesuffix("Serializer")
    if name not in _bulk_cache:
        request = type(f"{name}BulkRequest", (serializers.Serializer,), {"records": record(many=True)})
        fields = {"index": serializers.IntegerField()}
        if id_field is not None:
            fields[id_field] = serializers.CharField(
                required=False, help_text=f"The record's `{id_field}` as sent (when it is a string)."
            )
        fields.update(
            {
                "status": serializers.ChoiceField(
                    ["created", "updated", "unchanged", "error", "not_written"]
                ),
                "errors": Outcome(many=True, required=False),
                "record": record(required=False, help_text="The stored record, with `?echo=true` only."),
            }
        )
        result = type(f"{name}BulkResult", (serializers.Serializer,), fields)
        summary = type(
            f"{name}BulkSummary",
            (serializers.Serializer,),
            {k: serializers.IntegerField() for k in ("created", "updated", "unchanged", "error")},
        )
        response = type(
            f"{name}BulkResponse",
            (serializers.Serializer,),
            {
                "mode": serializers.ChoiceField(["partial", "atomic"]),
                "summary": summary(),
                "results": result(many=True),
            },
        )
        _bulk_cache[name] = (request, response)
    return _bulk_cache[name]


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Makes a retry safe: the first response is replayed for 24 h to the same request.",
)
UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description="Only records changed at or after this ISO 8601 date-time (with a UTC offset).",
)
ATOMIC = OpenApiParameter(
    "atomic", OpenApiTypes.BOOL, description="true: write nothing unless every record is valid (422)."
)
ECHO = OpenApiParameter(
    "echo",
    OpenApiTypes.BOOL,
    description="true: each written or unchanged record's result carries the stored record (`record`).",
)


class ApiSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "response" and field.field_name == "external_id":
            # Required on every write, but records made in the pages have none: null when read.
            schema["nullable"] = True
        return schema

    def _bulk(self):
        return getattr(self.view, "action", None) == "bulk"

    def _id_field(self) -> str | None:
        writer = getattr(self.view, "writer_class", None)
        return getattr(writer, "id_field", None)

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        if self.method in ("POST", "PUT"):
            params.append(IDEMPOTENCY_KEY)
        if self._bulk():
            params += [ATOMIC, ECHO]
        if getattr(self.view, "action", None) == "list" and getattr(self.view, "since_field", None):
            params.append(UPDATED_SINCE)
        return params

    def get_request_serializer(self):
        if self._bulk():
            return bulk_serializers(self.view.get_serializer_class(), self._id_field())[0]
        return super().get_request_serializer()

    def get_response_serializers(self):
        """The success answers (a single upsert answers 201 when it created the record and 200
        otherwise) and every problem the operation may answer, as problem+json."""
        if self._bulk():
            success = {200: bulk_serializers(self.view.get_serializer_class(), self._id_field())[1]}
        else:
            body = super().get_response_serializers()
            success = {200: body, 201: body} if self.method in ("POST", "PUT") else {200: body}
        codes = list(ANY_REQUEST_PROBLEMS)
        if self.method in ("POST", "PUT"):
            codes += WRITE_PROBLEMS
        if getattr(self.view, "action", None) in ("retrieve", "update"):
            codes.append(404)
        problems = {(code, PROBLEM_MEDIA_TYPE): Problem for code in sorted(codes)}
        return {**success, **problems}


class SchemaView(SpectacularAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    custom_settings = SCHEMA_SETTINGS
    schema = None  # the schema endpoint is not part of the API it describes


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API v1 · CS Platform</title>
</head>
<body>
  <redoc spec-url="{schema}"></redoc>
  <script src="{script}"></script>
</body>
</html>
"""


def docs_page(request):
    from django.urls import reverse

    html = DOCS_PAGE.format(
        schema=reverse("api:schema"),
        script=reverse("api:docs-asset", kwargs={"path": "redoc/bundles/redoc.standalone.js"}),
    )
    return HttpResponse(html)


@cache_control(max_age=86400, public=True)
def docs_asset(request, path: str):
    return serve(request, path, document_root=str(SIDECAR_STATIC))
