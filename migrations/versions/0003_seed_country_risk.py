"""Seed country risk: the USTR Special 301 (2025) Priority Watch List and the safeguard rules.

The data is frozen here on purpose: later edits are an admin's job (or a new migration),
so upgrading a database always yields the same reference data.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SOURCE = "USTR 2025 Special 301 Report"
YEAR = 2025
PRIORITY_WATCH_LIST = ["AR", "CL", "CN", "IN", "ID", "MX", "RU", "VE"]
SEAT_OUTSIDE = "not_counterpart_country"

RULES = [
    ("pwl_confidentiality_nnn", "confidentiality",
     [{"option": "nnn"}, {"option": "standard", "values": {"non_use_undertaking": True}}],
     "requires the NNN confidentiality option or an explicit non-use undertaking", "block"),
    ("pwl_ip_filing_before_disclosure", "ip_protection_third_countries",
     [{"option": "file_before_disclosure"},
      {"option": "file_before_disclosure_with_registration"}],
     "requires filing for IP protection before any disclosure", "block"),
    ("pwl_export_control", "export_control", [{"option": "eu_dual_use"}],
     "requires the export control clause", "block"),
    ("pwl_arbitration_seat", "dispute_resolution",
     [{"option": "wipo_mediation_arbitration", SEAT_OUTSIDE: "seat_country"},
      {"option": "icc_arbitration", SEAT_OUTSIDE: "seat_country"}],
     "requires arbitration seated outside {country}", "block"),
    ("pwl_bilingual_text", "language", [{"option": "bilingual"}],
     "recommends a bilingual text with a prevailing language", "warn"),
]


def upgrade() -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    tiers = sa.table("risk_tiers", sa.column("key"), sa.column("label"),
                     sa.column("description"), sa.column("source"), sa.column("year"))
    countries = sa.table("country_risks", sa.column("country"), sa.column("tier_key"),
                         sa.column("source"), sa.column("year"), sa.column("note"),
                         sa.column("updated_at", sa.DateTime()))
    rules = sa.table("safeguard_rules", sa.column("key"), sa.column("tier_key"),
                     sa.column("country"), sa.column("clause_key"), sa.column("satisfied_by"),
                     sa.column("requirement"), sa.column("severity"), sa.column("active"))
    op.bulk_insert(tiers, [{
        "key": "priority_watch_list", "label": "Priority Watch List",
        "description": "Countries whose IP protection and enforcement the USTR considers to "
                       "need particular attention.",
        "source": "USTR Special 301", "year": YEAR,
    }])
    op.bulk_insert(countries, [
        {"country": c, "tier_key": "priority_watch_list", "source": SOURCE, "year": YEAR,
         "note": None, "updated_at": now}
        for c in PRIORITY_WATCH_LIST
    ])
    op.bulk_insert(rules, [
        {"key": key, "tier_key": "priority_watch_list", "country": None, "clause_key": clause,
         "satisfied_by": json.dumps(satisfied, sort_keys=True, separators=(",", ":")),
         "requirement": requirement, "severity": severity, "active": True}
        for key, clause, satisfied, requirement, severity in RULES
    ])


def downgrade() -> None:
    op.execute("DELETE FROM safeguard_rules WHERE tier_key = 'priority_watch_list'")
    op.execute("DELETE FROM country_risks WHERE tier_key = 'priority_watch_list'")
    op.execute("DELETE FROM risk_tiers WHERE key = 'priority_watch_list'")
