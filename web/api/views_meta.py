"""Tokens, the caller, reference data (workflows, clause library, countries, safeguard rules),
organisations, and the API's own description."""

from __future__ import annotations

from flask import current_app, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from workflow import queries
from workflow.clauses import spec_of
from workflow.countries import all_countries, is_eu_eea
from workflow.definitions import registry
from workflow.roles import is_staff
from workflow.services import tokens
from workflow.services.library import latest_versions
from workflow.services.organisations import create_organisation

from ..auth.policy import second_factor_roles, secret_box
from ..db import get_db
from . import docs as api_docs
from . import outputs_reference as o
from . import present, v1
from .auth import actor, current_token_id
from .schemas import OrganisationIn, TokenRequest
from .spec import api_spec, operation

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@v1.post("/tokens")
@operation("createToken", "Tokens", public=True, errors=(403, 413, 422),
           HTTP_201=o.TokenCreated)
def create_token(json: TokenRequest):
    """Get a personal API token with your email and password.

    With two-factor authentication on, send `totp` too (the current code; each code works
    once). Roles that require two-factor authentication get 403 until it is set up in the web
    application. Failed attempts are counted per email and per client address, together with
    failed web logins; too many answer 429.
    """
    issued = tokens.issue_token(get_db(), json.email, json.password, request.remote_addr,
                                json.name, code=json.totp, box=secret_box(),
                                second_factor_roles=second_factor_roles())
    body = o.TokenCreated(id=issued.record.id, token=issued.secret, name=issued.record.name,
                          expires_at=issued.record.expires_at)
    return body, 201


@v1.get("/tokens")
@operation("listTokens", "Tokens", HTTP_200=o.TokenList)
def list_tokens():
    """Your API tokens, newest first (the secrets are never shown again)."""
    current = current_token_id()
    return o.TokenList(items=[present.token(t, current)
                              for t in tokens.user_tokens(get_db(), actor())])


@v1.delete("/tokens/current")
@operation("revokeCurrentToken", "Tokens", HTTP_204=None)
def revoke_current_token():
    """Revoke the token this request is made with."""
    tokens.revoke_token(get_db(), actor(), current_token_id())
    return "", 204


@v1.get("/me")
@operation("getMe", "Reference", HTTP_200=o.Me)
def me():
    """Who the token belongs to: role and organisation."""
    return present.me(actor())


@v1.get("/workflows")
@operation("listWorkflows", "Reference", HTTP_200=o.WorkflowList)
def workflows():
    """The workflow definitions: states, transitions with their roles and guards, checklist."""
    return o.WorkflowList(items=[o.WorkflowOut(
        key=wf.key, label=wf.label, description=wf.description, initial=wf.initial,
        states=[o.StateOut(**vars(s)) for s in wf.states],
        transitions=[o.TransitionDefOut(
            trigger=t.trigger, label=t.label, sources=list(t.sources), dest=t.dest,
            roles=sorted(t.roles), guards=list(t.guards), requires_comment=t.requires_comment)
            for t in wf.transitions],
        checklist=[o.ChecklistItemOut(key=i.key, label=i.label) for i in wf.checklist])
        for wf in registry().values()])


@v1.get("/clauses")
@operation("listLibraryClauses", "Reference", HTTP_200=o.LibraryClauseList)
def clauses():
    """The clause library (latest versions): options, their texts and variables."""
    versions = sorted(latest_versions(get_db()).values(), key=lambda v: v.sort_order)
    return o.LibraryClauseList(items=[_library_clause(spec_of(v)) for v in versions])


def _library_clause(spec) -> o.LibraryClauseOut:
    return o.LibraryClauseOut(
        key=spec.key, version=spec.version, title=spec.title, category=spec.category,
        order=spec.order, guidance=spec.guidance, applies_to=list(spec.applies_to),
        mandatory_for=list(spec.mandatory_for), default_option=spec.default_option,
        default_for=dict(spec.default_for), options=[o.OptionOut(
            key=x.key, label=x.label, summary=x.summary, text=x.text,
            recommended_for=list(x.recommended_for), required_for=list(x.required_for),
            variables=[_variable(v) for v in x.variables]) for x in spec.options])


def _variable(v) -> o.VariableOut:
    data = v.as_dict()  # JSON-ready: dates as text, decimals as numbers
    return o.VariableOut(name=v.name, label=v.label, type=v.type, default=data["default"],
                         required=v.required, min=data.get("min"), max=data.get("max"),
                         max_length=v.max_length, choices=list(v.choices), help=v.help)


@v1.get("/countries")
@operation("listCountries", "Reference", HTTP_200=o.CountryList)
def countries():
    """Every country: EU/EEA or not, and its risk tiers with source and year."""
    risk: dict[str, list] = {}
    for entry in queries.country_risks(get_db()):
        risk.setdefault(entry.country, []).append(o.RiskEntry(
            tier=entry.tier_key, label=entry.tier.label, source=entry.source,
            year=entry.year, note=entry.note))
    return o.CountryList(items=[
        o.CountryOut(code=code, name=name, eu_eea=is_eu_eea(code), risk=risk.get(code, []))
        for code, name in all_countries()])


@v1.get("/safeguard-rules")
@operation("listSafeguardRules", "Reference", HTTP_200=o.SafeguardRuleList)
def safeguard_rules():
    """What a clause must say when a counterpart is in a risk tier or country."""
    return o.SafeguardRuleList(items=[o.SafeguardRuleOut(
        key=r.key, tier=r.tier_key, tier_label=r.tier.label if r.tier else None,
        tier_source=r.tier.source if r.tier else None, tier_year=r.tier.year if r.tier else None,
        country=r.country, clause=r.clause_key, requirement=r.requirement,
        satisfied_by=list(r.satisfied_by or []), severity=r.severity,
        blocking=r.severity == "block", active=r.active)
        for r in queries.safeguard_rules(get_db())])


@v1.get("/organisations")
@operation("listOrganisations", "Organisations", HTTP_200=o.OrganisationList)
def organisations():
    """Organisations by name (a partner sees only their own)."""
    user = actor()
    orgs = queries.organisations(get_db())
    if not is_staff(user.role):
        orgs = [org for org in orgs if org.id == user.organisation_id]
    return o.OrganisationList(items=[present.organisation(org) for org in orgs])


@v1.post("/organisations")
@operation("createOrganisation", "Organisations", errors=(403, 409, 413, 422),
           HTTP_201=o.OrganisationOut)
def create_org(json: OrganisationIn):
    """Create an organisation (coordinators and administrators)."""
    org = create_organisation(get_db(), actor(), json.name, json.country, json.kind, json.city)
    return present.organisation(org), 201


@v1.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3.1 description."""
    return current_app.json.response(api_spec.spec)


@v1.get("/docs")
def docs():
    """Human-readable API documentation, rendered from the OpenAPI description."""
    spec = api_spec.spec
    return render_template("api/docs.html", spec=spec, groups=api_docs.operations(spec),
                           schemas=api_docs.schemas(spec), problem_types=api_docs.PROBLEM_TYPES,
                           inline=api_docs.inline)


@v1.route("/", defaults={"rest": ""}, methods=METHODS)
@v1.route("/<path:rest>", methods=METHODS)
def fallback(rest: str):
    """Unknown paths answer 404, known paths with another method 405 (as problems)."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in METHODS:
        try:
            rule, _args = adapter.match(method=method, return_rule=True)
        except HTTPException:
            continue
        if rule.endpoint != request.endpoint:
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound("No such API resource. See /api/v1/docs.")
