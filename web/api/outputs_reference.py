"""Response bodies of the reference resources (pydantic v2): tokens, the caller,
organisations, workflows, the clause library, countries and safeguard rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, JsonValue


class Out(BaseModel):
    """A response body."""


class TokenCreated(Out):
    id: int
    token: str = Field(description="The secret; shown only in this response")
    expires_at: datetime
    name: str | None


class TokenOut(Out):
    id: int
    hint: str = Field(description="The first characters of the token")
    name: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    current: bool = Field(description="This request was made with this token")


class TokenList(Out):
    items: list[TokenOut]


class OrganisationOut(Out):
    id: int
    name: str
    country: str
    city: str | None
    kind: str
    eu_eea: bool


class OrganisationList(Out):
    items: list[OrganisationOut]


class Person(Out):
    id: int
    display_name: str


class Me(Out):
    id: int
    email: str
    display_name: str
    role: str
    organisation: OrganisationOut | None


class StateOut(Out):
    name: str
    label: str
    terminal: bool
    editable: bool
    reviewing: bool
    due_in_days: int | None
    description: str


class TransitionDefOut(Out):
    trigger: str
    label: str
    sources: list[str]
    dest: str
    roles: list[str]
    guards: list[str]
    requires_comment: bool


class ChecklistItemOut(Out):
    key: str
    label: str


class WorkflowOut(Out):
    key: str
    label: str
    description: str
    initial: str
    states: list[StateOut]
    transitions: list[TransitionDefOut]
    checklist: list[ChecklistItemOut]


class WorkflowList(Out):
    items: list[WorkflowOut]


class VariableOut(Out):
    name: str
    label: str
    type: str
    default: JsonValue
    required: bool
    min: float | None
    max: float | None
    max_length: int | None
    choices: list[str]
    help: str


class OptionOut(Out):
    key: str
    label: str
    summary: str
    text: str
    variables: list[VariableOut]
    recommended_for: list[str]
    required_for: list[str]


class LibraryClauseOut(Out):
    key: str
    version: int
    title: str
    category: str
    order: int
    guidance: str
    applies_to: list[str]
    mandatory_for: list[str]
    default_option: str
    default_for: dict[str, str]
    options: list[OptionOut]


class LibraryClauseList(Out):
    items: list[LibraryClauseOut]


class RiskEntry(Out):
    tier: str
    label: str
    source: str
    year: int
    note: str | None


class CountryOut(Out):
    code: str
    name: str
    eu_eea: bool
    risk: list[RiskEntry]


class CountryList(Out):
    items: list[CountryOut]


class SafeguardRuleOut(Out):
    key: str
    tier: str | None
    tier_label: str | None
    tier_source: str | None
    tier_year: int | None
    country: str | None
    clause: str
    requirement: str
    satisfied_by: list[JsonValue] = Field(description="Alternatives: option, values, ...")
    severity: str = Field(description="block or warn")
    blocking: bool
    active: bool


class SafeguardRuleList(Out):
    items: list[SafeguardRuleOut]
