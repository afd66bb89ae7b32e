"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from workflow.db import Base, described_by_models


def test_upgraded_database_matches_models(database):
    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_name": described_by_models})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_every_constraint_is_named(database):
    insp = inspect(database.engine)
    for table in Base.metadata.sorted_tables:
        for fk in insp.get_foreign_keys(table.name):
            assert fk["name"], f"unnamed foreign key on {table.name}"
        for ck in insp.get_check_constraints(table.name):
            assert ck["name"], f"unnamed check on {table.name}"
