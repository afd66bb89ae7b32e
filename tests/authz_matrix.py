"""The authorization matrix (tests/authz_matrix.yaml): loading it, comparing it with the
application's routes, and printing entries for routes it lacks.

    python -m tests.authz_matrix --missing            # entries to add, outcomes to fill in
    python -m tests.authz_matrix --missing --observe  # ... with the outcomes observed now
    python -m tests.authz_matrix --observe-all        # every entry, observed (review a diff)

Observed outcomes are what the application does today, not what it should do: read every
one before adding it (tests/web/test_authz_matrix.py also checks the file against the
access policy).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

MATRIX = Path(__file__).with_name("authz_matrix.yaml")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
OUTCOMES = {"200", "201", "204", "302", "login", "400", "401", "403", "404", "405", "409",
            "413", "422", "429"}
DENIED = {"login", "401", "403", "404", "405"}

# Which world object a path parameter names when an entry is first written.
PARAMETERS = {
    "party_id": "{draft_cp}", "document_id": "{signing_issued}", "asset_id": "{nego_asset}",
    "clause_key": "{nego_clause}", "trigger": "start_due_diligence",
    "item_key": "identity_registration", "rule_key": "{rule}", "user_id": "{user_target}",
    "token_id": "{spare_token}", "notification_id": "{notification}",
    "obligation_id": "{obligation}", "publication_id": "{publication}",
    "token": "{calendar_token}", "filename": "app.css", "rest": "no-such-resource",
}
PARTNERSHIP_FOR = [("document_id", "{signing}"), ("asset_id", "{nego}"),
                   ("obligation_id", "{active}"), ("publication_id", "{active}")]


HEADER = """\
# Authorization matrix: every route and method of the application (pages and API), and the
# outcome each principal gets. Checked by tests/web/test_authz_matrix.py; a route missing
# here fails the test: `python -m tests.authz_matrix --missing --observe` prints its entry.
#
# Principals (tests/authz_world.py): anonymous; coordinator (owns every partnership below);
# legal; partner (of the counterpart organisation of every partnership); admin;
# partner_other (of an organisation that is no party); deactivated (a coordinator
# deactivated after logging in: their cookie and API token are refused).
# Outcomes: an HTTP status, "302" for a redirect that is not to the login page, "login" for
# a redirect to it. Pages get the principal's session cookie (and CSRF token on writes),
# API routes (api.v1.*) the principal's bearer token.
# `path` and `data` name world objects in braces: {draft} {nego} {review} {signing} {active}
# are partnerships in those stages (+ _v version, _lead/_cp party, _clause/_option clause);
# see build_world for the others. `data` is the form (pages) or the JSON body (API).
"""


def load(path: Path = MATRIX) -> list[dict]:
    """The matrix entries, outcomes as strings."""
    entries = yaml.safe_load(path.read_text())["routes"]
    for entry in entries:
        entry["expect"] = {k: str(v) for k, v in entry["expect"].items()}
    return entries


def routes(app) -> list[tuple[str, str, str]]:
    """Every (rule, method, endpoint) the application answers, API included."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(found)


def missing(app, entries) -> list[tuple[str, str, str]]:
    have = {(e["rule"], e["method"]) for e in entries}
    return [r for r in routes(app) if (r[0], r[1]) not in have]


def stale(app, entries) -> list[tuple[str, str]]:
    have = {(rule, method) for rule, method, _ in routes(app)}
    return [(e["rule"], e["method"]) for e in entries if (e["rule"], e["method"]) not in have]


def guess_path(rule: str) -> str:
    """A concrete path for `rule`, naming world objects."""
    names = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)
    partnership = next((key for name, key in PARTNERSHIP_FOR if name in names), "{draft}")
    values = {**PARAMETERS, "partnership_id": partnership}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: values.get(m.group(1), "?"), rule)


def dump(entries: list[dict]) -> str:
    """The YAML of `entries`, one compact block per route and method."""
    from tests.authz_world import PRINCIPALS

    out = []
    for e in entries:
        out.append(f"- endpoint: {e['endpoint']}\n  rule: {e['rule']}\n  method: {e['method']}\n"
                   f"  path: {e['path']}")
        for key in ("data", "files"):
            if e.get(key) is not None:
                out.append(f"  {key}: {json.dumps(e[key])}")
        expect = ", ".join(f"{p}: {e['expect'].get(p, '?')}" for p in PRINCIPALS)
        out.append(f"  expect: {{{expect}}}")
    return "\n".join(out) + "\n"


def _observe(entries: list[dict]) -> None:
    import tempfile

    from tests.authz_world import PRINCIPALS, build_world

    with tempfile.TemporaryDirectory() as tmp:
        app, sessions, path = _standalone_app(Path(tmp))
        with sessions() as session:
            world = build_world(app, session, path)
        for entry in entries:
            observed = {p: world.outcome(entry, p) for p in PRINCIPALS}
            changed = [p for p in PRINCIPALS if entry["expect"].get(p) not in (None, "?",
                                                                              observed[p])]
            if changed:
                print(f"# {entry['endpoint']} {entry['method']}: changed for "
                      f"{', '.join(changed)}", file=sys.stderr)
            entry["expect"] = observed
        app.extensions["clusterpact.engine"].dispose()


def _standalone_app(tmp: Path):
    """A migrated SQLite database with the document layer bound, and the app on it."""
    from config import TestingConfig
    from contracts.issuing import DocumentSettings, bind
    from contracts.signing import create_dev_keypair, load_signer
    from tests.conftest import _migrate
    from web import create_app

    path = str(tmp / "authz.db")
    url = f"sqlite:///{path}"
    _migrate(url)
    bind(DocumentSettings(signer=load_signer(*create_dev_keypair(tmp)),
                          prepare_in_background=False))
    config = TestingConfig()
    config.DATABASE_URL = url
    config.INSTANCE_PATH = tmp
    app = create_app(config)
    return app, app.extensions["clusterpact.sessions"], path


def main(argv: list[str]) -> int:
    from config import TestingConfig
    from web import create_app

    entries = load() if MATRIX.exists() else []
    if "--observe-all" in argv:
        _observe(entries)
        print(HEADER + "routes:\n" + dump(entries), end="")
        return 0
    if "--missing" not in argv:
        print(__doc__)
        return 2
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        config = TestingConfig()
        config.DATABASE_URL, config.INSTANCE_PATH = "sqlite://", Path(tmp)
        app = create_app(config)
        new = [{"endpoint": endpoint, "rule": rule, "method": method, "path": guess_path(rule),
                "expect": {}} for rule, method, endpoint in missing(app, entries)]
        app.extensions["clusterpact.engine"].dispose()
    if new and "--observe" in argv:
        _observe(new)
    print(dump(new) if new else "# every route is in the matrix", end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
