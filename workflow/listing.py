"""The partnerships list and the dashboards: filters, keyset pages, counts (read only).

Pages are keyset-paginated on (updated_at, id), so page 400 costs what page 1 costs;
stage counts are cached for a few seconds per process because a GROUP BY over every
partnership grows with the table.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, column, exists, func, literal_column, or_, select, table
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session, joinedload, selectinload

from .access import visible_partnerships
from .db import INT32_MAX
from .definitions import registry
from .errors import ValidationFailed
from .models import CountryRisk, Organisation, Partnership, Party, User, utcnow
from .queries import LIST_OPTIONS, Page
from .roles import is_staff

SORTS = {
    "updated": (Partnership.updated_at, True),
    "created": (Partnership.created_at, True),
    "reference": (Partnership.reference, False),
    "stage_age": (Partnership.stage_entered_at, False),
}
COUNTS_TTL = 5.0
_counts: dict[tuple, tuple[float, dict]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Filters:
    stage: str = ""
    agreement_type: str = ""
    country: str = ""
    tier: str = ""
    owner_id: int | None = None
    q: str = ""
    sort: str = "updated"

    @property
    def active(self) -> bool:
        return bool(self.stage or self.agreement_type or self.country or self.tier
                    or self.owner_id or self.q)


@dataclass(frozen=True)
class ListPage:
    items: list
    next_cursor: str | None
    filters: Filters
    extra: dict = field(default_factory=dict)


def _filtered(session: Session, actor, f: Filters):
    """(statement, bounded): the visible partnerships matching `f`; bounded when a selective
    text limits them to a short list of ids."""
    stmt, bounded = visible_partnerships(actor), False
    if f.stage:
        stmt = stmt.where(Partnership._stage == f.stage)
    if f.agreement_type:
        stmt = stmt.where(Partnership.agreement_type == f.agreement_type)
    if f.owner_id:
        stmt = stmt.where(Partnership.owner_id == f.owner_id)
    if f.country:
        stmt = stmt.where(exists().where(
            Party.partnership_id == Partnership.id, Party.role == "counterpart",
            Party.organisation_id == Organisation.id, Organisation.country == f.country.upper()))
    if f.tier:
        stmt = stmt.where(exists().where(
            Party.partnership_id == Partnership.id, Party.organisation_id == Organisation.id,
            CountryRisk.country == Organisation.country, CountryRisk.tier_key == f.tier))
    if f.q.strip():
        condition, bounded = _text_condition(session, " ".join(f.q.split()))
        stmt = stmt.where(condition)
    return stmt, bounded


def _rows(session: Session, stmt, bounded: bool, sort: str, limit: int, offset: int = 0,
          options=LIST_OPTIONS) -> list:
    """The rows of `stmt` in the order of `sort` (then id), from `offset`, at most `limit`.

    A bounded statement is ordered here: its few (id, sort key) pairs are read through the
    search index and sorted in Python, then only the page's rows are loaded (at 100k, the
    ordered scan met a rare text's first match 57,000 rows down: 25-90 ms)."""
    column, desc = SORTS.get(sort, SORTS["updated"])
    if not bounded:
        order = (column.desc(), Partnership.id.desc()) if desc else (column.asc(),
                                                                    Partnership.id.asc())
        return list(session.scalars(stmt.options(*options).order_by(*order)
                                    .limit(limit).offset(offset)))
    keys = session.execute(stmt.with_only_columns(Partnership.id, column)).all()
    keys.sort(key=lambda k: (k[1], k[0]), reverse=desc)
    ids = [k[0] for k in keys[offset:offset + limit]]
    loaded = {p.id: p for p in session.scalars(
        select(Partnership).where(Partnership.id.in_(ids)).options(*options))}
    return [loaded[i] for i in ids]


# The FTS5 table migration 0011 keeps in step with partnerships on SQLite.
_FTS = table("partnership_search", column("rowid"))
# The text searched: what migration 0011 indexes (pg_trgm on PostgreSQL, FTS5 on SQLite).
_TEXT_EXPR = func.lower(Partnership.reference.op("||")(literal_column("' '"))
                        .op("||")(Partnership.title))


# A text matching at most this many partnerships is answered from the search index alone
# (the matches' ids, then the page among them); a more common one is left to the ordered
# scan, which meets enough matches within the first rows.
SELECTIVE_MATCHES = 2000


def _text_condition(session: Session, text: str):
    """(condition, bounded): the text, as typed, anywhere in the reference, the title or a
    party's name; bounded when it holds for at most SELECTIVE_MATCHES partnerships.

    Reference and title are looked up in the search index (FTS5 trigrams on SQLite, pg_trgm
    on PostgreSQL; trigrams need 3 characters). A rare text is bounded, and `_rows` orders
    its few matches apart: asked to order and limit, the planners walk the sort index and
    meet a rare text's matches only where they sit. A common text is left to that ordered
    scan, which meets enough matches within the first rows. Organisation names are few:
    the matching ids are looked up first, so the common case of none adds nothing."""
    pattern = _like(text)
    condition, bounded = _TEXT_EXPR.like(pattern, escape="\\"), False
    if len(text) >= 3:
        indexed = condition  # PostgreSQL picks the trigram index for this expression
        probe = select(Partnership.id).where(indexed)
        if session.get_bind().dialect.name == "sqlite":
            phrase = '"' + text.replace('"', '""') + '"'
            probe = select(_FTS.c.rowid).where(  # streamed: stops at the cap
                sql_text("partnership_search MATCH :phrase").bindparams(phrase=phrase))
            indexed = Partnership.id.in_(probe)
        probe = probe.limit(SELECTIVE_MATCHES + 1)
        if session.scalar(select(func.count()).select_from(probe.subquery())) <= (
                SELECTIVE_MATCHES):
            condition, bounded = indexed, True
    org_ids = session.scalars(select(Organisation.id).where(
        func.lower(Organisation.name).like(pattern, escape="\\"))).all()
    if not org_ids:
        return condition, bounded
    return or_(condition, exists().where(Party.partnership_id == Partnership.id,
                                         Party.organisation_id.in_(org_ids))), False


def _like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def numbered_page(session: Session, actor, f: Filters, page: int = 1, per_page: int = 25
                  ) -> Page:
    """A numbered page with the total (the API's paging); the web list uses keyset pages."""
    stmt, bounded = _filtered(session, actor, f)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = _rows(session, stmt, bounded, "updated", per_page, (page - 1) * per_page)
    return Page(items, page, per_page, total)


def _cursor_value(p: Partnership, sort: str):
    column, _desc = SORTS[sort]
    value = getattr(p, column.key)
    if isinstance(value, datetime):  # UTC, written without an offset: URL-safe
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return str(value)


def search(session: Session, actor, f: Filters, cursor: str | None = None, limit: int = 25
           ) -> ListPage:
    """One page of the visible partnerships matching `f`, and the cursor of the next."""
    column, desc = SORTS.get(f.sort, SORTS["updated"])
    stmt, bounded = _filtered(session, actor, f)
    if cursor:
        value, last_id = _parse_cursor(cursor, f.sort)
        if desc:
            stmt = stmt.where(or_(column < value, and_(column == value,
                                                        Partnership.id < last_id)))
        else:
            stmt = stmt.where(or_(column > value, and_(column == value,
                                                        Partnership.id > last_id)))
    rows = _rows(session, stmt, bounded, f.sort, limit + 1, options=(
        joinedload(Partnership.owner),
        selectinload(Partnership.parties).joinedload(Party.organisation)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = f"{_cursor_value(rows[-1], f.sort)}|{rows[-1].id}" if more and rows else None
    return ListPage(rows, next_cursor, f)


DATETIME_SORTS = {"updated", "created", "stage_age"}


def _parse_cursor(cursor: str, sort: str):
    raw_value, _, raw_id = cursor.rpartition("|")
    try:
        value = (datetime.fromisoformat(raw_value).replace(tzinfo=UTC)
                 if sort in DATETIME_SORTS else raw_value)
        last_id = int(raw_id)
        if not 1 <= last_id <= INT32_MAX:
            raise ValueError(raw_id)
        return value, last_id
    except ValueError:
        raise ValidationFailed("The page link is not valid; start from the first page.",
                               {"after": "Invalid cursor."}) from None


def stage_counts(session: Session, actor) -> dict[str, int]:
    """Visible partnerships per stage (cached a few seconds for staff)."""
    key = (str(session.get_bind().url), "staff" if is_staff(actor.role) else
           f"org:{getattr(actor, 'organisation_id', None)}")
    now = time.monotonic()
    with _lock:
        hit = _counts.get(key)
    if hit and now - hit[0] < COUNTS_TTL:
        return hit[1]
    sub = visible_partnerships(actor).with_only_columns(
        Partnership._stage.label("stage")).subquery()
    counts = dict(session.execute(select(sub.c.stage, func.count()).group_by(sub.c.stage)).all())
    with _lock:
        _counts[key] = (now, counts)
    return counts


def overdue_condition(now: datetime | None = None):
    """Partnerships whose stage is older than its due_in_days, in any workflow."""
    now = now or utcnow()
    conditions = [
        and_(Partnership.workflow_key == wf.key, Partnership._stage == s.name,
             Partnership.stage_entered_at < now - timedelta(days=s.due_in_days))
        for wf in registry().values() for s in wf.states if s.due_in_days
    ]
    return or_(*conditions) if conditions else False


def recent(session: Session, actor, limit: int = 8) -> list:
    """The most recently changed visible partnerships."""
    return search(session, actor, Filters(), limit=limit).items


def overdue(session: Session, actor, owner_id: int | None = None, limit: int = 10) -> list:
    """Visible partnerships stuck past their stage's due date, oldest first."""
    stmt = visible_partnerships(actor).where(overdue_condition())
    if owner_id:
        stmt = stmt.where(Partnership.owner_id == owner_id)
    return list(session.scalars(stmt.options(joinedload(Partnership.owner))
                                .order_by(Partnership.stage_entered_at).limit(limit)))


def board(session: Session, actor, per_stage: int = 5) -> dict[str, list]:
    """A few cards per stage of the default workflow, most recently changed first."""
    cards = {}
    for state in registry()["cluster_partnership"].states:
        stmt = visible_partnerships(actor).where(Partnership._stage == state.name).options(
            selectinload(Partnership.parties).joinedload(Party.organisation))
        cards[state.name] = list(session.scalars(
            stmt.order_by(Partnership.updated_at.desc()).limit(per_stage)))
    return cards


def owners(session: Session) -> list[User]:
    """Users who may own partnerships (for the owner filter)."""
    return list(session.scalars(select(User).where(User.role == "coordinator")
                                .order_by(User.display_name)))


def action_stages(role: str) -> dict[str, set[str]]:
    """Workflow key -> stages where `role` moves the partnership forward (a transition it may
    fire that needs no comment: withdrawals and send-backs are not 'waiting for me')."""
    return {wf.key: {src for t in wf.transitions if role in t.roles and not t.requires_comment
                     for src in t.sources} for wf in registry().values()}


def waiting_for(session: Session, actor, limit: int = 10) -> list:
    """Partnerships where the actor's role has the next step (coordinators: their own)."""
    stages = action_stages(actor.role)
    conditions = [and_(Partnership.workflow_key == key, Partnership._stage.in_(names))
                  for key, names in stages.items() if names]
    if not conditions:
        return []
    stmt = visible_partnerships(actor).where(or_(*conditions))
    if actor.role == "coordinator":
        stmt = stmt.where(Partnership.owner_id == actor.id)
    return list(session.scalars(stmt.options(
        selectinload(Partnership.parties).joinedload(Party.organisation))
        .order_by(Partnership.stage_entered_at).limit(limit)))


PARTNER_EXPECTATIONS = {
    "draft": "Nothing yet: the cluster is preparing the draft.",
    "due_diligence": "Answer the cluster's due-diligence questions and declare your "
                     "background IP.",
    "negotiation": "Review the draft clauses and comment.",
    "legal_review": "Nothing now: legal advisors are reviewing the agreement.",
    "approved": "Nothing now: the agreement will be sent for signature.",
    "signing": "Download the agreement, sign your party's field and upload the signed copy.",
    "active": "The agreement is in force; download it for your records.",
}


def partner_expectation(stage: str) -> str:
    """What a partner is expected to do at a stage."""
    return PARTNER_EXPECTATIONS.get(stage, "Nothing is expected from you.")
