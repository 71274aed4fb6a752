"""Pages: the workspace comes from the URL (/w/<slug>/…) after checking the user's membership."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from . import rls
from .context import use_workspace
from .models import Membership

WORKSPACE_PATH = re.compile(r"^/w/(?P<slug>[-a-zA-Z0-9_]+)/")


def _scoped_stream(content: Iterable[bytes], workspace_id: int) -> Iterator[bytes]:
    # A streamed response (CSV export) is produced after the view returned, so each chunk is
    # produced inside the workspace scope again; set and reset around every chunk.
    iterator = iter(content)
    while True:
        with use_workspace(workspace_id):
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


class WorkspaceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.workspace = None
        request.membership = None
        match = WORKSPACE_PATH.match(request.path_info)
        if match is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = (
            Membership.objects.select_related("workspace")
            .filter(user=request.user, workspace__slug=match["slug"])
            .first()
        )
        if membership is None:
            # Same answer whether the workspace exists or not: nothing is confirmed to outsiders.
            raise Http404("No such workspace")
        request.workspace = membership.workspace
        request.membership = membership
        with use_workspace(membership.workspace_id), rls.page_transaction():
            response = self.get_response(request)
        if response.streaming:
            response.streaming_content = _scoped_stream(response.streaming_content, membership.workspace_id)
        return response
