"""Partnerships: list, create, read, change parties, advance, history."""

from __future__ import annotations

import re
from contextlib import contextmanager

from flask import url_for

from workflow import listing, queries
from workflow.errors import NotFound, ValidationFailed
from workflow.services import partnerships as svc
from workflow.services.transitions import advance

from ..db import get_db
from . import outputs as o
from . import present, v1
from .auth import actor
from .schemas import PartnershipIn, PartnershipPatch, PartnershipQuery, TransitionIn
from .spec import operation

ONE = "/partnerships/<int:partnership_id>"
TAG = "Partnerships"


@v1.get("/partnerships")
@operation("listPartnerships", TAG, errors=(422,), HTTP_200=o.PartnershipPage)
def list_partnerships(query: PartnershipQuery):
    """The partnerships you may see, most recently changed first, a page at a time."""
    filters = listing.Filters(stage=query.stage or "", country=query.country or "",
                              q=query.q or "")
    page = listing.numbered_page(get_db(), actor(), filters, query.page, query.per_page)
    return o.PartnershipPage(items=[present.summary(p) for p in page.items], page=page.page,
                             per_page=page.per_page, total=page.total)


@v1.post("/partnerships")
@operation("createPartnership", TAG, errors=(403, 413, 422), HTTP_201=o.PartnershipDetail)
def create_partnership(json: PartnershipIn):
    """Create a partnership in its workflow's first stage (coordinators)."""
    db, user = get_db(), actor()
    parties = [svc.PartyInput(x.organisation_id, x.role, *_signatory(x.signatory))
               for x in json.parties]
    with api_field_names():
        p = svc.create_partnership(db, user, json.title, json.agreement_type, parties,
                                   workflow_key=json.workflow, sector=json.sector,
                                   start_date=json.start_date, end_date=json.end_date)
    body = present.detail(db, queries.get_partnership(db, user, p.id), user)
    return body, 201, {"Location": url_for(".get_partnership", partnership_id=p.id)}


@contextmanager
def api_field_names(prefix: str = ""):
    """Name the fields of a service's validation errors as the API's request bodies do
    (`signatory_email` -> `signatory.email`)."""
    try:
        yield
    except ValidationFailed as exc:
        renamed = {prefix + re.sub(r"signatory_(name|title|email)", r"signatory.\1", name): text
                   for name, text in exc.field_errors.items()}
        raise ValidationFailed(exc.detail, renamed, **exc.extra) from exc


def _signatory(signatory, current=None) -> tuple:
    """(name, title, email): the given fields, the current ones where not given."""
    names = ("signatory_name", "signatory_title", "signatory_email")
    old = tuple(getattr(current, n) for n in names) if current else (None, None, None)
    if signatory is None:
        return old
    given = signatory.model_fields_set
    return tuple(getattr(signatory, f) if f in given else old[i]
                 for i, f in enumerate(("name", "title", "email")))


@v1.get(ONE)
@operation("getPartnership", TAG, HTTP_200=o.PartnershipDetail)
def get_partnership(partnership_id: int):
    """A partnership with parties, clauses, and the transitions you could fire now."""
    db, user = get_db(), actor()
    return present.detail(db, queries.get_partnership(db, user, partnership_id), user)


@v1.patch(ONE)
@operation("updatePartnership", TAG, errors=(403, 409, 413, 422),
           HTTP_200=o.PartnershipDetail)
def update_partnership(partnership_id: int, json: PartnershipPatch):
    """Change parties' roles and signatories, in order, each as one change of the partnership.

    The first change is checked against `expected_version`; each later one against the
    version the previous change produced.
    """
    db, user = get_db(), actor()
    p = queries.get_partnership(db, user, partnership_id)
    version = json.expected_version
    for index, change in enumerate(json.parties):
        current = next((x for x in p.parties if x.id == change.id), None)
        if current is None:
            raise NotFound(f"Party {change.id} is not part of {p.reference}.")
        data = svc.PartyInput(current.organisation_id, change.role or current.role,
                              *_signatory(change.signatory, current))
        with api_field_names(f"parties[{index}]."):
            svc.update_party(db, user, partnership_id, change.id, data,
                             expected_version=version)
        p = queries.get_partnership(db, user, partnership_id)
        version = p.version
    return present.detail(db, p, user)


@v1.post(ONE + "/transitions")
@operation("advancePartnership", TAG, errors=(403, 409, 413, 422), HTTP_200=o.TransitionResult)
def transition(partnership_id: int, json: TransitionIn):
    """Fire a workflow trigger; answers the new stage and version.

    409: the version changed, or the trigger does not start from the current stage.
    403: your role may not fire it. 422: blocked, with every reason.
    """
    p = advance(get_db(), partnership_id, json.trigger, actor(), comment=json.comment,
                expected_version=json.expected_version)
    return o.TransitionResult(id=p.id, reference=p.reference, stage=p.stage,
                              stage_label=present.stage_label(p), version=p.version)


@v1.get(ONE + "/history")
@operation("getHistory", TAG, HTTP_200=o.History)
def history(partnership_id: int):
    """Every audit event of the partnership, oldest first."""
    db, user = get_db(), actor()
    p = queries.get_partnership(db, user, partnership_id)
    return o.History(items=[present.event(e, user) for e in queries.history(db, p.id)])
