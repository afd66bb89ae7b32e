"""Organisations: the legal entities that become parties."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..countries import is_country
from ..errors import Conflict, ValidationFailed
from ..models import Organisation
from ..roles import ADMIN, COORDINATOR, ORG_KINDS, SYSTEM
from ..validation import clean_text
from ._base import require_role, write


def create_organisation(
    session: Session, actor, name: str, country: str, kind: str, city: str | None = None
) -> Organisation:
    """Create an organisation (coordinators and admins)."""
    if actor.role != SYSTEM:
        require_role(actor, COORDINATOR, ADMIN, doing="create organisations")
    errors = {}
    name, errors["name"] = clean_text(name, max_length=200)
    city, errors["city"] = clean_text(city, max_length=120, required=False)
    country = (country or "").strip().upper()
    if not is_country(country):
        errors["country"] = "Use an ISO 3166-1 alpha-2 country code, e.g. IT or CN."
    if kind not in ORG_KINDS:
        errors["kind"] = f"One of: {', '.join(ORG_KINDS)}."
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationFailed("The organisation is not valid.", errors)
    with write(session):
        if session.scalar(select(Organisation.id).where(Organisation.name == name)):
            raise Conflict(f"An organisation named {name!r} already exists.")
        org = Organisation(name=name, country=country, kind=kind, city=city)
        session.add(org)
        session.flush()
        audit.record(session, actor, "organisation_created", details={"id": org.id, "name": name})
    return org
