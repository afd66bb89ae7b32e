"""The outbox is written with the change: who is told what, nothing on rollback, dedupe keys."""

from __future__ import annotations

import io

import pypdf
import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from tests.helpers import build_partnership, prepare_for
from workflow.definitions import DefinitionError, parse_definition
from workflow.errors import GuardFailed
from workflow.models import Notification, Partnership
from workflow.notifications import KINDS, TEMPLATE_DIR, notify, render
from workflow.services.transitions import advance

SIGNATORY_IT = "elena@example.org"  # party_inputs: the EU party's signatory has no account


@pytest.fixture
def cast(session, make_org, make_user):
    """A partnership's people: owner, two legal advisors, partner users, outsiders."""
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    people = {
        "owner": make_user("coordinator"),
        "legal": make_user("legal"),
        "legal2": make_user("legal"),
        "legal_off": make_user("legal"),
        "coordinator2": make_user("coordinator"),
        "partner_it": make_user("partner", organisation=eu),
        "partner_cn": make_user("partner", organisation=cn),
        # The counterpart's signatory has an account: told once, as that user.
        "signatory_cn": make_user("partner", organisation=cn, email="li.wei@example.cn"),
        "partner_other": make_user("partner", organisation=make_org("BR")),
        "partner_off": make_user("partner", organisation=cn),
    }
    for name in ("legal_off", "partner_off"):
        people[name].active = False
    session.commit()

    def walk(stage):
        return build_partnership(session, people["owner"], people["legal"], eu, cn, stage)

    return people, walk


def told(session, people, partnership_id, kind):
    """Names (or bare addresses) of everyone with a notification of `kind`."""
    names = {u.id: n for n, u in people.items()}
    rows = session.scalars(select(Notification).where(
        Notification.partnership_id == partnership_id, Notification.kind == kind))
    return sorted(names[r.user_id] if r.user_id else r.to_email for r in rows)


CASES = [
    # (stage, trigger, actor, comment, kind, told)
    ("negotiation", "submit_for_review", "owner", None, "submitted_for_review",
     ["legal", "legal2"]),
    ("legal_review", "request_changes", "legal", "Clause 7 needs a cap.", "changes_requested",
     ["owner"]),
    ("legal_review", "approve", "legal", None, "approved", ["owner"]),
    ("approved", "send_for_signature", "owner", None, "sent_for_signature",
     [SIGNATORY_IT, "partner_cn", "partner_it", "signatory_cn"]),
    ("signing", "complete", "owner", None, "activated",
     [SIGNATORY_IT, "legal", "partner_cn", "partner_it", "signatory_cn"]),
]


@pytest.mark.parametrize(("stage", "trigger", "actor", "comment", "kind", "expected"), CASES,
                         ids=[c[1] for c in CASES])
def test_each_transition_tells_its_audience(session, cast, stage, trigger, actor, comment,
                                            kind, expected):
    people, walk = cast
    p = walk(stage)
    prepare_for(session, p, trigger, people["owner"], people["legal"])
    before = session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    advance(session, p.id, trigger, people[actor], comment=comment)
    assert told(session, people, p.id, kind) == expected
    new = session.scalars(select(Notification).where(Notification.id > (before or 0))).all()
    assert {r.kind for r in new} == {kind}  # nothing else is sent by this step
    assert all(r.link == f"/partnerships/{p.id}" and r.email_status == "pending" for r in new)


def test_the_actor_is_not_told_what_they_did(session, cast):
    people, walk = cast
    p = walk("signing")
    prepare_for(session, p, "complete", people["owner"])
    advance(session, p.id, "complete", people["owner"])
    assert "owner" not in told(session, people, p.id, "activated")


def test_transitions_without_notify_write_nothing(session, cast):
    people, walk = cast
    p = walk("draft")
    advance(session, p.id, "start_due_diligence", people["owner"])
    assert session.scalars(select(Notification)).all() == []


def test_a_transition_comment_reaches_staff_only(session, cast):
    people, walk = cast
    p = walk("legal_review")
    advance(session, p.id, "request_changes", people["legal"], comment="Internal: cap at 2M")
    (row,) = session.scalars(select(Notification).where(Notification.kind == "changes_requested"))
    assert "Internal: cap at 2M" in row.body
    subject, body = render("changes_requested", {
        "partnership": p, "actor_name": "L", "to_stage_label": "Negotiation",
        "comment": "Internal: cap at 2M", "recipient_name": "P", "has_account": True,
        "recipient_is_staff": False})
    assert "Internal" not in body and "Internal" not in subject


def test_a_guard_failure_leaves_no_notification(session, cast):
    people, walk = cast
    p = walk("negotiation")  # clauses not filled: submit_for_review is blocked
    with pytest.raises(GuardFailed):
        advance(session, p.id, "submit_for_review", people["owner"])
    assert session.scalars(select(Notification)).all() == []


def test_an_error_before_commit_rolls_the_notifications_back(session, cast):
    people, walk = cast
    p = walk("legal_review")
    before = session.scalars(select(Notification)).all()

    def crash(_session):
        raise RuntimeError("the database went away at commit")

    event.listen(session, "before_commit", crash, once=True)
    with pytest.raises(RuntimeError):
        advance(session, p.id, "request_changes", people["legal"], comment="Fix it")
    session.expire_all()
    assert session.get(Partnership, p.id).stage == "legal_review"
    assert session.scalars(select(Notification)).all() == before
    assert not any(r.kind == "changes_requested" for r in before)


def test_clause_changes_requested_tells_the_owner(session, cast):
    from workflow.services.review import review_clause

    people, walk = cast
    p = walk("legal_review")
    clause = p.clauses[0]
    review_clause(session, people["legal"], p.id, clause.clause_key, "request_changes",
                  comment="Too broad")
    assert told(session, people, p.id, "clause_changes_requested") == ["owner"]
    review_clause(session, people["legal"], p.id, clause.clause_key, "approve")
    assert told(session, people, p.id, "clause_changes_requested") == ["owner"]


def test_dedupe_key_gives_each_recipient_one_row(session, cast):
    people, walk = cast
    p = walk("draft")
    ctx = {"actor_name": "System"}
    first = notify(session, [people["owner"], people["legal"]], "submitted_for_review", ctx,
                   partnership=p, dedupe_key="reminder:1")
    # Same transaction, not flushed yet: still one each.
    again = notify(session, [people["owner"], "outsider@example.net"], "submitted_for_review",
                   ctx, partnership=p, dedupe_key="reminder:1")
    session.commit()
    later = notify(session, [people["owner"], people["legal"], people["legal2"],
                             "Outsider@Example.net"], "submitted_for_review", ctx,
                   partnership=p, dedupe_key="reminder:1")
    session.commit()
    assert len(first) == 2 and [r.to_email for r in again] == ["outsider@example.net"]
    assert [r.user_id for r in later] == [people["legal2"].id]
    assert len(session.scalars(select(Notification)).all()) == 4


def test_the_database_refuses_a_second_row_with_the_same_dedupe_key(session, cast):
    people, _ = cast
    for _ in range(2):
        session.add(Notification(user_id=people["owner"].id, kind="approved", subject="s",
                                 body="b", dedupe_key="k"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_inactive_users_and_duplicates_get_nothing(session, cast):
    people, walk = cast
    p = walk("draft")
    rows = notify(session, [people["legal_off"], people["owner"], people["owner"], None,
                            "not-an-address", people["owner"].email.upper()],
                  "approved", {"actor_name": "L"}, partnership=p)
    assert [r.user_id for r in rows] == [people["owner"].id]


def test_links_must_be_paths_on_this_site(session, cast):
    people, _ = cast
    for link in ("https://evil.example/x", "//evil.example", "/ok\r\nX: y"):
        with pytest.raises(ValueError):
            notify(session, [people["owner"]], "approved", {}, link=link)


def test_every_kind_has_a_template_with_a_subject_line():
    for kind in KINDS:
        text = (TEMPLATE_DIR / f"{kind}.txt").read_text()
        subject, _, body = text.partition("\n")
        assert subject.strip() and body.strip(), kind


def test_definitions_name_the_kind_or_audience_they_do_not_know():
    base = {"key": "w", "label": "W", "initial": "a",
            "states": [{"name": "a", "label": "A"}, {"name": "b", "label": "B", "terminal": True}],
            "transitions": [{"trigger": "go", "sources": ["a"], "dest": "b",
                             "roles": ["coordinator"], "notify": []}]}
    bad = [
        ({"kind": "postcard", "to": ["owner"]}, "unknown notification kind 'postcard'"),
        ({"kind": "approved", "to": ["the_press"]}, "unknown audience 'the_press'"),
        ({"kind": "approved", "to": []}, "needs at least one audience"),
        ({"kind": "approved"}, "missing key(s) to"),
    ]
    for entry, message in bad:
        base["transitions"][0]["notify"] = [entry]
        with pytest.raises(DefinitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_definition(base, "w.yaml", guards={}, effects={})


def test_signed_copy_verdicts_tell_the_owner_and_the_uploader(session, cast, document_layer):
    from contracts.issuing import make_verifier
    from contracts.signing import make_certificate, sign_field, signer_from_objects
    from workflow.services import documents as docs

    people, walk = cast
    p = walk("signing")
    verify = make_verifier(document_layer)
    uploader = people["partner_cn"]
    rejected = docs.upload_signed_copy(session, uploader, p.id, b"%PDF-1.7 not the agreement",
                                       "forged.pdf", verify)
    assert rejected.status == "rejected"
    assert told(session, people, p.id, "signed_copy_rejected") == ["owner", "partner_cn"]

    issued = docs.current_issued(session, p.id)
    party = p.parties[1]
    key, cert = make_certificate(party.organisation.name, organisation=party.organisation.name)
    signed = sign_field(docs.content_of(session, issued), docs.field_name(party.id),
                        signer_from_objects(key, cert))
    accepted = docs.upload_signed_copy(session, uploader, p.id, signed, "signed.pdf", verify)
    assert accepted.status == "accepted", accepted.reason
    assert told(session, people, p.id, "signed_copy_accepted") == ["owner", "partner_cn"]
    row = session.scalars(select(Notification).where(
        Notification.kind == "signed_copy_accepted",
        Notification.user_id == uploader.id)).one()
    assert "signed.pdf" in row.body and row.link == f"/partnerships/{p.id}#documents"

    # The same copy re-saved by another tool: held for the coordinator, who is told so.
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(signed)))
    out = io.BytesIO()
    writer.write(out)
    held = docs.upload_signed_copy(session, uploader, p.id, out.getvalue(), "resaved.pdf",
                                   verify)
    assert held.status == "manual_review", held.reason
    assert told(session, people, p.id, "signed_copy_manual_review") == ["owner", "partner_cn"]
