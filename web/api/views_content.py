"""What a partnership contains: clauses and their reviews, comments, the background-IP
register and the due-diligence checklist."""

from __future__ import annotations

from workflow import queries
from workflow.clauses import review_status
from workflow.definitions import get_workflow
from workflow.errors import PermissionDenied, ValidationFailed
from workflow.roles import is_staff
from workflow.services import background
from workflow.services import partnerships as svc
from workflow.services.clauses import set_clause
from workflow.services.review import add_comment, review_clause, visible_comments

from ..db import get_db
from . import outputs as o
from . import present, v1
from .auth import actor
from .schemas import AssetIn, BackgroundIpIn, ClauseIn, CommentIn, DueDiligenceIn, ReviewIn
from .spec import operation
from .views_partnerships import ONE

TAG = "Partnership content"
WRITE_ERRORS = (403, 409, 413, 422)


@v1.put(ONE + "/clauses/<clause_key>")
@operation("setClause", TAG, errors=WRITE_ERRORS, HTTP_200=o.ClauseResult)
def put_clause(partnership_id: int, clause_key: str, json: ClauseIn):
    """Choose a clause's option and variable values, and optionally negotiated wording."""
    db, user = get_db(), actor()
    set_clause(db, user, partnership_id, clause_key, json.option, json.variables,
               json.override_text, json.included, expected_version=json.expected_version)
    p = queries.get_partnership(db, user, partnership_id)
    row = next(r for r in present.rows(db, p)[2] if r.key == clause_key)
    return o.ClauseResult(**dict(present.clause(row, user)), partnership_version=p.version)


@v1.post(ONE + "/clauses/<clause_key>/reviews")
@operation("reviewClause", TAG, errors=WRITE_ERRORS, HTTP_201=o.ReviewResult)
def post_review(partnership_id: int, clause_key: str, json: ReviewIn):
    """Record a legal advisor's decision on the clause's current revision."""
    db, user = get_db(), actor()
    review = review_clause(db, user, partnership_id, clause_key, json.decision, json.comment,
                           json.visibility, expected_version=json.expected_version)
    p = queries.get_partnership(db, user, partnership_id)
    return o.ReviewResult(**dict(present.review(review)), clause=clause_key,
                          clause_status=review_status(review.clause),
                          partnership_version=p.version), 201


@v1.get(ONE + "/comments")
@operation("listComments", TAG, HTTP_200=o.CommentList)
def list_comments(partnership_id: int):
    """The comments you may read (partners never receive internal ones)."""
    db, user = get_db(), actor()
    p = queries.get_partnership(db, user, partnership_id)
    return o.CommentList(items=[present.comment(c) for c in visible_comments(db, user, p)])


@v1.post(ONE + "/comments")
@operation("postComment", TAG, errors=(403, 413, 422), HTTP_201=o.CommentOut)
def post_comment(partnership_id: int, json: CommentIn):
    """Post a comment on the partnership or one of its clauses."""
    comment = add_comment(get_db(), actor(), partnership_id, json.body, json.visibility,
                          json.clause)
    return present.comment(comment), 201


@v1.get(ONE + "/background-ip")
@operation("getBackgroundIp", TAG, HTTP_200=o.BackgroundRegister)
def get_background_ip(partnership_id: int):
    """The background-IP register (Annex 1): each party's assets or its 'none' declaration."""
    return present.register(queries.get_partnership(get_db(), actor(), partnership_id))


@v1.post(ONE + "/background-ip")
@operation("addBackgroundIp", TAG, errors=WRITE_ERRORS, HTTP_201=o.BackgroundRegister,
           HTTP_200=o.BackgroundRegister)
def post_background_ip(partnership_id: int, json: BackgroundIpIn):
    """List one asset of a party (201), or declare that a party brings none (200).

    `{"party_id", "none": true}` declares none; `"none": false` withdraws the declaration.
    """
    db, user, entry = get_db(), actor(), json.root
    if isinstance(entry, AssetIn):
        data = background.AssetInput(
            entry.title, entry.asset_type, entry.identifiers, entry.jurisdictions,
            entry.restrictions, entry.access_implementation, entry.access_exploitation)
        background.add_asset(db, user, partnership_id, entry.party_id, data,
                             expected_version=entry.expected_version)
        status = 201
    else:
        svc.declare_no_background_ip(db, user, partnership_id, entry.party_id, entry.none,
                                     expected_version=entry.expected_version)
        status = 200
    return present.register(queries.get_partnership(db, user, partnership_id)), status


@v1.get(ONE + "/due-diligence")
@operation("getDueDiligence", TAG, errors=(403,), HTTP_200=o.DueDiligence)
def get_due_diligence(partnership_id: int):
    """The due-diligence checklist and the state of each item (cluster staff)."""
    user = actor()
    p = queries.get_partnership(get_db(), user, partnership_id)
    if not is_staff(user.role):
        raise PermissionDenied("The due-diligence checklist is for cluster staff.")
    return present.due_diligence(p)


@v1.put(ONE + "/due-diligence")
@operation("setDueDiligence", TAG, errors=WRITE_ERRORS, HTTP_200=o.DueDiligence)
def put_due_diligence(partnership_id: int, json: DueDiligenceIn):
    """Set checklist items done or open, with notes; unchanged items are left alone.

    Each changed item is one change of the partnership: the first is checked against
    `expected_version`, later ones against the version the previous change produced.
    """
    db, user = get_db(), actor()
    p = queries.get_partnership(db, user, partnership_id)
    if not is_staff(user.role):
        raise PermissionDenied("The due-diligence checklist is for cluster staff.")
    known = {item.key for item in get_workflow(p.workflow_key).checklist}
    unknown = {f"items[{i}].key": f"Not an item of this checklist: {item.key}."
               for i, item in enumerate(json.items) if item.key not in known}
    if unknown:
        raise ValidationFailed("Unknown checklist items.", unknown)
    version = json.expected_version
    for item in json.items:
        check = next((c for c in p.checks if c.item_key == item.key), None)
        if check is not None and (check.done, check.note) == (item.done, item.note):
            continue
        svc.set_check(db, user, partnership_id, item.key, item.done, item.note,
                      expected_version=version)
        p = queries.get_partnership(db, user, partnership_id)
        version = p.version
    return present.due_diligence(p)
