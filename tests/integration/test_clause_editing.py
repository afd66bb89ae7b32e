"""Choosing clause options and values (DOMAIN.md 5): defaults of a new partnership,
validation that writes nothing, revisions, untrusted text in the assembled agreement, and
rebasing onto a newer library version."""

from __future__ import annotations

import copy
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from contracts.agreement import build_snapshot
from contracts.library import _hash, load_library
from contracts.preview import render_html
from contracts.publish import library_payload
from workflow.errors import Conflict, PermissionDenied, ValidationFailed
from workflow.models import AgreementClause, AuditEvent, LibraryClauseVersion, Partnership
from workflow.roles import SYSTEM_ACTOR
from workflow.services.clauses import find_clause, rebase, rebase_plan, set_clause
from workflow.services.library import latest_versions, sync_library

AGREEMENT_TYPES = ["collaboration", "nda", "nnn"]
SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{ 7*7 }}"


def stored(database, pid, clause_key):
    """(option, values, override, included, revision, partnership version) as stored."""
    with database.sessions() as s:
        p = s.get(Partnership, pid)
        c = find_clause(p, clause_key)
        return c.option_key, c.values, c.override_text, c.included, c.revision, p.version


def events(database, pid, action):
    with database.sessions() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.partnership_id == pid,
                                                  AuditEvent.action == action)
                         .order_by(AuditEvent.id)).all()


def snapshot_of(database, pid):
    with database.sessions() as s:
        return build_snapshot(s.get(Partnership, pid), "Collaboration agreement")


def clause_snapshot(snapshot, key):
    return next(c for c in snapshot.clauses if c.key == key)


@pytest.fixture
def draft(make_partnership):
    return make_partnership("draft")


def current_values(database, pid, clause_key) -> dict:
    return dict(stored(database, pid, clause_key)[1])


# --- a new partnership ------------------------------------------------------------------------


@pytest.mark.parametrize("agreement_type", AGREEMENT_TYPES)
def test_new_partnership_gets_every_clause_of_its_type_with_default_option_and_values(
        database, make_partnership, agreement_type):
    library = load_library()
    p = make_partnership("draft", agreement_type)
    with database.sessions() as s:
        p = s.get(Partnership, p.id)
        latest = latest_versions(s)
        keys = [c.clause_key for c in p.clauses]
        assert sorted(keys) == sorted(c.key for c in library.clauses_for(agreement_type))
        assert len(keys) == len(set(keys))
        for clause in p.clauses:
            option = library.default_option_for(clause.clause_key, agreement_type)
            assert clause.option_key == option.key, clause.clause_key
            assert clause.values == {v.name: v.default for v in option.variables}
            assert clause.included and clause.revision == 1
            assert clause.library_version_id == latest[clause.clause_key].id


def test_nnn_agreement_starts_with_nnn_confidentiality_and_a_bilingual_text(database,
                                                                           make_partnership):
    p = make_partnership("draft", "nnn")
    assert stored(database, p.id, "confidentiality")[0] == "nnn"
    assert stored(database, p.id, "language")[0] == "bilingual"
    q = make_partnership("draft", "nda")
    assert stored(database, q.id, "confidentiality")[0] == "standard"
    assert stored(database, q.id, "language")[0] == "english"


# --- validation writes nothing ---------------------------------------------------------------


@pytest.mark.parametrize("clause_key,option,changes,field", [
    ("confidentiality", "standard", {"term_years": "abc"}, "term_years"),
    ("confidentiality", "standard", {"term_years": 0}, "term_years"),
    ("confidentiality", "standard", {"term_years": 21}, "term_years"),
    ("confidentiality", "standard", {"term_years": True}, "term_years"),
    ("confidentiality", "standard", {"term_years": 4.5}, "term_years"),
    ("confidentiality", "standard", {"non_use_undertaking": "maybe"}, "non_use_undertaking"),
    ("confidentiality", "standard", {"confirmation_days": None}, "confirmation_days"),
    ("confidentiality", "standard", {"surprise": 1}, "surprise"),
    ("dispute_resolution", "wipo_mediation_arbitration", {"seat_country": "ZZ"},
     "seat_country"),
    ("dispute_resolution", "wipo_mediation_arbitration", {"arbitration_seat": "12345"},
     "arbitration_seat"),
    ("dispute_resolution", "wipo_mediation_arbitration",
     {"proceedings_language": "English\nand French"}, "proceedings_language"),
    ("dispute_resolution", "wipo_mediation_arbitration",
     {"proceedings_language": "x" * 61}, "proceedings_language"),
])
def test_invalid_value_is_rejected_by_type_and_nothing_is_written(
        database, session, draft, clause_key, option, changes, field):
    before = stored(database, draft.id, clause_key)
    audit_before = len(events(database, draft.id, "clause_changed"))
    values = {**current_values(database, draft.id, clause_key), **changes}
    with pytest.raises(ValidationFailed) as err:
        set_clause(session, draft.owner, draft.id, clause_key, option, values)
    assert field in err.value.field_errors
    assert stored(database, draft.id, clause_key) == before
    assert len(events(database, draft.id, "clause_changed")) == audit_before


def test_term_years_abc_names_only_term_years(database, session, draft):
    with pytest.raises(ValidationFailed) as err:
        set_clause(session, draft.owner, draft.id, "confidentiality", "standard",
                   {"term_years": "abc", "confirmation_days": 15})
    assert set(err.value.field_errors) == {"term_years"}


def test_unknown_option_is_rejected(database, session, draft):
    before = stored(database, draft.id, "confidentiality")
    with pytest.raises(ValidationFailed) as err:
        set_clause(session, draft.owner, draft.id, "confidentiality", "trust_me", {})
    assert "option" in err.value.field_errors
    assert stored(database, draft.id, "confidentiality") == before


@pytest.mark.parametrize("agreement_type,clause_key", [
    ("collaboration", "confidentiality"), ("collaboration", "export_control"),
    ("nda", "dispute_resolution"),
])
def test_excluding_a_mandatory_clause_is_rejected(database, session, make_partnership,
                                                  agreement_type, clause_key):
    p = make_partnership("draft", agreement_type)
    option, values, *_ = before = stored(database, p.id, clause_key)
    with pytest.raises(ValidationFailed) as err:
        set_clause(session, p.owner, p.id, clause_key, option, values, included=False)
    assert "included" in err.value.field_errors
    assert stored(database, p.id, clause_key) == before


def test_excluding_an_optional_clause_is_allowed(database, session, draft):
    option, values, *_ = stored(database, draft.id, "return_of_information")
    set_clause(session, draft.owner, draft.id, "return_of_information", option, values,
               included=False)
    assert stored(database, draft.id, "return_of_information")[3] is False
    assert "return_of_information" not in {c.key for c in
                                           snapshot_of(database, draft.id).clauses}


@pytest.mark.parametrize("stage", ["legal_review", "approved"])
def test_editing_clauses_outside_editable_stages_is_a_conflict(database, session,
                                                               make_partnership, stage):
    p = make_partnership(stage)
    option, values, *_ = before = stored(database, p.id, "confidentiality")
    with pytest.raises(Conflict):
        set_clause(session, p.owner, p.id, "confidentiality", option,
                   {**values, "term_years": 9})
    assert stored(database, p.id, "confidentiality") == before


@pytest.mark.parametrize("role", ["legal", "admin"])
def test_only_coordinators_choose_clause_options(database, session, draft, make_user, role):
    option, values, *_ = before = stored(database, draft.id, "confidentiality")
    with pytest.raises(PermissionDenied):
        set_clause(session, make_user(role), draft.id, "confidentiality", option,
                   {**values, "term_years": 9})
    assert stored(database, draft.id, "confidentiality") == before


# --- revisions and audit --------------------------------------------------------------------


def test_saving_unchanged_values_bumps_nothing(database, session, draft):
    option, values, *_ = before = stored(database, draft.id, "confidentiality")
    set_clause(session, draft.owner, draft.id, "confidentiality", option, dict(values))
    # The same values as a form posts them (strings) are still no change.
    as_text = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}
    set_clause(session, draft.owner, draft.id, "confidentiality", option, as_text)
    assert stored(database, draft.id, "confidentiality") == before
    assert events(database, draft.id, "clause_changed") == []


def test_a_change_bumps_revision_and_version_and_writes_one_audit_event(database, session,
                                                                        draft):
    option, values, _o, _i, revision, version = stored(database, draft.id, "confidentiality")
    set_clause(session, draft.owner, draft.id, "confidentiality", option,
               {**values, "term_years": 6}, expected_version=version)
    after = stored(database, draft.id, "confidentiality")
    assert after[1]["term_years"] == 6
    assert after[4] == revision + 1
    assert after[5] == version + 1
    changed = events(database, draft.id, "clause_changed")
    assert len(changed) == 1
    assert changed[0].actor_id == draft.owner_id
    assert changed[0].details["clause"] == "confidentiality"
    assert changed[0].details["revision"] == revision + 1
    # Other clauses are untouched.
    assert stored(database, draft.id, "publication")[4] == 1


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(database, session, draft):
    option, values, *_ = before = stored(database, draft.id, "confidentiality")
    with pytest.raises(Conflict):
        set_clause(session, draft.owner, draft.id, "confidentiality", option,
                   {**values, "term_years": 6}, expected_version=before[5] - 1)
    assert stored(database, draft.id, "confidentiality") == before


# --- untrusted text ---------------------------------------------------------------------------


def test_markup_and_template_syntax_in_a_value_are_stored_and_printed_verbatim(
        database, session, draft):
    hostile = f"{SCRIPT} {TEMPLATE}"
    values = {**current_values(database, draft.id, "dispute_resolution"),
              "proceedings_language": hostile}
    set_clause(session, draft.owner, draft.id, "dispute_resolution",
               "wipo_mediation_arbitration", values)
    assert stored(database, draft.id, "dispute_resolution")[1]["proceedings_language"] == hostile
    snapshot = snapshot_of(database, draft.id)
    paragraphs = clause_snapshot(snapshot, "dispute_resolution").paragraphs
    assert any(hostile in para for para in paragraphs)
    assert not any("49" in para for para in paragraphs)
    html = render_html(snapshot, stylesheet="x.css")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert TEMPLATE in html


def test_negotiated_override_text_is_stored_and_printed_verbatim(database, session, draft):
    override = f"{SCRIPT}\n\n{TEMPLATE} {{% if true %}}x{{% endif %}}"
    option, values, *_ = stored(database, draft.id, "liability")
    set_clause(session, draft.owner, draft.id, "liability", option, values,
               override_text=override)
    assert stored(database, draft.id, "liability")[2] == override
    clause = clause_snapshot(snapshot_of(database, draft.id), "liability")
    assert clause.negotiated
    assert clause.paragraphs == (SCRIPT, f"{TEMPLATE} {{% if true %}}x{{% endif %}}")
    html = render_html(snapshot_of(database, draft.id), stylesheet="x.css")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "{{ 7*7 }} {% if true %}x{% endif %}" in html


# --- library versions and rebase ------------------------------------------------------------

ADDED = "This sentence was added in a later version of the library."


def changed_payload(clause_key="publication", edit=None):
    """The library payload with one clause's first option text changed (a new content hash)."""
    payload = library_payload()
    for i, entry in enumerate(payload):
        if entry["key"] == clause_key:
            data = copy.deepcopy(entry["data"])
            if edit is None:
                data["options"][0]["text"] += f"\n\n{ADDED}"
            else:
                edit(data)
            payload[i] = {**entry, "data": data, "content_hash": _hash(data)}
    return payload


def version_count(database) -> int:
    with database.sessions() as s:
        return s.scalar(select(func.count()).select_from(LibraryClauseVersion))


def pinned(database, pid, clause_key):
    with database.sessions() as s:
        c = find_clause(s.get(Partnership, pid), clause_key)
        return c.library_version.version, c.revision


def test_publishing_a_changed_clause_creates_exactly_one_new_version(database, session):
    before = version_count(database)
    report = sync_library(session, SYSTEM_ACTOR, changed_payload())
    changed = [(key, version, status) for key, version, status in report
               if status != "unchanged"]
    assert changed == [("publication", 2, "updated")]
    assert version_count(database) == before + 1
    again = sync_library(session, SYSTEM_ACTOR, changed_payload())
    assert {status for _k, _v, status in again} == {"unchanged"}
    assert version_count(database) == before + 1


def test_syncing_the_unchanged_library_creates_no_version(database, session):
    before = version_count(database)
    report = sync_library(session, SYSTEM_ACTOR, library_payload())
    assert {status for _k, _v, status in report} == {"unchanged"}
    assert version_count(database) == before


def test_only_an_admin_or_the_system_publishes_the_library(database, session, make_user):
    before = version_count(database)
    with pytest.raises(PermissionDenied):
        sync_library(session, make_user("coordinator"), changed_payload())
    assert version_count(database) == before
    sync_library(session, make_user("admin"), changed_payload())
    assert version_count(database) == before + 1


def test_existing_partnership_keeps_its_version_until_rebased(database, session, draft):
    sync_library(session, SYSTEM_ACTOR, changed_payload())
    assert pinned(database, draft.id, "publication") == (1, 1)
    text = " ".join(clause_snapshot(snapshot_of(database, draft.id), "publication").paragraphs)
    assert ADDED not in text

    with database.sessions() as s:
        plan = rebase_plan(s, s.get(Partnership, draft.id))
    assert [(c.clause_key, c.from_version, c.to_version, c.option_kept) for c in plan] == [
        ("publication", 1, 2, True)]
    assert ADDED not in plan[0].old_text and plan[0].new_text.endswith(ADDED)
    assert pinned(database, draft.id, "publication") == (1, 1)  # planning changes nothing

    version = stored(database, draft.id, "publication")[5]
    values = stored(database, draft.id, "publication")[1]
    done = rebase(session, draft.owner, draft.id, expected_version=version)
    assert [c.clause_key for c in done] == ["publication"]
    assert pinned(database, draft.id, "publication") == (2, 2)
    assert stored(database, draft.id, "publication")[1] == values
    assert stored(database, draft.id, "publication")[5] == version + 1
    assert pinned(database, draft.id, "confidentiality") == (1, 1)
    text = " ".join(clause_snapshot(snapshot_of(database, draft.id), "publication").paragraphs)
    assert ADDED in text
    assert len(events(database, draft.id, "clauses_rebased")) == 1
    with database.sessions() as s:
        assert rebase_plan(s, s.get(Partnership, draft.id)) == []


def test_new_partnership_starts_on_the_latest_version(database, session, make_partnership):
    sync_library(session, SYSTEM_ACTOR, changed_payload())
    p = make_partnership("draft")
    assert pinned(database, p.id, "publication") == (2, 1)
    with database.sessions() as s:
        assert rebase_plan(s, s.get(Partnership, p.id)) == []


def test_rebase_falls_back_to_the_default_option_when_the_chosen_one_is_gone(
        database, session, draft):
    icc = {"negotiation_days": 30, "arbitrators": "three arbitrators",
           "arbitration_seat": "Paris", "seat_country": "FR", "proceedings_language": "English"}
    set_clause(session, draft.owner, draft.id, "dispute_resolution", "icc_arbitration", icc)

    def drop_icc(data):
        data["options"] = [o for o in data["options"] if o["key"] != "icc_arbitration"]

    sync_library(session, SYSTEM_ACTOR, changed_payload("dispute_resolution", drop_icc))
    with database.sessions() as s:
        plan = rebase_plan(s, s.get(Partnership, draft.id))
    assert [(c.clause_key, c.option_kept) for c in plan] == [("dispute_resolution", False)]
    rebase(session, draft.owner, draft.id)
    option, values, *_ = stored(database, draft.id, "dispute_resolution")
    assert option == "wipo_mediation_arbitration"
    assert set(values) == {"negotiation_days", "mediation_days", "arbitration_seat",
                           "seat_country", "proceedings_language"}


def test_rebase_outside_editable_stages_is_a_conflict(database, session, make_partnership):
    p = make_partnership("legal_review")
    sync_library(session, SYSTEM_ACTOR, changed_payload())
    with pytest.raises(Conflict):
        rebase(session, p.owner, p.id)
    assert pinned(database, p.id, "publication") == (1, 1)


def test_rebase_makes_an_earlier_approval_stale(database, session, make_partnership,
                                                 make_user):
    from workflow.clauses import APPROVED, STALE, review_status
    from workflow.services.review import review_clause
    from workflow.services.transitions import advance

    p = make_partnership("legal_review")
    legal = make_user("legal")
    review_clause(session, legal, p.id, "publication", "approve")
    advance(session, p.id, "request_changes", legal, comment="Rebase onto the new library.")
    with database.sessions() as s:
        c = find_clause(s.get(Partnership, p.id), "publication")
        assert review_status(c) == APPROVED
    sync_library(session, SYSTEM_ACTOR, changed_payload())
    rebase(session, p.owner, p.id)
    with database.sessions() as s:
        c = s.scalars(select(AgreementClause).where(AgreementClause.partnership_id == p.id,
                                                    AgreementClause.clause_key == "publication")
                      ).one()
        assert review_status(c) == STALE


# --- the clause page, posted as a browser posts it ----------------------------------------------


class _BrowserForm(HTMLParser):
    """Collect what a browser submits from each POST form of a page, in document order:
    hidden/text inputs, checked radios and checkboxes, selected options, textareas."""

    def __init__(self, choose: dict, tick: set, fill: dict) -> None:
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._fields: list | None = None
        self._select: list | None = None
        self._textarea: list | None = None
        self.choose, self.tick, self.fill = choose, tick, fill

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._fields = []
            self.forms.append(self._fields)
            return
        name = a.get("name")
        if self._fields is None or not name and tag != "option":
            return
        kind = a.get("type", "text")
        if tag == "input" and kind == "radio":
            chosen = self.choose.get(name)
            if (chosen is None and "checked" in a) or chosen == a.get("value"):
                self._fields.append((name, a.get("value", "on")))
        elif tag == "input" and kind == "checkbox":
            if "checked" in a or a.get("id") in self.tick:
                self._fields.append((name, a.get("value", "on")))
        elif tag == "input" and kind not in ("submit", "button", "image", "reset"):
            self._fields.append((name, self.fill.get(a.get("id"), a.get("value", ""))))
        elif tag == "select":
            self._select = [name, None, None]
        elif tag == "option" and self._select is not None:
            if self._select[2] is None:
                self._select[2] = a.get("value")
            if "selected" in a:
                self._select[1] = a.get("value")
        elif tag == "textarea":
            self._textarea = [name, a.get("id"), ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._fields = None
        elif tag == "select" and self._select is not None:
            name, selected, first = self._select
            self._fields.append((name, selected if selected is not None else first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, ident, text = self._textarea
            self._fields.append((name, self.fill.get(ident, text)))
            self._textarea = None


@pytest.fixture
def web(database, tmp_path, monkeypatch):
    """A test client of the app on the test database."""
    from config import TestingConfig
    from web import create_app

    monkeypatch.setenv("TEST_DATABASE_URL", database.url)
    config = TestingConfig()
    config.DATABASE_URL = database.url
    config.INSTANCE_PATH = tmp_path
    app = create_app(config)
    yield app.test_client()
    app.extensions["clusterpact.engine"].dispose()


def post_clause_page(web, pid, clause_key, choose=None, tick=(), fill=None):
    """Open the clause page and submit its form the way a browser would."""
    url = f"/partnerships/{pid}/clauses/{clause_key}"
    page = web.get(url)
    assert page.status_code == 200
    parser = _BrowserForm(choose or {}, set(tick), fill or {})
    parser.feed(page.get_data(as_text=True))
    form = next(f for f in parser.forms if any(name == "option" for name, _ in f))
    return web.post(url, data=MultiDict(form))


def login(web, user):
    from tests.web.conftest import Auth

    assert Auth(web).login(user.email).status_code == 302


def test_clause_page_saved_unchanged_is_accepted(database, web, draft):
    login(web, draft.owner)
    before = stored(database, draft.id, "confidentiality")
    response = post_clause_page(web, draft.id, "confidentiality")
    assert response.status_code == 302
    assert stored(database, draft.id, "confidentiality") == before


def test_clause_page_saves_a_ticked_non_use_undertaking(database, web, draft):
    login(web, draft.owner)
    response = post_clause_page(web, draft.id, "confidentiality",
                                tick={"var-standard-non_use_undertaking"})
    assert response.status_code == 302
    assert stored(database, draft.id, "confidentiality")[1]["non_use_undertaking"] is True


def test_clause_page_switches_confidentiality_to_nnn(database, web, draft):
    login(web, draft.owner)
    response = post_clause_page(web, draft.id, "confidentiality", choose={"option": "nnn"})
    assert response.status_code == 302
    assert stored(database, draft.id, "confidentiality")[0] == "nnn"


def test_clause_page_saves_a_changed_value(database, web, draft):
    login(web, draft.owner)
    response = post_clause_page(web, draft.id, "publication",
                                fill={"var-prior_notice-notice_days": "50"})
    assert response.status_code == 302
    option, values, _o, _i, revision, _v = stored(database, draft.id, "publication")
    assert values["notice_days"] == 50 and revision == 2


def test_clause_page_saved_unchanged_keeps_a_ticked_box_ticked(database, web, draft):
    login(web, draft.owner)
    before = stored(database, draft.id, "export_control")
    assert before[1]["end_use_statement"] is True
    response = post_clause_page(web, draft.id, "export_control")
    assert response.status_code == 302
    assert stored(database, draft.id, "export_control") == before
