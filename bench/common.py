"""Benchmark plumbing: throwaway databases and timing helpers."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from contextlib import contextmanager

from sqlalchemy import text

from workflow.db import ensure_pg_extensions, make_engine, make_session_factory

PG_URL = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
    "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pg_available() -> bool:
    if not PG_URL.startswith("postgresql"):
        return False
    try:
        engine = make_engine(PG_URL, pool_pre_ping=False)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


@contextmanager
def database(kind: str):
    """Yield (url, engine, session factory) of a freshly migrated database."""
    from web.migrate import upgrade

    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            engine = make_engine(url)
            try:
                yield url, engine, make_session_factory(engine)
            finally:
                engine.dispose()
        return
    schema = f"cp_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        ensure_pg_extensions(conn)
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        engine = make_engine(url)
        try:
            yield url, engine, make_session_factory(engine)
        finally:
            engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def backends() -> list[str]:
    """SQLite, and PostgreSQL when it answers; BENCH_BACKENDS=sqlite (or postgresql) picks one."""
    found = ["sqlite", "postgresql"] if pg_available() else ["sqlite"]
    wanted = os.environ.get("BENCH_BACKENDS", "").split(",")
    return [kind for kind in found if kind in wanted] or found


def median_rate(fn, batches: int, per_batch: int) -> float:
    """Run `fn(batch_index)` (doing `per_batch` operations) `batches` times; median ops/s."""
    rates = []
    for b in range(batches):
        start = time.perf_counter()
        fn(b)
        rates.append(per_batch / (time.perf_counter() - start))
    return statistics.median(rates)


def median_time(fn, repeat: int) -> float:
    """Median seconds of `fn()` over `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(*cols, widths=(44, 16, 16, 12)) -> str:
    return "".join(str(c).ljust(w) for c, w in zip(cols, widths, strict=False))
