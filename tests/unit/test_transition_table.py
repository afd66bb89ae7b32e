"""Every (stage x trigger x role) outcome of both shipped workflows, from a table written
from DOMAIN.md section 4 (not derived from the YAML under test)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from contracts.publish import library_payload
from workflow.clauses import spec_of
from workflow.definitions import get_workflow
from workflow.engine import available_transitions, check_transition, fire
from workflow.errors import GuardFailed, PermissionDenied, TransitionNotAllowed
from workflow.models import (
    AgreementClause,
    BackgroundAsset,
    ClauseReview,
    Document,
    DueDiligenceCheck,
    LibraryClauseVersion,
    Organisation,
    Partnership,
    Party,
    Signature,
)
from workflow.safeguards import RiskData

NO_RISK = RiskData({}, [], set())  # country-risk rules are tested against the database
LIBRARY = [
    LibraryClauseVersion(id=i, clause_key=c["key"], version=1, content_hash=c["content_hash"],
                         title=c["title"], category=c["category"], sort_order=c["order"],
                         data=c["data"])
    for i, c in enumerate(library_payload(), start=1)
]


def approved_clauses(agreement_type: str) -> list[AgreementClause]:
    """Every clause of the type at its default option, approved at its current revision."""
    clauses = []
    for version in LIBRARY:
        spec = spec_of(version)
        if agreement_type not in spec.applies_to:
            continue
        option = spec.default_option_for(agreement_type)
        values = {**option.default_values(), "second_language": "Chinese"} \
            if option.key == "bilingual" else option.default_values()
        clause = AgreementClause(clause_key=spec.key, library_version=version,
                                 option_key=option.key, values=values, included=True,
                                 revision=1)
        clause.reviews = [ClauseReview(decision="approve", clause_revision=1, reviewer_id=9)]
        clauses.append(clause)
    return clauses

ROLES = ["coordinator", "legal", "partner", "admin", "system"]
BEFORE_ACTIVE = ["draft", "due_diligence", "negotiation", "legal_review", "approved", "signing"]

# trigger: (sources, dest, roles)
CLUSTER = {
    "start_due_diligence": (["draft"], "due_diligence", {"coordinator"}),
    "start_negotiation": (["due_diligence"], "negotiation", {"coordinator"}),
    "submit_for_review": (["negotiation"], "legal_review", {"coordinator"}),
    "request_changes": (["legal_review"], "negotiation", {"legal"}),
    "approve": (["legal_review"], "approved", {"legal"}),
    "send_for_signature": (["approved"], "signing", {"coordinator"}),
    "complete": (["signing"], "active", {"coordinator"}),
    "reopen": (["approved", "signing"], "negotiation", {"coordinator", "legal"}),
    "withdraw": (BEFORE_ACTIVE, "withdrawn", {"coordinator"}),
    "terminate": (["active"], "terminated", {"coordinator", "legal"}),
    "expire": (["active"], "expired", {"system"}),
}
NDA = {
    "submit_for_review": (["draft"], "legal_review", {"coordinator"}),
    "request_changes": (["legal_review"], "draft", {"legal"}),
    "approve": (["legal_review"], "approved", {"legal"}),
    "send_for_signature": (["approved"], "signing", {"coordinator"}),
    "complete": (["signing"], "active", {"coordinator"}),
    "reopen": (["approved", "signing"], "draft", {"coordinator", "legal"}),
    "withdraw": (["draft", "legal_review", "approved", "signing"], "withdrawn", {"coordinator"}),
    "expire": (["active"], "expired", {"system"}),
}
TABLES = {"cluster_partnership": CLUSTER, "nda": NDA}
STAGES = {
    "cluster_partnership": [*BEFORE_ACTIVE, "active", "withdrawn", "terminated", "expired"],
    "nda": ["draft", "legal_review", "approved", "signing", "active", "withdrawn", "expired"],
}


def complete_partnership(workflow_key: str, stage: str) -> Partnership:
    """An in-memory partnership (never persisted) whose data satisfies every data guard."""
    wf = get_workflow(workflow_key)
    eu = Party(organisation=Organisation(name="bioPmed", country="IT"), role="lead",
               signatory_name="A", signatory_title="B", signatory_email="a@example.org",
               background_none=True)
    cn = Party(organisation=Organisation(name="Qianhai", country="CN"), role="counterpart",
               signatory_name="C", signatory_title="D", signatory_email="c@example.cn")
    cn.assets = [BackgroundAsset(title="Sensor patent", asset_type="patent")]
    agreement_type = "collaboration" if workflow_key == "cluster_partnership" else "nda"
    p = Partnership(workflow_key=workflow_key, _stage=stage, owner_id=1,
                    agreement_type=agreement_type, end_date=date(2020, 1, 1))
    p.clauses = approved_clauses(agreement_type)
    issued = Document(id=1, kind="issued", status="current", version=1)
    p.documents = [issued]
    p.parties = [eu, cn]
    eu.id, cn.id = 11, 12
    p.signatures = [Signature(party_id=party.id, issued_document_id=1, kind="digital",
                              valid=True, intact=True) for party in (eu, cn)]
    p.checks = [DueDiligenceCheck(item_key=i.key, done=True) for i in wf.checklist]
    return p


def cells():
    for key, table in TABLES.items():
        for stage in STAGES[key]:
            for trigger in table:
                for role in ROLES:
                    yield pytest.param(key, stage, trigger, role,
                                       id=f"{key}-{stage}-{trigger}-{role}")


def test_table_covers_every_shipped_transition():
    for key, table in TABLES.items():
        wf = get_workflow(key)
        assert set(STAGES[key]) == set(wf.state_names)
        assert {t.trigger: (set(t.sources), t.dest, set(t.roles)) for t in wf.transitions} == {
            k: (set(s), d, r) for k, (s, d, r) in table.items()
        }


@pytest.mark.parametrize("key,stage,trigger,role", list(cells()))
def test_stage_trigger_role_outcome(key, stage, trigger, role):
    sources, dest, roles = TABLES[key][trigger]
    p = complete_partnership(key, stage)
    actor = SimpleNamespace(id=2, role=role, organisation_id=None)
    offered = {o.trigger: o for o in available_transitions(p, actor, risk_loader=lambda: NO_RISK)}
    if stage not in sources:
        with pytest.raises(TransitionNotAllowed):
            check_transition(p, trigger, actor, comment="because", risk_loader=lambda: NO_RISK)
        assert trigger not in offered
    elif role not in roles:
        with pytest.raises(PermissionDenied):
            check_transition(p, trigger, actor, comment="because", risk_loader=lambda: NO_RISK)
        assert not offered[trigger].allowed and not offered[trigger].role_allowed
    else:
        check_transition(p, trigger, actor, comment="because", risk_loader=lambda: NO_RISK)
        assert offered[trigger].allowed
        fire(p, get_workflow(key), trigger)
        assert p.stage == dest


@pytest.mark.parametrize("key", TABLES)
def test_comment_required_steps_refuse_without_comment(key):
    wf = get_workflow(key)
    for t in wf.transitions:
        if not t.requires_comment:
            continue
        p = complete_partnership(key, t.sources[0])
        actor = SimpleNamespace(id=2, role=sorted(t.roles)[0], organisation_id=None)
        with pytest.raises(GuardFailed) as err:
            check_transition(p, t.trigger, actor, comment=None, risk_loader=lambda: NO_RISK)
        assert "A comment is required for this step." in err.value.reasons
        assert p.stage == t.sources[0]


def test_loaded_stage_is_never_reset_by_the_machine():
    p = complete_partnership("cluster_partnership", "signing")
    fire(p, get_workflow("cluster_partnership"), "complete")
    assert p.stage == "active"
    # A second use of the cached machine starts from the row's stage, not from `initial`.
    fire(p, get_workflow("cluster_partnership"), "terminate")
    assert p.stage == "terminated"


def test_stage_cannot_be_assigned_directly():
    p = complete_partnership("nda", "draft")
    with pytest.raises(AttributeError):
        p.stage = "active"


def test_machine_has_no_auto_transitions():
    from workflow.engine import machine_for

    machine = machine_for("cluster_partnership")
    assert not any(name.startswith("to_") for name in machine.events)
