"""Request bodies and query strings of the API, and the problem document (pydantic v2).

These models validate requests *and* generate the OpenAPI description. They check shape
and types only; every business rule stays in the workflow services they are passed to.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints
from spectree.model_adapter.pydantic_adapter import BaseFile

from workflow.agreement_types import AGREEMENT_TYPES
from workflow.db import INT32_MAX as INT32
from workflow.models.clauses import DECISIONS, VISIBILITIES
from workflow.roles import ASSET_TYPES, ORG_KINDS, PARTY_ROLES

# Text without control characters (multi-line text may hold tabs and line breaks).
_LINE = r"^[^\x00-\x1f\x7f]*$"
_MULTILINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def line(max_length: int, min_length: int = 0):
    """A single line of text of at most `max_length` characters."""
    return Annotated[str, StringConstraints(pattern=_LINE, max_length=max_length,
                                            min_length=min_length)]


def text(max_length: int):
    """Multi-line text of at most `max_length` characters."""
    return Annotated[str, StringConstraints(pattern=_MULTILINE, max_length=max_length)]


Id = Annotated[int, Field(ge=1, le=INT32)]
Version = Annotated[int, Field(ge=1, le=INT32, description="The partnership version you saw")]
Scalar = str | Annotated[int, Field(ge=-(10**18), le=10**18)] | Annotated[
    float, Field(allow_inf_nan=False)] | bool | None


class Input(BaseModel):
    """A request body: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    """An RFC 9457 problem document (application/problem+json)."""

    type: str = Field(description="A URI reference naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    reasons: list[str] | None = Field(None, description="Why a step is blocked, one per line")
    errors: dict[str, str] | None = Field(None, description="Field name to message")
    current_version: int | None = None
    current_stage: str | None = None
    retry_after: int | None = None
    document_id: int | None = None


class TokenRequest(Input):
    email: line(254, 1)
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    name: line(120) | None = Field(None, description="A label for your own list of tokens")
    totp: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = Field(
        None, description="The current code of your authenticator app; required when "
                          "two-factor authentication is on for your account")


class OrganisationIn(Input):
    name: line(200, 1)
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(
        description="ISO 3166-1 alpha-2 code")
    kind: Literal[ORG_KINDS]
    city: line(120) | None = None


class SignatoryIn(Input):
    name: line(120) | None = None
    title: line(120) | None = None
    email: line(254) | None = None


class PartyIn(Input):
    organisation_id: Id
    role: Literal[PARTY_ROLES]
    signatory: SignatoryIn | None = None


class PartnershipIn(Input):
    title: line(200, 1)
    agreement_type: Literal[tuple(AGREEMENT_TYPES)]
    workflow: line(60) | None = Field(None, description="Default: the agreement type's workflow")
    sector: line(80) | None = None
    start_date: date | None = None
    end_date: date | None = None
    parties: list[PartyIn] = Field(default_factory=list, max_length=20)


class PartyPatch(Input):
    id: Id = Field(description="The party's id (see `parties` of the partnership)")
    role: Literal[PARTY_ROLES] | None = Field(None, description="Default: unchanged")
    signatory: SignatoryIn | None = Field(None, description="Default: unchanged")


class PartnershipPatch(Input):
    expected_version: Version
    parties: list[PartyPatch] = Field(min_length=1, max_length=20, description=(
        "Party changes, applied in order; each is its own change of the partnership"))


class ClauseIn(Input):
    option: line(60, 1)
    variables: dict[line(60), Scalar] = Field(default_factory=dict, max_length=50)
    override_text: text(20_000) | None = Field(None, description="Negotiated wording")
    included: bool = True
    expected_version: Version | None = None


class ReviewIn(Input):
    decision: Literal[DECISIONS]
    comment: text(5000) | None = Field(None, description="Required to request changes")
    visibility: Literal[VISIBILITIES] = "internal"
    expected_version: Version | None = None


class AssetIn(Input):
    party_id: Id
    title: line(200, 1)
    asset_type: Literal[ASSET_TYPES]
    identifiers: line(400) | None = None
    jurisdictions: line(400) | None = None
    restrictions: text(4000) | None = None
    access_implementation: text(4000) | None = None
    access_exploitation: text(4000) | None = None
    expected_version: Version | None = None


class NoneDeclarationIn(Input):
    party_id: Id
    none: bool = Field(description="true: the party brings no background IP; false: withdraw")
    expected_version: Version | None = None


class BackgroundIpIn(RootModel[AssetIn | NoneDeclarationIn]):
    """One background-IP asset of a party, or a party's declaration that it brings none."""


class CheckIn(Input):
    key: line(60, 1)
    done: bool
    note: text(2000) | None = None


class DueDiligenceIn(Input):
    items: list[CheckIn] = Field(min_length=1, max_length=50)
    expected_version: Version | None = None


class TransitionIn(Input):
    trigger: line(60, 1)
    comment: text(5000) | None = None
    expected_version: Version


class CommentIn(Input):
    body: text(5000)
    visibility: Literal[VISIBILITIES] = Field("internal", description="Partners always post "
                                              "partner-visible comments")
    clause: line(60) | None = Field(None, description="The clause key the comment is about")


class SignedCopyForm(BaseModel):
    file: BaseFile = Field(description="The signed PDF")


class PartnershipQuery(BaseModel):
    # Optional without `null` in the schema: a query string cannot say null.
    stage: line(40) = Field(None, description="Only partnerships in this stage")
    country: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")] = Field(
        None, description="Only partnerships with a counterpart from this country")
    q: line(200) = Field(None, description="Text in the reference, title or a party's name")
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(25, ge=1, le=100)
