"""Engine throughput: advance() against the raw SQLAlchemy Core floor for the same writes,
and the cost of available_transitions()."""

from __future__ import annotations

from sqlalchemy import insert, update

from tests.helpers import build_partnership
from workflow.engine import available_transitions
from workflow.models import AuditEvent, Partnership, utcnow
from workflow.roles import SYSTEM_ACTOR
from workflow.services import organisations, users
from workflow.services.transitions import advance

from .common import backends, database, median_rate, median_time, row

PARTNERSHIPS = 50
BATCHES = 7
# negotiation -> legal_review -> approved -> negotiation, a loop of three real transitions
CYCLE = [("submit_for_review", "coordinator", None), ("approve", "legal", None),
         ("reopen", "coordinator", "Counterpart asked for another change.")]


def _setup(sessions):
    s = sessions()
    eu = organisations.create_organisation(s, SYSTEM_ACTOR, "EU", "IT", "cluster")
    cn = organisations.create_organisation(s, SYSTEM_ACTOR, "CN", "CN", "sme")
    pw = "benchmark password"
    coord = users.create_user(s, SYSTEM_ACTOR, "c@example.org", "C", "coordinator", pw)
    legal = users.create_user(s, SYSTEM_ACTOR, "l@example.org", "L", "legal", pw)
    ids = [build_partnership(s, coord, legal, eu, cn, "negotiation").id
           for _ in range(PARTNERSHIPS)]
    s.close()
    return ids, {"coordinator": coord, "legal": legal}


def bench_advance(sessions, ids, actors) -> float:
    session = sessions()

    def batch(b):
        trigger, role, comment = CYCLE[b % 3]
        for pid in ids:
            advance(session, pid, trigger, actors[role], comment=comment)

    # run a multiple of 3 batches so every partnership ends where it started
    rate = median_rate(batch, BATCHES * 3 - (BATCHES * 3) % 3, len(ids))
    session.close()
    return rate


def bench_raw(engine, ids) -> float:
    """The floor: the same UPDATE (matching id and version) + audit INSERT + COMMIT in Core."""
    stages = ["legal_review", "approved", "negotiation"]
    pt, at = Partnership.__table__, AuditEvent.__table__
    versions = {}
    with engine.connect() as conn:
        for pid, version in conn.execute(pt.select().with_only_columns(pt.c.id, pt.c.version)):
            versions[pid] = version

    def batch(b):
        with engine.connect() as conn:
            for pid in ids:
                now = utcnow()
                result = conn.execute(
                    update(pt).where(pt.c.id == pid, pt.c.version == versions[pid])
                    .values(stage=stages[b % 3], version=versions[pid] + 1, updated_at=now,
                            stage_entered_at=now))
                assert result.rowcount == 1
                versions[pid] += 1
                conn.execute(insert(at).values(
                    occurred_at=now, partnership_id=pid, actor_id=None, actor_role="coordinator",
                    action="transition", trigger="x", from_stage="a", to_stage=stages[b % 3]))
                conn.commit()

    return median_rate(batch, BATCHES * 3, len(ids))


def bench_available(sessions, ids, actors) -> float:
    session = sessions()
    p = session.get(Partnership, ids[0])
    _ = [party.organisation for party in p.parties]
    cost = median_time(lambda: available_transitions(p, actors["coordinator"]), 2000)
    session.close()
    return cost


def run() -> None:
    print("== workflow engine (issue 2)")
    print(row("measure", "backend", "value", "ratio"))
    for kind in backends():
        with database(kind) as (_url, engine, sessions):
            ids, actors = _setup(sessions)
            raw = bench_raw(engine, ids)
            engine_rate = bench_advance(sessions, ids, actors)
            avail = bench_available(sessions, ids, actors)
        print(row("raw Core floor (update+audit+commit)", kind, f"{raw:,.0f}/s", ""))
        print(row("advance() transitions", kind, f"{engine_rate:,.0f}/s",
                  f"{engine_rate / raw:.0%} of raw (target >= 50%)"))
        print(row("available_transitions() median", kind, f"{avail * 1e6:,.1f} us",
                  "target < 1 ms"))
