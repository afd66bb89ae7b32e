"""Loading country-risk data and evaluating a partnership's safeguards from the database.

Risk tiers and safeguard rules are reference data that change a few times a year, yet
every page and transition reads them. Each process keeps them for REFERENCE_TTL seconds;
the admin services drop the cache of their own process at once, other processes follow
within the TTL. Waivers are per partnership and always read fresh.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from .countries import is_eu_eea
from .models import CountryRisk, SafeguardRule
from .safeguards import RiskData, RuleResult, evaluate

REFERENCE_TTL = 10.0
_cache: dict[str, tuple[float, dict, list]] = {}
_lock = threading.Lock()


class _Rule:
    """A detached, read-only copy of a SafeguardRule row (safe to share between sessions)."""

    __slots__ = ("key", "tier_key", "country", "clause_key", "satisfied_by", "requirement",
                 "severity")

    def __init__(self, row: SafeguardRule) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(row, name))


def invalidate_reference() -> None:
    """Forget the cached tiers and rules of this process (after an admin edit)."""
    with _lock:
        _cache.clear()


def _reference(session: Session) -> tuple[dict, list]:
    key = str(session.get_bind().url)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit and now - hit[0] < REFERENCE_TTL:
        return hit[1], hit[2]
    tiers: dict[str, list] = {}
    for cr in session.scalars(select(CountryRisk)):
        tiers.setdefault(cr.country, []).append(
            (cr.tier_key, cr.tier.label, cr.tier.source, cr.year))
    rules = [_Rule(r) for r in session.scalars(
        select(SafeguardRule).where(SafeguardRule.active.is_(True)).order_by(SafeguardRule.key))]
    with _lock:
        _cache[key] = (now, tiers, rules)
    return tiers, rules


def load_risk(session: Session, partnership) -> RiskData:
    """The tiers of the partnership's counterparts, the active rules and its waivers."""
    all_tiers, rules = _reference(session)
    countries = {p.organisation.country for p in partnership.parties
                 if not is_eu_eea(p.organisation.country)}
    tiers = {c: all_tiers[c] for c in countries if c in all_tiers}
    waived = {w.rule_key for w in partnership.waivers} if partnership.id is not None else set()
    return RiskData(tiers, rules, waived)


def safeguard_results(session: Session, partnership) -> list[RuleResult]:
    """Evaluate every applicable safeguard rule for the partnership."""
    return evaluate(partnership, load_risk(session, partnership))


__all__ = ["invalidate_reference", "load_risk", "safeguard_results"]
