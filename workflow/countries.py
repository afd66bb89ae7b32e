"""Country facts the workflow decides on: ISO 3166 names and the EU/EEA set."""

from __future__ import annotations

from functools import cache

import pycountry

# The 27 EU member states plus the EEA's Iceland, Liechtenstein and Norway (DOMAIN.md 6).
EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
EEA_NON_EU = frozenset({"IS", "LI", "NO"})
EU_EEA = EU_MEMBER_STATES | EEA_NON_EU


def is_eu_eea(country: str) -> bool:
    """Tell whether an ISO 3166-1 alpha-2 code is in the EU/EEA."""
    return country.upper() in EU_EEA


@cache
def _names() -> dict[str, str]:
    return {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


def country_name(code: str) -> str:
    """Return the English short name of a country code, or the code itself if unknown."""
    return _names().get(code.upper(), code)


def is_country(code: str) -> bool:
    """Tell whether `code` is an ISO 3166-1 alpha-2 code."""
    return isinstance(code, str) and code.upper() in _names() and len(code) == 2


def all_countries() -> list[tuple[str, str]]:
    """Return (code, name) pairs sorted by name."""
    return sorted(_names().items(), key=lambda kv: kv[1])
