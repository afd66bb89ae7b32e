"""advance() against a real database: one audit event per change, nothing on refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflow.errors import Conflict, GuardFailed, NotFound, PermissionDenied, TransitionNotAllowed
from workflow.models import AuditEvent, Partnership
from workflow.services.transitions import advance


def count_events(session, pid):
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.partnership_id == pid)
    )


def snapshot(database, pid):
    with database.sessions() as s:
        p = s.get(Partnership, pid)
        return p.stage, p.version, p.updated_at, count_events(s, pid)


def test_advance_changes_stage_and_writes_exactly_one_audit_event(database, session,
                                                                    make_partnership):
    p = make_partnership("draft")
    before = count_events(session, p.id)
    owner = p.owner
    p = advance(session, p.id, "start_due_diligence", owner, comment="Checks start",
                expected_version=p.version)
    assert p.stage == "due_diligence"
    with database.sessions() as fresh:
        stored = fresh.get(Partnership, p.id)
        assert stored.stage == "due_diligence"
        assert stored.version == before + 1
        events = fresh.scalars(select(AuditEvent).where(AuditEvent.partnership_id == p.id)
                               .order_by(AuditEvent.id)).all()
    assert len(events) == before + 1
    last = events[-1]
    assert (last.action, last.trigger, last.from_stage, last.to_stage, last.comment) == (
        "transition", "start_due_diligence", "draft", "due_diligence", "Checks start"
    )
    assert last.actor_id == owner.id and last.actor_role == "coordinator"
    assert last.occurred_at == stored.stage_entered_at


@pytest.mark.parametrize("trigger,role,error", [
    ("approve", "coordinator", TransitionNotAllowed),  # wrong stage
    ("start_due_diligence", "legal", PermissionDenied),  # wrong role
    ("withdraw", "coordinator", GuardFailed),  # comment missing
    ("no_such_step", "coordinator", Exception),
])
def test_refused_advance_writes_nothing(database, session, make_partnership, make_user,
                                        trigger, role, error):
    p = make_partnership("draft")
    actor = p.owner if role == "coordinator" else make_user(role)
    before = snapshot(database, p.id)
    with pytest.raises(error):
        advance(session, p.id, trigger, actor, expected_version=p.version)
    assert snapshot(database, p.id) == before


def test_blocked_advance_reports_every_reason_and_writes_nothing(database, session,
                                                                 make_partnership):
    p = make_partnership("draft", signatories=False)
    before = snapshot(database, p.id)
    with pytest.raises(GuardFailed) as err:
        advance(session, p.id, "start_due_diligence", p.owner)
    assert len(err.value.reasons) == 2
    assert all("signatory" in r for r in err.value.reasons)
    assert snapshot(database, p.id) == before


def test_stale_expected_version_is_a_conflict(database, session, make_partnership):
    p = make_partnership("draft")
    before = snapshot(database, p.id)
    with pytest.raises(Conflict, match="changed since you loaded it"):
        advance(session, p.id, "start_due_diligence", p.owner, expected_version=p.version - 1)
    assert snapshot(database, p.id) == before


def test_partner_of_another_organisation_gets_not_found(session, make_partnership, make_org,
                                                        make_user):
    p = make_partnership("draft")
    outsider = make_user("partner", organisation=make_org("IN", kind="sme"))
    with pytest.raises(NotFound):
        advance(session, p.id, "withdraw", outsider, comment="x")


def test_partner_of_a_party_may_not_drive_stages(session, make_partnership, make_user):
    p = make_partnership("draft")
    partner = make_user("partner", organisation=p.parties[1].organisation)
    with pytest.raises(PermissionDenied):
        advance(session, p.id, "withdraw", partner, comment="x")


def test_full_cluster_path_to_active_and_reopen_keeps_history(database, session,
                                                              make_partnership):
    p = make_partnership("signing")
    p = advance(session, p.id, "reopen", p.owner, comment="Counterpart asked for a change")
    assert p.stage == "negotiation"
    with database.sessions() as s:
        triggers = [e.trigger for e in s.scalars(
            select(AuditEvent).where(AuditEvent.partnership_id == p.id,
                                     AuditEvent.action == "transition").order_by(AuditEvent.id))]
    assert triggers == ["start_due_diligence", "start_negotiation", "submit_for_review",
                        "approve", "send_for_signature", "reopen"]


def test_nda_path(session, make_partnership):
    p = make_partnership("active", agreement_type="nda")
    assert p.workflow_key == "nda" and p.stage == "active"


def test_effects_see_the_new_stage_and_their_audit_rows_follow_the_transition(
        database, session, make_partnership, monkeypatch):
    from workflow import audit
    from workflow.effects import EFFECTS

    seen = []

    def effect(s, partnership, actor, transition):
        seen.append((partnership.stage, partnership.version))
        audit.record(s, actor, "agreement_superseded", partnership=partnership)

    monkeypatch.setitem(EFFECTS, "supersede_issued", effect)
    p = make_partnership("signing")
    version = p.version
    advance(session, p.id, "reopen", p.owner, comment="One more change")
    assert seen == [("negotiation", version + 1)]
    with database.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.partnership_id == p.id)
                            .order_by(AuditEvent.seq)).all()
        assert s.get(Partnership, p.id).version == version + 1
        assert audit.verify_chain(s).ok
    assert actions[-2:] == ["transition", "agreement_superseded"]


@pytest.mark.parametrize("failure", ["raises", "edits the partnership row"])
def test_a_failing_effect_rolls_back_the_stage_change_and_its_audit_row(
        database, session, make_partnership, monkeypatch, failure):
    from workflow.effects import EFFECTS

    def effect(s, partnership, actor, transition):
        if failure == "raises":
            raise OSError("disk full")
        partnership.title = "Changed by an effect"  # would bump the version twice

    monkeypatch.setitem(EFFECTS, "supersede_issued", effect)
    p = make_partnership("signing")
    before = snapshot(database, p.id)
    with pytest.raises(OSError if failure == "raises" else RuntimeError):
        advance(session, p.id, "reopen", p.owner, comment="One more change")
    assert snapshot(database, p.id) == before
    assert session.get(Partnership, p.id).stage == "signing"


def _reads_per_table(database, run) -> dict[str, int]:
    """SELECTs per table (by its FROM) while `run` runs."""
    import re
    from collections import Counter

    from tests.helpers import recorded_statements

    with recorded_statements(database.engine) as statements:
        run()
    counts: Counter = Counter()
    for statement in statements:
        if statement.lstrip().upper().startswith("SELECT"):
            counts.update(set(re.findall(r"\bFROM\s+(\w+)", statement)))
    return dict(counts)


def test_a_transition_reads_what_its_guards_and_effects_need_in_one_query_each(
        database, session, make_partnership, make_user):
    """Submitting reads the clauses (not their reviews) and every party's background IP in
    one query each; approving also reads the reviews, in one query for all clauses."""
    from workflow.demo import approve_all_clauses, make_compliant
    from workflow.models import User

    p = make_partnership("negotiation")
    legal = make_user("legal")
    make_compliant(session, p.owner, p)
    assert len(p.parties) >= 2 and len(p.clauses) > 10

    def fire(trigger, actor_id):
        with database.sessions() as request:  # as in a request: the user, then the write
            actor = request.get(User, actor_id)
            return _reads_per_table(database, lambda: advance(request, p.id, trigger, actor))

    submitted = fire("submit_for_review", p.owner_id)
    assert submitted.get("clause_reviews", 0) == 0
    assert submitted["agreement_clauses"] == 1 and submitted["background_assets"] == 1
    approve_all_clauses(session, legal, p)
    approved = fire("approve", legal.id)
    assert approved["clause_reviews"] == 1 and approved["agreement_clauses"] == 1
    assert approved["background_assets"] == 1
