"""Publishing the clause library into the database as versions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit
from ..models import LibraryClauseVersion
from ..roles import ADMIN, SYSTEM
from ._base import require_role, write


def latest_versions(session: Session) -> dict[str, LibraryClauseVersion]:
    """The newest published version of every clause, by clause key."""
    newest = (select(LibraryClauseVersion.clause_key,
                     func.max(LibraryClauseVersion.version).label("v"))
              .group_by(LibraryClauseVersion.clause_key).subquery())
    rows = session.scalars(select(LibraryClauseVersion).join(
        newest, (LibraryClauseVersion.clause_key == newest.c.clause_key)
        & (LibraryClauseVersion.version == newest.c.v)))
    return {row.clause_key: row for row in rows}


def sync_library(session: Session, actor, clauses: list[dict]) -> list[tuple[str, int, str]]:
    """Publish each clause whose content changed as a new version.

    `clauses` are plain dicts: key, order, title, category, content_hash and data (the
    clause as data). Returns (clause key, version, "new" | "updated" | "unchanged").
    """
    if actor.role != SYSTEM:
        require_role(actor, ADMIN, doing="publish the clause library")
    report = []
    with write(session):
        latest = latest_versions(session)
        for clause in clauses:
            current = latest.get(clause["key"])
            if current is not None and current.content_hash == clause["content_hash"]:
                report.append((clause["key"], current.version, "unchanged"))
                continue
            version = 1 if current is None else current.version + 1
            session.add(LibraryClauseVersion(
                clause_key=clause["key"], version=version,
                content_hash=clause["content_hash"], title=clause["title"],
                category=clause["category"], sort_order=clause["order"], data=clause["data"]))
            report.append((clause["key"], version, "new" if current is None else "updated"))
        changed = [(k, v) for k, v, status in report if status != "unchanged"]
        if changed:
            audit.record(session, actor, "library_published",
                         details={"versions": {k: v for k, v in changed}})
    return report
