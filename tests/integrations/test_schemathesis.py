"""schemathesis against the published OpenAPI description, over real HTTP: for every operation,
generated requests — valid ones, and ones that break the description — never get a 5xx, and
every answer conforms to the description: a documented status code, content type and body.

Kept quick: a few examples per operation and mode, no shrinking; the workspace has an account
so generated references and ids sometimes hit a real record.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tenancy.context import use_workspace
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 4


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_the_api_conforms_to_its_description(live_server, keys, two_workspaces, client, mode):
    with use_workspace(two_workspaces.a):
        f.AccountFactory(external_id="st-1", name="Schema probe")
    loaded = schemathesis.openapi.from_dict(client.get("/api/v1/schema/", {"format": "json"}).json())
    headers = {"Authorization": f"Bearer {keys.a}"}
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) > 30
    failures: list[str] = []

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS)

        try:
            with override_settings(API_RATE_LIMIT=1_000_000):
                check()
        except (AssertionError, BaseExceptionGroup) as error:  # every operation's failures at once
            failures.append(f"{operation.label}: {error!r}\n{getattr(error, 'exceptions', '')}")
    assert not failures, "\n\n".join(failures)
