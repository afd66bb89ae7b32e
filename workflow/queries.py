"""Read side: queries the pages and the API share (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from .access import can_view, visible_partnerships
from .errors import NotFound
from .models import AuditEvent, Organisation, Partnership, Party

# What a partnership page shows, loaded in a fixed number of queries (no N+1).
DETAIL_OPTIONS = (
    joinedload(Partnership.owner),
    selectinload(Partnership.parties).selectinload(Party.assets),
    selectinload(Partnership.checks),
)
LIST_OPTIONS = (joinedload(Partnership.owner), selectinload(Partnership.parties))


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def get_partnership(session: Session, actor, partnership_id: int) -> Partnership:
    """Return a partnership the actor may see, or raise NotFound."""
    partnership = session.get(Partnership, partnership_id, options=DETAIL_OPTIONS)
    if partnership is None or not can_view(actor, partnership):
        raise NotFound(f"Partnership {partnership_id} not found.")
    return partnership


def list_partnerships(session: Session, actor, page: int = 1, per_page: int = 25) -> Page:
    """A page of the partnerships the actor may see, most recently changed first."""
    page = max(1, page)
    per_page = min(max(1, per_page), 100)
    base = visible_partnerships(actor)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    items = session.scalars(
        base.options(*LIST_OPTIONS).order_by(Partnership.updated_at.desc(), Partnership.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), page, per_page, total or 0)


def history(session: Session, partnership_id: int) -> list[AuditEvent]:
    """Every audit event of a partnership, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.partnership_id == partnership_id)
            .order_by(AuditEvent.id)
        )
    )


def organisations(session: Session) -> list[Organisation]:
    """All organisations by name."""
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))
