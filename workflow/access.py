"""Object-level access: who may see which partnership."""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from .models import Partnership, Party
from .roles import is_staff


def can_view(actor, partnership: Partnership) -> bool:
    """Staff see every partnership; a partner only those where their organisation is a party."""
    if is_staff(actor.role) or actor.role == "system":
        return True
    org = getattr(actor, "organisation_id", None)
    return org is not None and any(p.organisation_id == org for p in partnership.parties)


def visible_partnerships(actor) -> Select:
    """A SELECT of the partnerships `actor` may see."""
    stmt = select(Partnership)
    if is_staff(actor.role):
        return stmt
    org = getattr(actor, "organisation_id", None)
    if org is None:
        return stmt.where(False)
    party_of_org = exists().where(
        Party.partnership_id == Partnership.id, Party.organisation_id == org
    )
    return stmt.where(party_of_org)


def is_visible(session: Session, actor, partnership_id: int) -> bool:
    """Whether the partnership exists and `actor` may see it (one indexed query)."""
    stmt = visible_partnerships(actor).where(Partnership.id == partnership_id)
    return session.scalar(select(stmt.exists())) is True
