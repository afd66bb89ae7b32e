"""Roles, organisation kinds and party roles: stored values are a contract with the database."""

from __future__ import annotations

from dataclasses import dataclass

COORDINATOR = "coordinator"
LEGAL = "legal"
PARTNER = "partner"
ADMIN = "admin"
SYSTEM = "system"  # the scheduler (e.g. expiry); never a login

USER_ROLES = (COORDINATOR, LEGAL, PARTNER, ADMIN)
STAFF_ROLES = frozenset({COORDINATOR, LEGAL, ADMIN})
TRANSITION_ROLES = frozenset({COORDINATOR, LEGAL, PARTNER, ADMIN, SYSTEM})

ORG_KINDS = ("cluster", "sme", "large_company", "rto_university", "public_body")
ORG_KIND_LABELS = {
    "cluster": "Cluster",
    "sme": "SME",
    "large_company": "Large company",
    "rto_university": "RTO / university",
    "public_body": "Public body",
}

PARTY_ROLES = ("lead", "member", "counterpart")

ASSET_TYPES = (
    "patent",
    "application",
    "know_how",
    "software",
    "data",
    "design",
    "trademark",
)


@dataclass(frozen=True)
class SystemActor:
    """The actor for scheduled transitions; it has no user row."""

    id: None = None
    role: str = SYSTEM
    organisation_id: None = None
    display_name: str = "System"
    email: str = "system"


SYSTEM_ACTOR = SystemActor()


def is_staff(role: str) -> bool:
    """Tell whether a role sees every partnership."""
    return role in STAFF_ROLES
