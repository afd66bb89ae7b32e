"""The filtered list of partnerships: workflow.access decides visibility, this adds filters.

Read-only, built on `visible_partnerships` (the one visibility rule) and the list's loader
options from workflow.queries, so the list pages and the API show the same rows.
"""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from workflow.access import visible_partnerships
from workflow.models import Organisation, Partnership, Party
from workflow.queries import LIST_OPTIONS, Page


def _like(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def filtered_partnerships(session: Session, actor, *, stage=None, country=None, q=None,
                          page: int = 1, per_page: int = 25) -> Page:
    """A page of the partnerships the actor may see, most recently changed first."""
    stmt = visible_partnerships(actor)
    if stage:
        stmt = stmt.where(Partnership.stage == stage)
    if country:
        stmt = stmt.where(exists().where(
            Party.partnership_id == Partnership.id, Party.organisation_id == Organisation.id,
            Organisation.country == country.upper()))
    for word in (q or "").split()[:5]:
        pattern = _like(word)
        stmt = stmt.where(or_(func.lower(Partnership.title).like(pattern, escape="\\"),
                              func.lower(Partnership.reference).like(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(
        stmt.options(*LIST_OPTIONS)
        .order_by(Partnership.updated_at.desc(), Partnership.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), page, per_page, total)
