"""The background-IP register, Annex 1 (DOMAIN.md 4-5): assets each party brings, the
explicit "none" declaration, who may edit and when, and the guard before negotiation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from contracts.agreement import build_snapshot
from contracts.preview import render_html
from workflow.errors import Conflict, GuardFailed, NotFound, PermissionDenied, ValidationFailed
from workflow.models import AuditEvent, BackgroundAsset, Partnership
from workflow.services import partnerships as ps
from workflow.services.background import AssetInput, add_asset, remove_asset, update_asset
from workflow.services.transitions import advance

PATENT = AssetInput("Microfluidic sample-preparation cartridge", "patent", "EP 3 912 345 B1",
                    "EP, US, CN", "Field of use: diagnostics only.", "Royalty-free",
                    "Fair and reasonable conditions")
KNOW_HOW = AssetInput("Assay calibration know-how", "know_how")


@pytest.fixture
def due_diligence(make_partnership):
    """A collaboration in due diligence: checklist done, no background IP declared yet."""
    return make_partnership("due_diligence")


def parties(database, pid):
    """[(organisation name, background_none, [(title, asset_type), ...])] as stored."""
    with database.sessions() as s:
        p = s.get(Partnership, pid)
        return [(party.organisation.name, party.background_none,
                 [(a.title, a.asset_type) for a in party.assets]) for party in p.parties]


def version(database, pid) -> int:
    with database.sessions() as s:
        return s.get(Partnership, pid).version


def asset_count(database) -> int:
    with database.sessions() as s:
        return s.scalar(select(func.count()).select_from(BackgroundAsset))


def actions(database, pid) -> list[str]:
    with database.sessions() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.partnership_id == pid)
                              .order_by(AuditEvent.id)))


def complete_checklist(session, p):
    for item in list(p.checks):
        ps.set_check(session, p.owner, p.id, item.item_key, True)


# --- add, update, remove ----------------------------------------------------------------------


def test_add_update_and_remove_an_asset(database, session, due_diligence):
    p = due_diligence
    lead = p.parties[0]
    v0 = version(database, p.id)
    asset = add_asset(session, p.owner, p.id, lead.id, PATENT, expected_version=v0)
    with database.sessions() as s:
        row = s.get(BackgroundAsset, asset.id)
        assert (row.party_id, row.title, row.asset_type, row.identifiers, row.jurisdictions,
                row.restrictions, row.access_implementation, row.access_exploitation) == (
            lead.id, PATENT.title, "patent", "EP 3 912 345 B1", "EP, US, CN",
            "Field of use: diagnostics only.", "Royalty-free",
            "Fair and reasonable conditions")
    assert version(database, p.id) == v0 + 1

    changed = AssetInput("Cartridge patent family", "application", "EP 24 123 456.7")
    update_asset(session, p.owner, p.id, asset.id, changed, expected_version=v0 + 1)
    with database.sessions() as s:
        row = s.get(BackgroundAsset, asset.id)
        assert (row.title, row.asset_type, row.identifiers, row.restrictions) == (
            "Cartridge patent family", "application", "EP 24 123 456.7", None)
    assert version(database, p.id) == v0 + 2

    remove_asset(session, p.owner, p.id, asset.id, expected_version=v0 + 2)
    assert asset_count(database) == 0
    assert version(database, p.id) == v0 + 3
    assert actions(database, p.id)[-3:] == [
        "background_ip_added", "background_ip_changed", "background_ip_removed"]


def test_adding_an_asset_clears_the_none_declaration(database, session, due_diligence):
    p = due_diligence
    counterpart = p.parties[1]
    ps.declare_no_background_ip(session, p.owner, p.id, counterpart.id)
    assert parties(database, p.id)[1][1] is True
    add_asset(session, p.owner, p.id, counterpart.id, KNOW_HOW)
    name, none, assets = parties(database, p.id)[1]
    assert none is False
    assert assets == [("Assay calibration know-how", "know_how")]


def test_declaring_none_while_assets_are_listed_is_a_conflict(database, session,
                                                              due_diligence):
    p = due_diligence
    lead = p.parties[0]
    add_asset(session, p.owner, p.id, lead.id, KNOW_HOW)
    with pytest.raises(Conflict):
        ps.declare_no_background_ip(session, p.owner, p.id, lead.id)
    assert parties(database, p.id)[0][1] is False


@pytest.mark.parametrize("data,field", [
    (AssetInput("Sample", "trade_secret"), "asset_type"),
    (AssetInput("Sample", ""), "asset_type"),
    (AssetInput("", "patent"), "title"),
    (AssetInput("x" * 201, "patent"), "title"),
    (AssetInput("Two\nlines", "patent"), "title"),
    (AssetInput("Sample", "patent", identifiers="EP 1\nEP 2"), "identifiers"),
])
def test_invalid_asset_is_rejected_and_nothing_is_written(database, session, due_diligence,
                                                          data, field):
    p = due_diligence
    before = (parties(database, p.id), version(database, p.id), actions(database, p.id))
    with pytest.raises(ValidationFailed) as err:
        add_asset(session, p.owner, p.id, p.parties[0].id, data)
    assert field in err.value.field_errors
    assert (parties(database, p.id), version(database, p.id), actions(database, p.id)) == before


def test_invalid_update_leaves_the_asset_unchanged(database, session, due_diligence):
    p = due_diligence
    asset = add_asset(session, p.owner, p.id, p.parties[0].id, PATENT)
    before = parties(database, p.id)
    with pytest.raises(ValidationFailed) as err:
        update_asset(session, p.owner, p.id, asset.id, AssetInput("Renamed", "secret"))
    assert "asset_type" in err.value.field_errors
    assert parties(database, p.id) == before


def test_assets_of_another_partnership_cannot_be_reached(database, session, make_partnership):
    a = make_partnership("due_diligence")
    b = make_partnership("due_diligence")
    asset = add_asset(session, a.owner, a.id, a.parties[0].id, PATENT)
    with pytest.raises(NotFound):
        update_asset(session, b.owner, b.id, asset.id, KNOW_HOW)
    with pytest.raises(NotFound):
        remove_asset(session, b.owner, b.id, asset.id)
    with pytest.raises(NotFound):
        add_asset(session, b.owner, b.id, a.parties[0].id, KNOW_HOW)  # a's party, b's id
    assert parties(database, a.id)[0][2] == [(PATENT.title, "patent")]
    assert asset_count(database) == 1


# --- when and by whom ---------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["legal_review", "approved"])
def test_editing_the_register_outside_editable_stages_is_a_conflict(database, session,
                                                                    make_partnership, stage):
    p = make_partnership(stage)
    lead = p.parties[0]
    before = (parties(database, p.id), version(database, p.id))
    with pytest.raises(Conflict):
        add_asset(session, p.owner, p.id, lead.id, PATENT)
    assert (parties(database, p.id), version(database, p.id)) == before


def test_update_and_remove_outside_editable_stages_are_conflicts(database, session,
                                                                 make_partnership):
    from workflow.demo import make_compliant

    p = make_partnership("due_diligence")
    asset = add_asset(session, p.owner, p.id, p.parties[0].id, PATENT)
    complete_checklist(session, p)
    ps.declare_no_background_ip(session, p.owner, p.id, p.parties[1].id)
    advance(session, p.id, "start_negotiation", p.owner)
    make_compliant(session, p.owner, session.get(Partnership, p.id))
    advance(session, p.id, "submit_for_review", p.owner)
    assert session.get(Partnership, p.id).stage == "legal_review"
    before = parties(database, p.id)
    with pytest.raises(Conflict):
        update_asset(session, p.owner, p.id, asset.id, KNOW_HOW)
    with pytest.raises(Conflict):
        remove_asset(session, p.owner, p.id, asset.id)
    assert parties(database, p.id) == before


@pytest.mark.parametrize("role", ["partner", "legal", "admin"])
def test_only_coordinators_edit_the_register(database, session, make_partnership, make_org,
                                             make_user, role):
    counterpart = make_org("CN", kind="sme")
    p = make_partnership("due_diligence", counterpart=counterpart)
    existing = add_asset(session, p.owner, p.id, p.parties[1].id, KNOW_HOW)
    actor = make_user(role, organisation=counterpart if role == "partner" else None)
    before = (parties(database, p.id), version(database, p.id))
    with pytest.raises(PermissionDenied):
        add_asset(session, actor, p.id, p.parties[1].id, PATENT)
    with pytest.raises(PermissionDenied):
        update_asset(session, actor, p.id, existing.id, PATENT)
    with pytest.raises(PermissionDenied):
        remove_asset(session, actor, p.id, existing.id)
    with pytest.raises(PermissionDenied):
        ps.declare_no_background_ip(session, actor, p.id, p.parties[1].id)
    assert (parties(database, p.id), version(database, p.id)) == before


# --- Annex 1 ------------------------------------------------------------------------------------


def test_assets_appear_in_annex_1_of_the_agreement(database, session, make_partnership,
                                                   make_org):
    eu = make_org("IT", name="bioPmed")
    counterpart = make_org("CN", name="Shenzhen Qianhai Meditech", kind="sme")
    p = make_partnership("due_diligence", eu=eu, counterpart=counterpart)
    add_asset(session, p.owner, p.id, p.parties[0].id, PATENT)
    add_asset(session, p.owner, p.id, p.parties[0].id, KNOW_HOW)
    ps.declare_no_background_ip(session, p.owner, p.id, p.parties[1].id)
    with database.sessions() as s:
        snapshot = build_snapshot(s.get(Partnership, p.id), "Collaboration agreement")
    assert [(a.party, a.title, a.asset_type, a.identifiers, a.jurisdictions, a.restrictions,
             a.access_implementation, a.access_exploitation) for a in snapshot.assets] == [
        ("bioPmed", PATENT.title, "patent", "EP 3 912 345 B1", "EP, US, CN",
         "Field of use: diagnostics only.", "Royalty-free", "Fair and reasonable conditions"),
        ("bioPmed", KNOW_HOW.title, "know how", "", "", "", "", ""),
    ]
    assert snapshot.parties_without_assets == ("Shenzhen Qianhai Meditech",)
    html = render_html(snapshot, stylesheet="x.css")
    annex = html[html.index('id="annex-1"'):]
    assert PATENT.title in annex and "EP 3 912 345 B1" in annex
    assert "No background IP declared by: Shenzhen Qianhai Meditech." in annex


def test_removed_and_changed_assets_leave_annex_1(database, session, make_partnership):
    p = make_partnership("due_diligence")
    patent = add_asset(session, p.owner, p.id, p.parties[0].id, PATENT)
    know_how = add_asset(session, p.owner, p.id, p.parties[0].id, KNOW_HOW)
    remove_asset(session, p.owner, p.id, patent.id)
    update_asset(session, p.owner, p.id, know_how.id,
                 AssetInput("Calibration software", "software", "v2.1"))
    with database.sessions() as s:
        snapshot = build_snapshot(s.get(Partnership, p.id), "Collaboration agreement")
    assert [(a.title, a.asset_type, a.identifiers) for a in snapshot.assets] == [
        ("Calibration software", "software", "v2.1")]


def test_markup_in_an_asset_is_escaped_in_the_agreement(database, session, make_partnership):
    p = make_partnership("due_diligence")
    add_asset(session, p.owner, p.id, p.parties[0].id,
              AssetInput("<script>alert(1)</script> {{ 7*7 }}", "software"))
    with database.sessions() as s:
        snapshot = build_snapshot(s.get(Partnership, p.id), "Collaboration agreement")
    assert snapshot.assets[0].title == "<script>alert(1)</script> {{ 7*7 }}"
    html = render_html(snapshot, stylesheet="x.css")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html
    assert "<script>alert" not in html


# --- the background_ip_declared guard -----------------------------------------------------------


def test_negotiation_is_blocked_until_every_party_declares_background_ip(
        database, session, make_partnership, make_org):
    eu = make_org("IT", name="bioPmed")
    counterpart = make_org("CN", name="Qianhai", kind="sme")
    p = make_partnership("due_diligence", eu=eu, counterpart=counterpart)
    complete_checklist(session, p)
    with pytest.raises(GuardFailed) as err:
        advance(session, p.id, "start_negotiation", p.owner)
    assert err.value.reasons == [
        "bioPmed (Italy) has not declared its background IP (list assets or declare none).",
        "Qianhai (China) has not declared its background IP (list assets or declare none).",
    ]
    add_asset(session, p.owner, p.id, p.parties[0].id, PATENT)
    with pytest.raises(GuardFailed) as err:
        advance(session, p.id, "start_negotiation", p.owner)
    assert err.value.reasons == [
        "Qianhai (China) has not declared its background IP (list assets or declare none)."]


def test_negotiation_starts_with_assets_for_one_party_and_explicit_none_for_the_other(
        database, session, due_diligence):
    p = due_diligence
    complete_checklist(session, p)
    add_asset(session, p.owner, p.id, p.parties[0].id, PATENT)
    ps.declare_no_background_ip(session, p.owner, p.id, p.parties[1].id)
    assert advance(session, p.id, "start_negotiation", p.owner).stage == "negotiation"


def test_explicit_none_for_every_party_is_enough(database, session, due_diligence):
    p = due_diligence
    complete_checklist(session, p)
    for party in list(p.parties):
        ps.declare_no_background_ip(session, p.owner, p.id, party.id)
    assert advance(session, p.id, "start_negotiation", p.owner).stage == "negotiation"


def test_removing_the_last_asset_leaves_the_party_undeclared(database, session, due_diligence):
    p = due_diligence
    complete_checklist(session, p)
    ps.declare_no_background_ip(session, p.owner, p.id, p.parties[1].id)
    asset = add_asset(session, p.owner, p.id, p.parties[0].id, PATENT)
    remove_asset(session, p.owner, p.id, asset.id)
    with pytest.raises(GuardFailed) as err:
        advance(session, p.id, "start_negotiation", p.owner)
    assert len(err.value.reasons) == 1
    assert "has not declared its background IP" in err.value.reasons[0]


def test_withdrawing_a_none_declaration_blocks_negotiation_again(database, session,
                                                                 due_diligence):
    p = due_diligence
    complete_checklist(session, p)
    for party in list(p.parties):
        ps.declare_no_background_ip(session, p.owner, p.id, party.id)
    ps.declare_no_background_ip(session, p.owner, p.id, p.parties[0].id, none=False)
    with pytest.raises(GuardFailed):
        advance(session, p.id, "start_negotiation", p.owner)
    assert session.get(Partnership, p.id, populate_existing=True).stage == "due_diligence"
