"""Schemathesis against the app's own openapi.json, authenticated as each role.

Every generated request, valid and deliberately invalid, must answer without a server error,
with a documented status and content type, and with a body that matches its schema. Path ids
are steered onto a seeded world most of the time, so requests reach the services rather than
only the 404 path. Bounded and reproducible: a fixed number of derandomised examples per
operation and mode.

Driven through `APIOperation.as_strategy` rather than the pytest plugin's lazy loader, which
does not run on pytest 9 (it reads the removed `Node._nodeid`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import grant_token
from workflow.services import documents as docs

# Examples per operation, role and database: valid ones, then deliberately invalid ones.
POSITIVE = int(os.environ.get("API_FUZZ_POSITIVE", 10))
NEGATIVE = int(os.environ.get("API_FUZZ_NEGATIVE", 5))
ROLES = ["coordinator", "legal", "partner", "admin"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
CLAUSES = ["confidentiality", "liability", "language", "dispute_resolution"]


class World:
    """Partnerships in several stages (one with an issued PDF) and one the partner's
    organisation is not a party of; a token for a user of `role`."""

    def __init__(self, make_partnership, make_org, make_user, session, role: str) -> None:
        eu, cn, br = make_org("IT"), make_org("CN", kind="sme"), make_org("BR", kind="sme")
        owner = make_user("coordinator")
        self.partnerships = [
            make_partnership(stage, owner=owner, eu=eu, counterpart=cn)
            for stage in ("draft", "negotiation", "legal_review", "signing")]
        self.partnerships.append(make_partnership("draft", owner=owner, eu=eu, counterpart=br))
        self.documents = [d.id for p in self.partnerships for d in docs.documents(session, p.id)]
        self.user = owner if role == "coordinator" else make_user(
            role, organisation=cn if role == "partner" else None)
        self.token = grant_token(session, self.user)


@dataclass
class Tally:
    cases: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)


def steer(case, world: World) -> None:
    """Point most generated ids at existing objects; keep some as generated (404 paths)."""
    params = case.path_parameters
    if not params:
        return
    value = params.get("partnership_id")
    if isinstance(value, int) and value % 7:
        params["partnership_id"] = world.partnerships[value % len(world.partnerships)].id
    value = params.get("document_id")
    if isinstance(value, int) and value % 5 and world.documents:
        params["document_id"] = world.documents[value % len(world.documents)]
    value = params.get("clause_key")
    if isinstance(value, str) and len(value) % 3:
        params["clause_key"] = CLAUSES[len(value) % len(CLAUSES)]


def fuzz(operation, mode: GenerationMode, examples: int, world: World, session, tally: Tally):
    """Run `examples` generated cases of one operation; record any failing check."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    def run(case):
        steer(case, world)
        token = world.token
        if operation.definition.raw.get("operationId") == "revokeCurrentToken":
            token = grant_token(session, world.user)  # revoke a throwaway, not the run's token
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        tally.cases += 1
        tally.server_errors += response.status_code >= 500
        case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        run()
    except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
        tally.failures.append(f"{operation.label} ({mode.value}): {exc}")


@pytest.fixture(params=ROLES)
def world(request, make_partnership, make_org, make_user, session):
    return World(make_partnership, make_org, make_user, session, request.param)


def test_api_conforms_to_its_description(app, world, session, record_property):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tally = Tally()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 28
    for operation in operations:
        fuzz(operation, GenerationMode.POSITIVE, POSITIVE, world, session, tally)
        fuzz(operation, GenerationMode.NEGATIVE, NEGATIVE, world, session, tally)
    record_property("schemathesis_cases", tally.cases)
    record_property("server_errors", tally.server_errors)
    print(f"\nschemathesis: {world.user.role}: {tally.cases} cases, "
          f"{tally.server_errors} server errors, {len(tally.failures)} failing operations")
    assert tally.server_errors == 0 and not tally.failures, "\n\n".join(tally.failures)
    assert tally.cases >= len(operations) * 2
