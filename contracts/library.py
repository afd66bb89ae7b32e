"""Load, validate and render the clause library (framework-free).

The library is data: one YAML file per clause in ``contracts/clauses`` and the agreement
types in ``contracts/agreement_types.yaml``. Loading validates every file strictly and
fails with a ``LibraryError`` that names the file and the item, so a broken clause never
reaches a partnership. Rendering produces plain-text paragraphs; HTML escaping is the
job of the print layer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pycountry
import yaml
from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from workflow.clause_values import (  # re-exported: the library's public API
    VARIABLE_TYPES,
    Variable,
    _coerce,
    _Invalid,
    selector_matches,
    validate_variables,
)

LIBRARY_ROOT = Path(__file__).resolve().parent
CONTEXT_NAMES = frozenset(
    {"lead_party", "counterpart", "counterpart_country", "eu_parties", "agreement_title"}
)
CATEGORIES = ("general", "ipr", "confidentiality", "dissemination", "compliance", "legal", "final")
MIN_PARAGRAPHS, MAX_PARAGRAPHS = 2, 6

_CLAUSE_KEYS = frozenset({
    "key", "order", "category", "title", "applies_to", "mandatory_for", "guidance",
    "default_option", "options",
})
_OPTION_REQUIRED = frozenset({"key", "label", "summary", "text"})
_OPTION_KEYS = _OPTION_REQUIRED | {"variables", "recommended_for", "required_for"}
_VARIABLE_REQUIRED = frozenset({"name", "label", "type", "default", "required"})
_VARIABLE_KEYS = _VARIABLE_REQUIRED | {"min", "max", "max_length", "choices", "help"}
_TYPE_REQUIRED = frozenset({"key", "label", "description", "workflow"})
_TYPE_KEYS = _TYPE_REQUIRED | {"default_options"}

_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STEM_RE = re.compile(r"(?:\d+_)?(?P<key>.+)")
_TIER_RE = re.compile(r"tier:[a-z][a-z0-9_]*")
_ANY_RE = re.compile(r".+")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Paragraphs are joined with a control character before compiling one template per option;
# control characters are rejected in every value, so a value can never forge a break.
_SEPARATOR = "\x1e"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_ENV.globals.clear()


class LibraryError(Exception):
    """The clause library is broken, or a render request does not fit it."""


@dataclass(frozen=True)
class Option:
    clause_key: str
    key: str
    label: str
    summary: str
    text: str
    variables: tuple[Variable, ...]
    recommended_for: tuple[str, ...]
    required_for: tuple[str, ...]
    content_hash: str
    context_names: frozenset[str]
    template: Any = field(compare=False, repr=False)

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        raise KeyError(f"option '{self.key}' has no variable '{name}'")

    def default_values(self) -> dict[str, Any]:
        """Return the defaults of every variable, for pre-filling a form."""
        return {v.name: v.default for v in self.variables}

    def is_recommended_for(self, country: str, tiers: Iterable[str] = ()) -> bool:
        return any(selector_matches(s, country, tiers) for s in self.recommended_for)

    def is_required_for(self, country: str, tiers: Iterable[str] = ()) -> bool:
        return any(selector_matches(s, country, tiers) for s in self.required_for)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "summary": self.summary, "text": self.text,
            "variables": [v.as_dict() for v in self.variables],
            "recommended_for": list(self.recommended_for),
            "required_for": list(self.required_for),
        }


@dataclass(frozen=True)
class Clause:
    key: str
    order: int
    category: str
    title: str
    applies_to: tuple[str, ...]
    mandatory_for: tuple[str, ...]
    guidance: str
    default_option: str
    options: tuple[Option, ...]
    source: str
    content_hash: str

    def option(self, key: str) -> Option:
        for option in self.options:
            if option.key == key:
                return option
        raise KeyError(f"clause '{self.key}' has no option '{key}'")

    @property
    def default(self) -> Option:
        return self.option(self.default_option)

    def is_mandatory_for(self, agreement_type: str) -> bool:
        return agreement_type in self.mandatory_for

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "order": self.order, "category": self.category,
            "title": self.title, "applies_to": list(self.applies_to),
            "mandatory_for": list(self.mandatory_for), "guidance": self.guidance,
            "default_option": self.default_option,
            "options": [o.as_dict() for o in self.options],
        }


@dataclass(frozen=True)
class AgreementType:
    key: str
    label: str
    description: str
    workflow: str
    default_options: Mapping[str, str] = field(default_factory=dict, hash=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "description": self.description,
            "workflow": self.workflow, "default_options": dict(self.default_options),
        }


@dataclass(frozen=True)
class Library:
    clauses: tuple[Clause, ...]
    agreement_types: tuple[AgreementType, ...]
    content_hash: str

    def clause(self, key: str) -> Clause:
        for clause in self.clauses:
            if clause.key == key:
                return clause
        raise KeyError(f"no clause '{key}'")

    def agreement_type(self, key: str) -> AgreementType:
        for agreement_type in self.agreement_types:
            if agreement_type.key == key:
                return agreement_type
        raise KeyError(f"no agreement type '{key}'")

    def clauses_for(self, agreement_type: str) -> tuple[Clause, ...]:
        """Return the clauses of an agreement type in article order."""
        self.agreement_type(agreement_type)
        return tuple(c for c in self.clauses if agreement_type in c.applies_to)

    def default_option_for(self, clause_key: str, agreement_type: str) -> Option:
        """Return the option a new agreement of this type starts with."""
        clause = self.clause(clause_key)
        override = self.agreement_type(agreement_type).default_options.get(clause_key)
        return clause.option(override or clause.default_option)


def country_name(code: str) -> str:
    """Return the everyday English name of an ISO 3166-1 alpha-2 country."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        raise LibraryError(f"unknown country code '{code}'")
    return getattr(country, "common_name", None) or country.name


# ---------------------------------------------------------------- variable values

# ---------------------------------------------------------------- rendering

def standard_text(option: Option) -> str:
    """Return the option's raw template text, for showing diffs."""
    return option.text


def render_option_text(
    option: Option, values: Mapping[str, object], context: Mapping[str, object]
) -> list[str]:
    """Render an option into its paragraphs with values inserted literally."""
    where = f"clause '{option.clause_key}': option '{option.key}'"
    declared = {v.name for v in option.variables}
    if unknown := sorted(set(values) - declared):
        raise LibraryError(f"{where}: unknown variable '{unknown[0]}'")
    if missing := sorted(declared - set(values)):
        raise LibraryError(f"{where}: missing value for variable '{missing[0]}'")
    clean, errors = validate_variables(option, values)
    if errors:
        name = sorted(errors)[0]
        raise LibraryError(f"{where}: variable '{name}': {errors[name]}")
    scope: dict[str, Any] = {}
    for name in sorted(option.context_names):
        value = context.get(name)
        if not isinstance(value, str) or any(ord(c) < 32 and c != "\n" for c in value):
            raise LibraryError(f"{where}: context '{name}' must be provided as plain text")
        scope[name] = value
    for variable in option.variables:
        scope[variable.name] = _display(variable, clean[variable.name])
    try:
        rendered = option.template.render(scope)
    except TemplateError as exc:
        raise LibraryError(f"{where}: {exc}") from None
    return [p.strip() for p in rendered.split(_SEPARATOR) if p.strip()]


def _display(variable: Variable, value: Any) -> Any:
    if variable.type == "boolean":
        return bool(value)
    if value is None:
        return ""
    if variable.type in ("country", "eu_eea_country"):
        return country_name(value)
    if variable.type == "date":
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    if variable.type == "decimal":
        return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return str(value)


# ---------------------------------------------------------------- loading

class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe YAML loader that rejects duplicate mapping keys instead of overwriting."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_library(path: str | Path | None = None) -> Library:
    """Load and strictly validate the clause library under ``path`` (default: contracts/)."""
    root = Path(path) if path is not None else LIBRARY_ROOT
    types_file = root / "agreement_types.yaml"
    agreement_types = _load_agreement_types(types_file, _display_path(types_file, root))
    type_keys = {t.key for t in agreement_types}
    clauses: list[Clause] = []
    files = sorted((root / "clauses").glob("*.yaml"))
    if not files:
        raise LibraryError(f"{_display_path(root / 'clauses', root)}: no clause files")
    seen_keys: dict[str, str] = {}
    seen_orders: dict[int, str] = {}
    for file in files:
        where = _display_path(file, root)
        clause = _build_clause(_read_yaml(file, where), file.stem, where, type_keys)
        if clause.key in seen_keys:
            raise LibraryError(f"{where}: key '{clause.key}' also used in {seen_keys[clause.key]}")
        if clause.order in seen_orders:
            raise LibraryError(f"{where}: order {clause.order} also used in "
                               f"{seen_orders[clause.order]}")
        seen_keys[clause.key], seen_orders[clause.order] = where, where
        clauses.append(clause)
    clauses.sort(key=lambda c: c.order)
    by_key = {c.key: c for c in clauses}
    for agreement_type in agreement_types:
        _check_default_options(agreement_type, by_key, _display_path(types_file, root))
    digest = _hash({
        "clauses": [c.as_dict() for c in clauses],
        "agreement_types": [t.as_dict() for t in agreement_types],
    })
    return Library(clauses=tuple(clauses), agreement_types=agreement_types, content_hash=digest)


def _display_path(file: Path, root: Path) -> str:
    try:
        return file.resolve().relative_to(root.resolve().parent).as_posix()
    except ValueError:
        return file.as_posix()


def _read_yaml(file: Path, where: str) -> Any:
    try:
        with file.open(encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass  # nosec B506
    except OSError as exc:
        raise LibraryError(f"{where}: cannot read file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise LibraryError(f"{where}: invalid YAML: {exc}") from None


def _hash(data: Any) -> str:
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                         default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def _check_keys(data: Any, required: frozenset[str], allowed: frozenset[str], where: str) -> None:
    if not isinstance(data, dict):
        raise LibraryError(f"{where}: expected a mapping")
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise LibraryError(f"{where}: unknown key '{unknown[0]}'")
    missing = sorted(required - set(data))
    if missing:
        raise LibraryError(f"{where}: missing key '{missing[0]}'")


def _text(data: dict, name: str, where: str) -> str:
    value = data[name]
    if not isinstance(value, str) or not value.strip():
        raise LibraryError(f"{where}: '{name}' must be a non-empty string")
    return value.strip()


def _key_list(data: dict, name: str, where: str, pattern: re.Pattern[str] = _KEY_RE) -> tuple:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LibraryError(f"{where}: '{name}' must be a list of strings")
    for item in value:
        if not pattern.fullmatch(item):
            raise LibraryError(f"{where}: '{name}': invalid entry '{item}'")
    if len(set(value)) != len(value):
        raise LibraryError(f"{where}: '{name}' lists an entry twice")
    return tuple(value)


def _load_agreement_types(file: Path, where: str) -> tuple[AgreementType, ...]:
    data = _read_yaml(file, where)
    if not isinstance(data, list) or not data:
        raise LibraryError(f"{where}: expected a non-empty list of agreement types")
    types: list[AgreementType] = []
    for index, item in enumerate(data):
        item_where = f"{where}: agreement type #{index + 1}"
        _check_keys(item, _TYPE_REQUIRED, _TYPE_KEYS, item_where)
        key = _text(item, "key", item_where)
        item_where = f"{where}: agreement type '{key}'"
        if not _KEY_RE.fullmatch(key) or any(t.key == key for t in types):
            raise LibraryError(f"{item_where}: key is not snake_case or is used twice")
        defaults = item.get("default_options", {})
        if not isinstance(defaults, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in defaults.items()
        ):
            raise LibraryError(f"{item_where}: 'default_options' must map clause to option keys")
        types.append(AgreementType(
            key=key, label=_text(item, "label", item_where),
            description=_text(item, "description", item_where),
            workflow=_text(item, "workflow", item_where),
            default_options=MappingProxyType(dict(defaults)),
        ))
    return tuple(types)


def _check_default_options(agreement_type: AgreementType, clauses: dict, where: str) -> None:
    for clause_key, option_key in agreement_type.default_options.items():
        item = f"{where}: agreement type '{agreement_type.key}': default option of '{clause_key}'"
        clause = clauses.get(clause_key)
        if clause is None or agreement_type.key not in clause.applies_to:
            raise LibraryError(f"{item}: no such clause for this agreement type")
        if option_key not in {o.key for o in clause.options}:
            raise LibraryError(f"{item}: unknown option '{option_key}'")


def _build_clause(data: Any, stem: str, where: str, type_keys: set[str]) -> Clause:
    _check_keys(data, _CLAUSE_KEYS, _CLAUSE_KEYS, where)
    key = _text(data, "key", where)
    expected = _STEM_RE.fullmatch(stem).group("key")  # type: ignore[union-attr]
    if not _KEY_RE.fullmatch(key) or key != expected:
        raise LibraryError(f"{where}: key '{key}' must be snake_case and equal '{expected}'")
    order = data["order"]
    if isinstance(order, bool) or not isinstance(order, int) or order <= 0:
        raise LibraryError(f"{where}: order must be a positive integer")
    if data["category"] not in CATEGORIES:
        raise LibraryError(f"{where}: unknown category '{data['category']}'")
    applies_to = _key_list(data, "applies_to", where)
    mandatory_for = _key_list(data, "mandatory_for", where)
    if not applies_to:
        raise LibraryError(f"{where}: 'applies_to' must name at least one agreement type")
    for agreement_type in applies_to:
        if agreement_type not in type_keys:
            raise LibraryError(f"{where}: unknown agreement type '{agreement_type}'")
    for agreement_type in mandatory_for:
        if agreement_type not in applies_to:
            raise LibraryError(
                f"{where}: mandatory_for '{agreement_type}' is not in applies_to")
    if not isinstance(data["options"], list) or not data["options"]:
        raise LibraryError(f"{where}: 'options' must be a non-empty list")
    options: list[Option] = []
    for index, raw in enumerate(data["options"]):
        option = _build_option(raw, key, f"{where}: option #{index + 1}", where)
        if any(o.key == option.key for o in options):
            raise LibraryError(f"{where}: option '{option.key}' is defined twice")
        options.append(option)
    default_option = data["default_option"]
    if default_option not in {o.key for o in options}:
        raise LibraryError(f"{where}: default_option '{default_option}' is not an option")
    _check_selectors(options, where)
    clause = Clause(
        key=key, order=order, category=data["category"], title=_text(data, "title", where),
        applies_to=applies_to, mandatory_for=mandatory_for,
        guidance=_text(data, "guidance", where), default_option=default_option,
        options=tuple(options), source=where, content_hash="",
    )
    object.__setattr__(clause, "content_hash", _hash(clause.as_dict()))
    return clause


def _check_selectors(options: list[Option], where: str) -> None:
    required_by: dict[str, str] = {}
    for option in options:
        for selector in option.recommended_for + option.required_for:
            if not _valid_selector(selector):
                raise LibraryError(f"{where}: option '{option.key}': invalid jurisdiction "
                                   f"selector '{selector}'")
        for selector in option.required_for:
            if selector in required_by:
                raise LibraryError(f"{where}: option '{option.key}': '{selector}' is already "
                                   f"required for option '{required_by[selector]}'")
            required_by[selector] = option.key


def _valid_selector(selector: str) -> bool:
    if _TIER_RE.fullmatch(selector):
        return True
    return (len(selector) == 2 and selector.isascii() and selector.isupper()
            and pycountry.countries.get(alpha_2=selector) is not None)


def _build_option(data: Any, clause_key: str, where: str, file_where: str) -> Option:
    _check_keys(data, _OPTION_REQUIRED, _OPTION_KEYS, where)
    key = _text(data, "key", where)
    where = f"{file_where}: option '{key}'"
    if not _KEY_RE.fullmatch(key):
        raise LibraryError(f"{where}: key must be snake_case")
    raw_variables = data.get("variables", [])
    if not isinstance(raw_variables, list):
        raise LibraryError(f"{where}: 'variables' must be a list")
    variables: list[Variable] = []
    for index, raw in enumerate(raw_variables):
        variable = _build_variable(raw, f"{where}: variable #{index + 1}", where)
        if any(v.name == variable.name for v in variables):
            raise LibraryError(f"{where}: variable '{variable.name}' is declared twice")
        variables.append(variable)
    text = _text(data, "text", where)
    template, used = _compile(text, variables, where)
    option = Option(
        clause_key=clause_key, key=key, label=_text(data, "label", where),
        summary=_text(data, "summary", where), text=text, variables=tuple(variables),
        recommended_for=_key_list(data, "recommended_for", where, _ANY_RE),
        required_for=_key_list(data, "required_for", where, _ANY_RE),
        content_hash="", context_names=frozenset(used & CONTEXT_NAMES), template=template,
    )
    digest = _hash({"text": text, "variables": [v.as_dict() for v in variables]})
    object.__setattr__(option, "content_hash", digest)
    return option


def _build_variable(data: Any, where: str, option_where: str) -> Variable:
    _check_keys(data, _VARIABLE_REQUIRED, _VARIABLE_KEYS, where)
    name = data["name"]
    if not isinstance(name, str) or not _IDENT_RE.fullmatch(name) or name in CONTEXT_NAMES:
        raise LibraryError(f"{where}: name {name!r} is not a usable identifier")
    where = f"{option_where}: variable '{name}'"
    kind = data["type"]
    if kind not in VARIABLE_TYPES:
        raise LibraryError(f"{where}: unknown type '{kind}'")
    if not isinstance(data["required"], bool):
        raise LibraryError(f"{where}: 'required' must be true or false")
    extras = {"min", "max"} if kind in ("integer", "decimal") else set()
    extras |= {"max_length"} if kind in ("string", "text", "city") else set()
    extras |= {"choices"} if kind == "choice" else set()
    if misplaced := sorted({"min", "max", "max_length", "choices"} & set(data) - extras):
        raise LibraryError(f"{where}: '{misplaced[0]}' is not allowed for type '{kind}'")
    if kind == "boolean" and (data["required"] or not isinstance(data["default"], bool)):
        raise LibraryError(f"{where}: a boolean needs required: false and a true/false default")
    choices = data.get("choices", [])
    if kind == "choice" and (
        not isinstance(choices, list) or not choices
        or not all(isinstance(c, str) and c.strip() == c and c for c in choices)
        or len(set(choices)) != len(choices)
    ):
        raise LibraryError(f"{where}: 'choices' must be a non-empty list of distinct strings")
    bounds = {}
    for bound in ("min", "max", "max_length"):
        value = data.get(bound)
        allowed = int | float if kind == "decimal" and bound != "max_length" else int
        if value is not None and (isinstance(value, bool) or not isinstance(value, allowed)):
            raise LibraryError(f"{where}: '{bound}' must be a number")
        bounds[bound] = None if value is None else (
            int(value) if kind != "decimal" or bound == "max_length" else Decimal(str(value)))
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        raise LibraryError(f"{where}: 'min' is greater than 'max'")
    variable = Variable(
        name=name, label=_text(data, "label", where), type=kind, default=None,
        required=data["required"], min=bounds["min"], max=bounds["max"],
        max_length=bounds["max_length"], choices=tuple(choices),
        help=_help(data, where),
    )
    default = data["default"]
    if default is not None:
        try:
            default = _coerce(variable, default.strip() if isinstance(default, str) else default)
        except _Invalid as exc:
            raise LibraryError(f"{where}: default {data['default']!r} is invalid: {exc}") from None
    object.__setattr__(variable, "default", default)
    return variable


def _help(data: dict, where: str) -> str:
    value = data.get("help")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LibraryError(f"{where}: 'help' must be a string")
    return value.strip()


def _compile(text: str, variables: list[Variable], where: str) -> tuple[Any, set[str]]:
    if any(ord(c) < 32 and c != "\n" for c in text):
        raise LibraryError(f"{where}: text contains control characters")
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(text)]
    if not MIN_PARAGRAPHS <= len(paragraphs) <= MAX_PARAGRAPHS:
        raise LibraryError(f"{where}: text has {len(paragraphs)} paragraphs, expected "
                           f"{MIN_PARAGRAPHS} to {MAX_PARAGRAPHS}")
    try:
        tree = _ENV.parse(_SEPARATOR.join(paragraphs))
    except TemplateError as exc:
        raise LibraryError(f"{where}: template does not compile: {exc}") from None
    booleans = {v.name for v in variables if v.type == "boolean"}
    _check_constructs(tree.body, booleans, where)
    used = meta.find_undeclared_variables(tree)
    declared = {v.name for v in variables}
    if undeclared := sorted(used - declared - CONTEXT_NAMES):
        raise LibraryError(f"{where}: text uses undeclared variable '{undeclared[0]}'")
    if unused := sorted(declared - used):
        raise LibraryError(f"{where}: variable '{unused[0]}' is declared but not used in the text")
    try:
        code = _ENV.compile(tree, name=where)
        template = _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None))
    except TemplateError as exc:  # pragma: no cover - the parse above already vetted it
        raise LibraryError(f"{where}: template does not compile: {exc}") from None
    return template, used


def _check_constructs(body: list[nodes.Node], booleans: set[str], where: str) -> None:
    """Allow only ``{{ name }}`` and ``{% if name %}...{% else %}...{% endif %}``."""
    for node in body:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if isinstance(child, nodes.TemplateData):
                    continue
                if not isinstance(child, nodes.Name):
                    raise LibraryError(f"{where}: only {{{{ name }}}} substitutions are "
                                       f"allowed, found {type(child).__name__}")
                if child.name in booleans:
                    raise LibraryError(f"{where}: boolean '{child.name}' may only be used "
                                       f"in {{% if %}}")
        elif isinstance(node, nodes.If) and isinstance(node.test, nodes.Name) and not node.elif_:
            _check_constructs(node.body, booleans, where)
            _check_constructs(node.else_, booleans, where)
        else:
            raise LibraryError(f"{where}: unsupported template construct "
                               f"{type(node).__name__}; use {{{{ name }}}} or {{% if name %}}")
