"""Backup and restore of the database, documents included (they live in it).

A backup is a folder: the dump (SQLite online backup API, or `pg_dump` custom format) and
`manifest.json` (created_at, schema revision, each document's id, sha256 and size as stored
in the dump, and the sha256 of the dump file). The manifest is read from the same snapshot
as the dump, so a backup taken during writes is consistent. The folder appears atomically:
it is staged beside DEST and renamed when complete.

Restore checks the manifest's sha256s before touching the target, refuses a non-empty
target unless forced, restores in one transaction, and checks every restored document's
bytes against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # pg_dump/pg_restore by absolute path, no shell  # nosec B404
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from .files import write_atomic
from .models import utcnow

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_DUMP = "database.sqlite3"
PG_DUMP = "database.pgdump"
_DOCUMENTS = ("SELECT d.id, d.sha256, d.size, b.content FROM documents d "
              "LEFT JOIN document_blobs b ON b.document_id = d.id WHERE d.id > {after} "
              "ORDER BY d.id LIMIT 50")


class BackupError(Exception):
    """A backup or restore that cannot be done safely; nothing was changed."""


@dataclass
class Outcome:
    """What a backup or restore did."""

    path: Path
    manifest: dict
    warnings: list[str] = field(default_factory=list)


# -- backup ---------------------------------------------------------------------------------


def backup(engine: Engine, dest: Path) -> Outcome:
    """Write a backup of the database behind `engine` into the new or empty folder `dest`."""
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty folder.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        if engine.dialect.name == "sqlite":
            dump, info = _sqlite_backup(engine, staging)
        elif engine.dialect.name == "postgresql":
            dump, info = _pg_backup(engine, staging)
        else:
            raise BackupError(f"No backup method for {engine.dialect.name}.")
        manifest = {
            "format": FORMAT, "created_at": utcnow().isoformat(), "backend": info["backend"],
            "schema": info.get("schema"), "schema_revision": info["revision"],
            "dump": {"file": dump.name, "sha256": _file_sha256(dump),
                     "size": dump.stat().st_size},
            "document_count": len(info["documents"]), "documents": info["documents"],
        }
        write_atomic(staging / MANIFEST, json.dumps(manifest, indent=1).encode())
        _fsync_dir(staging)
        os.replace(staging, dest)  # an empty dest folder is replaced atomically
        _fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Outcome(dest, manifest, info["warnings"])


def _sqlite_backup(engine: Engine, staging: Path) -> tuple[Path, dict]:
    dump = staging / SQLITE_DUMP
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(dump)
        try:
            # One step (pages=-1) copies the whole database under a single read
            # transaction: a consistent snapshot while writers carry on (WAL).
            raw.driver_connection.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            info = _read_contents(lambda sql: target.execute(sql).fetchall(), "sqlite")
        finally:
            target.close()
    finally:
        raw.close()
    return dump, info


def _pg_backup(engine: Engine, staging: Path) -> tuple[Path, dict]:
    dump = staging / PG_DUMP
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # pg_dump reads the snapshot this transaction exported, and the manifest is read
            # inside the same transaction: both describe the same instant.
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            args = ["--format=custom", f"--snapshot={snapshot}", f"--file={dump}"]
            if schema != "public":  # a database shared by schemas (tests): dump only ours
                args.append(f"--schema={schema}")
            _run_pg("pg_dump", engine, args)
            info = _read_contents(lambda sql: conn.exec_driver_sql(sql).all(), "postgresql")
    info["schema"] = schema
    return dump, info


def _read_contents(query, backend: str) -> dict:
    """Schema revision and every document's id, sha256 and size, from the stored bytes."""
    exists = ("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
              if backend == "sqlite" else "SELECT to_regclass('alembic_version') IS NOT NULL")
    revision = (query("SELECT version_num FROM alembic_version")
                if query(exists)[0][0] else [])  # absent when not created by migrations
    documents, warnings, after = [], [], 0
    while rows := query(_DOCUMENTS.format(after=int(after))):
        for doc_id, sha256, size, content in rows:
            if content is None:
                warnings.append(f"document {doc_id}: no stored bytes")
                documents.append({"id": doc_id, "sha256": None, "size": None})
                continue
            actual = hashlib.sha256(bytes(content)).hexdigest()
            if actual != sha256 or len(content) != size:
                warnings.append(f"document {doc_id}: stored bytes do not match its record")
            documents.append({"id": doc_id, "sha256": actual, "size": len(content)})
        after = rows[-1][0]
    return {"backend": backend, "revision": revision[0][0] if revision else None,
            "documents": documents, "warnings": warnings}


# -- restore --------------------------------------------------------------------------------


def read_manifest(src: Path) -> dict:
    """Load a backup's manifest and check the dump's size and sha256 against it."""
    src = Path(src)
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src / MANIFEST}: cannot read the manifest ({exc}).") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src / MANIFEST}: unknown format {manifest.get('format')!r}.")
    dump = src / Path(manifest["dump"]["file"]).name
    if not dump.is_file():
        raise BackupError(f"{dump}: the dump named by the manifest is missing.")
    if dump.stat().st_size != manifest["dump"]["size"] or (
            _file_sha256(dump) != manifest["dump"]["sha256"]):
        raise BackupError(f"{dump}: size or sha256 differs from the manifest; the backup is "
                          "damaged or was changed.")
    return manifest


def is_empty(engine: Engine) -> bool:
    """True when the target database has no tables (in the schema it would use)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return not conn.exec_driver_sql(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").scalar()
        return not conn.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = :s"),
            {"s": _target_schema(conn)}).scalar()


def restore(engine: Engine, src: Path, force: bool = False) -> Outcome:
    """Restore the backup in `src` into the database behind `engine`."""
    manifest = read_manifest(src)
    dump = Path(src) / Path(manifest["dump"]["file"]).name
    if manifest["backend"] != engine.dialect.name:
        raise BackupError(f"The backup is of {manifest['backend']}; the target is "
                          f"{engine.dialect.name}.")
    if not is_empty(engine) and not force:
        raise BackupError("The target database is not empty; use --force to overwrite it.")
    if engine.dialect.name == "sqlite":
        _sqlite_restore(engine, dump)
    else:
        _pg_restore(engine, dump, manifest, force)
    engine.dispose()  # no connection keeps a view of the database as it was
    return Outcome(Path(src), manifest, _compare_documents(engine, manifest))


def _sqlite_restore(engine: Engine, dump: Path) -> None:
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    raw = engine.raw_connection()
    try:
        # The backup API writes the target in one transaction: all of it or nothing.
        source.backup(raw.driver_connection)
    finally:
        raw.close()
        source.close()


def _pg_restore(engine: Engine, dump: Path, manifest: dict, force: bool) -> None:
    with engine.connect() as conn:
        target = _target_schema(conn)
    if manifest.get("schema") not in (None, "public", target):
        raise BackupError(f"The backup holds schema {manifest['schema']!r}; the target "
                          f"uses {target!r}.")
    if manifest.get("schema") not in (None, "public"):
        from .db import ensure_pg_extensions  # a schema-only dump does not carry them

        with engine.begin() as conn:
            ensure_pg_extensions(conn)
    args = ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if force:
        args += ["--clean", "--if-exists"]
    _run_pg("pg_restore", engine, [*args, str(dump)], dbname_flag="--dbname")


def _compare_documents(engine: Engine, manifest: dict) -> list[str]:
    """Differences between the restored documents and the manifest (empty: identical)."""
    expected = {d["id"]: d for d in manifest["documents"]}
    with engine.connect() as conn:
        found = {d["id"]: d for d in _read_contents(
            lambda sql: conn.exec_driver_sql(sql).all(), engine.dialect.name)["documents"]}
    problems = [f"document {i}: in the manifest, not restored"
                for i in sorted(expected.keys() - found.keys())]
    problems += [f"document {i}: restored, not in the manifest"
                 for i in sorted(found.keys() - expected.keys())]
    problems += [f"document {i}: restored bytes differ from the manifest"
                 for i in sorted(expected.keys() & found.keys())
                 if (expected[i]["sha256"], expected[i]["size"])
                 != (found[i]["sha256"], found[i]["size"])]
    return problems


# -- helpers --------------------------------------------------------------------------------


def _target_schema(conn) -> str:
    """The schema new tables go to: the first existing or named entry of the search path."""
    current = conn.execute(text("SELECT current_schema()")).scalar()
    if current:
        return current
    path = conn.execute(text("SHOW search_path")).scalar() or ""
    names = [p.strip().strip('"') for p in path.split(",") if p.strip() != '"$user"']
    return names[0] if names else "public"


def _run_pg(tool: str, engine: Engine, args: list[str], dbname_flag: str = "--dbname") -> None:
    """Run a PostgreSQL client tool against the engine's database; the password goes in the
    environment, never on the command line."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} is not installed (Debian: postgresql-client).")
    url = engine.url
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string()
    result = subprocess.run(  # noqa: S603 - fixed tool, argument list, no shell  # nosec B603
        [executable, f"{dbname_flag}={conninfo}", *args], env=env, capture_output=True,
        text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[-2000:]}")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
