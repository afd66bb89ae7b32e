"""Test helpers that drive the real services."""

from __future__ import annotations

from contextlib import contextmanager

from workflow.demo import approve_all_clauses, attest_wet_ink_for_all, make_compliant
from workflow.services import partnerships as ps
from workflow.services.transitions import advance

MAIN_PATH = {
    "cluster_partnership": ["start_due_diligence", "start_negotiation", "submit_for_review",
                            "approve", "send_for_signature", "complete"],
    "nda": ["submit_for_review", "approve", "send_for_signature", "complete"],
}


def party_inputs(eu, counterpart, signatories=True):
    sig = ("Elena Conti", "Director", "elena@example.org") if signatories else (None, None, None)
    sig2 = ("Li Wei", "CEO", "li.wei@example.cn") if signatories else (None, None, None)
    return [ps.PartyInput(eu.id, "lead", *sig), ps.PartyInput(counterpart.id, "counterpart", *sig2)]


def prepare_for(session, p, trigger, owner, legal=None):
    """Satisfy the data guards that `trigger` checks."""
    if trigger == "start_negotiation":
        for item in list(p.checks):
            ps.set_check(session, owner, p.id, item.item_key, True)
        for party in list(p.parties):
            ps.declare_no_background_ip(session, owner, p.id, party.id)
    elif trigger == "submit_for_review":
        make_compliant(session, owner, p)
    elif trigger == "approve" and legal is not None:
        approve_all_clauses(session, legal, p)
    elif trigger == "complete":
        attest_wet_ink_for_all(session, owner, p)


def build_partnership(session, owner, legal, eu, counterpart, stage="draft",
                      agreement_type="collaboration", signatories=True):
    p = ps.create_partnership(session, owner, "Test partnership", agreement_type,
                              party_inputs(eu, counterpart, signatories))
    for trigger in MAIN_PATH[p.workflow_key]:
        if p.stage == stage:
            break
        prepare_for(session, p, trigger, owner, legal)
        p = advance(session, p.id, trigger, legal if trigger == "approve" else owner)
    assert p.stage == stage, f"could not walk to {stage}"
    return p


def race(database, jobs) -> list[str]:
    """Run each (actor id, work(session, actor)) in its own thread and session, released
    together by a barrier: per job 'ok' (or what work returned), 'conflict', or the repr of
    any other error."""
    import threading

    from workflow.errors import Conflict
    from workflow.models import User

    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, actor_id, work):
        with database.sessions() as s:
            actor = s.get(User, actor_id) if actor_id is not None else None
            s.rollback()
            barrier.wait(timeout=10)
            try:
                results[i] = work(s, actor) or "ok"
            except Conflict:
                results[i] = "conflict"
            except Exception as exc:  # noqa: BLE001 - reported by the test
                results[i] = repr(exc)

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=50)
    return results


def in_threads(work, n: int) -> list[Exception]:
    """Run `work()` in n threads released together; the exceptions they raised."""
    import threading

    barrier, errors = threading.Barrier(n), []

    def run():
        barrier.wait()
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@contextmanager
def recorded_statements(engine):
    """The SQL statements `engine` sends while the block runs, in order."""
    from sqlalchemy import event

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
