"""The cross-tenant sweep: every URL of the product, tried by a member of workspace B against
workspace A's objects, answers 404 (or refuses), shows nothing of A and changes nothing in A.

Every URL pattern is found by walking the resolver, so a new page or API route is swept the
moment it is wired: it must get an entry in SAMPLES (how to build its URL from A's sample
objects), and a POST payload if it accepts POST, or the sweep fails naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pytest
from celery.signals import before_task_publish
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from django.utils import timezone

from tenancy.context import use_workspace
from tenancy.models import ApiKey

from ..conftest import TwoWorkspaces
from ..integrations.samples import PAGE_POST_PAYLOADS, PAGE_SAMPLES, READ_ONLY_SAMPLES
from ..playbooks.samples import add_playbook_samples, add_task_samples, playbook_form
from ..support import snapshot

WORKSPACE_PREFIX = "w/<slug:workspace_slug>/"
API_PREFIX = "api/v1/"

# URLs that are not tenant-scoped, and why each may stay out of the sweep.
NON_TENANT_PREFIXES = {
    # Django admin: platform staff only (is_staff), reads every workspace on purpose.
    "admin/": "platform admin",
}
NON_TENANT_NAMES = {
    "home": "lists only the user's own memberships",
    "login": "no workspace before login",
    "logout": "ends the session",
    "healthz": "liveness: database answers and the last beat time, no tenant data",
    "metrics": "platform operators' Prometheus figures (behind METRICS_TOKEN), no customer data",
    "api:schema": "the OpenAPI description of the API: no tenant data, public",
    "api:docs": "the API reference page: no tenant data, public",
    "api:docs-asset": "the docs page's vendored script",
}


@dataclass(frozen=True)
class Route:
    name: str | None  # "namespace:name"
    route: str  # the full pattern, e.g. "w/<slug:workspace_slug>/accounts/<int:pk>/"
    callback: Callable

    @property
    def key(self) -> str:
        return self.name or self.route

    @property
    def params(self) -> set[str]:
        return set(re.findall(r"<(?:\w+:)?(\w+)>", self.route)) | set(re.findall(r"\(\?P<(\w+)>", self.route))

    @property
    def kind(self) -> str:
        if self.name in NON_TENANT_NAMES:
            return "non-tenant"
        if self.route.startswith(WORKSPACE_PREFIX):
            return "page"
        if self.route.startswith(API_PREFIX):
            return "api"
        if self.route.startswith(tuple(NON_TENANT_PREFIXES)) or self.name in NON_TENANT_NAMES:
            return "non-tenant"
        return "unclassified"

    @property
    def accepts_get(self) -> bool:
        view_class = getattr(self.callback, "view_class", None)
        return view_class is None or hasattr(view_class, "get")

    @property
    def accepts_post(self) -> bool:
        view_class = getattr(self.callback, "view_class", None)
        if view_class is not None:
            return hasattr(view_class, "post")
        actions = getattr(self.callback, "actions", None)  # DRF viewsets
        if actions is not None:
            return bool({"post", "put", "patch", "delete"} & set(actions))
        return True  # a function view: assume it may write


def walk(patterns: Iterable, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace) if n)
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Route(name, prefix + str(pattern.pattern), pattern.callback)


def all_routes() -> list[Route]:
    return list(walk(get_resolver().url_patterns))


@pytest.fixture
def world(two_workspaces: TwoWorkspaces) -> TwoWorkspaces:
    """The two workspaces, plus the objects of A that only some pages show."""
    from health.defaults import DEFAULT_DEFINITION, save_version
    from health.models import Alert, AlertRule, Scorecard

    tw = two_workspaces
    with use_workspace(tw.a):
        card = Scorecard.objects.create(name="Quokka enterprise scorecard", tier=tw.sample.tier)
        save_version(card, DEFAULT_DEFINITION, user=tw.a_admin, note="Quokka tuning")
        rule = AlertRule.objects.create(kind="no_touchpoint", name="Quokka silence rule", params={"days": 5})
        alert = Alert.objects.create(
            account=tw.sample.account, rule=rule, severity="high", summary="Quokka alert summary"
        )
        from segments.models import SavedList

        saved = SavedList.objects.create(
            name="Quokka renewals list", query="renewal_within=90", visibility="public", owner=tw.a_admin
        )
    tw.extra["saved_list"] = saved
    tw.strings_of_a.append(saved.name)
    tw.extra["scorecard"] = card
    tw.extra["alert_rule"] = rule
    tw.extra["alert"] = alert
    tw.strings_of_a += [card.name, "Quokka tuning", rule.name, alert.summary]
    add_task_samples(tw)
    add_playbook_samples(tw)
    return tw


# URL parameters that name no object of a workspace (a choice from a fixed catalogue): a page
# with only these is swept like a list page.
NON_OBJECT_PARAMS = {"kind"}


def no_ids(tw: TwoWorkspaces) -> dict:
    return {}


def account_pk(tw: TwoWorkspaces) -> dict:
    return {"pk": tw.sample.account.pk}


def a_api_key_pk(tw: TwoWorkspaces) -> dict:
    """An active API key of A (created on first use), for the revoke page."""
    if "api_key" not in tw.extra:
        with use_workspace(tw.a):
            tw.extra["api_key"], _ = ApiKey.issue("Quokka billing sync", ["read"])
        tw.strings_of_a.append("Quokka billing sync")
    return {"pk": tw.extra["api_key"].pk}


def a_csm_score(tw: TwoWorkspaces) -> dict:
    """A's sample CSM score, given a partner id so the API can address it."""
    score = tw.sample.csm_score
    if not score.external_id:
        with use_workspace(tw.a):
            type(score).objects.filter(pk=score.pk).update(external_id="qk-csm-1")
        score.external_id = "qk-csm-1"
        tw.strings_of_a.append("qk-csm-1")
    return {"external_id": score.external_id}


def a_backtest(tw: TwoWorkspaces):
    """A finished backtest of a scorecard of A (created on first use), for its pages and the API."""
    if "backtest" not in tw.extra:
        from health.defaults import DEFAULT_DEFINITION, save_version
        from health.models import BacktestRun, Scorecard

        with use_workspace(tw.a):
            card = Scorecard.objects.create(name="Quokka backtested scorecard", plan="quokka-plan")
            version = save_version(card, DEFAULT_DEFINITION, user=tw.a_admin)
            tw.extra["backtest"] = BacktestRun.objects.create(
                scorecard=card,
                scorecard_version=version,
                definition=DEFAULT_DEFINITION,
                as_of_dates=["2026-01-01"],
                horizon_days=90,
                status="succeeded",
                progress=100,
                results={"pooled": {"auc": 0.71, "churn_events": 3}},
            )
        tw.strings_of_a.append(card.name)
    return tw.extra["backtest"]


# URL name → the URL kwargs (besides workspace_slug) that point at workspace A's sample objects.
SAMPLES: dict[str, Callable[[TwoWorkspaces], dict]] = {
    "dashboard:home": no_ids,
    "dashboard:analysis": no_ids,
    "accounts:list": no_ids,
    "accounts:contacts": no_ids,
    "accounts:detail": account_pk,
    "accounts:timeline": account_pk,
    "accounts:touchpoint_create": account_pk,
    "accounts:csm_score_create": account_pk,
    "accounts:tier_stage": account_pk,
    "accounts:export": no_ids,
    "accounts:contacts_export": no_ids,
    "accounts:bulk": no_ids,
    "accounts:rules": no_ids,
    "alerts:inbox": no_ids,
    "alerts:act": no_ids,
    "lists:index": no_ids,
    "lists:create": no_ids,
    "lists:default": lambda tw: {"pk": tw.extra["saved_list"].pk},
    "lists:delete": lambda tw: {"pk": tw.extra["saved_list"].pk},
    "alerts:rules": no_ids,
    "alerts:rule_create": lambda tw: {"kind": "usage_drop"},
    "alerts:rule_edit": lambda tw: {"pk": tw.extra["alert_rule"].pk},
    "tasks:list": no_ids,
    "tasks:create": no_ids,
    "tasks:account_create": lambda tw: {"account_pk": tw.sample.account.pk},
    "tasks:detail": lambda tw: {"pk": tw.extra["task"].pk},
    "tasks:edit": lambda tw: {"pk": tw.extra["task"].pk},
    "tasks:complete": lambda tw: {"pk": tw.extra["task"].pk},
    "tasks:cancel": lambda tw: {"pk": tw.extra["task"].pk},
    "tasks:reopen": lambda tw: {"pk": tw.extra["done_task"].pk},
    "tasks:reassign": lambda tw: {"pk": tw.extra["task"].pk},
    "tasks:comment": lambda tw: {"pk": tw.extra["task"].pk},
    "tasks:playbooks": no_ids,
    "tasks:playbook_create": no_ids,
    "tasks:playbook_edit": lambda tw: {"pk": tw.extra["playbook"].pk},
    "tasks:playbook_runs": no_ids,
    "tasks:playbook_run": lambda tw: {"pk": tw.extra["playbook_run"].pk},
    "tasks:playbook_run_retry": lambda tw: {"pk": tw.extra["playbook_run"].pk},
    "workspace_settings:home": no_ids,
    "workspace_settings:api_key_create": no_ids,
    "workspace_settings:api_key_created": no_ids,
    "workspace_settings:api_key_revoke": a_api_key_pk,
    "health:scorecards": no_ids,
    "health:rescore": no_ids,
    "health:scorecard_create": no_ids,
    "health:scorecard_edit": lambda tw: {"pk": tw.extra["scorecard"].pk},
    "health:backtest": lambda tw: {"pk": a_backtest(tw).scorecard_id},
    "health:backtest_run": lambda tw: {"pk": a_backtest(tw).pk},
    "health:backtest_progress": lambda tw: {"pk": a_backtest(tw).pk},
    "api:backtest-list": lambda tw: a_backtest(tw) and {},
    "api:backtest-detail": lambda tw: {"scorecard_id": a_backtest(tw).scorecard_id},
    "api:account-list": no_ids,
    "api:account-detail": lambda tw: {"external_id": tw.sample.account.external_id},
    "api:account-bulk": no_ids,
    "api:contact-list": no_ids,
    "api:contact-bulk": no_ids,
    "api:contact-detail": lambda tw: {"external_id": tw.sample.contact.external_id},
    "api:invoice-list": no_ids,
    "api:invoice-bulk": no_ids,
    "api:invoice-detail": lambda tw: {"external_id": tw.sample.invoice.external_id},
    "api:ticket-list": no_ids,
    "api:ticket-bulk": no_ids,
    "api:ticket-detail": lambda tw: {"external_id": tw.sample.ticket.external_id},
    "api:nps-response-list": no_ids,
    "api:nps-response-bulk": no_ids,
    "api:nps-response-detail": lambda tw: {"external_id": tw.sample.nps.external_id},
    "api:touchpoint-list": no_ids,
    "api:touchpoint-bulk": no_ids,
    "api:touchpoint-detail": lambda tw: {"external_id": tw.sample.touchpoint.external_id},
    "api:csm-score-list": no_ids,
    "api:csm-score-bulk": no_ids,
    "api:csm-score-detail": a_csm_score,
    "api:daily-usage-list": no_ids,
    "api:daily-usage-bulk": no_ids,
    "api:usage-event-list": no_ids,
    "api:usage-event-bulk": no_ids,
    **READ_ONLY_SAMPLES,
    **PAGE_SAMPLES,
}


def scorecard_form(name: str) -> dict:
    return {
        "action": "save",
        "name": name,
        "plan": "",
        "priority": "0",
        "is_active": "on",
        "red_below": "40",
        "green_from": "70",
        "hysteresis": "3",
        "min_coverage": "50",
        "csat_n": "5",
        "note": "Sweep probe",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "1000",
        "m-0-metric": "csm_score",
        "m-0-weight": "10",
        "m-0-mapping": "linear",
        "m-0-worst": "1",
        "m-0-best": "5",
    }


# A plausible, valid form for every page that accepts POST: the sweep must be refused because of
# the workspace, not because the form was empty. Checked valid for A's own members below.
POST_PAYLOADS: dict[str, Callable[[TwoWorkspaces], dict]] = {
    "accounts:touchpoint_create": lambda tw: {
        "kind": "meeting",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "subject": "Sweep probe",
        "notes": "Written by another workspace",
        "sentiment": "negative",
    },
    "accounts:csm_score_create": lambda tw: {"score": "1", "note": "Sweep probe"},
    "accounts:tier_stage": lambda tw: {"action": "save", "tier": "", "stage": ""},
    # The accounts and the CSM are choices of the workspace's own: in B, A's ids are not among them.
    "accounts:bulk": lambda tw: {
        "action": "assign_csm",
        "accounts": [str(tw.sample.account.pk)],
        "csm": str(tw.a_admin.pk),
        "query": "status=active",
    },
    "accounts:rules": lambda tw: {
        "tiers_by_mrr": "on",
        "adoption_after_days": "45",
        "adoption_min_active_users": "2",
        "established_after_green_days": "30",
        "advocate_on_promoter": "on",
        "promoter_within_days": "90",
        f"tier_{tw.sample.tier.pk}": "2500",
    },
    "health:rescore": lambda tw: {},
    # The account is a choice of the workspace's own accounts: in B, A's id is not among them.
    "tasks:create": lambda tw: {
        "account": str(tw.sample.account.pk),
        "title": "Sweep probe task",
        "priority": "high",
        "assignee": str(tw.a_csm.pk),
    },
    "tasks:account_create": lambda tw: {"title": "Sweep probe task", "priority": "high"},
    "tasks:edit": lambda tw: {
        "title": "Sweep probe task",
        "priority": "low",
        "due_on": "",
        "description": "",
    },
    "tasks:complete": lambda tw: {},
    "tasks:cancel": lambda tw: {},
    "tasks:reopen": lambda tw: {},
    "tasks:reassign": lambda tw: {"assignee": str(tw.a_admin.pk)},
    "tasks:comment": lambda tw: {"body": "Sweep probe comment"},
    "tasks:playbook_create": lambda tw: playbook_form("Sweep probe playbook"),
    "tasks:playbook_edit": lambda tw: playbook_form("Sweep probe playbook"),
    "tasks:playbook_run_retry": lambda tw: {},
    "alerts:act": lambda tw: {"action": "resolve", "alert": tw.extra["alert"].pk, "note": "Sweep probe"},
    "lists:create": lambda tw: {"name": "Sweep probe list", "visibility": "public", "query": "status=active"},
    "lists:default": lambda tw: {"next": ""},
    "lists:delete": lambda tw: {},
    "alerts:rule_create": lambda tw: {
        "name": "Sweep probe rule",
        "severity": "low",
        "retrigger_days": "7",
        "is_active": "on",
        "param_percent": "10",
    },
    "alerts:rule_edit": lambda tw: {
        "name": "Sweep probe rule",
        "severity": "low",
        "retrigger_days": "7",
        "is_active": "on",
        "param_days": "10",
    },
    "workspace_settings:api_key_create": lambda tw: {"name": "Sweep probe key", "scopes": ["read"]},
    "workspace_settings:api_key_revoke": lambda tw: {},
    "health:scorecard_create": lambda tw: scorecard_form("Sweep probe scorecard"),
    "health:scorecard_edit": lambda tw: scorecard_form("Sweep probe scorecard"),
    **PAGE_POST_PAYLOADS,
    "health:backtest": lambda tw: {
        "points": "2",
        "spacing_days": "30",
        "horizon_days": "90",
        "last_as_of": "",
    },
}


# Filters a list page may receive that name A's related objects: they must read as invalid
# choices, not as rows. (Not a search text: a page may echo the visitor's own query back.)
def list_query(tw: TwoWorkspaces) -> dict:
    s = tw.sample
    return {
        "tier": s.tier.pk,
        "lifecycle_stage": s.stage.pk,
        "csm_owner": tw.a_csm.pk,
    }


def missing_samples(routes: Iterable[Route]) -> list[str]:
    """Tenant routes with no SAMPLES entry (a sample that misses a URL parameter fails in the sweep)."""
    missing = []
    for route in routes:
        if route.kind not in ("page", "api"):
            continue
        if route.name not in SAMPLES:
            missing.append(route.key)
    return missing


def missing_post_payloads(routes: Iterable[Route]) -> list[str]:
    return [r.key for r in routes if r.kind == "page" and r.accepts_post and r.key not in POST_PAYLOADS]


def unclassified(routes: Iterable[Route]) -> list[str]:
    return [r.key for r in routes if r.kind == "unclassified"]


ROUTES = all_routes()
TENANT_ROUTES = [r for r in ROUTES if r.kind in ("page", "api")]


def test_every_url_is_either_tenant_scoped_or_explicitly_allowed():
    assert not unclassified(ROUTES), (
        f"URL patterns outside /w/<slug>/ and /api/v1/ that are not in the non-tenant allow-list: "
        f"{unclassified(ROUTES)}; put them under a workspace or justify them in NON_TENANT_*"
    )


def test_every_tenant_url_has_a_sample():
    missing = missing_samples(ROUTES)
    assert not missing, f"URL patterns with no entry in SAMPLES: {missing} — add a sample for it"


def test_every_post_page_has_a_payload():
    missing = missing_post_payloads(ROUTES)
    assert not missing, f"pages accepting POST with no entry in POST_PAYLOADS: {missing} — add one"


def test_registries_name_only_existing_urls():
    names = {r.name for r in ROUTES}
    assert set(SAMPLES) <= names, f"stale SAMPLES entries: {sorted(set(SAMPLES) - names)}"
    assert set(POST_PAYLOADS) <= names, f"stale POST_PAYLOADS entries: {sorted(set(POST_PAYLOADS) - names)}"


def _view(request, **kwargs):  # pragma: no cover - never called
    raise AssertionError


def test_the_sweep_notices_a_url_without_a_sample():
    fake = [
        path("admin/secret/", _view, name="staff"),
        path(
            WORKSPACE_PREFIX,
            include(
                (
                    [
                        path("things/<int:pk>/", _view, name="thing"),
                        path("things/", _view, name="list"),
                    ],
                    "widgets",
                )
            ),
        ),
        path("accounts/", _view, name="loose"),
    ]
    routes = list(walk(fake))
    assert [(r.key, r.kind) for r in routes] == [
        ("staff", "non-tenant"),
        ("widgets:thing", "page"),
        ("widgets:list", "page"),
        ("loose", "unclassified"),
    ]
    assert routes[1].params == {"workspace_slug", "pk"}
    assert missing_samples(routes) == ["widgets:thing", "widgets:list"]
    assert missing_post_payloads(routes) == ["widgets:thing", "widgets:list"]
    assert unclassified(routes) == ["loose"]
    # The real patterns of the product are found, namespaced.
    assert {"accounts:detail", "api:account-detail", "dashboard:home"} <= {r.name for r in ROUTES}


def _kwargs(route: Route, tw: TwoWorkspaces) -> dict:
    if route.name not in SAMPLES:
        pytest.fail(f"{route.key} ({route.route}) has no entry in SAMPLES — add a sample for it")
    kwargs = SAMPLES[route.name](tw)
    expected = route.params - {"workspace_slug"}
    assert set(kwargs) == expected, f"sample for {route.key} gives {set(kwargs)}, the URL needs {expected}"
    return kwargs


def _body(response) -> bytes:
    """The whole answer, streamed ones (CSV exports) included."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _assert_nothing_of_a(
    tw: TwoWorkspaces, response, what: str, echoed: frozenset[str] = frozenset()
) -> None:
    """`echoed`: strings the caller itself sent, which an answer may repeat (an upsert echoes its record)."""
    assert response.status_code < 500, f"{what}: {response.status_code}"
    leaked = [s for s in tw.leaks(_body(response)) if s.lower() not in echoed]
    assert not leaked, f"{what} answered {response.status_code} and showed A's {leaked}"


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in TENANT_ROUTES if r.kind == "page"], ids=lambda r: r.key)
def test_page_of_workspace_a_is_unreachable_from_workspace_b(client, world, route):
    tw = world
    kwargs = _kwargs(route, tw)
    payload = POST_PAYLOADS.get(route.name, lambda tw: {})(tw)

    # Control: the sample is real, A's own admin reaches it (so a 404 below is the tenancy's doing).
    client.force_login(tw.a_admin)
    own = client.get(reverse(route.name, kwargs={"workspace_slug": tw.a.slug, **kwargs}))
    expected = (200, 302) if route.accepts_get else (405,)
    assert own.status_code in expected, f"{route.key}: A's admin gets {own.status_code}; fix the sample"
    names_objects = bool(set(kwargs) - NON_OBJECT_PARAMS)
    if own.status_code == 200 and names_objects:
        assert tw.leaks(_body(own)), f"{route.key}: A's own page shows none of its sample strings"

    before = snapshot(tw.a)
    client.force_login(tw.b_admin)
    a_url = reverse(route.name, kwargs={"workspace_slug": tw.a.slug, **kwargs})
    b_url = reverse(route.name, kwargs={"workspace_slug": tw.b.slug, **kwargs})
    # A's slug: B's admin is not a member of A.
    for method, data in (("get", None), ("post", payload)):
        response = getattr(client, method)(a_url, data)
        assert response.status_code == 404, f"{method.upper()} {a_url}: {response.status_code}"
        _assert_nothing_of_a(tw, response, f"{method.upper()} {a_url}")
    if names_objects:
        # B's own slug with A's object ids. A page without a handler for the method answers 405.
        response = client.get(b_url)
        expected = (404,) if route.accepts_get else (404, 405)
        assert response.status_code in expected, f"GET {b_url}: {response.status_code}"
        _assert_nothing_of_a(tw, response, f"GET {b_url}")
        response = client.post(b_url, payload)
        expected = (404,) if route.accepts_post else (404, 405)
        assert response.status_code in expected, f"POST {b_url}: {response.status_code}"
        _assert_nothing_of_a(tw, response, f"POST {b_url}")
    else:
        expected = 200 if route.accepts_get else 405
        response = client.get(b_url)
        assert response.status_code == expected, f"GET {b_url}: {response.status_code}"
        _assert_nothing_of_a(tw, response, f"GET {b_url}")
        response = client.get(b_url, list_query(tw))
        assert response.status_code == expected, f"GET {b_url} with A's filters: {response.status_code}"
        _assert_nothing_of_a(tw, response, f"GET {b_url} with A's filters")
        response = client.post(b_url, payload)
        _assert_nothing_of_a(tw, response, f"POST {b_url}")
    assert snapshot(tw.a) == before, f"{route.key}: workspace A's data changed"


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in TENANT_ROUTES if r.kind == "api"], ids=lambda r: r.key)
def test_api_route_of_workspace_a_is_unreachable_with_a_key_of_b(client, two_workspaces, route):
    tw = two_workspaces
    kwargs = _kwargs(route, tw)
    url = reverse(route.name, kwargs=kwargs)
    with use_workspace(tw.a):
        _, a_token = ApiKey.issue("A's integration", ["read", "write"])
    with use_workspace(tw.b):
        _, b_token = ApiKey.issue("B's integration", ["read", "write"])

    # DRF routes list their methods; a POST-only route (a bulk upsert) answers GET with 405.
    actions = getattr(route.callback, "actions", None) or {"get": "retrieve"}
    own = client.get(url, headers={"Authorization": f"Bearer {a_token}"})
    if "get" in actions:
        assert own.status_code == 200, f"{route.key}: A's own key gets {own.status_code}; fix the sample"
        assert tw.leaks(own.content), f"{route.key}: A's own key sees none of A's sample strings"
    else:
        assert own.status_code == 405, f"{route.key}: A's own key gets {own.status_code} for GET"

    before = snapshot(tw.a)
    headers = {"Authorization": f"Bearer {b_token}"}
    a = tw.sample.account
    body = {"external_id": a.external_id, "name": "Taken over", "mrr": "1.00", "status": "churned"}
    # B may send A's partner ids (that is the probe); an upsert answering with B's own record
    # repeats them, which shows nothing of A.
    echoed = frozenset(str(v).lower() for v in (*body.values(), *kwargs.values()))
    response = client.get(url, headers=headers)
    if "get" not in actions:
        assert response.status_code == 405, f"GET {url}: {response.status_code}"
    elif kwargs:
        assert response.status_code == 404, f"GET {url}: {response.status_code}"
    else:
        assert response.status_code == 200, f"GET {url}: {response.status_code}"
        response = client.get(url, list_query(tw), headers=headers)
    _assert_nothing_of_a(tw, response, f"GET {url}")
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(url, body, content_type="application/json", headers=headers)
        if kwargs and method == "put" and "put" in actions:
            # PUT upserts by partner id: B writes (or is refused) its own record, never A's.
            assert response.status_code in (200, 201, 404, 422), f"PUT {url}: {response.status_code}"
        elif kwargs:
            assert response.status_code in (404, 405), f"{method.upper()} {url}: {response.status_code}"
        _assert_nothing_of_a(tw, response, f"{method.upper()} {url}", echoed)
    assert snapshot(tw.a) == before, f"{route.key}: workspace A's data changed"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_PAYLOADS))
def test_post_payloads_are_valid_for_the_workspace_itself(
    client, world, name, django_capture_on_commit_callbacks
):
    """Proves the sweep's POSTs would write (or enqueue work) if the workspace allowed it."""
    tw = world
    route = next(r for r in ROUTES if r.name == name)
    url = reverse(name, kwargs={"workspace_slug": tw.a.slug, **_kwargs(route, tw)})
    before = snapshot(tw.a)
    client.force_login(tw.a_admin)
    # Work is enqueued on commit, or published right away by pages that report a broker outage.
    published = []

    def on_publish(sender=None, **kwargs):
        published.append(sender)

    before_task_publish.connect(on_publish, weak=False)
    try:
        with django_capture_on_commit_callbacks() as enqueued:
            response = client.post(url, POST_PAYLOADS[name](tw))
    finally:
        before_task_publish.disconnect(on_publish)
    assert response.status_code == 302, f"{name}: the payload was refused ({response.status_code})"
    assert snapshot(tw.a) != before or enqueued or published, f"{name}: a valid POST by A's admin did nothing"
