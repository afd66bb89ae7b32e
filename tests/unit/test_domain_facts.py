"""Facts of the field (DOMAIN.md) that the agreement text and the clause values must respect."""

from __future__ import annotations

import pytest

from contracts.agreement import build_snapshot
from contracts.preview import render_html
from tests.unit.test_transition_table import LIBRARY, complete_partnership
from workflow.clauses import clause_problems
from workflow.models import AgreementClause, Organisation, Party


def _snapshot(p):
    p.reference, p.title, p.version, p.sector, p.start_date = "CP-2026-0001", "T", 1, "", None
    return build_snapshot(p, "Collaboration agreement", version=1)


def _paragraphs(snapshot, key: str) -> str:
    return " ".join(next(c for c in snapshot.clauses if c.key == key).paragraphs)


def _counterpart(name: str, country: str, party_id: int) -> Party:
    party = Party(organisation=Organisation(name=name, country=country), role="counterpart",
                  signatory_name="A", signatory_title="B", signatory_email="a@example.org",
                  background_none=True)
    party.id, party.assets = party_id, []
    return party


def test_one_counterpart_is_named_with_its_country():
    text = _paragraphs(_snapshot(complete_partnership("cluster_partnership", "approved")),
                       "definitions")
    assert '"Counterpart" means Qianhai, established in China.' in text


def test_every_party_outside_the_eu_eea_is_a_counterpart_in_the_text():
    """A party is a counterpart when its organisation is outside the EU/EEA: each one is
    bound by what the text asks of "the Counterpart", in every country concerned."""
    p = complete_partnership("cluster_partnership", "approved")
    p.parties.append(_counterpart("Pune Sanjeevani Diagnostics", "IN", 13))
    p.parties.append(_counterpart("Suzhou Lumina Optics", "CN", 14))
    snapshot = _snapshot(p)
    assert ('"Counterpart" means each of Qianhai, Pune Sanjeevani Diagnostics and Suzhou Lumina '
            'Optics, established in China and India.') in _paragraphs(snapshot, "definitions")
    assert "the export control laws of China and India." in _paragraphs(snapshot,
                                                                       "export_control")


def _with_option(clause_key: str, option_key: str, values: dict) -> AgreementClause:
    version = next(v for v in LIBRARY if v.clause_key == clause_key)
    return AgreementClause(clause_key=clause_key, library_version=version,
                           option_key=option_key, values=values, included=True, revision=1)


@pytest.mark.parametrize("country", ["US", "CN", "CH", "GB"])
def test_courts_of_a_named_eu_city_must_be_in_the_eu_eea(country):
    clause = _with_option("dispute_resolution", "eu_courts", {
        "negotiation_days": 30, "court_city": "Seattle", "court_country": country})
    assert clause_problems(clause, "collaboration") == [
        "Dispute resolution: Country of the courts must be an EU or EEA State, such as BE."]


@pytest.mark.parametrize("country", ["CN", "US", "CH"])
def test_the_lead_partys_member_state_must_be_one(country):
    clause = _with_option("governing_law", "lead_party_member_state", {"member_state": country})
    assert clause_problems(clause, "collaboration") == [
        "Governing law: Member State of the lead Party must be an EU or EEA State, such as BE."]


@pytest.mark.parametrize("country", ["BE", "IT", "NO"])
def test_eu_and_eea_states_are_accepted_for_both(country):
    courts = _with_option("dispute_resolution", "eu_courts", {
        "negotiation_days": 30, "court_city": "Brussels", "court_country": country})
    law = _with_option("governing_law", "lead_party_member_state", {"member_state": country})
    assert clause_problems(courts, "collaboration") == clause_problems(law, "collaboration") == []


@pytest.mark.parametrize(("workflow_key", "annex"), [("cluster_partnership", True),
                                                    ("nda", False)])
def test_annex_1_of_background_ip_only_where_the_agreement_grants_access_rights(
        workflow_key, annex):
    """An NDA grants no rights ("no licence"): it must not print an annex of Background
    "subject to access rights"."""
    snapshot = _snapshot(complete_partnership(workflow_key, "approved"))
    html = render_html(snapshot, stylesheet="x.css")
    assert snapshot.background_annex is annex
    assert ('id="annex-1"' in html) is annex and ("Annex 1. Background IP" in html) is annex
