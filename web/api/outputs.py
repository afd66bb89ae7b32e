"""Response bodies of partnerships and their content and documents (pydantic v2): built by
present.py, described in the spec."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, JsonValue

from .outputs_reference import OrganisationOut, Out, Person


class PartySummary(Out):
    id: int
    organisation_id: int
    name: str
    country: str
    role: str


class PartnershipSummary(Out):
    id: int
    reference: str
    title: str
    workflow: str
    agreement_type: str
    stage: str
    stage_label: str
    version: int
    owner: Person
    parties: list[PartySummary]
    updated_at: datetime


class PartnershipPage(Out):
    items: list[PartnershipSummary]
    page: int
    per_page: int
    total: int


class Signatory(Out):
    name: str | None
    title: str | None
    email: str | None


class PartyOut(Out):
    id: int
    organisation: OrganisationOut
    role: str
    signatory: Signatory
    background_none: bool
    background_declared: bool


class ReviewOut(Out):
    id: int
    decision: str
    comment: str | None
    visibility: str
    clause_revision: int
    reviewer: Person | None
    created_at: datetime


class ClauseOut(Out):
    key: str
    title: str
    option: str
    option_label: str
    values: dict[str, JsonValue]
    override_text: str | None
    included: bool
    mandatory: bool
    revision: int
    library_version: int
    status: str | None = Field(description="Review status (staff only): pending, approved, "
                                           "changes_requested or stale")
    problems: list[str] | None = Field(description="What is missing (staff only)")
    reviews: list[ReviewOut]


class SafeguardResultOut(Out):
    rule: str
    clause: str
    country: str
    scope: str
    requirement: str
    severity: str
    met: bool
    waived: bool
    blocking: bool
    message: str


class TransitionOptionOut(Out):
    trigger: str
    label: str
    dest: str
    allowed: bool
    reasons: list[str]
    requires_comment: bool


class PartnershipDetail(PartnershipSummary):
    sector: str | None
    start_date: date | None
    end_date: date | None
    created_at: datetime
    stage_entered_at: datetime
    parties: list[PartyOut]
    clauses: list[ClauseOut]
    safeguards: list[SafeguardResultOut] | None = Field(description="Staff only")
    available_transitions: list[TransitionOptionOut] = Field(
        description="The transitions from the current stage and why each is blocked; empty "
                    "for partners, who fire none")


class TransitionResult(Out):
    id: int
    reference: str
    stage: str
    stage_label: str
    version: int


class ClauseResult(ClauseOut):
    partnership_version: int


class ReviewResult(ReviewOut):
    clause: str
    clause_status: str
    partnership_version: int


class EventOut(Out):
    id: int
    occurred_at: datetime
    actor: Person | None
    actor_role: str
    action: str
    trigger: str | None
    from_stage: str | None
    to_stage: str | None
    comment: str | None = Field(description="Staff only, but for reviews shared with partners")
    details: dict[str, JsonValue] | None = Field(
        description="Staff only, but for reviews shared with partners")


class History(Out):
    items: list[EventOut]


class AssetOut(Out):
    id: int
    title: str
    asset_type: str
    identifiers: str | None
    jurisdictions: str | None
    restrictions: str | None
    access_implementation: str | None
    access_exploitation: str | None
    created_at: datetime


class PartyRegister(Out):
    party_id: int
    organisation: str
    country: str
    background_none: bool
    declared: bool
    assets: list[AssetOut]


class BackgroundRegister(Out):
    partnership_version: int
    parties: list[PartyRegister]


class CheckOut(Out):
    key: str
    label: str
    done: bool
    note: str | None
    checked_by: int | None
    checked_at: datetime | None


class DueDiligence(Out):
    partnership_version: int
    items: list[CheckOut]


class CommentOut(Out):
    id: int
    clause: str | None
    body: str
    visibility: str
    author: Person | None
    created_at: datetime


class CommentList(Out):
    items: list[CommentOut]


class DocumentOut(Out):
    id: int
    kind: str
    version: int
    status: str
    filename: str
    media_type: str
    sha256: str
    size: int
    created_at: datetime
    superseded_at: datetime | None
    reason: str | None
    issued_document_id: int | None
    download: str = Field(description="Where to GET the bytes")


class DocumentList(Out):
    items: list[DocumentOut]


class SignatureCheckOut(Out):
    field: str
    party_id: int | None
    signer_subject: str
    certificate_sha256: str
    signing_time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str


class SignedCopyResult(Out):
    document: DocumentOut
    status: str = Field(description="accepted or manual_review (a rejected copy answers 422)")
    reason: str
    signatures: list[SignatureCheckOut]
