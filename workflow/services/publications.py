"""Publications under an active agreement: a party gives notice, the others may object.

Registering starts one objection-window clock per other party; the first objection starts
the maximum-delay clock (the publication clause counts the delay from the objection).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..models import Obligation, Partnership, Publication, PublicationObjection, utcnow
from ..notifications import notify
from ..obligations import (
    KIND_LABELS,
    PublicationDates,
    latest_publication,
    publication_dates,
)
from ..roles import COORDINATOR, LEGAL, PARTNER
from ..validation import clean_text
from ._base import load_partnership, require_role, write
from .obligations import IN_FORCE_STAGES, clause_terms, party_users

MAX_TEXT = 5000
_LOAD = (selectinload(Partnership.parties), selectinload(Partnership.clauses))


def _party_for(partnership: Partnership, actor, party_id: int | None, doing: str):
    """The party the actor acts for; a partner acts only for their own organisation."""
    party = next((p for p in partnership.parties if p.id == party_id), None)
    if party is None:
        raise ValidationFailed("Choose a party of this partnership.",
                               {"party_id": "Choose a party of this partnership."})
    if actor.role == PARTNER and party.organisation_id != actor.organisation_id:
        raise PermissionDenied(f"You can {doing} only for your own organisation.")
    return party


def _publication_terms(partnership: Partnership) -> dict:
    if partnership.stage not in IN_FORCE_STAGES:
        raise Conflict(f"{partnership.reference} is not active: publications are notified "
                       "under an agreement in force.")
    terms = clause_terms(partnership).get("publication")
    if terms is None:
        raise Conflict(f"The agreement of {partnership.reference} has no publication clause.")
    return terms


def acting_parties(partnership: Partnership, actor) -> list:
    """The parties the actor may give notice or object for."""
    if actor.role == PARTNER:
        return [p for p in partnership.parties if p.organisation_id == actor.organisation_id]
    return list(partnership.parties) if actor.role in (COORDINATOR, LEGAL) else []


def notice_dates(partnership: Partnership, today: date) -> PublicationDates | None:
    """The dates a notice given today runs by, or None when none can be given now."""
    try:
        return publication_dates(_publication_terms(partnership), today)
    except Conflict:
        return None


def _link(partnership: Partnership) -> str:
    return f"/partnerships/{partnership.id}#obligations"


def register_publication(session: Session, actor, partnership_id: int, party_id: int | None,
                         title: str, planned_on: date | None, venue: str | None = None,
                         now: datetime | None = None) -> Publication:
    """Record a party's notice of an intended publication and notify the other parties."""
    require_role(actor, COORDINATOR, LEGAL, PARTNER, doing="register a publication")
    errors = {}
    title, errors["title"] = clean_text(title, max_length=300)
    venue, errors["venue"] = clean_text(venue, max_length=300, required=False)
    if not isinstance(planned_on, date):
        errors["planned_on"] = "Enter the planned date (YYYY-MM-DD)."
    if any(errors.values()):
        raise ValidationFailed("The publication is not valid.",
                               {k: v for k, v in errors.items() if v})
    now = now or utcnow()
    with write(session):
        p = load_partnership(session, actor, partnership_id, _LOAD)
        terms = _publication_terms(p)
        party = _party_for(p, actor, party_id, "register publications")
        dates = publication_dates(terms, now.date())
        if planned_on < dates.earliest_publication:
            raise ValidationFailed("The notice period is too short.", {"planned_on": (
                f"The agreement asks for {dates.notice_days} days' notice: plan the "
                f"publication on {dates.earliest_publication.isoformat()} or later.")})
        pub = Publication(partnership_id=p.id, party_id=party.id, title=title, venue=venue,
                          planned_on=planned_on, registered_at=now, registered_by_id=actor.id,
                          objection_deadline=dates.objection_deadline,
                          max_delay_days=dates.max_delay_days, status="pending")
        session.add(pub)
        session.flush()
        others = [o for o in p.parties if o.id != party.id]
        for other in others:
            session.add(Obligation(
                partnership_id=p.id, key=f"publication:{pub.id}:objection:{other.id}",
                kind="publication_objection_window", status="open", created_at=now,
                title=f"{KIND_LABELS['publication_objection_window']}: {title}",
                due_on=dates.objection_deadline, owner_party_id=other.id,
                publication_id=pub.id, details={
                    "clause": "publication", "objection_days": dates.objection_days,
                    "registered_on": now.date().isoformat()}))
        audit.record(session, actor, "publication_registered", partnership=p, at=now,
                     details={"publication_id": pub.id, "party_id": party.id,
                              "planned_on": planned_on.isoformat(),
                              "objection_deadline": dates.objection_deadline.isoformat()})
        notify(session, _without(actor, [p.owner, *party_users(session, [o.id for o in others])]),
               "publication_registered", {
                   "publication": pub, "party_name": party.organisation.name,
                   "actor_name": actor.display_name}, partnership=p, link=_link(p))
    return pub


def record_objection(session: Session, actor, partnership_id: int, publication_id: int,
                     party_id: int | None, reason: str, requested_change: str,
                     now: datetime | None = None) -> PublicationObjection:
    """Record a party's objection to a publication, with the change it asks for."""
    require_role(actor, COORDINATOR, LEGAL, PARTNER, doing="record an objection")
    errors = {}
    reason, errors["reason"] = clean_text(reason, max_length=MAX_TEXT, multiline=True)
    requested_change, errors["requested_change"] = clean_text(
        requested_change, max_length=MAX_TEXT, multiline=True)
    if any(errors.values()):
        raise ValidationFailed("The objection is not valid.",
                               {k: v for k, v in errors.items() if v})
    now = now or utcnow()
    today = now.date()
    with write(session):
        p = load_partnership(session, actor, partnership_id, _LOAD)
        pub = session.get(Publication, publication_id, populate_existing=True)
        if pub is None or pub.partnership_id != p.id:
            raise NotFound(f"Publication {publication_id} not found.")
        party = _party_for(p, actor, party_id, "object")
        if party.id == pub.party_id:
            raise ValidationFailed("A party cannot object to its own publication.",
                                   {"party_id": "The publishing party cannot object."})
        if today > pub.objection_deadline:
            raise Conflict(f"The objection window closed on {pub.objection_deadline}.")
        if any(o.party_id == party.id for o in pub.objections):
            raise Conflict(f"{party.organisation.name} has already objected.")
        objection = PublicationObjection(publication_id=pub.id, party_id=party.id,
                                         raised_by_id=actor.id, reason=reason,
                                         requested_change=requested_change, created_at=now)
        pub.objections.append(objection)
        pub.status = "objected"
        _close_window(session, pub, party.id, now)
        if pub.latest_on is None:
            _start_max_delay(session, p, pub, today, now)
        session.flush()
        audit.record(session, actor, "publication_objection", partnership=p, at=now,
                     details={"publication_id": pub.id, "party_id": party.id,
                              "latest_on": pub.latest_on.isoformat()})
        notify(session, _without(actor, [p.owner, *party_users(session, [pub.party_id])]),
               "publication_objection", {
                   "publication": pub, "objection": objection,
                   "party_name": party.organisation.name, "actor_name": actor.display_name},
               partnership=p, link=_link(p))
    return objection


def _close_window(session: Session, pub: Publication, party_id: int, now) -> None:
    window = session.scalar(select(Obligation).where(
        Obligation.publication_id == pub.id, Obligation.owner_party_id == party_id,
        Obligation.kind == "publication_objection_window"))
    if window is not None and window.status == "open":
        window.status, window.closed_at = "done", now


def _start_max_delay(session: Session, p: Partnership, pub: Publication, today: date,
                     now) -> None:
    pub.latest_on = latest_publication(today, pub.max_delay_days)
    session.add(Obligation(
        partnership_id=p.id, key=f"publication:{pub.id}:max_delay",
        kind="publication_max_delay", status="open", created_at=now,
        title=f"{KIND_LABELS['publication_max_delay']}: {pub.title}", due_on=pub.latest_on,
        owner_party_id=pub.party_id, publication_id=pub.id,
        details={"clause": "publication", "max_delay_days": pub.max_delay_days,
                 "objected_on": today.isoformat()}))


def _without(actor, recipients: list) -> list:
    return [r for r in recipients if getattr(r, "id", None) != actor.id]
