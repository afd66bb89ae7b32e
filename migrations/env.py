"""Alembic environment: migrates the database named by the caller or the configuration."""

from __future__ import annotations

from alembic import context

from workflow import models  # noqa: F401  (registers every table on Base.metadata)
from workflow.db import Base, described_by_models, make_engine

target_metadata = Base.metadata


def _url() -> str:
    url = context.config.attributes.get("database_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        import os

        from config import INSTANCE_DIR

        url = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'clusterpact.db'}"
    return url


def render_item(type_, obj, autogen_context):
    """Render the app's column types as their plain SQL types, so migrations stay frozen."""
    if type_ == "type" and isinstance(obj, models.UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, models.JSONText):
        return "sa.Text()"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        include_name=described_by_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        include_name=described_by_models,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
