"""A party is a counterpart exactly when its organisation is outside the EU/EEA (DOMAIN.md):
the services refuse any other role, and the demo writes the counterpart's own language."""

from __future__ import annotations

import pytest

from tests.helpers import build_partnership, party_inputs
from workflow.demo import make_compliant
from workflow.errors import ValidationFailed
from workflow.models import Partnership
from workflow.services import partnerships as ps


@pytest.mark.parametrize(("eu_role", "other_role"), [("lead", "member"), ("counterpart", "lead")])
def test_roles_that_contradict_the_country_are_refused(session, make_org, make_user,
                                                      eu_role, other_role):
    owner = make_user("coordinator")
    fr, cn = make_org("FR"), make_org("CN", kind="sme")
    before = session.query(Partnership).count()
    with pytest.raises(ValidationFailed) as refused:
        ps.create_partnership(session, owner, "Roles swapped", "collaboration", [
            ps.PartyInput(fr.id, eu_role), ps.PartyInput(cn.id, other_role)])
    errors = refused.value.field_errors
    assert errors.get("parties[1].role") == (
        "An organisation outside the EU/EEA takes part as a counterpart.")
    if eu_role == "counterpart":
        assert errors["parties[0].role"] == (
            "An organisation in the EU/EEA takes part as the lead or a member.")
    assert session.query(Partnership).count() == before


def test_adding_or_changing_a_party_keeps_role_and_country_together(session, make_org,
                                                                   make_user):
    owner = make_user("coordinator")
    it, cn, de, india = make_org("IT"), make_org("CN", kind="sme"), make_org("DE"), make_org(
        "IN", kind="sme")
    p = ps.create_partnership(session, owner, "Deal", "collaboration", party_inputs(it, cn))
    with pytest.raises(ValidationFailed) as refused:
        ps.add_party(session, owner, p.id, ps.PartyInput(de.id, "counterpart"),
                     expected_version=p.version)
    assert refused.value.field_errors == {
        "role": "An organisation in the EU/EEA takes part as the lead or a member."}
    ps.add_party(session, owner, p.id, ps.PartyInput(de.id, "member"),
                 expected_version=p.version)
    second = ps.add_party(session, owner, p.id, ps.PartyInput(india.id, "counterpart"),
                          expected_version=session.get(Partnership, p.id).version)
    with pytest.raises(ValidationFailed):
        ps.update_party(session, owner, p.id, second.id, ps.PartyInput(india.id, "member"),
                        expected_version=session.get(Partnership, p.id).version)
    roles = {x.organisation.country: x.role for x in session.get(Partnership, p.id).parties}
    assert roles == {"IT": "lead", "CN": "counterpart", "DE": "member", "IN": "counterpart"}


@pytest.mark.parametrize(("country", "language", "option"), [
    ("CN", "Chinese (Simplified)", "bilingual"), ("JP", "Japanese", "bilingual"),
    ("US", None, "english")])
def test_the_demo_writes_a_bilingual_agreement_in_the_counterparts_language(
        session, make_org, make_user, country, language, option):
    owner, legal = make_user("coordinator"), make_user("legal")
    p = build_partnership(session, owner, legal, make_org("IT"), make_org(country, kind="sme"),
                          "draft", agreement_type="nnn")
    make_compliant(session, owner, p)
    clause = next(c for c in session.get(Partnership, p.id).clauses
                  if c.clause_key == "language")
    assert clause.option_key == option
    assert (clause.values or {}).get("second_language") == language
