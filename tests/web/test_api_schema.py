"""Schemathesis against the API in-process: every operation, a bounded number of generated
requests each, with a token holding every scope. No answer may be a server error or break the
OpenAPI document (status codes, content types, response bodies)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from engine.api_access import SCOPES
from tests.web.test_api import token
from worker.lifecycle import make_people
from workflow import factories as f

EXAMPLES = 15  # per operation
# A deploy refuses well-formed requests for reasons no schema can state (a diagram that does not
# parse, a scenario that fails): 422 with the reason is its contract. Every other operation must
# accept what its schema allows.
DOMAIN_REFUSALS = {("POST", "/api/v1/versions")}


def excluded(operation) -> list:
    return (
        [positive_data_acceptance]
        if (operation.method.upper(), operation.path) in DOMAIN_REFUSALS
        else []
    )


@pytest.fixture
def admin_headers(system):
    make_people(system)
    with system.sessions() as s:
        admin = f.actor(f.account(s, "admin"))
        s.commit()
    return token(system, admin, *SCOPES)


def conformance(operation, headers: dict):
    """A Hypothesis test of one operation: generated requests, each answer checked against the document."""
    skipped = excluded(operation)

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=skipped)

    return check


def test_every_operation_answers_within_its_documented_contract(app, admin_headers):
    api_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        conformance(operation, admin_headers)()
