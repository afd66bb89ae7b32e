"""A partnership's agreement as a plain-data snapshot: no ORM objects past this point.

The snapshot is what the HTML preview and the PDF render, and what the issued PDF embeds
as machine-readable data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from functools import cache

from workflow.clauses import spec_of
from workflow.countries import country_name, is_eu_eea

from .library import LibraryError, render_option_text
from .publish import compiled_option

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}")
_TAG = re.compile(r"{%.*?%}")


@dataclass(frozen=True)
class PartySnapshot:
    id: int
    name: str
    country_code: str
    country: str
    city: str
    role: str
    signatory_name: str
    signatory_title: str
    signatory_email: str
    eu_eea: bool


@dataclass(frozen=True)
class AssetSnapshot:
    party: str
    title: str
    asset_type: str
    identifiers: str
    jurisdictions: str
    restrictions: str
    access_implementation: str
    access_exploitation: str


@dataclass(frozen=True)
class ClauseSnapshot:
    number: int
    key: str
    title: str
    option_key: str
    option_label: str
    library_version: int
    paragraphs: tuple[str, ...]
    negotiated: bool  # the text is a negotiated override, not the library wording
    complete: bool
    values: dict = field(default_factory=dict)


BACKGROUND_CLAUSE = "background_ip"  # the clause whose register is Annex 1


@dataclass(frozen=True)
class AgreementSnapshot:
    reference: str
    title: str
    agreement_type: str
    agreement_label: str
    version: int
    sector: str
    start_date: str
    end_date: str
    parties: tuple[PartySnapshot, ...]
    clauses: tuple[ClauseSnapshot, ...]
    assets: tuple[AssetSnapshot, ...]
    parties_without_assets: tuple[str, ...]
    # Annex 1 (Background subject to access rights) belongs to the clause that defines it;
    # an NDA, which grants no rights, has no such annex.
    background_annex: bool = True

    def as_data(self) -> dict:
        """JSON-ready data (the machine-readable agreement): what `dataclasses.asdict`
        gives, without its deep copy of every value (the snapshot is immutable plain data,
        and this runs on every transition that prepares a PDF)."""
        return _plain(self)


def _plain(value):
    if is_dataclass(value):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


@cache
def _field_names(cls) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def build_snapshot(partnership, agreement_label: str, version: int | None = None
                   ) -> AgreementSnapshot:
    """Take the plain-data snapshot of a partnership's agreement.

    `version` is the document version printed on the pages (the issued version for a final
    PDF); it defaults to the partnership's record version for previews.
    """
    parties = tuple(_party(p) for p in partnership.parties)
    context = _context(parties, partnership.title)
    included = [c for c in partnership.clauses if c.included]
    included.sort(key=lambda c: c.library_version.sort_order)
    clauses = tuple(_clause(i, c, context) for i, c in enumerate(included, start=1))
    assets = tuple(
        AssetSnapshot(
            party=p.organisation.name, title=a.title, asset_type=a.asset_type.replace("_", " "),
            identifiers=a.identifiers or "", jurisdictions=a.jurisdictions or "",
            restrictions=a.restrictions or "", access_implementation=a.access_implementation
            or "", access_exploitation=a.access_exploitation or "")
        for p in partnership.parties for a in p.assets
    )
    return AgreementSnapshot(
        reference=partnership.reference, title=partnership.title,
        agreement_type=partnership.agreement_type, agreement_label=agreement_label,
        version=partnership.version if version is None else version,
        sector=partnership.sector or "",
        start_date=_date(partnership.start_date), end_date=_date(partnership.end_date),
        parties=parties, clauses=clauses, assets=assets,
        parties_without_assets=tuple(p.organisation.name for p in partnership.parties
                                     if not p.assets),
        background_annex=any(c.key == BACKGROUND_CLAUSE for c in clauses),
    )


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _party(p) -> PartySnapshot:
    org = p.organisation
    return PartySnapshot(
        id=p.id, name=org.name, country_code=org.country, country=country_name(org.country),
        city=org.city or "", role=p.role, signatory_name=p.signatory_name or "",
        signatory_title=p.signatory_title or "", signatory_email=p.signatory_email or "",
        eu_eea=is_eu_eea(org.country))


def _context(parties: tuple[PartySnapshot, ...], title: str) -> dict[str, str]:
    eu = [p for p in parties if p.eu_eea]
    others = [p for p in parties if not p.eu_eea]
    lead = next((p for p in parties if p.role == "lead"), eu[0] if eu else None)
    # Every party outside the EU/EEA is a Counterpart, bound by what the text asks of "the
    # Counterpart"; with several, the definition says "each of" and the clauses name all
    # their countries ("the courts of China and India").
    names = _and([p.name for p in others])
    return {
        "lead_party": lead.name if lead else "the Lead Party",
        "counterpart": (names if len(others) == 1 else f"each of {names}") if others
        else "the Counterpart",
        "counterpart_country": _and(list(dict.fromkeys(p.country for p in others))),
        "eu_parties": ", ".join(p.name for p in eu),
        "agreement_title": title,
    }


def _and(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _clause(number: int, clause, context: dict) -> ClauseSnapshot:
    spec = spec_of(clause.library_version)
    option = spec.option(clause.option_key)
    values = dict(clause.values or {})
    complete = True
    if clause.override_text:
        paragraphs = tuple(p.strip() for p in _PARAGRAPH_BREAK.split(clause.override_text)
                           if p.strip())
    else:
        paragraphs, complete = _render(clause, values, context)
    return ClauseSnapshot(
        number=number, key=spec.key, title=spec.title, option_key=clause.option_key,
        option_label=option.label, library_version=spec.version,
        paragraphs=paragraphs, negotiated=bool(clause.override_text), complete=complete,
        values=values)


def _render(clause, values: dict, context: dict) -> tuple[tuple[str, ...], bool]:
    """The chosen option's library wording with the values; (paragraphs, complete)."""
    option = compiled_option(clause.library_version, clause.option_key)
    try:
        return tuple(render_option_text(option, values, context)), True
    except LibraryError:
        return _draft_paragraphs(spec_of(clause.library_version).option(clause.option_key)), False


def _draft_paragraphs(option) -> tuple[str, ...]:
    """The option's text with [Label] where a value is still missing (drafts only)."""
    labels = {v.name: v.label for v in option.variables}
    text = _TAG.sub("", option.text)
    text = _PLACEHOLDER.sub(lambda m: f"[{labels.get(m.group(1), m.group(1))}]", text)
    return tuple(p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip())


def standard_paragraphs(clause, snapshot: AgreementSnapshot) -> tuple[str, ...]:
    """The library wording of a clause's chosen option with its values (ignoring any
    negotiated override), for showing how an override deviates."""
    context = _context(snapshot.parties, snapshot.title)
    return _render(clause, dict(clause.values or {}), context)[0]
