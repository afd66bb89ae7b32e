"""The IPR clocks of active partnerships: scheduling them, and reading them per user.

Activation (the `schedule_obligations` effect) turns the chosen clause options and values
into obligation rows (workflow/obligations.py computes the dates); termination moves the
clocks that count from the end. Publications and objections are in services/publications.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, exists, false, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from .. import audit
from ..clauses import spec_of
from ..errors import Conflict, NotFound, PermissionDenied
from ..models import Obligation, Partnership, Party, Publication, PublicationObjection, User, utcnow
from ..obligations import OWNER, plan_obligations
from ..roles import COORDINATOR, LEGAL, PARTNER, is_staff
from ._base import load_partnership, require_role, write

# Stages in which the agreement is or has been in force: its clocks keep running after
# termination (access rights, confidentiality and publication survive it).
IN_FORCE_STAGES = frozenset({"active", "terminated", "expired"})
ENDED_BY_TERMINATION = ("agreement_end", "renewal_notice")
# Clocks that ask someone to act (decide, or object): they can be marked done. The others
# are dates (an end, a window closing) that simply pass.
COMPLETABLE = frozenset({"renewal_notice", "publication_objection_window"})


def clause_terms(partnership: Partnership) -> dict[str, dict]:
    """Each included clause's values (defaults filled in) plus its chosen "option"."""
    terms = {}
    for clause in partnership.clauses:
        if not clause.included:
            continue
        option = spec_of(clause.library_version).option(clause.option_key)
        if option is not None:
            terms[clause.clause_key] = {**option.default_values(), **(clause.values or {}),
                                        "option": option.key}
    return terms


def schedule_obligations(session: Session, partnership: Partnership, actor, *,
                         activated_on: date | None = None,
                         ended_on: date | None = None) -> list[Obligation]:
    """Create or move the partnership's clocks in the caller's transaction (no commit).

    Keys are stable, so running it again updates the open rows instead of adding new ones.
    `ended_on` (termination) replaces the end date: what counts from the end moves, the
    agreement-end clock is done and the renewal decision is cancelled.
    """
    now = utcnow()
    activated_on = activated_on or partnership.stage_entered_at.date()
    planned = plan_obligations(clause_terms(partnership), activated_on=activated_on,
                               end_date=ended_on or partnership.end_date)
    existing = {o.key: o for o in session.scalars(
        select(Obligation).where(Obligation.partnership_id == partnership.id))}
    rows = []
    for plan in planned:
        row = existing.get(plan.key)
        if row is None:
            row = Obligation(partnership_id=partnership.id, key=plan.key, kind=plan.kind,
                             title=plan.title, created_at=now, status="open",
                             owner_user_id=partnership.owner_id if plan.owner == OWNER else None)
            session.add(row)
        elif row.status != "open":
            continue
        if row.due_on != plan.due_on:
            row.reminded_lead = None  # a moved date is reminded again
        row.due_on, row.details = plan.due_on, plan.details
        rows.append(row)
    if ended_on is not None:
        for row in [*existing.values(), *rows]:
            if row.kind in ENDED_BY_TERMINATION and row.status == "open":
                row.status = "done" if row.kind == "agreement_end" else "cancelled"
                row.closed_at = now
    session.flush()
    audit.record(session, actor, "obligations_scheduled", partnership=partnership, at=now,
                 details={"obligations": {r.key: r.due_on.isoformat() for r in rows},
                          "ended_on": ended_on.isoformat() if ended_on else None})
    return rows


def partnership_clocks(session: Session, partnership_id: int) -> tuple[list, list]:
    """Every obligation (by due date) and publication (newest first) of a partnership.

    The caller has already checked that the actor may see the partnership.
    """
    obligations = list(session.scalars(
        select(Obligation).where(Obligation.partnership_id == partnership_id)
        .options(joinedload(Obligation.owner_user),
                 joinedload(Obligation.owner_party).joinedload(Party.organisation))
        .order_by(Obligation.due_on, Obligation.id)))
    publications = list(session.scalars(
        select(Publication).where(Publication.partnership_id == partnership_id)
        .options(joinedload(Publication.party).joinedload(Party.organisation),
                 selectinload(Publication.objections)
                 .joinedload(PublicationObjection.party).joinedload(Party.organisation))
        .order_by(Publication.id.desc())))
    return obligations, publications


def concerning(actor) -> Select:
    """Obligations that concern `actor`: a coordinator's own partnerships; for legal and
    admin every partnership; for a partner their organisation's partnerships, without the
    clocks that belong to another party."""
    stmt = select(Obligation).join(Partnership, Obligation.partnership_id == Partnership.id)
    if actor.role == COORDINATOR:
        return stmt.where(or_(Partnership.owner_id == actor.id,
                              Obligation.owner_user_id == actor.id))
    if is_staff(actor.role):
        return stmt
    org = getattr(actor, "organisation_id", None)
    if actor.role != PARTNER or org is None:
        return stmt.where(false())
    party_of_org = exists().where(Party.partnership_id == Obligation.partnership_id,
                                  Party.organisation_id == org)
    own_party = select(Party.id).where(Party.organisation_id == org)
    return stmt.where(party_of_org, or_(Obligation.owner_party_id.is_(None),
                                        Obligation.owner_party_id.in_(own_party)))


def upcoming(session: Session, actor, today: date, limit: int = 10) -> list[Obligation]:
    """The actor's open obligations, soonest first (overdue ones first of all)."""
    return list(session.scalars(
        concerning(actor).where(Obligation.status == "open")
        .options(joinedload(Obligation.partnership))
        .order_by(Obligation.due_on, Obligation.id).limit(limit)))


def party_users(session: Session, party_ids) -> list[User]:
    """Active partner users of the organisations of the given parties."""
    if not party_ids:
        return []
    orgs = select(Party.organisation_id).where(Party.id.in_(list(party_ids)))
    return list(session.scalars(select(User).where(
        User.role == PARTNER, User.active.is_(True), User.organisation_id.in_(orgs))
        .order_by(User.id)))


def may_complete(actor, partnership: Partnership, obligation: Obligation) -> bool:
    """Whether `actor` may mark `obligation` done: staff, or a partner of the owning party."""
    if obligation.status != "open" or obligation.kind not in COMPLETABLE:
        return False
    if actor.role in (COORDINATOR, LEGAL):
        return True
    org = getattr(actor, "organisation_id", None)
    return actor.role == PARTNER and org is not None and any(
        party.id == obligation.owner_party_id and party.organisation_id == org
        for party in partnership.parties)


def complete_obligation(session: Session, actor, partnership_id: int, obligation_id: int,
                        now=None) -> Obligation:
    """Mark an open obligation done (a renewal decided, no objection to a publication)."""
    require_role(actor, COORDINATOR, LEGAL, PARTNER, doing="mark obligations done")
    now = now or utcnow()
    with write(session):
        p = load_partnership(session, actor, partnership_id,
                             (selectinload(Partnership.parties),))
        # Locked (PostgreSQL; SQLite's writer already excludes others): a completion or a
        # lapse committed meanwhile is seen here, and this one is then a Conflict.
        row = session.get(Obligation, obligation_id, populate_existing=True,
                          with_for_update={"of": Obligation})
        if row is None or row.partnership_id != p.id:
            raise NotFound(f"Obligation {obligation_id} not found.")
        if row.status != "open":
            raise Conflict(f"This obligation is already {row.status}.")
        if not may_complete(actor, p, row):
            raise PermissionDenied("Only staff or the party that owns it can mark it done.")
        row.status, row.closed_at = "done", now
        audit.record(session, actor, "obligation_done", partnership=p, at=now,
                     details={"obligation_id": row.id, "kind": row.kind})
    return row
