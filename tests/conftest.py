"""Shared fixtures: databases (SQLite and, with TEST_DATABASE_URL, PostgreSQL), factories."""

from __future__ import annotations

import os
import secrets
import uuid
from itertools import count

import pytest
from sqlalchemy import text

from workflow.db import Base, ensure_pg_extensions, make_engine, make_session_factory
from workflow.roles import SYSTEM_ACTOR

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple"


def pytest_sessionstart(session):
    if os.environ.get("CLUSTERPACT_REQUIRE_POSTGRES") and not PG_URL.startswith("postgresql"):
        pytest.exit("CLUSTERPACT_REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not PostgreSQL",
                    returncode=2)


# Reference data a migrated database starts with (clause library, country risk); tests get
# it back in its initial state after every test.
REFERENCE = ["risk_tiers", "country_risks", "safeguard_rules", "library_clause_versions"]


def _migrate(url: str) -> None:
    from contracts.publish import library_payload
    from web.migrate import upgrade
    from workflow.services.library import sync_library

    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        sync_library(session, SYSTEM_ACTOR, library_payload())
    engine.dispose()


class Database:
    """A migrated database for the test session; `clean()` empties every table."""

    def __init__(self, kind: str, url: str, drop=None) -> None:
        self.kind = kind
        self.url = url
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        self._drop = drop
        tables = Base.metadata.tables
        with self.engine.connect() as conn:
            self._reference = {
                name: [dict(r._mapping) for r in conn.execute(tables[name].select())]
                for name in REFERENCE
            }

    def clean(self) -> None:
        """Empty every table, then restore the reference data to its migrated state."""
        tables = Base.metadata.tables
        data = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in REFERENCE]
        with self.engine.begin() as conn:
            if self.kind == "postgresql":
                # Replica mode skips ordinary triggers (the audit log's append-only ones)
                # for this transaction only.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text(f"TRUNCATE {', '.join(data)} RESTART IDENTITY CASCADE"))
            else:
                conn.execute(text("PRAGMA defer_foreign_keys = ON"))  # self-references
                append_only = conn.execute(text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                    "tbl_name IN ('audit_events', 'audit_chain_head')")).all()
                for trigger, _sql in append_only:
                    conn.exec_driver_sql(f'DROP TRIGGER "{trigger}"')
                for name in data:
                    conn.execute(text(f"DELETE FROM {name}"))  # our own table names
                for _trigger, sql in append_only:
                    conn.exec_driver_sql(sql)
            for name in reversed(REFERENCE):
                conn.execute(tables[name].delete())
            for name in REFERENCE:
                if self._reference[name]:
                    conn.execute(tables[name].insert(), self._reference[name])
                if self.kind == "postgresql" and "id" in tables[name].c:
                    reset = (f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                             f"COALESCE((SELECT max(id) FROM {name}), 0) + 1, false)")
                    conn.execute(text(reset))
        from workflow.risk import invalidate_reference

        invalidate_reference()

    def close(self) -> None:
        self.engine.dispose()
        if self._drop:
            self._drop()


def _sqlite_database(tmp_path_factory) -> Database:
    path = tmp_path_factory.mktemp("sqlite") / "test.db"
    url = f"sqlite:///{path}"
    _migrate(url)
    return Database("sqlite", url)


def _postgres_database() -> Database:
    """A fresh schema in the test PostgreSQL database, dropped at the end of the run."""
    schema = f"cp_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        ensure_pg_extensions(conn)
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    _migrate(url)

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return Database("postgresql", url, drop)


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session", autouse=True)
def document_layer(tmp_path_factory):
    """Bind the workflow's document effects with a platform key made for this test run."""
    from contracts.issuing import DocumentSettings, bind
    from contracts.signing import create_dev_keypair, load_signer

    key, cert = create_dev_keypair(tmp_path_factory.mktemp("signing"))
    settings = DocumentSettings(signer=load_signer(key, cert), prepare_in_background=False)
    bind(settings)
    return settings


@pytest.fixture(scope="session")
def _databases(tmp_path_factory):
    made: dict[str, Database] = {}

    def get(kind: str) -> Database:
        if kind not in made:
            if kind == "postgresql":
                if not PG_URL.startswith("postgresql"):
                    pytest.skip("PostgreSQL tests need TEST_DATABASE_URL=postgresql://...")
                made[kind] = _postgres_database()
            else:
                made[kind] = _sqlite_database(tmp_path_factory)
        return made[kind]

    yield get
    for db in made.values():
        db.close()


@pytest.fixture(params=BACKENDS)
def database(request, _databases) -> Database:
    """A migrated, empty database: once per backend."""
    db = _databases(request.param)
    db.clean()
    yield db
    db.clean()


@pytest.fixture
def sqlite_database(_databases) -> Database:
    db = _databases("sqlite")
    db.clean()
    yield db
    db.clean()


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting what it receives."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def session(database):
    s = database.sessions()
    yield s
    s.close()


_seq = count(1)


@pytest.fixture
def make_org(session):
    from workflow.services.organisations import create_organisation

    def make(country="IT", name=None, kind="cluster", city=None):
        name = name or f"Org {next(_seq)} {country}"
        return create_organisation(session, SYSTEM_ACTOR, name, country, kind, city)

    return make


@pytest.fixture
def make_user(session):
    from workflow.services.users import create_user

    def make(role="coordinator", organisation=None, email=None, password=PASSWORD):
        email = email or f"{role}{next(_seq)}-{secrets.token_hex(3)}@example.org"
        org_id = organisation.id if organisation is not None else None
        return create_user(session, SYSTEM_ACTOR, email, f"{role.title()} User", role, password,
                           org_id)

    return make


@pytest.fixture
def make_partnership(session, make_org, make_user):
    """Create a partnership and walk it to `stage` through the real services."""
    from tests.helpers import build_partnership

    def make(stage="draft", agreement_type="collaboration", owner=None, eu=None, counterpart=None,
             signatories=True):
        owner = owner or make_user("coordinator")
        eu = eu or make_org("IT")
        counterpart = counterpart or make_org("CN", kind="sme")
        legal = make_user("legal")
        return build_partnership(session, owner, legal, eu, counterpart, stage, agreement_type,
                                 signatories)

    return make


@pytest.fixture
def active_deal(make_org, make_user, make_partnership):
    """An active partnership between an Italian cluster and a Chinese SME: (partnership,
    people) with its owner, a partner user of each party and a partner of a third org."""
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    people = {"owner": make_user("coordinator"),
              "partner_eu": make_user("partner", organisation=eu),
              "partner_cn": make_user("partner", organisation=cn),
              "outsider": make_user("partner", organisation=make_org("BR", kind="sme"))}
    return make_partnership("active", owner=people["owner"], eu=eu, counterpart=cn), people
