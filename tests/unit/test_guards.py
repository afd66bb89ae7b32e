"""Each guard blocks with a reason a person can act on, and passes when its data is there."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from tests.unit.test_transition_table import NO_RISK, complete_partnership
from workflow.engine import available_transitions, check_transition
from workflow.errors import GuardFailed

COORD = SimpleNamespace(id=7, role="coordinator", organisation_id=None)
LEGAL = SimpleNamespace(id=8, role="legal", organisation_id=None)
SYSTEM = SimpleNamespace(id=None, role="system", organisation_id=None)


def reasons(p, trigger, actor=COORD, comment="ok", now=None):
    with pytest.raises(GuardFailed) as err:
        check_transition(p, trigger, actor, comment, now, risk_loader=lambda: NO_RISK)
    return err.value.reasons


def test_due_diligence_needs_an_eu_party_and_a_counterpart():
    p = complete_partnership("cluster_partnership", "draft")
    p.parties = [p.parties[1]]  # only the Chinese party left
    assert reasons(p, "start_due_diligence") == ["Add at least one party from an EU/EEA country."]
    p = complete_partnership("cluster_partnership", "draft")
    p.parties[1].organisation.country = "NO"  # Norway is EEA: no counterpart left
    assert reasons(p, "start_due_diligence") == [
        "Add at least one counterpart from outside the EU/EEA."
    ]


def test_every_missing_signatory_is_named():
    p = complete_partnership("cluster_partnership", "draft")
    for party in p.parties:
        party.signatory_email = None
    assert reasons(p, "start_due_diligence") == [
        "bioPmed: signatory name, title and email are required.",
        "Qianhai: signatory name, title and email are required.",
    ]


def test_negotiation_needs_checklist_and_background_declarations():
    p = complete_partnership("cluster_partnership", "due_diligence")
    p.checks[1].done = False
    p.parties[0].background_none = False
    got = reasons(p, "start_negotiation")
    assert len(got) == 2
    assert got[0].startswith("Due diligence: 'Sanctions and export-control screening")
    assert got[1].startswith("bioPmed (Italy) has not declared its background IP")


def test_explicit_none_counts_as_a_declaration():
    p = complete_partnership("cluster_partnership", "due_diligence")
    assert p.parties[0].background_none and not p.parties[0].assets
    check_transition(p, "start_negotiation", COORD, risk_loader=lambda: NO_RISK)


def test_owner_cannot_approve():
    p = complete_partnership("cluster_partnership", "legal_review")
    p.owner_id = LEGAL.id
    assert reasons(p, "approve", LEGAL) == [
        "The partnership owner cannot approve it; another legal advisor must."
    ]


def test_expire_waits_for_the_end_date():
    p = complete_partnership("cluster_partnership", "active")
    p.end_date = date(2030, 6, 30)
    now = datetime(2030, 6, 30, 12, tzinfo=UTC)
    assert reasons(p, "expire", SYSTEM, now=now) == ["The end date 2030-06-30 has not passed."]
    check_transition(p, "expire", SYSTEM, now=datetime(2030, 7, 1, tzinfo=UTC),
                     risk_loader=lambda: NO_RISK)


def test_available_transitions_report_role_and_guard_reasons_together():
    p = complete_partnership("cluster_partnership", "draft")
    p.parties[1].signatory_name = None
    options = available_transitions(p, LEGAL, risk_loader=lambda: NO_RISK)
    by_trigger = {o.trigger: o for o in options}
    option = by_trigger["start_due_diligence"]
    assert not option.allowed
    assert option.reasons == (
        "Only a coordinator can start due diligence.",
        "Qianhai: signatory name, title and email are required.",
    )


def test_send_for_signature_needs_an_issued_pdf():
    p = complete_partnership("cluster_partnership", "approved")
    p.documents = []
    assert reasons(p, "send_for_signature") == [
        "No issued agreement PDF exists; it is issued when legal approves."]


def test_complete_needs_every_party_signed_on_the_current_version():
    from workflow.models import Document, Signature

    p = complete_partnership("cluster_partnership", "signing")
    eu, cn = p.parties
    # The counterpart signed only the superseded version 1; version 2 is current.
    p.documents = [Document(id=1, kind="issued", status="superseded", version=1),
                   Document(id=2, kind="issued", status="current", version=2)]
    p.signatures = [
        Signature(party_id=eu.id, issued_document_id=2, kind="wet_ink", attested_by_id=7),
        Signature(party_id=cn.id, issued_document_id=1, kind="digital", valid=True, intact=True),
    ]
    assert reasons(p, "complete") == [
        "Qianhai: no verified signature on version 2 yet (upload a signed copy, or record an "
        "attested wet-ink scan)."]
    p.signatures.append(Signature(party_id=cn.id, issued_document_id=2, kind="digital",
                                  valid=False, intact=True))
    assert len(reasons(p, "complete")) == 1  # an invalid signature does not count
    p.signatures.append(Signature(party_id=cn.id, issued_document_id=2, kind="digital",
                                  valid=True, intact=True))
    check_transition(p, "complete", COORD, risk_loader=lambda: NO_RISK)
