"""Hypothesis stateful test: random triggers by random roles on random partnerships.

Invariants after every step: the stage is a state of the partnership's workflow; replaying
the audit trail's transitions from the initial stage gives the current stage; the version
equals the number of audit events; a refused attempt changes nothing.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from tests.helpers import party_inputs
from workflow.definitions import get_workflow
from workflow.errors import DomainError
from workflow.models import AuditEvent, Partnership
from workflow.roles import SYSTEM_ACTOR
from workflow.services import organisations, partnerships, users
from workflow.services.transitions import advance

TRIGGERS = sorted({t.trigger for key in ("cluster_partnership", "nda")
                   for t in get_workflow(key).transitions} | {"bogus"})
ROLES = ["coordinator", "legal", "partner", "admin", "system"]


def make_machine(database):
    class PartnershipLifecycle(RuleBasedStateMachine):
        partnerships = Bundle("partnerships")

        @initialize()
        def setup(self):
            database.clean()
            self.session = database.sessions()
            s = self.session
            eu = organisations.create_organisation(s, SYSTEM_ACTOR, "EU cluster", "FR", "cluster")
            cn = organisations.create_organisation(s, SYSTEM_ACTOR, "CN firm", "CN", "sme")
            pw = "correct horse battery staple"
            self.actors = {
                "coordinator": users.create_user(s, SYSTEM_ACTOR, "c@example.org", "C",
                                                 "coordinator", pw),
                "legal": users.create_user(s, SYSTEM_ACTOR, "l@example.org", "L", "legal", pw),
                "partner": users.create_user(s, SYSTEM_ACTOR, "p@example.org", "P", "partner",
                                             pw, cn.id),
                "admin": users.create_user(s, SYSTEM_ACTOR, "a@example.org", "A", "admin", pw),
                "system": SYSTEM_ACTOR,
            }
            self.orgs = (eu, cn)

        def teardown(self):
            if hasattr(self, "session"):
                self.session.close()

        @rule(target=partnerships, kind=st.sampled_from(["collaboration", "nda"]),
              signatories=st.booleans())
        def create(self, kind, signatories):
            p = partnerships.create_partnership(
                self.session, self.actors["coordinator"], "Random", kind,
                party_inputs(*self.orgs, signatories=signatories))
            return p.id

        @rule(pid=partnerships)
        def complete_data(self, pid):
            """Fill what the guards ask for, when the stage still allows editing."""
            s, coord = self.session, self.actors["coordinator"]
            p = s.get(Partnership, pid)
            if not get_workflow(p.workflow_key).state(p.stage).editable:
                return
            for party in list(p.parties):
                partnerships.update_party(s, coord, pid, party.id, partnerships.PartyInput(
                    party.organisation_id, party.role, "Name", "Title", "sig@example.org"))
                if not party.background_none:
                    partnerships.declare_no_background_ip(s, coord, pid, party.id)
            for check in list(p.checks):
                if not check.done:
                    partnerships.set_check(s, coord, pid, check.item_key, True)

        @rule(pid=partnerships, trigger=st.sampled_from(TRIGGERS), role=st.sampled_from(ROLES),
              comment=st.sampled_from([None, "", "Because the counterpart asked."]),
              stale=st.booleans())
        def attempt(self, pid, trigger, role, comment, stale):
            before = self.observe(pid)
            version = before[1] - 1 if stale else before[1]
            try:
                advance(self.session, pid, trigger, self.actors[role], comment=comment,
                        expected_version=version)
            except DomainError:
                assert self.observe(pid) == before, "a refused attempt changed something"
            else:
                stage, new_version, events = self.observe(pid)
                assert not stale
                assert new_version == before[1] + 1 and events == before[2] + 1

        def observe(self, pid):
            with database.sessions() as s:
                p = s.get(Partnership, pid)
                n = len(s.scalars(select(AuditEvent.id)
                                  .where(AuditEvent.partnership_id == pid)).all())
                return p.stage, p.version, n

        @invariant()
        def replay_matches(self):
            if not hasattr(self, "session"):
                return
            with database.sessions() as s:
                for p in s.scalars(select(Partnership)):
                    wf = get_workflow(p.workflow_key)
                    assert p.stage in wf.state_names
                    events = s.scalars(select(AuditEvent).where(
                        AuditEvent.partnership_id == p.id).order_by(AuditEvent.id)).all()
                    assert p.version == len(events)
                    stage = wf.initial
                    for e in events:
                        if e.action == "transition":
                            assert e.from_stage == stage
                            assert wf.transition(e.trigger).dest == e.to_stage
                            stage = e.to_stage
                    assert stage == p.stage

    return PartnershipLifecycle


@pytest.mark.parametrize("examples", [25])
def test_random_walks_keep_the_invariants(database, examples):
    machine = make_machine(database)
    machine.TestCase.settings = settings(
        max_examples=examples if database.kind == "sqlite" else examples // 2,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
