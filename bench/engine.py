"""Engine throughput: advance() against the raw SQLAlchemy Core floor for the same writes,
and the cost of available_transitions()."""

from __future__ import annotations

from sqlalchemy import insert, update

from contracts.publish import library_payload
from tests.helpers import approve_all_clauses, build_partnership
from workflow.engine import available_transitions
from workflow.models import AuditEvent, Partnership, utcnow
from workflow.models.audit_chain import append
from workflow.roles import SYSTEM_ACTOR
from workflow.services import organisations, users
from workflow.services.library import sync_library
from workflow.services.transitions import advance

from .common import backends, database, median_rate, median_time, row

PARTNERSHIPS = 50
BATCHES = 7
# negotiation -> legal_review -> approved -> negotiation: three transitions whose guards read
# every clause, its reviews, the parties and the country-risk rules.
CYCLE = [("submit_for_review", "coordinator", None), ("approve", "legal", None),
         ("reopen", "coordinator", "Counterpart asked for another change.")]


def _setup(sessions):
    """Drafts for the foundation step, and partnerships in negotiation with compliant,
    already approved clauses so the full cycle runs every guard for real and never blocks."""
    s = sessions()
    sync_library(s, SYSTEM_ACTOR, library_payload())
    eu = organisations.create_organisation(s, SYSTEM_ACTOR, "EU", "IT", "cluster")
    cn = organisations.create_organisation(s, SYSTEM_ACTOR, "CN", "CN", "sme")
    pw = "benchmark password"
    coord = users.create_user(s, SYSTEM_ACTOR, "c@example.org", "C", "coordinator", pw)
    legal = users.create_user(s, SYSTEM_ACTOR, "l@example.org", "L", "legal", pw)
    drafts = [[build_partnership(s, coord, legal, eu, cn, "draft").id
               for _ in range(PARTNERSHIPS)] for _ in range(BATCHES)]
    cycling = []
    for _ in range(PARTNERSHIPS):
        p = build_partnership(s, coord, legal, eu, cn, "legal_review")
        approve_all_clauses(s, legal, p)
        cycling.append(advance(s, p.id, "request_changes", legal, comment="Back").id)
    actor_ids = {"coordinator": coord.id, "legal": legal.id}
    s.close()
    return drafts, cycling, actor_ids


def _attached(session, actors):
    from workflow.models import User

    return {role: session.get(User, user_id) for role, user_id in actors.items()}


def bench_first_step(sessions, drafts, actors) -> float:
    """start_due_diligence on fresh drafts: guards read the parties and their organisations."""
    session = sessions()
    actors = _attached(session, actors)

    def batch(b):
        for pid in drafts[b]:
            advance(session, pid, "start_due_diligence", actors["coordinator"])

    rate = median_rate(batch, BATCHES, PARTNERSHIPS)
    session.close()
    return rate


def bench_cycle(sessions, ids, actors) -> float:
    session = sessions()
    actors = _attached(session, actors)

    def batch(b):
        trigger, role, comment = CYCLE[b % 3]
        for pid in ids:
            advance(session, pid, trigger, actors[role], comment=comment)

    rate = median_rate(batch, BATCHES * 3, len(ids))
    session.close()
    return rate


def bench_raw(engine, ids) -> float:
    """The floor: the same UPDATE (matching id and version) + chained audit INSERT + COMMIT
    in Core."""
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
                event = dict(occurred_at=now, partnership_id=pid, actor_id=None,
                             actor_role="coordinator", action="transition", trigger="x",
                             from_stage="a", to_stage=stages[b % 3], outcome="success")
                event["row_hash"] = append(conn, event)  # the chain, as the ORM hook does
                conn.execute(insert(at).values(**event))
                conn.commit()

    return median_rate(batch, BATCHES * 3, len(ids))


def bench_available(sessions, ids, actors) -> float:
    session = sessions()
    actors = _attached(session, actors)
    p = session.get(Partnership, ids[0])
    available_transitions(p, actors["coordinator"])  # load what the guards read
    cost = median_time(lambda: available_transitions(p, actors["coordinator"]), 2000)
    session.close()
    return cost


def _bind_document_effects_to_noops() -> None:
    """The engine is measured without the document layer (bench documents measures it)."""
    from workflow.effects import bind_effect

    for name in ("prepare_agreement", "issue_agreement", "issue_evidence_report"):
        bind_effect(name, lambda *_args: None)


def run() -> None:
    print("== workflow engine (issue 2)")
    _bind_document_effects_to_noops()
    print(row("measure", "backend", "value", "ratio"))
    for kind in backends():
        with database(kind) as (_url, engine, sessions):
            drafts, cycling, actors = _setup(sessions)
            raw = bench_raw(engine, cycling)
            first = bench_first_step(sessions, drafts, actors)
            cycle = bench_cycle(sessions, cycling, actors)
            avail = bench_available(sessions, cycling, actors)
        print(row("raw Core floor (update+audit+chain+commit)", kind, f"{raw:,.0f}/s", ""))
        print(row("advance(): start_due_diligence", kind, f"{first:,.0f}/s",
                  f"{first / raw:.0%} of raw (target >= 50%)"))
        print(row("advance(): submit/approve/reopen cycle", kind, f"{cycle:,.0f}/s",
                  f"{cycle / raw:.0%} of raw (17 clauses, reviews, rules)"))
        print(row("available_transitions() median", kind, f"{avail * 1e6:,.1f} us",
                  "target < 1 ms"))
