"""Logging in and out, choosing a workspace, and who may enter which workspace."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Touchpoint

from .. import factories as f
from ..support import wurl

pytestmark = pytest.mark.django_db

CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def test_login_with_email_and_password(client, two_workspaces):
    tw = two_workspaces
    response = client.post(reverse("login"), {"username": tw.a_csm.email, "password": f.PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(tw.a_csm.pk)
    # One workspace: straight into its dashboard.
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home.url == wurl(tw.a, "dashboard:home")


def test_login_email_is_case_insensitive(client, two_workspaces):
    response = client.post(
        reverse("login"), {"username": two_workspaces.a_csm.email.upper(), "password": f.PASSWORD}
    )
    assert response.status_code == 302


def test_login_with_a_wrong_password_shows_an_error(client, two_workspaces):
    response = client.post(reverse("login"), {"username": two_workspaces.a_csm.email, "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    errors = response.context["form"].non_field_errors()
    assert errors
    assert errors[0].encode() in response.content.replace(b"&#x27;", b"'")


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_logout_needs_a_post_and_ends_the_session(client, two_workspaces):
    client.force_login(two_workspaces.a_csm)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    again = client.get(wurl(two_workspaces.a, "dashboard:home"))
    assert again.status_code == 302
    assert again.url.startswith(reverse("login"))


def test_home_shows_a_chooser_to_a_member_of_two_workspaces(client, two_workspaces):
    tw = two_workspaces
    f.MembershipFactory(user=tw.b_csm, workspace=tw.a, role="viewer")
    client.force_login(tw.b_csm)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert [m.workspace for m in response.context["choices"]] == [tw.a, tw.b]
    for workspace in (tw.a, tw.b):
        assert workspace.name.encode() in response.content
        assert wurl(workspace, "dashboard:home").encode() in response.content


def test_home_sends_an_anonymous_visitor_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_members_enter_their_workspace(client, two_workspaces):
    tw = two_workspaces
    for user in (tw.a_admin, tw.a_csm, tw.a_viewer):
        client.force_login(user)
        assert client.get(wurl(tw.a, "dashboard:home")).status_code == 200


def _masked(content: bytes) -> bytes:
    return CSRF_TOKEN.sub(b"csrf", content)


def test_non_member_gets_the_same_404_as_for_a_missing_workspace(client, two_workspaces):
    tw = two_workspaces
    client.force_login(tw.outsider)
    existing = client.get(wurl(tw.a, "dashboard:home"))
    missing = client.get(wurl("no-such-workspace", "dashboard:home"))
    assert existing.status_code == missing.status_code == 404
    assert _masked(existing.content) == _masked(missing.content)
    assert tw.a.name.encode() not in existing.content
    # A member of another workspace is an outsider here too.
    client.force_login(tw.b_admin)
    for path in (wurl(tw.a, "dashboard:home"), wurl(tw.a, "accounts:list")):
        response = client.get(path)
        assert response.status_code == 404
        assert tw.leaks(response.content) == []


def test_anonymous_visitor_is_sent_to_login(client, two_workspaces):
    path = wurl(two_workspaces.a, "accounts:list")
    response = client.get(path)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={path}"
    # Same for a workspace that does not exist: nothing is confirmed before login.
    response = client.get(wurl("no-such-workspace", "accounts:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def _touchpoint_url(workspace, pk):
    try:
        return wurl(workspace, "accounts:touchpoint_create", pk=pk)
    except NoReverseMatch:
        pytest.skip("accounts:touchpoint_create is not wired yet")


def _touchpoint_payload(subject):
    return {
        "kind": "call",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "subject": subject,
        "notes": "Discussed the roadmap.",
        "sentiment": "positive",
    }


def test_viewer_cannot_log_a_touchpoint(client, two_workspaces):
    tw = two_workspaces
    url = _touchpoint_url(tw.a, tw.sample.account.pk)
    before = Touchpoint.all_workspaces.count()
    client.force_login(tw.a_viewer)
    response = client.post(url, _touchpoint_payload("Viewer was here"))
    assert response.status_code == 403
    assert Touchpoint.all_workspaces.count() == before


def test_csm_can_log_a_touchpoint(client, two_workspaces):
    tw = two_workspaces
    account = tw.sample.account
    url = _touchpoint_url(tw.a, account.pk)
    client.force_login(tw.a_csm)
    response = client.post(url, _touchpoint_payload("Renewal call"))
    assert response.status_code == 302
    assert response.url == wurl(tw.a, "accounts:detail", pk=account.pk)
    created = Touchpoint.all_workspaces.get(subject="Renewal call")
    assert (created.workspace_id, created.account_id, created.author_id) == (tw.a.pk, account.pk, tw.a_csm.pk)
