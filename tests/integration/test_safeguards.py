"""Jurisdiction safeguards (DOMAIN.md 6) against a real database: the seeded Priority Watch
List and its rules decide which partnerships may go to legal review, waivers lift one rule
for one partnership, and admin edits of the country-risk data take effect at once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflow.errors import Conflict, GuardFailed, PermissionDenied, ValidationFailed
from workflow.models import AuditEvent, CountryRisk, Partnership, SafeguardWaiver
from workflow.risk import safeguard_results
from workflow.services.clauses import find_clause, set_clause
from workflow.services.review import waive_rule
from workflow.services.risk import remove_country_risk, set_country_risk, set_rule
from workflow.services.transitions import advance

PRIORITY_WATCH_LIST = ["AR", "CL", "CN", "IN", "ID", "MX", "RU", "VE"]
NOT_LISTED = ["US", "JP", "BR"]  # Brazil is on the (plain) Watch List, not the Priority one
SCOPE = "Priority Watch List, USTR Special 301, 2025"
TIER = "priority_watch_list"

CONFIDENTIALITY_RULE = "pwl_confidentiality_nnn"
ARBITRATION_RULE = "pwl_arbitration_seat"
BILINGUAL_RULE = "pwl_bilingual_text"
ALL_RULES = {CONFIDENTIALITY_RULE, "pwl_ip_filing_before_disclosure", "pwl_export_control",
             ARBITRATION_RULE, BILINGUAL_RULE}


def confidentiality_reason(country: str) -> str:
    return (f"Confidentiality: counterpart in {country} ({SCOPE}) requires the NNN "
            "confidentiality option or an explicit non-use undertaking.")


@pytest.fixture
def partnership_with(make_partnership, make_org):
    """A collaboration partnership in negotiation, EU lead in IT, counterpart in `country`,
    with the default clauses untouched."""

    def make(country, stage="negotiation", agreement_type="collaboration", owner=None):
        return make_partnership(stage, agreement_type, owner=owner, eu=make_org("IT"),
                                counterpart=make_org(country, kind="sme"))

    return make


def submit_reasons(session, p, actor=None) -> list[str]:
    with pytest.raises(GuardFailed) as err:
        advance(session, p.id, "submit_for_review", actor or p.owner)
    return err.value.reasons


def stage_of(database, pid) -> str:
    with database.sessions() as s:
        return s.get(Partnership, pid).stage


def use_nnn(session, p):
    set_clause(session, p.owner, p.id, "confidentiality", "nnn",
               {"term_years": 4, "confirmation_days": 15})


def set_dispute(session, p, option="wipo_mediation_arbitration", **values):
    clause = find_clause(p, "dispute_resolution")
    set_clause(session, p.owner, p.id, "dispute_resolution", option,
               {**clause.values, **values} if option == clause.option_key else values)


# --- which countries the rules apply to ------------------------------------------------------


@pytest.mark.parametrize("country", PRIORITY_WATCH_LIST)
def test_priority_watch_list_counterpart_is_blocked_by_the_confidentiality_rule_only(
        database, session, partnership_with, country):
    p = partnership_with(country)
    assert submit_reasons(session, p) == [confidentiality_reason(country)]
    assert stage_of(database, p.id) == "negotiation"
    results = {r.rule_key: r for r in safeguard_results(session, p)}
    assert set(results) == ALL_RULES
    assert {r.country for r in results.values()} == {country}
    assert {k for k, r in results.items() if r.blocking} == {CONFIDENTIALITY_RULE}


@pytest.mark.parametrize("country", NOT_LISTED)
def test_counterpart_outside_the_priority_watch_list_is_not_blocked(
        database, session, partnership_with, country):
    p = partnership_with(country)
    assert safeguard_results(session, p) == []
    p = advance(session, p.id, "submit_for_review", p.owner)
    assert p.stage == "legal_review"
    assert stage_of(database, p.id) == "legal_review"


# --- the wording of a reason -----------------------------------------------------------------


def test_arbitration_seated_in_the_counterpart_country_blocks_with_the_exact_reason(
        session, partnership_with):
    p = partnership_with("CN")
    use_nnn(session, p)
    set_dispute(session, p, arbitration_seat="Shanghai", seat_country="CN")
    assert submit_reasons(session, p) == [
        "Dispute resolution: counterpart in CN (Priority Watch List, USTR Special 301, 2025) "
        "requires arbitration seated outside CN."
    ]


def test_arbitration_seated_in_hong_kong_satisfies_the_seat_rule_for_china(
        database, session, partnership_with):
    p = partnership_with("CN")
    use_nnn(session, p)
    set_dispute(session, p, arbitration_seat="Hong Kong", seat_country="HK")
    advance(session, p.id, "submit_for_review", p.owner)
    assert stage_of(database, p.id) == "legal_review"


def test_courts_instead_of_arbitration_do_not_satisfy_the_seat_rule(session, partnership_with):
    p = partnership_with("IN")
    use_nnn(session, p)
    set_dispute(session, p, "eu_courts", negotiation_days=30, court_city="Brussels",
                court_country="BE")
    assert submit_reasons(session, p) == [
        f"Dispute resolution: counterpart in IN ({SCOPE}) requires arbitration seated "
        "outside IN."
    ]


def test_every_failing_rule_is_reported_at_once(session, partnership_with):
    p = partnership_with("MX")
    set_dispute(session, p, arbitration_seat="Monterrey", seat_country="MX")
    assert sorted(submit_reasons(session, p)) == [
        confidentiality_reason("MX"),
        f"Dispute resolution: counterpart in MX ({SCOPE}) requires arbitration seated "
        "outside MX.",
    ]


# --- what satisfies the confidentiality rule -------------------------------------------------


def test_standard_confidentiality_with_a_non_use_undertaking_satisfies_the_rule(
        database, session, partnership_with):
    p = partnership_with("CN")
    set_clause(session, p.owner, p.id, "confidentiality", "standard",
               {"term_years": 4, "confirmation_days": 15, "non_use_undertaking": True})
    results = {r.rule_key: r for r in safeguard_results(session, p)}
    assert results[CONFIDENTIALITY_RULE].met
    advance(session, p.id, "submit_for_review", p.owner)
    assert stage_of(database, p.id) == "legal_review"


def test_standard_confidentiality_without_the_undertaking_does_not_satisfy_the_rule(
        session, partnership_with):
    p = partnership_with("CN")
    set_clause(session, p.owner, p.id, "confidentiality", "standard",
               {"term_years": 6, "confirmation_days": 15, "non_use_undertaking": False})
    assert submit_reasons(session, p) == [confidentiality_reason("CN")]


def test_nnn_confidentiality_satisfies_the_rule(database, session, partnership_with):
    p = partnership_with("RU")
    use_nnn(session, p)
    advance(session, p.id, "submit_for_review", p.owner)
    assert stage_of(database, p.id) == "legal_review"


# --- warnings ----------------------------------------------------------------------------------


def test_bilingual_rule_only_warns_and_never_blocks(database, session, partnership_with):
    p = partnership_with("CN")
    use_nnn(session, p)
    assert find_clause(p, "language").option_key == "english"
    results = {r.rule_key: r for r in safeguard_results(session, p)}
    bilingual = results[BILINGUAL_RULE]
    assert bilingual.severity == "warn"
    assert not bilingual.met
    assert not bilingual.blocking
    assert not any(r.blocking for r in results.values())
    advance(session, p.id, "submit_for_review", p.owner)
    assert stage_of(database, p.id) == "legal_review"


def test_bilingual_text_meets_the_bilingual_rule(session, partnership_with):
    p = partnership_with("CN")
    set_clause(session, p.owner, p.id, "language", "bilingual",
               {"second_language": "Chinese (Simplified)", "english_prevails": True})
    results = {r.rule_key: r for r in safeguard_results(session, p)}
    assert results[BILINGUAL_RULE].met


# --- waivers ------------------------------------------------------------------------------------


def test_waiver_lifts_one_rule_for_one_partnership_only(database, session, partnership_with,
                                                         make_user):
    owner = make_user("coordinator")
    waived = partnership_with("CN", owner=owner)
    other = partnership_with("CN", owner=owner)
    legal = make_user("legal")
    waive_rule(session, legal, waived.id, CONFIDENTIALITY_RULE,
               "Counterpart signed a separate NNN agreement in Chinese.")
    advance(session, waived.id, "submit_for_review", owner)
    assert stage_of(database, waived.id) == "legal_review"
    assert submit_reasons(session, other) == [confidentiality_reason("CN")]
    assert stage_of(database, other.id) == "negotiation"


def test_waiver_does_not_lift_the_other_rules(session, partnership_with, make_user):
    p = partnership_with("CN")
    set_dispute(session, p, arbitration_seat="Beijing", seat_country="CN")
    waive_rule(session, make_user("legal"), p.id, CONFIDENTIALITY_RULE, "Separate NNN signed.")
    assert submit_reasons(session, p) == [
        f"Dispute resolution: counterpart in CN ({SCOPE}) requires arbitration seated "
        "outside CN."
    ]
    results = {r.rule_key: r for r in safeguard_results(session, p)}
    assert results[CONFIDENTIALITY_RULE].waived
    assert not results[ARBITRATION_RULE].waived


def test_waiver_writes_a_safeguard_waived_audit_event(database, session, partnership_with,
                                                      make_user):
    p = partnership_with("CN")
    legal = make_user("legal")
    waive_rule(session, legal, p.id, ARBITRATION_RULE, "Interim measures in China needed.")
    with database.sessions() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.partnership_id == p.id, AuditEvent.action == "safeguard_waived")).all()
        assert len(events) == 1
        event = events[0]
        assert event.actor_id == legal.id and event.actor_role == "legal"
        assert event.comment == "Interim measures in China needed."
        assert event.details == {"rule": ARBITRATION_RULE}
        waiver = s.scalars(select(SafeguardWaiver).where(
            SafeguardWaiver.partnership_id == p.id)).one()
        assert (waiver.rule_key, waiver.waived_by_id) == (ARBITRATION_RULE, legal.id)


def count(session, model, pid):
    return session.scalar(select(func.count()).select_from(model)
                          .where(model.partnership_id == pid))


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_waiver_needs_a_comment_and_writes_nothing_without_one(database, session,
                                                               partnership_with, make_user,
                                                               comment):
    p = partnership_with("CN")
    with pytest.raises(ValidationFailed) as err:
        waive_rule(session, make_user("legal"), p.id, CONFIDENTIALITY_RULE, comment)
    assert "comment" in err.value.field_errors
    with database.sessions() as s:
        assert count(s, SafeguardWaiver, p.id) == 0
        assert s.get(Partnership, p.id).version == p.version
    assert submit_reasons(session, p) == [confidentiality_reason("CN")]


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_only_legal_can_waive_a_rule(database, session, partnership_with, make_user, role):
    p = partnership_with("CN")
    actor = p.owner if role == "coordinator" else make_user(role)
    with pytest.raises(PermissionDenied):
        waive_rule(session, actor, p.id, CONFIDENTIALITY_RULE, "Please let me through.")
    with database.sessions() as s:
        assert count(s, SafeguardWaiver, p.id) == 0


def test_waiving_a_warn_only_rule_is_a_conflict(database, session, partnership_with,
                                                make_user):
    p = partnership_with("CN")
    with pytest.raises(Conflict):
        waive_rule(session, make_user("legal"), p.id, BILINGUAL_RULE, "English is fine.")
    with database.sessions() as s:
        assert count(s, SafeguardWaiver, p.id) == 0


def test_waiving_the_same_rule_twice_is_a_conflict(session, partnership_with, make_user):
    p = partnership_with("CN")
    legal = make_user("legal")
    waive_rule(session, legal, p.id, CONFIDENTIALITY_RULE, "Separate NNN signed.")
    with pytest.raises(Conflict):
        waive_rule(session, legal, p.id, CONFIDENTIALITY_RULE, "Again.")


# --- admin edits of the country-risk data ---------------------------------------------------


def test_removing_a_country_from_the_tier_stops_its_rules(database, session, partnership_with,
                                                          make_user):
    p = partnership_with("CN")
    remove_country_risk(session, make_user("admin"), "CN", TIER)
    assert safeguard_results(session, p) == []
    advance(session, p.id, "submit_for_review", p.owner)
    assert stage_of(database, p.id) == "legal_review"


def test_removing_one_country_leaves_the_others_listed(session, partnership_with, make_user):
    remove_country_risk(session, make_user("admin"), "CN", TIER)
    p = partnership_with("IN")
    assert submit_reasons(session, p) == [confidentiality_reason("IN")]


def test_adding_a_country_to_the_tier_makes_its_rules_apply(database, session,
                                                            partnership_with, make_user):
    p = partnership_with("US")
    set_country_risk(session, make_user("admin"), "US", TIER, "USTR 2025 Special 301 Report",
                     2025)
    assert submit_reasons(session, p) == [confidentiality_reason("US")]
    assert stage_of(database, p.id) == "negotiation"


def test_country_codes_are_normalised_when_an_admin_adds_or_removes_a_country(
        session, partnership_with, make_user):
    admin = make_user("admin")
    row = set_country_risk(session, admin, " jp ", TIER, "USTR 2025 Special 301 Report", 2025)
    assert row.country == "JP"
    assert submit_reasons(session, partnership_with("JP")) == [confidentiality_reason("JP")]
    remove_country_risk(session, admin, "jp", TIER)
    assert safeguard_results(session, partnership_with("JP")) == []


def test_admin_turning_a_rule_into_a_warning_stops_it_blocking(database, session,
                                                               partnership_with, make_user):
    p = partnership_with("CN")
    set_rule(session, make_user("admin"), CONFIDENTIALITY_RULE, "warn", True)
    results = {r.rule_key: r for r in safeguard_results(session, p)}
    assert results[CONFIDENTIALITY_RULE].severity == "warn"
    assert not results[CONFIDENTIALITY_RULE].blocking
    advance(session, p.id, "submit_for_review", p.owner)
    assert stage_of(database, p.id) == "legal_review"


def test_admin_deactivating_a_rule_removes_it_from_the_evaluation(session, partnership_with,
                                                                  make_user):
    p = partnership_with("CN")
    set_rule(session, make_user("admin"), CONFIDENTIALITY_RULE, "block", False)
    assert CONFIDENTIALITY_RULE not in {r.rule_key for r in safeguard_results(session, p)}


@pytest.mark.parametrize("role", ["coordinator", "legal", "partner"])
def test_only_an_admin_can_edit_country_risk(database, session, partnership_with, make_user,
                                             make_org, role):
    actor = make_user(role, organisation=make_org("IT") if role == "partner" else None)
    with pytest.raises(PermissionDenied):
        set_country_risk(session, actor, "US", TIER, "USTR 2025 Special 301 Report", 2025)
    with pytest.raises(PermissionDenied):
        remove_country_risk(session, actor, "CN", TIER)
    with pytest.raises(PermissionDenied):
        set_rule(session, actor, CONFIDENTIALITY_RULE, "warn", False)
    with database.sessions() as s:
        listed = set(s.scalars(select(CountryRisk.country).where(CountryRisk.tier_key == TIER)))
    assert listed == set(PRIORITY_WATCH_LIST)
    p = partnership_with("CN")
    assert submit_reasons(session, p) == [confidentiality_reason("CN")]


# --- agreement types without the rule's clause --------------------------------------------


def test_nda_with_a_chinese_counterpart_skips_rules_on_clauses_it_does_not_have(
        session, partnership_with):
    p = partnership_with("CN", stage="draft", agreement_type="nda")
    assert p.workflow_key == "nda"
    assert "ip_protection_third_countries" not in {c.clause_key for c in p.clauses}
    rules = {r.rule_key for r in safeguard_results(session, p)}
    assert rules == ALL_RULES - {"pwl_ip_filing_before_disclosure"}
    assert submit_reasons(session, p) == [confidentiality_reason("CN")]
