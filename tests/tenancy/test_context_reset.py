"""The workspace context is entered by the page middleware and by `workspace_task`, and always
reset afterwards: after a normal request, after an exception, around streamed chunks and after
a task."""

from __future__ import annotations

import pytest
from django.http import HttpResponse, StreamingHttpResponse

from accounts.models import Account
from tenancy.context import current_workspace_id
from tenancy.middleware import WorkspaceMiddleware
from tenancy.tasks import WORKSPACE_TASKS, workspace_task

from ..support import wurl

pytestmark = pytest.mark.django_db


@workspace_task(name="tests.tenancy.scope_probe")
def scope_probe(workspace_id, label=""):
    return {
        "current": current_workspace_id(),
        "accounts": sorted(Account.objects.values_list("name", flat=True)),
        "label": label,
    }


@workspace_task(name="tests.tenancy.failing_probe")
def failing_probe(workspace_id):
    raise RuntimeError(f"failed in {current_workspace_id()}")


@workspace_task(name="tests.tenancy.bound_probe", bind=True)
def bound_probe(self, workspace_id):
    return [self.name, current_workspace_id()]


def _request(rf, user, path):
    request = rf.get(path)
    request.user = user
    return request


def test_middleware_selects_the_workspace_and_resets_it(rf, two_workspaces):
    tw = two_workspaces
    seen = []

    def view(request):
        seen.append((current_workspace_id(), request.workspace, request.membership.user))
        return HttpResponse("ok")

    response = WorkspaceMiddleware(view)(_request(rf, tw.a_csm, wurl(tw.a, "accounts:list")))
    assert response.status_code == 200
    assert seen == [(tw.a.pk, tw.a, tw.a_csm)]
    assert current_workspace_id(required=False) is None


def test_middleware_resets_after_the_view_raised(rf, two_workspaces):
    tw = two_workspaces
    seen = []

    def view(request):
        seen.append(current_workspace_id())
        raise RuntimeError("view failed")

    with pytest.raises(RuntimeError, match="view failed"):
        WorkspaceMiddleware(view)(_request(rf, tw.a_csm, wurl(tw.a, "dashboard:home")))
    assert seen == [tw.a.pk]
    assert current_workspace_id(required=False) is None


def test_middleware_leaves_non_workspace_paths_unscoped(rf, two_workspaces):
    seen = []

    def view(request):
        seen.append((current_workspace_id(required=False), request.workspace))
        return HttpResponse("ok")

    WorkspaceMiddleware(view)(_request(rf, two_workspaces.a_csm, "/healthz"))
    assert seen == [(None, None)]


def test_streamed_chunks_are_produced_inside_the_scope(rf, two_workspaces):
    tw = two_workspaces

    def chunks():
        for _ in range(3):
            yield f"{current_workspace_id()},{Account.objects.count()};".encode()

    response = WorkspaceMiddleware(lambda request: StreamingHttpResponse(chunks()))(
        _request(rf, tw.a_csm, wurl(tw.a, "accounts:list"))
    )
    assert current_workspace_id(required=False) is None
    body = b"".join(response.streaming_content).decode()
    assert body == f"{tw.a.pk},1;" * 3
    assert current_workspace_id(required=False) is None


def test_context_is_reset_after_a_request_through_the_client(client, two_workspaces):
    tw = two_workspaces
    client.force_login(tw.a_csm)
    # The GET of a form URL redirects to the account page; no template involved.
    response = client.get(wurl(tw.a, "accounts:touchpoint_create", pk=tw.sample.account.pk))
    assert response.status_code == 302
    assert current_workspace_id(required=False) is None


def test_workspace_task_runs_inside_its_workspace(two_workspaces):
    tw = two_workspaces
    assert scope_probe.name in WORKSPACE_TASKS
    assert scope_probe(tw.a.pk, label="direct") == {
        "current": tw.a.pk,
        "accounts": [tw.sample.account.name],
        "label": "direct",
    }
    assert current_workspace_id(required=False) is None
    result = scope_probe.apply(args=(tw.b.pk,), kwargs={"label": "applied"})
    assert result.successful(), result.traceback
    assert result.get() == {"current": tw.b.pk, "accounts": [tw.b_account.name], "label": "applied"}
    assert current_workspace_id(required=False) is None


def test_workspace_task_resets_after_it_raised(two_workspaces):
    tw = two_workspaces
    with pytest.raises(RuntimeError, match=f"failed in {tw.a.pk}"):
        failing_probe(tw.a.pk)
    assert current_workspace_id(required=False) is None
    result = failing_probe.apply(args=(tw.a.pk,))
    assert result.failed()
    assert current_workspace_id(required=False) is None


@pytest.mark.parametrize("bad", ["1", 1.0, None, True], ids=repr)
def test_workspace_task_refuses_a_non_integer_workspace_id(two_workspaces, bad):
    with pytest.raises(TypeError, match="workspace_id must be an int"):
        scope_probe(bad)
    result = scope_probe.apply(args=(bad,))
    assert result.failed()
    assert isinstance(result.result, TypeError)
    assert current_workspace_id(required=False) is None


def test_workspace_task_refuses_a_model_instance(two_workspaces):
    with pytest.raises(TypeError, match="workspace_id must be an int"):
        scope_probe(two_workspaces.a)


def test_bound_workspace_task_gets_itself_and_the_workspace(two_workspaces):
    ws = two_workspaces.a
    assert bound_probe(ws.pk) == ["tests.tenancy.bound_probe", ws.pk]
    assert bound_probe.apply(args=(ws.pk,)).get() == ["tests.tenancy.bound_probe", ws.pk]
    assert current_workspace_id(required=False) is None
    with pytest.raises(TypeError, match="workspace_id must be an int"):
        bound_probe(str(ws.pk))
