"""The scheduled side of deadlines: `run_clocks` reminds, lapses and clears.

Safe to run from cron every minute: each obligation is reminded once per lead time
(`reminded_lead`, and the notification dedupe key behind it), an overdue partnership's owner
at most once a day, and a second run at the same time waits (SQLite) or skips (PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select, text
from sqlalchemy.orm import Session, joinedload

from .. import audit
from ..definitions import get_workflow
from ..listing import overdue_condition
from ..models import Notification, Obligation, Partnership, Publication, utcnow
from ..notifications import notify
from ..obligations import DEFAULT_LEAD_DAYS, lead_windows, tightest_lead
from ..roles import SYSTEM_ACTOR
from ._base import write
from .obligations import party_users

CLOCKS_LOCK = 0x436C6F636B73  # any fixed number; one run at a time across processes
CHUNK = 500


@dataclass(frozen=True)
class ClockRun:
    today: date
    reminders: int = 0  # notification rows for obligations
    overdue: int = 0  # notification rows for overdue partnerships
    lapsed: int = 0
    cleared: int = 0
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return f"Clocks {self.today}: another run is in progress; nothing done."
        return (f"Clocks {self.today}: {self.reminders} obligation reminder(s), "
                f"{self.overdue} overdue reminder(s), {self.lapsed} obligation(s) lapsed, "
                f"{self.cleared} publication(s) cleared.")


def run_clocks(session: Session, now: datetime | None = None,
               lead_days: tuple[int, ...] = DEFAULT_LEAD_DAYS) -> ClockRun:
    """Lapse what is past, remind what is near, remind owners of overdue stages; commit."""
    now = now or utcnow()
    today = now.astimezone(UTC).date()
    with write(session):
        if not _lock(session):
            return ClockRun(today, skipped=True)
        lapsed = _lapse(session, today, now)
        cleared = _clear_publications(session, today, now)
        reminders = _remind_obligations(session, today, lead_days)
        overdue = _remind_overdue(session, today, now)
    return ClockRun(today, reminders, overdue, lapsed, cleared)


def _lock(session: Session) -> bool:
    """Take the run lock (SQLite: the BEGIN IMMEDIATE write lock is already held)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                               {"key": CLOCKS_LOCK}))


def _lapse(session: Session, today: date, now: datetime) -> int:
    # Locked, and so checked again after a completion committed meanwhile (PostgreSQL
    # skips a row that is no longer open): a done obligation never also lapses.
    rows = session.scalars(select(Obligation).where(
        Obligation.status == "open", Obligation.due_on < today)
        .options(joinedload(Obligation.partnership))
        .with_for_update(of=Obligation)).all()
    for row in rows:
        row.status, row.closed_at = "lapsed", now
        audit.record(session, SYSTEM_ACTOR, "obligation_lapsed", partnership=row.partnership,
                     at=now, details={"obligation_id": row.id, "kind": row.kind,
                                      "due_on": row.due_on.isoformat()})
    return len(rows)


def _clear_publications(session: Session, today: date, now: datetime) -> int:
    """Publications nobody objected to within the window may proceed."""
    rows = session.scalars(select(Publication).where(
        Publication.status == "pending", Publication.objection_deadline < today)
        .options(joinedload(Publication.partnership))).all()
    for pub in rows:
        pub.status = "cleared"
        audit.record(session, SYSTEM_ACTOR, "publication_cleared", partnership=pub.partnership,
                     at=now, details={"publication_id": pub.id})
    return len(rows)


def _due_for_reminder(today: date, lead_days: tuple[int, ...]):
    """Open obligations whose tightest reached lead time has not been reminded yet."""
    return or_(*[
        and_(Obligation.due_on >= today + timedelta(days=low),
             Obligation.due_on <= today + timedelta(days=high),
             or_(Obligation.reminded_lead.is_(None), Obligation.reminded_lead > lead))
        for lead, low, high in lead_windows(lead_days)])


def _remind_obligations(session: Session, today: date, lead_days: tuple[int, ...]) -> int:
    if not lead_days:
        return 0
    rows = session.scalars(
        select(Obligation).where(Obligation.status == "open",
                                 _due_for_reminder(today, lead_days))
        .options(joinedload(Obligation.partnership).joinedload(Partnership.owner),
                 joinedload(Obligation.owner_user), joinedload(Obligation.owner_party))
        .order_by(Obligation.due_on, Obligation.id)).all()
    sent = 0
    for row in rows:
        days_left = row.days_left(today)
        lead = tightest_lead(days_left, lead_days)
        if lead is None:
            continue
        p = row.partnership
        sent += len(notify(session, _recipients(session, row), "obligation_reminder", {
            "obligation": row, "days_left": days_left, "due_on": row.due_on.isoformat()},
            partnership=p, link=f"/partnerships/{p.id}#obligations",
            dedupe_key=f"obligation:{row.id}:lead:{lead}"))
        row.reminded_lead = lead
    return sent


def _recipients(session: Session, row: Obligation) -> list:
    """The owner user, the owning party's partner users (every party's when the clock
    binds them all), and always the coordinator who runs the partnership."""
    p = row.partnership
    people = [p.owner]
    if row.owner_user is not None:
        people.append(row.owner_user)
    if row.owner_party_id is not None:
        people += party_users(session, [row.owner_party_id])
    elif row.owner_user_id is None:
        people += party_users(session, [party.id for party in p.parties])
    return people


def _remind_overdue(session: Session, today: date, now: datetime) -> int:
    """Remind each overdue partnership's owner, at most once a day per stage."""
    found = session.execute(select(Partnership.id, Partnership.owner_id,
                                   Partnership.stage_entered_at)
                            .where(overdue_condition(now))).all()
    keys = {pid: (owner_id, f"overdue:{pid}:{entered.date()}:{today}")
            for pid, owner_id, entered in found}
    done = set()
    items = list(keys.values())
    for i in range(0, len(items), CHUNK):
        chunk = items[i:i + CHUNK]
        done.update(session.scalars(select(Notification.dedupe_key).where(
            Notification.user_id.in_({owner for owner, _ in chunk}),
            Notification.dedupe_key.in_([key for _, key in chunk]))))
    todo = [pid for pid, (_owner, key) in keys.items() if key not in done]
    sent = 0
    for i in range(0, len(todo), CHUNK):
        for p in session.scalars(select(Partnership).where(Partnership.id.in_(todo[i:i + CHUNK]))
                                 .options(joinedload(Partnership.owner))
                                 .order_by(Partnership.id)):
            state = get_workflow(p.workflow_key).state(p.stage)
            due = p.stage_entered_at + timedelta(days=state.due_in_days)
            sent += len(notify(session, [p.owner], "stage_overdue", {
                "stage_label": state.label, "due_on": due.date().isoformat(),
                "days_overdue": (now - due).days}, partnership=p,
                link=f"/partnerships/{p.id}", dedupe_key=keys[p.id][1]))
    return sent
