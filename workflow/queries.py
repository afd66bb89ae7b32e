"""Read side: queries the pages and the API share (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload

from .access import can_view
from .errors import NotFound
from .models import AgreementClause, AuditEvent, Organisation, Partnership, Party

# What a partnership page shows, loaded in a fixed number of queries (no N+1).
DETAIL_OPTIONS = (
    joinedload(Partnership.owner),
    selectinload(Partnership.parties).selectinload(Party.assets),
    selectinload(Partnership.checks),
    selectinload(Partnership.clauses).selectinload(AgreementClause.reviews),
    selectinload(Partnership.waivers),
)
LIST_OPTIONS = (joinedload(Partnership.owner), selectinload(Partnership.parties))

_READS = {
    "parties": selectinload(Partnership.parties),
    "parties.assets": selectinload(Partnership.parties).selectinload(Party.assets),
    "checks": selectinload(Partnership.checks),
    # Library versions in the clauses' own query: one round trip fewer, no row multiplied.
    # Their reviews only for a reader that names them (they would come by default).
    "clauses": selectinload(Partnership.clauses).options(
        joinedload(AgreementClause.library_version), lazyload(AgreementClause.reviews)),
    "clauses.reviews": selectinload(Partnership.clauses).options(
        joinedload(AgreementClause.library_version), selectinload(AgreementClause.reviews)),
    "waivers": selectinload(Partnership.waivers),
    "documents": selectinload(Partnership.documents),
    "signatures": selectinload(Partnership.signatures),
}


def load_options(reads, *, join_parties: bool = False) -> list:
    """Loader options for the named relationships (see guards' `reads`).

    With `join_parties`, the parties (and their organisations) come in the partnership's own
    query, a join instead of a second round trip: for one row, with few parties, the cheaper
    way. The other collections stay separate queries so they never multiply each other.
    """
    names = set(reads)
    for deeper, name in (("parties.assets", "parties"), ("clauses.reviews", "clauses")):
        if deeper in names:
            names.discard(name)
    options = []
    for name in sorted(names):
        if join_parties and name.startswith("parties"):
            option = joinedload(Partnership.parties)
            options.append(option.selectinload(Party.assets) if name == "parties.assets"
                           else option)
        else:
            options.append(_READS[name])
    return options


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def numbered(session: Session, stmt, page: int, per_page: int) -> Page:
    """One numbered page of `stmt`'s rows, with the total; a page number past either end
    gives the first or the last page."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)


def get_partnership(session: Session, actor, partnership_id: int) -> Partnership:
    """Return a partnership the actor may see, or raise NotFound."""
    partnership = session.get(Partnership, partnership_id, options=DETAIL_OPTIONS)
    if partnership is None or not can_view(actor, partnership):
        raise NotFound(f"Partnership {partnership_id} not found.")
    return partnership


def history(session: Session, partnership_id: int) -> list[AuditEvent]:
    """Every audit event of a partnership, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.partnership_id == partnership_id)
            .order_by(AuditEvent.id)
        )
    )


def organisations(session: Session) -> list[Organisation]:
    """All organisations by name."""
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def organisation_page(session: Session, page: int, per_page: int) -> Page:
    """A page of the organisations by name."""
    return numbered(session, select(Organisation).order_by(Organisation.name, Organisation.id),
                    page, per_page)


def reviewing_stages() -> dict[str, set[str]]:
    """Workflow key -> the stages in which legal advisors review clauses."""
    from .definitions import registry

    return {key: {s.name for s in wf.states if s.reviewing} for key, wf in registry().items()}


def review_queue(session: Session) -> list[Partnership]:
    """Partnerships waiting in a review stage, oldest first, with clauses and reviews loaded."""
    from sqlalchemy import or_

    from .models import AgreementClause

    conditions = [(Partnership.workflow_key == key) & Partnership._stage.in_(stages)
                  for key, stages in reviewing_stages().items() if stages]
    if not conditions:
        return []
    stmt = (select(Partnership).where(or_(*conditions))
            .options(selectinload(Partnership.parties),
                     selectinload(Partnership.waivers),
                     selectinload(Partnership.clauses).selectinload(AgreementClause.reviews))
            .order_by(Partnership.stage_entered_at))
    return list(session.scalars(stmt))


def library_versions(session: Session) -> list:
    """Every published clause version, newest first per clause."""
    from .models import LibraryClauseVersion

    return list(session.scalars(select(LibraryClauseVersion).order_by(
        LibraryClauseVersion.sort_order, LibraryClauseVersion.version.desc())))


def country_risks(session: Session) -> list:
    """Every country-risk entry with its tier."""
    from .models import CountryRisk

    return list(session.scalars(select(CountryRisk).order_by(CountryRisk.tier_key,
                                                             CountryRisk.country)))


def safeguard_rules(session: Session) -> list:
    """Every safeguard rule."""
    from .models import SafeguardRule

    return list(session.scalars(select(SafeguardRule).order_by(SafeguardRule.key)))


def risk_tiers(session: Session) -> list:
    """Every risk tier."""
    from .models import RiskTier

    return list(session.scalars(select(RiskTier).order_by(RiskTier.key)))
