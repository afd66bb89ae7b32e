"""Run Alembic migrations programmatically (used by the CLI, `make run` and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from . import ROOT


def alembic_config(database_url: str) -> AlembicConfig:
    """Alembic configuration pointing at `database_url`."""
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade the database at `database_url` to `revision`."""
    command.upgrade(alembic_config(database_url), revision)
