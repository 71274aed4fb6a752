"""CSV import pages (admins only): upload, map columns, preview, run with a progress bar, and
download the result summary."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.text import slugify

from . import csv_import
from .forms import ImportMappingForm, ImportUploadForm
from .models import ImportJob, ImportStatus
from .tasks import run_import
from .views import AdminPageView, page_url


class ImportJobMixin:
    def get_job(self) -> ImportJob:
        return get_object_or_404(ImportJob.objects.all(), pk=self.kwargs["pk"])


class ImportListView(AdminPageView):
    """The upload form and the workspace's recent imports."""

    template_name = "integrations/import_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ImportUploadForm())
        context["jobs"] = ImportJob.objects.defer("content", "result").order_by("-created_at", "-pk")[:20]
        context["max_rows"] = csv_import.MAX_ROWS
        return context

    def post(self, request, *args, **kwargs):
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        kind = form.cleaned_data["kind"]
        parsed = form.cleaned_data["parsed"]
        job = ImportJob.objects.create(
            kind=kind,
            filename=form.cleaned_data["file"].name[:255],
            content=form.cleaned_data["text"],
            headers=parsed.headers,
            mapping=csv_import.guess_mapping(kind, parsed.headers),
            total_rows=len(parsed.rows),
            created_by=request.user,
        )
        return redirect(page_url(request, "import_map", pk=job.pk))


class ImportMapView(ImportJobMixin, AdminPageView):
    """Which field each column fills (guessed from the headers); saving shows the preview."""

    template_name = "integrations/import_map.html"

    def get(self, request, *args, **kwargs):
        job = self.get_job()
        if job.status != ImportStatus.UPLOADED:
            return redirect(page_url(request, "import_detail", pk=job.pk))
        return self.render_to_response(self.get_context_data(job=job, form=ImportMappingForm(job=job)))

    def post(self, request, *args, **kwargs):
        job = self.get_job()
        if job.status != ImportStatus.UPLOADED:
            return redirect(page_url(request, "import_detail", pk=job.pk))
        form = ImportMappingForm(request.POST, job=job)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(job=job, form=form), status=400)
        job.mapping = form.cleaned_data["mapping"]
        job.save(update_fields=["mapping", "updated_at"])
        return redirect(page_url(request, "import_preview", pk=job.pk))


class ImportPreviewView(ImportJobMixin, AdminPageView):
    """What the import would do with the first rows, per-row errors included; POST starts it."""

    template_name = "integrations/import_preview.html"

    def get(self, request, *args, **kwargs):
        job = self.get_job()
        if job.status != ImportStatus.UPLOADED:
            return redirect(page_url(request, "import_detail", pk=job.pk))
        problems = csv_import.check_mapping(job.kind, job.mapping)
        if problems:
            return redirect(page_url(request, "import_map", pk=job.pk))
        parsed = csv_import.parse(job.content)
        results = csv_import.preview(job, parsed)
        counts = {
            s: sum(1 for r in results if r.status == s) for s in ("created", "updated", "unchanged", "error")
        }
        return self.render_to_response(
            self.get_context_data(
                job=job,
                results=results,
                failed=[r for r in results if r.errors],
                counts=counts,
                checked=len(results),
                columns=[(h, f) for h, f in job.mapping.items()],
            )
        )

    def post(self, request, *args, **kwargs):
        job = self.get_job()
        if job.status == ImportStatus.UPLOADED and not csv_import.check_mapping(job.kind, job.mapping):
            updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
                status=ImportStatus.QUEUED
            )
            if updated:  # a double click starts one import
                run_import.delay_on_commit(job.workspace_id, job.pk)
        return redirect(page_url(request, "import_detail", pk=job.pk))


class ImportDetailView(ImportJobMixin, AdminPageView):
    """The import's progress (polled by htmx while it runs) and its outcome."""

    template_name = "integrations/import_detail.html"

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["integrations/_import_progress.html"]
        return [self.template_name]

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(job=self.get_job()))


class ImportResultView(ImportJobMixin, AdminPageView):
    """The summary CSV: one line per row (per error for a refused row)."""

    def get(self, request, *args, **kwargs):
        job = self.get_job()
        if job.status != ImportStatus.DONE:
            return redirect(page_url(request, "import_detail", pk=job.pk))
        name = slugify(job.filename.rsplit(".", 1)[0]) or "import"
        response = HttpResponse(job.result, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-result.csv"'
        return response
