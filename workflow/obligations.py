"""IPR clocks as pure date arithmetic: what an active agreement obliges, and when.

Nothing here reads the database. `plan_obligations` turns the chosen clause options and
values (DOMAIN.md section 5) and the agreement's dates into the obligations to store;
`publication_dates` does the same for one intended publication; `tightest_lead` decides
which reminder lead time a clock has reached.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

OBLIGATION_KINDS = (
    "publication_objection_window",
    "publication_max_delay",
    "access_request_window",
    "confidentiality_expiry",
    "agreement_end",
    "renewal_notice",
)
KIND_LABELS = {
    "publication_objection_window": "Publication: objection window closes",
    "publication_max_delay": "Publication: maximum delay ends",
    "access_request_window": "Access-right requests close",
    "confidentiality_expiry": "Confidentiality obligations end",
    "agreement_end": "Agreement ends",
    "renewal_notice": "Decide on renewal",
}
OBLIGATION_STATUSES = ("open", "done", "lapsed", "cancelled")

# Owners of a planned obligation: the partnership's owner (the coordinator who runs it) or
# every party (clocks that bind all parties alike, e.g. confidentiality).
OWNER, ALL_PARTIES = "owner", "parties"

# How long before the end a renewal (written extension) should be decided. No clause sets
# it; 90 days leaves time for a written extension signed by every party.
RENEWAL_NOTICE_DAYS = 90
DEFAULT_LEAD_DAYS = (30, 7, 1, 0)
MAX_LEAD_DAYS = 365


@dataclass(frozen=True)
class PlannedObligation:
    key: str  # unique within a partnership: recomputing updates, never duplicates
    kind: str
    title: str
    due_on: date
    owner: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PublicationDates:
    objection_deadline: date
    earliest_publication: date  # the prior-notice period ends
    objection_days: int
    notice_days: int
    max_delay_days: int


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months; the 31st becomes the last day of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_years(day: date, years: int) -> date:
    """`day` plus whole years; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)


def _int(terms: Mapping, clause: str, name: str) -> int | None:
    value = (terms.get(clause) or {}).get(name)
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def agreement_end(terms: Mapping[str, Mapping], activated_on: date,
                  end_date: date | None) -> tuple[date | None, dict]:
    """The day the agreement ends and where that date comes from.

    The partnership's own end date wins; otherwise the term clause's duration counts from
    activation (the last signature), as the term clauses say.
    """
    if end_date is not None:
        return end_date, {"end_from": "partnership end date"}
    for clause, name in (("term_and_termination", "duration_months"),
                         ("agreement_term", "disclosure_months")):
        months = _int(terms, clause, name)
        if months:
            return add_months(activated_on, months), {
                "end_from": f"{clause}.{name}", name: months,
                "activated_on": activated_on.isoformat()}
    return None, {"end_from": None}


def plan_obligations(terms: Mapping[str, Mapping], *, activated_on: date,
                     end_date: date | None) -> list[PlannedObligation]:
    """The clocks an agreement starts on activation.

    `terms` maps each included clause key to its values plus "option" (the chosen option
    key); defaults are already filled in. Without an end date or a term clause nothing
    runs: every clock counts from the end.
    """
    end, source = agreement_end(terms, activated_on, end_date)
    if end is None:
        return []
    base = {**source, "end_on": end.isoformat()}
    planned = [PlannedObligation("agreement_end", "agreement_end",
                                 KIND_LABELS["agreement_end"], end, OWNER, base)]
    renewal = end - timedelta(days=RENEWAL_NOTICE_DAYS)
    if renewal > activated_on:
        planned.append(PlannedObligation(
            "renewal_notice", "renewal_notice", KIND_LABELS["renewal_notice"], renewal, OWNER,
            {**base, "days_before_end": RENEWAL_NOTICE_DAYS}))
    months = _int(terms, "access_rights_exploitation", "request_months")
    if months is not None:
        planned.append(PlannedObligation(
            "access_request_window", "access_request_window",
            KIND_LABELS["access_request_window"], add_months(end, months), ALL_PARTIES,
            {**base, "clause": "access_rights_exploitation",
             "option": terms["access_rights_exploitation"].get("option"),
             "request_months": months}))
    years = _int(terms, "confidentiality", "term_years")
    if years is not None:
        planned.append(PlannedObligation(
            "confidentiality_expiry", "confidentiality_expiry",
            KIND_LABELS["confidentiality_expiry"], add_years(end, years), ALL_PARTIES,
            {**base, "clause": "confidentiality",
             "option": terms["confidentiality"].get("option"), "term_years": years}))
    return planned


PUBLICATION_DEFAULTS = {"notice_days": 45, "objection_days": 30, "max_delay_days": 90}


def publication_dates(publication_terms: Mapping, registered_on: date) -> PublicationDates:
    """The objection deadline and earliest publication date of a notice given on a day."""
    values = {name: _int({"p": publication_terms}, "p", name) or default
              for name, default in PUBLICATION_DEFAULTS.items()}
    return PublicationDates(
        objection_deadline=registered_on + timedelta(days=values["objection_days"]),
        earliest_publication=registered_on + timedelta(days=values["notice_days"]),
        objection_days=values["objection_days"], notice_days=values["notice_days"],
        max_delay_days=values["max_delay_days"])


def latest_publication(objected_on: date, max_delay_days: int) -> date:
    """The day an objected publication may proceed at the latest (delay counts from the
    objection, as the publication clause says)."""
    return objected_on + timedelta(days=max_delay_days)


def parse_lead_days(text: str | None) -> tuple[int, ...]:
    """Parse "30,7,1,0" into distinct lead times, largest first; ValueError when invalid."""
    if text is None or not text.strip():
        return DEFAULT_LEAD_DAYS
    leads = set()
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) > MAX_LEAD_DAYS:
            raise ValueError(
                f"lead times must be whole days from 0 to {MAX_LEAD_DAYS}, got {part!r}")
        leads.add(int(part))
    return tuple(sorted(leads, reverse=True))


def tightest_lead(days_left: int, leads: tuple[int, ...]) -> int | None:
    """The smallest lead time that `days_left` has reached, or None (too early or past)."""
    if days_left < 0:
        return None
    reached = [lead for lead in leads if days_left <= lead]
    return min(reached) if reached else None


def lead_windows(leads: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(lead, lowest, highest days left) for each lead: the days on which it is tightest."""
    ordered = sorted(leads)
    return [(lead, (ordered[i - 1] + 1) if i else 0, lead) for i, lead in enumerate(ordered)]
