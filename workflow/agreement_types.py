"""Agreement types and the workflow each one runs by default."""

from __future__ import annotations

AGREEMENT_TYPES = {
    "collaboration": ("Collaboration agreement", "cluster_partnership"),
    "nda": ("Non-disclosure agreement (NDA)", "nda"),
    "nnn": ("Non-use, non-disclosure, non-circumvention (NNN)", "nda"),
}


def default_workflow(agreement_type: str) -> str:
    """Return the workflow key an agreement type uses unless told otherwise."""
    return AGREEMENT_TYPES[agreement_type][1]


def label(agreement_type: str) -> str:
    """Return the display label of an agreement type."""
    return AGREEMENT_TYPES.get(agreement_type, (agreement_type, ""))[0]
