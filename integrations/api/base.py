"""The API base viewsets: they own authentication, the workspace scope, permissions, the queryset
and the write path.

The workspace is entered right after DRF authenticated the key (authentication happens inside the
view, not in middleware) and is reset in `dispatch`'s `finally`. A resource is declared with a
model, a serializer and a writer (integrations/api/resources.py); nothing else is per resource.
"""

from __future__ import annotations

from contextlib import ExitStack

from django.utils.dateparse import parse_datetime
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from tenancy.context import use_workspace

from .. import idempotency, limits
from ..authentication import ApiKeyAuthentication
from ..permissions import HasKeyScope
from ..problems import problem_response
from .schema import ApiSchema
from .writer import CREATED, ERROR, BatchWriter

BULK_MAX_RECORDS = 5000


class StablePagination(CursorPagination):
    """Cursor pagination: stable under concurrent writes and fast at any depth."""

    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"
    ordering = "pk"

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            # A mangled cursor is a bad parameter (400), not a missing page.
            raise ValidationError(
                {"cursor": ["Invalid cursor: pass the `next` or `previous` URL as given."]}
            ) from None


class WorkspaceViewSetMixin:
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasKeyScope]
    pagination_class = StablePagination
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = ApiSchema()
    model = None
    # The column `?updated_since=` compares with (None: the resource has no update time).
    since_field: str | None = "updated_at"

    def dispatch(self, request, *args, **kwargs):
        self._workspace_scope = ExitStack()
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if getattr(self, "_idempotency", None) is not None:
                # The write died without a response: free the key so a retry runs again.
                idempotency.release(self._idempotency)
            self._workspace_scope.close()

    def initial(self, request, *args, **kwargs):
        self._idempotency = None
        self._rate = None
        super().initial(request, *args, **kwargs)
        self._workspace_scope.enter_context(use_workspace(request.auth.workspace_id))
        self._rate = limits.RateLimit(request.auth.prefix, getattr(request.auth, "rate_limit", None))
        self._rate.check()
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            body = limits.read_body(request._request)
            key = request.headers.get(idempotency.HEADER)
            if key is not None:
                self._idempotency = idempotency.claim(key, request.method, request.get_full_path(), body)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        rate = getattr(self, "_rate", None)
        if rate is not None:
            for name, value in rate.headers().items():
                response[name] = value
        record = getattr(self, "_idempotency", None)
        if record is not None:
            self._idempotency = None
            try:
                idempotency.complete(record, response)
            except Exception:
                idempotency.release(record)
                raise
        return response

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            # The OpenAPI generator inspects views outside any request, so outside any workspace.
            return self.model.all_workspaces.none()
        return self.model.objects.all()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        raw = self.request.query_params.get("updated_since")
        if raw is not None and self.action == "list":
            if self.since_field is None:
                raise ValidationError({"updated_since": ["This resource has no update time."]})
            try:
                since = parse_datetime(raw)
            except ValueError:
                since = None
            if since is None or since.tzinfo is None:
                raise ValidationError(
                    {
                        "updated_since": [
                            "Use an ISO 8601 date-time with a UTC offset, e.g. 2026-11-01T00:00:00Z."
                        ]
                    }
                )
            queryset = queryset.filter(**{f"{self.since_field}__gte": since})
        return queryset


class WorkspaceReadOnlyViewSet(WorkspaceViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class UpsertViewSet(WorkspaceViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """List and fetch; POST and PUT upsert one record by its partner id; POST …/bulk upserts many.

    Subclasses set `model`, `serializer_class`, `writer_class`, and `lookup_field` when records
    have a partner id that addresses them (`external_id`).
    """

    writer_class: type[BatchWriter] = BatchWriter
    lookup_value_regex = "[^/]+"

    def get_writer(self) -> BatchWriter:
        writer = self.writer_class(self.get_queryset())
        writer.model = self.model
        writer.serializer_class = self.serializer_class
        return writer

    def _write_one(self, record) -> Response:
        outcome = self.get_writer().write([record], prefix=None, atomic=True, objects=True)[0]
        if outcome.status == ERROR:
            return problem_response(422, "The record has invalid fields.", outcome.errors)
        status = 201 if outcome.status == CREATED else 200
        return Response(
            self.get_serializer(outcome.obj).data, status=status, headers={"X-Outcome": outcome.status}
        )

    def create(self, request, *args, **kwargs):
        return self._write_one(request.data)

    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request, *args, **kwargs):
        body = request.data
        atomic = truthy(request.query_params.get("atomic"))
        echo = truthy(request.query_params.get("echo"))
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            return problem_response(
                422,
                'The body must be a JSON object with a "records" array.',
                [{"pointer": "/records", "detail": "Expected an array of records."}],
            )
        if len(records) > BULK_MAX_RECORDS:
            return problem_response(
                422,
                f"A batch holds at most {BULK_MAX_RECORDS} records; this one has {len(records)}.",
                [{"pointer": "/records", "detail": f"Send at most {BULK_MAX_RECORDS} records per request."}],
            )
        writer = self.get_writer()
        outcomes = writer.write(records, prefix="/records", atomic=atomic, objects=echo)
        by_index = {}
        if echo:
            written = [o for o in outcomes if o.status and o.status != ERROR and o.obj is not None]
            representations = self.get_serializer([o.obj for o in written], many=True).data
            by_index = {o.index: data for o, data in zip(written, representations, strict=True)}
        id_field = writer.id_field
        summary = {name: 0 for name in ("created", "updated", "unchanged", "error")}
        failed = []
        results = []
        for o, record in zip(outcomes, records, strict=True):
            status = o.status or "not_written"
            row = {"index": o.index}
            if id_field is not None and type(record) is dict:
                partner_id = record.get(id_field)
                if type(partner_id) is str:
                    row[id_field] = partner_id
            row["status"] = status
            if status in summary:
                summary[status] += 1
            if status == ERROR:
                row["errors"] = o.errors
                failed.append(o)
            elif o.index in by_index:
                row["record"] = by_index[o.index]
            results.append(row)
        if atomic and failed:
            return problem_response(
                422,
                f"{len(failed)} of {len(records)} records are invalid; nothing was written (atomic mode).",
                [e for o in failed for e in o.errors],
                mode="atomic",
                summary=summary,
                results=results,
            )
        return Response({"mode": "atomic" if atomic else "partial", "summary": summary, "results": results})


class UpsertByExternalIdViewSet(UpsertViewSet):
    lookup_field = "external_id"
    http_method_names = ["get", "post", "put", "head", "options"]

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.get_object()).data)

    def update(self, request, *args, **kwargs):
        record = request.data
        value = kwargs[self.lookup_field]
        if isinstance(record, dict):
            record = dict(record)
            if record.setdefault(self.lookup_field, value) != value:
                return problem_response(
                    422,
                    "The record has invalid fields.",
                    [{"pointer": f"/{self.lookup_field}", "detail": "Differs from the one in the URL."}],
                )
        return self._write_one(record)
