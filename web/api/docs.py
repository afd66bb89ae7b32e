"""The human-readable API page: the OpenAPI description turned into plain lists (no script,
no CDN), so the page can never disagree with the spec."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

METHOD_ORDER = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}
PROBLEM_TYPES = [
    ("unauthenticated", 401, "No bearer token, or an unknown, expired or revoked one."),
    ("bad-credentials", 401, "A token request with a wrong email or password, or a wrong, "
                             "reused or missing `totp` code for a user with two-factor "
                             "authentication (one answer for all, on purpose)."),
    ("throttled", 429, "Too many failed logins or token requests for this email or client "
                       "address; wait `retry_after` seconds."),
    ("malformed", 400, "The body is not JSON (or not multipart for uploads), or not valid."),
    ("too-large", 413, "The body is larger than the API accepts."),
    ("forbidden", 403, "Your role may not do this."),
    ("not-found", 404, "It does not exist, or it is not shared with your organisation."),
    ("conflict", 409, "Someone changed the partnership since you read it "
                      "(`current_version`), or its stage does not allow this."),
    ("transition-not-allowed", 409, "The trigger does not start from the current stage "
                                    "(`current_stage`)."),
    ("blocked", 422, "The transition's guards refuse it; `reasons` lists every reason."),
    ("invalid", 422, "The input is not acceptable; `errors` maps each field to a message."),
    ("signed-copy-rejected", 422, "The uploaded copy failed verification; it is kept and "
                                  "audited (`document_id`)."),
    ("unavailable", 503, "The database cannot be reached or is busy; nothing was changed. "
                         "Retry after `retry_after` seconds."),
    ("storage-full", 507, "The server has no room to store this; nothing was saved."),
]


_CODE = re.compile(r"`([^`]+)`")


def inline(text: str) -> Markup:
    """Escape `text`, showing `backticked` spans as code."""
    out = Markup("")
    for i, part in enumerate(_CODE.split(text or "")):  # odd parts were between backticks
        out += Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
    return out


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    public: bool
    parameters: list[tuple[str, str, bool, str, str]]  # name, in, required, type, description
    body: list[tuple[str, str]]  # media type, schema name
    responses: list[tuple[str, str, str]]  # status, description, media type + schema


@dataclass
class Schema:
    name: str
    description: str
    properties: list[tuple[str, str, bool, str]] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)


def type_of(schema: dict) -> str:
    """A short readable type: `string`, `Problem`, `list of PartyIn`, `integer or null`."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_of(s) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map of {type_of(extra) if isinstance(extra, dict) else 'any'}"
    return kind + (f" ({schema['format']})" if "format" in schema else "")


def _content(content: dict) -> list[tuple[str, str]]:
    return [(media, type_of(body.get("schema", {}))) for media, body in content.items()]


def operations(spec: dict) -> list[tuple[str, list[Operation]]]:
    """Operations grouped by tag, in the order the tags first appear."""
    groups: dict[str, list[Operation]] = {}
    for path, methods in spec["paths"].items():
        for method, op in sorted(methods.items(), key=lambda kv: METHOD_ORDER.get(kv[0], 9)):
            tag = (op.get("tags") or ["Other"])[0]
            groups.setdefault(tag, []).append(Operation(
                method=method.upper(), path=path, operation_id=op["operationId"],
                summary=op.get("summary", ""), description=op.get("description", ""),
                public=op.get("security") == [],
                parameters=[(p["name"], p["in"], p.get("required", False),
                             type_of(p.get("schema", {})), p.get("description", ""))
                            for p in op.get("parameters", [])],
                body=_content(op.get("requestBody", {}).get("content", {})),
                responses=[(code, r.get("description", ""),
                            ", ".join(f"{m}: {s}" for m, s in _content(r.get("content", {}))))
                           for code, r in sorted(op["responses"].items())]))
    return list(groups.items())


def schemas(spec: dict) -> list[Schema]:
    """Every component schema with its properties (name, type, required, description)."""
    out = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        out.append(Schema(
            name=name, description=schema.get("description", ""),
            properties=[(prop, type_of(s), prop in required, s.get("description", ""))
                        for prop, s in schema.get("properties", {}).items()],
            alternatives=[type_of(s) for s in schema.get("anyOf", [])]))
    return out
