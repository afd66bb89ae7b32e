"""The background-IP register (Annex 1): assets each party brings and their access terms."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from .. import audit
from ..errors import NotFound, ValidationFailed
from ..models import BackgroundAsset, Partnership
from ..roles import ASSET_TYPES, COORDINATOR
from ..validation import clean_text
from ._base import check_version, load_partnership, require_editable, require_role, write


@dataclass(frozen=True)
class AssetInput:
    title: str
    asset_type: str
    identifiers: str | None = None
    jurisdictions: str | None = None
    restrictions: str | None = None
    access_implementation: str | None = None
    access_exploitation: str | None = None


def _clean(data: AssetInput) -> dict:
    errors, out = {}, {}
    out["title"], errors["title"] = clean_text(data.title, max_length=200)
    if data.asset_type not in ASSET_TYPES:
        errors["asset_type"] = f"One of: {', '.join(ASSET_TYPES)}."
    out["asset_type"] = data.asset_type
    for name, limit, multi in (("identifiers", 400, False), ("jurisdictions", 400, False),
                               ("restrictions", 4000, True),
                               ("access_implementation", 4000, True),
                               ("access_exploitation", 4000, True)):
        out[name], errors[name] = clean_text(getattr(data, name), max_length=limit,
                                             required=False, multiline=multi)
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationFailed("The background-IP asset is not valid.", errors)
    return out


def _party(partnership: Partnership, party_id: int):
    party = next((p for p in partnership.parties if p.id == party_id), None)
    if party is None:
        raise NotFound(f"Party {party_id} is not part of {partnership.reference}.")
    return party


def _asset(partnership: Partnership, asset_id: int):
    for party in partnership.parties:
        for asset in party.assets:
            if asset.id == asset_id:
                return party, asset
    raise NotFound(f"Asset {asset_id} is not part of {partnership.reference}.")


def add_asset(session: Session, actor, partnership_id: int, party_id: int, data: AssetInput,
              expected_version: int | None = None) -> BackgroundAsset:
    """List a background-IP asset for a party (this replaces a 'none' declaration)."""
    require_role(actor, COORDINATOR, doing="edit the background-IP register")
    fields = _clean(data)
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        party = _party(partnership, party_id)
        asset = BackgroundAsset(**fields)
        party.assets.append(asset)
        party.background_none = False
        partnership.touch()
        audit.record(session, actor, "background_ip_added", partnership=partnership,
                     details={"party_id": party_id, "title": fields["title"]})
    return asset


def update_asset(session: Session, actor, partnership_id: int, asset_id: int, data: AssetInput,
                 expected_version: int | None = None) -> BackgroundAsset:
    """Change a background-IP asset."""
    require_role(actor, COORDINATOR, doing="edit the background-IP register")
    fields = _clean(data)
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        _party_row, asset = _asset(partnership, asset_id)
        for key, value in fields.items():
            setattr(asset, key, value)
        partnership.touch()
        audit.record(session, actor, "background_ip_changed", partnership=partnership,
                     details={"asset_id": asset_id, "title": fields["title"]})
    return asset


def remove_asset(session: Session, actor, partnership_id: int, asset_id: int,
                 expected_version: int | None = None) -> None:
    """Remove a background-IP asset from the register."""
    require_role(actor, COORDINATOR, doing="edit the background-IP register")
    with write(session):
        partnership = load_partnership(session, actor, partnership_id)
        check_version(partnership, expected_version)
        require_editable(partnership)
        party, asset = _asset(partnership, asset_id)
        party.assets.remove(asset)
        partnership.touch()
        audit.record(session, actor, "background_ip_removed", partnership=partnership,
                     details={"asset_id": asset_id, "title": asset.title})
