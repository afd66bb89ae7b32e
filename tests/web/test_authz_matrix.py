"""The authorization matrix (tests/authz_matrix.yaml): every route of the application is in
it, the file respects the access policy, and every cell holds against the running app.

The cells run on SQLite only (see tests/authz_world.py: one world, snapshot and restore
around every write); authorization does not depend on the database engine.
"""

from __future__ import annotations

import re

import pytest

import config as config_module
from tests import authz_matrix
from tests.authz_world import PRINCIPALS, build_world
from web import create_app

ENTRIES = authz_matrix.load()
CELLS = [(e, p) for e in ENTRIES for p in PRINCIPALS]
PUBLIC = {"main.healthz", "auth.login", "static", "api.v1.openapi", "api.v1.docs",
          "api.v1.create_token", "api.v1.fallback", "calendar.feed"}
SUCCESS = re.compile(r"^(2\d\d|302)$")


def cell_id(cell) -> str:
    entry, principal = cell
    return f"{entry['method']} {entry['rule']} as {principal}"


@pytest.fixture(scope="module")
def world(_databases, tmp_path_factory):
    database = _databases("sqlite")
    database.clean()
    config = config_module.TestingConfig()
    config.DATABASE_URL = database.url
    config.INSTANCE_PATH = tmp_path_factory.mktemp("authz")
    app = create_app(config)
    with database.sessions() as session:
        built = build_world(app, session, database.url.removeprefix("sqlite:///"))
    yield built
    app.extensions["clusterpact.engine"].dispose()
    database.clean()


def test_every_route_and_method_is_in_the_matrix(tmp_path):
    config = config_module.TestingConfig()
    config.DATABASE_URL, config.INSTANCE_PATH = "sqlite://", tmp_path
    app = create_app(config)
    missing = authz_matrix.missing(app, ENTRIES)
    stale = authz_matrix.stale(app, ENTRIES)
    app.extensions["clusterpact.engine"].dispose()
    assert missing == [], ("routes missing from tests/authz_matrix.yaml (print their entries "
                           "with `python -m tests.authz_matrix --missing --observe`)")
    assert stale == [], "entries for routes that no longer exist"


def test_matrix_names_every_principal_and_known_outcomes():
    for entry in ENTRIES:
        assert set(entry["expect"]) == set(PRINCIPALS), entry["endpoint"]
        assert set(entry["expect"].values()) <= authz_matrix.OUTCOMES, entry["endpoint"]


def test_matrix_respects_the_access_policy():
    """The expectations themselves: observed behaviour must not be written down as allowed
    where the policy says no."""
    for e in ENTRIES:
        x, name = e["expect"], f"{e['method']} {e['rule']}"
        if e["endpoint"] not in PUBLIC:
            web = not e["endpoint"].startswith("api.v1.")
            refused = "login" if web else "401"
            assert x["anonymous"] == x["deactivated"] == refused, name
        if "{" in e["path"] and re.search(r"\{(draft|nego|review|signing|active)\}", e["path"]):
            # Another organisation's partnership: a plain 404, or the refusal the partner
            # of the partnership gets for their role (which says nothing about the record).
            assert x["partner_other"] == "404" or (
                x["partner_other"] == x["partner"] and not SUCCESS.match(x["partner"])), name
        if e["endpoint"].startswith("admin."):
            for who in ("coordinator", "legal", "partner", "partner_other"):
                assert x[who] == "403", f"{name} as {who}"
        if e["rule"].startswith("/review/") or e["endpoint"] == "review.page":
            assert not SUCCESS.match(x["partner"]) and not SUCCESS.match(x["partner_other"])


@pytest.mark.parametrize("cell", CELLS, ids=[cell_id(c) for c in CELLS])
def test_matrix_cell(world, cell):
    entry, principal = cell
    assert world.outcome(entry, principal) == entry["expect"][principal]
