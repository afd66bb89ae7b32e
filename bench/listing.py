"""Dashboard and partnerships list (issue 5): server time with 1,000 and 100,000
partnerships, first page and a filtered page, and the 100k/1k ratio."""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from tests.conftest import PASSWORD
from workflow.models import Organisation, Partnership, Party
from workflow.roles import SYSTEM_ACTOR
from workflow.services import organisations, users

from .common import backends, database, median_time, row

SIZES = (1_000, 100_000)
COUNTRIES = ["CN", "IN", "BR", "MX", "US", "JP", "CA", "KR"]
STAGES = ["draft", "due_diligence", "negotiation", "legal_review", "approved", "signing",
          "active", "withdrawn"]
URLS = {"dashboard": "/dashboard", "list, first page": "/partnerships/",
        "list, filtered (CN, negotiation)": "/partnerships/?country=CN&stage=negotiation",
        "list, text search": "/partnerships/?q=pilot%2042",
        "list, text search (common word)": "/partnerships/?q=photonics",
        # The worst case of keyset pages: filters nothing matches are checked on every row.
        "list, filtered, nothing matches": "/partnerships/?country=CN&agreement_type=nda"}


def _fill(sessions, engine, n: int) -> None:
    """n partnerships with two parties each, written in bulk (the services would take hours
    at this size; what is measured is reading). Stages cycle; counterpart countries are drawn
    independently of them, as in real data."""
    s = sessions()
    owner = users.create_user(s, SYSTEM_ACTOR, "coord@example.org", "Coordinator",
                              "coordinator", PASSWORD)
    eu = [organisations.create_organisation(s, SYSTEM_ACTOR, f"EU cluster {i}", c, "cluster").id
          for i, c in enumerate(["IT", "FR", "NO", "LT", "ES"])]
    others = [organisations.create_organisation(s, SYSTEM_ACTOR, f"Counterpart {c}", c, "sme").id
              for c in COUNTRIES]
    owner_id = owner.id
    s.close()
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for base in range(0, n, 10_000):
            rows, parties = [], []
            for i in range(base, min(n, base + 10_000)):
                when = start + timedelta(minutes=i * 7)
                rows.append({"id": i + 1, "reference": f"CP-2026-{i + 1:06d}",
                             "title": f"Pilot {i} on {rng.choice(['diagnostics', 'photonics'])}",
                             "workflow_key": "cluster_partnership", "stage": STAGES[i % 8],
                             "version": 1, "owner_id": owner_id, "agreement_type": "collaboration",
                             "stage_entered_at": when, "created_at": when, "updated_at": when})
                parties += [{"partnership_id": i + 1, "organisation_id": eu[i % 5],
                             "role": "lead", "background_none": False},
                            {"partnership_id": i + 1,
                             "organisation_id": others[rng.randrange(len(others))],
                             "role": "counterpart", "background_none": False}]
            conn.execute(insert(Partnership.__table__), rows)
            conn.execute(insert(Party.__table__), parties)
    with engine.connect() as conn:  # fresh statistics, as autovacuum / a real database has
        conn.execute(text("ANALYZE"))
        conn.commit()
    assert Organisation  # imported for the mapper configuration


def _client(url: str):
    from config import TestingConfig
    from tests.web.conftest import Auth
    from web import create_app

    config = TestingConfig()
    config.DATABASE_URL = url
    tmp = tempfile.mkdtemp()
    config.INSTANCE_PATH = Path(tmp)
    app = create_app(config)
    client = app.test_client()
    assert Auth(client).login("coord@example.org").status_code == 302
    return app, client


def run() -> None:
    print("== dashboard and list (issue 5)")
    print(row("measure", "backend", "value", "ratio"))
    for kind in backends():
        figures: dict[str, dict[int, float]] = {}
        for n in SIZES:
            with database(kind) as (url, engine, sessions):
                _fill(sessions, engine, n)
                app, client = _client(url)
                for label, path in URLS.items():
                    assert client.get(path).status_code == 200, path
                    cost = median_time(lambda p=path, c=client: c.get(p), 15)
                    figures.setdefault(label, {})[n] = cost
                app.extensions["clusterpact.engine"].dispose()
        for label, by_size in figures.items():
            small, big = by_size[SIZES[0]], by_size[SIZES[1]]
            print(row(f"{label} @100k", kind, f"{big * 1000:.1f} ms",
                      f"{big / small:.2f}x the 1k figure ({small * 1000:.1f} ms)"))
